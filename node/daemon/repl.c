/*
 * repl.c: replication of signed logs between peers (DESIGN.md section 5):
 * the opening exchange and the dispatch of messages once a connection is
 * OPEN. A connection's replication state (struct tb_repl) is created here
 * when it opens; what the peer is known to hold is known.c's, our heads
 * heads.c's.
 *
 * On open, each side sends SYNC, a digest of all its heads: equal digests
 * mean both hold the same, and nothing more is sent. Otherwise both send
 * HEADS, and from then on each side knows, per log, the seq the peer holds.
 * Sending (push.c) and receiving entries, fork proofs and checkpoints
 * (ingest.c) build on that. The peer's head records are merged into what
 * is known in linear time whatever their order, and nothing a peer sends
 * makes this side hold more than TB_PEER_LOGS_MAX records for it.
 */
#include "daemon.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the opening exchange ---- */

static int cmp_known(const void *a, const void *b)
{
	const struct tb_known *x = a, *y = b;
	int cmp = memcmp(x->log_id, y->log_id, TB_KEY_LEN);
	if (cmp)
		return cmp;
	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0; /* larger first */
}

int tb_repl_start(struct tb_conn *c)
{
	struct tb_node *n = c->node;
	struct tb_repl *r = calloc(1, sizeof *r);
	if (r)
		r->snapshot = malloc((n->nheads ? n->nheads : 1) * sizeof *r->snapshot);
	if (!r || !r->snapshot) {
		free(r);
		tb_conn_close(c, "out of memory");
		return TB_ENOMEM;
	}
	c->repl = r;
	memcpy(r->snapshot, n->heads, n->nheads * sizeof *r->snapshot);
	r->nsnapshot = n->nheads;
	r->heads_total = n->nheads;
	memcpy(r->sync_digest, n->digest, 32);
	r->cp_tokens = TB_CP_BURST + (double)n->nheads;
	r->cp_at = tb_now_ms(n);
	tb_conn_deadline(c, c->opened + TB_SYNC_MS, "the heads exchange did not finish in time");
	struct tb_peer_msg m = {.type = TB_MSG_SYNC};
	memcpy(m.u.sync.digest, n->digest, 32);
	m.u.sync.logs = n->nheads;
	int err = tb_conn_send(c, &m);
	if (err || (err = tb_lst_start(c)))
		return err;
	/* Fork proofs go first: a peer learns about frozen logs before it is
	 * sent their entries. */
	tb_repl_pump(c);
	return 0;
}

static void snapshot_free(struct tb_repl *r)
{
	free(r->snapshot);
	r->snapshot = NULL;
	r->nsnapshot = 0;
}

static void synced(struct tb_conn *c, bool same)
{
	struct tb_repl *r = c->repl;
	struct tb_node *n = c->node;
	r->synced = true;
	tb_conn_deadline(c, 0, NULL);
	if (c->peer)
		c->peer->synced_once = true;
	if (!n->restore_first_ms)
		n->restore_first_ms = tb_now_ms(n);
	/* Peers that held the same heads already exchanged checkpoints; others
	 * get the newest we hold of every log, as the send queue allows. */
	r->cps_due = !same;
	tb_log(n, TB_LOG_DEBUG, "%s: in sync handshake done, %zu logs known", c->addr, r->nknown);
	tb_repl_pump(c);
	tb_node_status_dirty(n);
	tb_node_restore_check(n);
}

/* Same heads: the peer holds exactly our snapshot (sorted). */
static int same_heads(struct tb_conn *c)
{
	struct tb_repl *r = c->repl;
	struct tb_known *in = malloc((r->nsnapshot ? r->nsnapshot : 1) * sizeof *in);
	if (!in) {
		tb_conn_close(c, "out of memory");
		return TB_ENOMEM;
	}
	for (size_t i = 0; i < r->nsnapshot; i++) {
		memcpy(in[i].log_id, r->snapshot[i].log_id, TB_KEY_LEN);
		in[i].seq = r->snapshot[i].seq;
		in[i].flags = 0;
	}
	int err = tb_known_merge(c, in, r->nsnapshot);
	free(in);
	if (err) {
		tb_conn_close(c, err == TB_EFULL ? "too many logs" : "out of memory");
		return err;
	}
	snapshot_free(r);
	synced(c, true);
	return 0;
}

static int on_sync(struct tb_conn *c, const struct tb_sync *s)
{
	struct tb_repl *r = c->repl;
	if (r->synced || r->sync_received || !r->snapshot) {
		tb_conn_close(c, "unexpected SYNC");
		return TB_EINVAL;
	}
	r->sync_received = true;
	if (!memcmp(s->digest, r->sync_digest, 32) && s->logs == r->nsnapshot)
		return same_heads(c);
	/* Our HEADS go from the heads of the moment they are sent (newer than
	 * the snapshot), as many records as our SYNC announced. */
	snapshot_free(r);
	if (s->logs > TB_PEER_LOGS_MAX) {
		tb_conn_close(c, "peer claims too many logs");
		return TB_EFULL;
	}
	r->heads_sending = true;
	r->heads_sent = 0;
	r->heads_due = s->logs;
	tb_repl_pump(c);
	if (c->state == TB_CONN_OPEN && !r->heads_due)
		synced(c, false);
	return 0;
}

/* 1 if we hold entry seq of the log and its hash is not `hash`. */
static int differs(struct tb_node *n, const uint8_t *log_id, uint64_t seq, const uint8_t *hash)
{
	const struct tb_head *h = tb_node_head(n, log_id);
	if (!h || h->seq < seq)
		return 0;
	if (h->seq == seq)
		return memcmp(h->hash, hash, TB_HASHLEN) != 0;
	uint8_t rec[TB_ENTRY_MAX], mine[TB_HASHLEN];
	size_t len;
	if (tb_store_get_entry(n->store, log_id, seq, rec, sizeof rec, &len))
		return 0;
	tb_entry_hash(mine, rec, len);
	return memcmp(mine, hash, TB_HASHLEN) != 0;
}

static int on_heads(struct tb_conn *c, const struct tb_heads *h)
{
	struct tb_repl *r = c->repl;
	size_t n;
	if (tb_heads_count(h->heads, &n) || n > r->heads_due || r->synced || !r->sync_received) {
		tb_conn_close(c, "malformed or unexpected HEADS");
		return TB_EINVAL;
	}
	struct tb_known *in = malloc((n ? n : 1) * sizeof *in);
	if (!in) {
		tb_conn_close(c, "out of memory");
		return TB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct tb_head_rec hr;
		tb_heads_get(h->heads, i, &hr);
		uint64_t seq = hr.seq;
		/* A head we hold with another hash means our histories of the
		 * log differ: send our entry at that seq, so the peer sees two
		 * signed entries at one seq and keeps the fork proof. */
		if (seq && differs(c->node, hr.log_id, seq, hr.hash))
			seq--;
		memcpy(in[i].log_id, hr.log_id, TB_KEY_LEN);
		in[i].seq = seq;
		in[i].flags = 0;
	}
	/* Records in any order: sort, keep the largest seq of a repeated log,
	 * then one merge. */
	qsort(in, n, sizeof *in, cmp_known);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!k || memcmp(in[k - 1].log_id, in[i].log_id, TB_KEY_LEN))
			in[k++] = in[i];
	int err = tb_known_merge(c, in, k);
	free(in);
	if (err) {
		tb_conn_close(c, err == TB_EFULL ? "too many logs" : "out of memory");
		return err;
	}
	r->heads_due -= n;
	if (!r->heads_due)
		synced(c, false);
	return 0;
}

int tb_repl_receive(struct tb_conn *c, const struct tb_peer_msg *m)
{
	struct tb_node *n = c->node;
	if (c->peer)
		c->peer->last_contact = (uint64_t)time(NULL);
	switch ((enum tb_msg_type)m->type) {
	case TB_MSG_SYNC:
		return on_sync(c, &m->u.sync);
	case TB_MSG_HEADS:
		return on_heads(c, &m->u.heads);
	case TB_MSG_ENTRIES:
		return tb_repl_on_entries(c, &m->u.entries);
	case TB_MSG_FORK:
		return tb_repl_on_fork(c, &m->u.fork);
	case TB_MSG_PING: {
		struct tb_peer_msg r = {.type = TB_MSG_PONG};
		r.u.pong.nonce = m->u.ping.nonce;
		return tb_conn_send(c, &r);
	}
	case TB_MSG_PONG:
		tb_node_status_dirty(n);
		return 0;
	case TB_MSG_CHECKPOINT_MSG:
		return tb_repl_on_checkpoint(c, &m->u.checkpoint_msg.checkpoint);
	case TB_MSG_REFUSED:
		return tb_repl_on_refused(c, &m->u.refused);
	case TB_MSG_LISTINGS:
		return tb_lst_on_listings(c, &m->u.listings);
	case TB_MSG_LISTINGS_SYNC:
		return tb_lst_on_sync(c, &m->u.listings_sync);
	case TB_MSG_ANSWERS:
		return tb_ans_on_answers(c, &m->u.answers);
	case TB_MSG_BYE: {
		char why[260];
		snprintf(why, sizeof why, "peer said goodbye: %.*s", (int)m->u.bye.reason.len,
			 (const char *)m->u.bye.reason.p);
		tb_conn_close(c, why);
		return 0;
	}
	case TB_MSG_HELLO:
		break;
	}
	tb_conn_close(c, "unexpected message");
	return TB_EINVAL;
}
