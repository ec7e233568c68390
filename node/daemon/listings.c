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

/* One listing from a peer: 1 stored, 0 held already or refused (told). */
static int take(struct tb_conn *c, struct tb_view rec, uint64_t now)
{
	struct tb_node *n = c->node;
	struct tb_repl *r = c->repl;
	struct tb_listing l;
	struct tb_reject rej = {0};
	static const uint8_t zero[TB_KEY_LEN];
	const uint8_t *log = zero;
	int err = 0;
	if (rec.len > TB_SIGLEN &&
	    !tb_msg_decode_exact(rec.p, rec.len - TB_SIGLEN, &tb_def_listing, &l)) {
		log = l.log_id;
		if (!tb_node_admits(n, l.log_id)) {
			tb_repl_refuse(c, TB_ENOTADMITTED, l.log_id,
				       "listing of a community not admitted here");
			return 0;
		}
		if (l.visibility != TB_LISTING_FEDERATION) {
			err = TB_EINVAL;
			snprintf(rej.msg, sizeof rej.msg,
				 "listing refused: a community listing never leaves its node");
		}
	}
	if (!err)
		err = tb_store_listing_put(n->store, rec.p, rec.len, now, &rej);
	if (err >= 0)
		return err == 0;
	if (r->lst_told < TB_LST_TOLD) {
		r->lst_told++;
		tb_log(n, TB_LOG_INFO, "%s: %s", c->addr, rej.msg);
		tb_repl_tell(c, err, log, "%s", rej.msg);
	}
	return 0;
}

int tb_lst_on_listings(struct tb_conn *c, const struct tb_listings *ls)
{
	struct tb_node *n = c->node;
	struct tb_records_iter it;
	struct tb_view rec;
	uint64_t now = tb_listing_now();
	size_t stored = 0;
	int rc;
	/* Entries of this burst first: a listing's member may have just joined. */
	tb_repl_flush(c);
	tb_records_begin(&it, ls->records);
	while ((rc = tb_records_next(&it, &rec)) == 1)
		stored += (size_t)take(c, rec, now);
	if (rc < 0) {
		tb_conn_close(c, "malformed LISTINGS");
		return TB_EINVAL;
	}
	if (stored)
		tb_node_listings_scan(n);
	return 0;
}
