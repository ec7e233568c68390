/*
 * listings.c: gossip of members' listings (PROTOCOL.md 7c, FORMAT.md 16).
 * Listings are not log entries: each is a standalone signed object, and a
 * node sends a peer the federation-visible ones it stores, in the order it
 * stored them (the store's stamps), from where it last stopped. On opening,
 * both sides send a digest of what they hold: equal digests mean none to
 * send. A listing a peer sends goes to the store alone, refused with a
 * REFUSED (never a closed connection) when it is bad; one newly stored is
 * relayed to every peer by the same stamps (push.c sends, heads.c notices
 * new stamps). A `community` listing is never sent, and one that arrives is
 * refused.
 */
#include "daemon.h"
#include "tb_ops.h"

#include <stdlib.h>
#include <string.h>

int tb_lst_start(struct tb_conn *c)
{
	struct tb_node *n = c->node;
	struct tb_repl *r = c->repl;
	struct tb_peer_msg m = {.type = TB_MSG_LISTINGS_SYNC};
	int err = tb_store_listings_stamp(n->store, &r->lst_stamp);
	if (!err)
		err = tb_store_listings_digest(n->store, tb_listing_now(), r->lst_digest,
					       &r->lst_count);
	if (err) {
		tb_log(n, TB_LOG_ERROR, "cannot read the listings: %s", tb_strerror(err));
		memset(r->lst_digest, 0, 32);
		r->lst_count = 0;
		r->lst_stamp = 0;
	}
	memcpy(m.u.listings_sync.digest, r->lst_digest, 32);
	m.u.listings_sync.count = r->lst_count;
	return tb_conn_send(c, &m);
}

int tb_lst_on_sync(struct tb_conn *c, const struct tb_listings_sync *s)
{
	struct tb_repl *r = c->repl;
	if (r->lst_ready) {
		tb_conn_close(c, "unexpected LISTINGS_SYNC");
		return TB_EINVAL;
	}
	r->lst_ready = true;
	bool same = !memcmp(s->digest, r->lst_digest, 32) && s->count == r->lst_count;
	r->lst_sent = same ? r->lst_stamp : 0;
	tb_repl_pump(c);
	return 0;
}

static void tell(struct tb_conn *c, int err, const uint8_t *log, const char *msg)
{
	struct tb_repl *r = c->repl;
	if (r->lst_told >= TB_LST_TOLD)
		return;
	r->lst_told++;
	tb_log(c->node, TB_LOG_INFO, "%s: %s", c->addr, msg);
	tb_repl_tell(c, err, log, "%s", msg);
}

/* The records of one LISTINGS that go to the store together. */
struct lst_batch {
	struct tb_conn *c;
	size_t n;
	struct tb_view recs[TB_LST_BATCH];
	const uint8_t *logs[TB_LST_BATCH]; /* the log each names (zeros if none) */
	int res[TB_LST_BATCH];
};

static void refused_cb(void *ctx, size_t i, const struct tb_reject *rej)
{
	struct lst_batch *b = ctx;
	tell(b->c, rej->err, b->logs[i], rej->msg);
}

/* One listing from a peer, judged by what the store does not know (the
 * admitted set, visibility), then queued for the store. */
static void add(struct lst_batch *b, struct tb_view rec)
{
	static const uint8_t zero[TB_KEY_LEN];
	struct tb_conn *c = b->c;
	struct tb_listing l;
	const uint8_t *log = zero;
	if (rec.len > TB_SIGLEN &&
	    !tb_msg_decode_exact(rec.p, rec.len - TB_SIGLEN, &tb_def_listing, &l)) {
		log = l.log_id;
		if (!tb_node_admits(c->node, l.log_id)) {
			tb_repl_refuse(c, TB_ENOTADMITTED, l.log_id,
				       "listing of a community not admitted here");
			return;
		}
		if (l.visibility != TB_LISTING_FEDERATION) {
			tell(c, TB_EINVAL, log,
			     "listing refused: a community listing never leaves its node");
			return;
		}
	}
	b->logs[b->n] = log;
	b->recs[b->n++] = rec;
}

/* Stores the batch in one write transaction: how many were new. */
static size_t flush(struct lst_batch *b, uint64_t now)
{
	struct tb_node *n = b->c->node;
	size_t stored = 0;
	int err = tb_store_listings_put_many(n->store, b->recs, b->n, now, b->res, refused_cb, b);
	if (err)
		tb_log(n, TB_LOG_ERROR, "cannot store listings: %s", tb_strerror(err));
	for (size_t i = 0; !err && i < b->n; i++)
		stored += b->res[i] == 0;
	b->n = 0;
	return stored;
}

int tb_lst_on_listings(struct tb_conn *c, const struct tb_listings *ls)
{
	struct tb_node *n = c->node;
	struct tb_records_iter it;
	struct tb_view rec;
	uint64_t now = tb_listing_now();
	size_t stored = 0;
	int rc;
	struct lst_batch *b = malloc(sizeof *b);
	if (!b) {
		tb_conn_close(c, "out of memory");
		return TB_ENOMEM;
	}
	b->c = c;
	b->n = 0;
	/* Entries of this burst first: a listing's member may have just joined. */
	tb_repl_flush(c);
	tb_records_begin(&it, ls->records);
	while ((rc = tb_records_next(&it, &rec)) == 1) {
		add(b, rec);
		if (b->n == TB_LST_BATCH)
			stored += flush(b, now);
	}
	if (rc < 0) {
		free(b);
		tb_conn_close(c, "malformed LISTINGS");
		return TB_EINVAL;
	}
	if (b->n)
		stored += flush(b, now);
	free(b);
	if (stored)
		tb_node_listings_scan(n);
	return 0;
}
