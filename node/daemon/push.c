/*
 * push.c: what tallyd sends a peer once a connection is OPEN, in this order:
 * the HEADS of its snapshot (after the peer's SYNC), every fork proof the
 * peer has not got, then, once synced, the newest checkpoint of every log
 * held (when the heads differed), the entries the peer lacks, in seq
 * order, in ENTRIES batches, and the listings stored since it was last
 * sent some that have not expired (listings.c). Each step sends only
 * while the send queue is under its cap (tb_conn_may_push) and resumes where it stopped when the
 * queue drains (after every completed write) or the store's heads move, so
 * no peer, however many proofs, logs or entries there are, makes the node
 * buffer more than the cap. A fork proof goes to each peer once.
 */
#include "daemon.h"
#include "tb_ops.h"

#include <stdlib.h>
#include <string.h>

#define TB_BATCH_BYTES (TB_FRAME_PAYLOAD_MAX - 64)

static size_t heads_after(const struct tb_node *n, const uint8_t *after);

/* Our HEADS: the heads as they are when sent, in log id order, as many
 * records as our SYNC announced (a log new since then is left out; if logs
 * went, the last record is repeated: a peer keeps the larger seq of a
 * repeated log). TB_BATCH_BYTES / 72 records a message; true when all are
 * sent. */
static bool push_heads(struct tb_conn *c)
{
	struct tb_repl *r = c->repl;
	struct tb_node *n = c->node;
	const size_t per = TB_BATCH_BYTES / TB_HEAD_REC_LEN;
	uint8_t buf[TB_BATCH_BYTES];
	while (r->heads_sending && r->heads_sent < r->heads_total) {
		if (!tb_conn_may_push(c))
			return false;
		size_t k = r->heads_total - r->heads_sent;
		if (k > per)
			k = per;
		size_t i = r->heads_sent ? heads_after(n, r->heads_after) : 0;
		for (size_t j = 0; j < k; j++, i++) {
			uint8_t *rec = buf + j * TB_HEAD_REC_LEN;
			if (i < n->nheads) {
				const struct tb_head *h = &n->heads[i];
				tb_heads_put(rec, h->log_id, h->seq, h->hash);
			} else if (j) {
				memcpy(rec, rec - TB_HEAD_REC_LEN, TB_HEAD_REC_LEN);
			} else {
				memset(rec, 0, TB_HEAD_REC_LEN);
				memcpy(rec, r->heads_after, TB_KEY_LEN);
			}
		}
		memcpy(r->heads_after, buf + (k - 1) * TB_HEAD_REC_LEN, TB_KEY_LEN);
		struct tb_peer_msg m = {.type = TB_MSG_HEADS};
		m.u.heads.heads.p = buf;
		m.u.heads.heads.len = k * TB_HEAD_REC_LEN;
		if (tb_conn_send(c, &m))
			return false;
		r->heads_sent += k;
	}
	r->heads_sending = false;
	return true;
}

/* Every fork proof held that this peer has neither sent nor been sent:
 * true when none is left. */
static bool push_forks(struct tb_conn *c)
{
	struct tb_repl *r = c->repl;
	struct tb_node *n = c->node;
	if (r->forks_sent >= n->nforks)
		return true;
	static uint8_t buf[2 * TB_ENTRY_MAX];
	for (size_t i = 0; i < n->nforks; i++) {
		struct tb_known *k = tb_known_at(c, n->forks[i], true);
		if (!k) {
			tb_conn_close(c, "too many logs");
			return false;
		}
		if ((k->flags & (TB_KNOWN_FORK | TB_KNOWN_REFUSED)) ||
		    !tb_node_admits(n, n->forks[i]))
			continue;
		if (!tb_conn_may_push(c))
			return false;
		struct tb_peer_msg m = {.type = TB_MSG_FORK};
		int err = tb_store_fork_get(n->store, n->forks[i], buf, sizeof buf, &m.u.fork.a,
					    &m.u.fork.b);
		if (err) {
			tb_log(n, TB_LOG_ERROR, "cannot read a fork proof: %s", tb_strerror(err));
			continue;
		}
		k->flags |= TB_KNOWN_FORK;
		if (tb_conn_send(c, &m))
			return false;
	}
	r->forks_sent = n->nforks;
	return true;
}

/* Index of the first head whose log id is above `after`. */
static size_t heads_after(const struct tb_node *n, const uint8_t *after)
{
	size_t lo = 0, hi = n->nheads;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (memcmp(n->heads[mid].log_id, after, TB_KEY_LEN) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The newest checkpoint held of every log, in log id order: true when all
 * are sent. */
static bool push_checkpoints(struct tb_conn *c)
{
	struct tb_repl *r = c->repl;
	struct tb_node *n = c->node;
	if (!r->cps_due)
		return true;
	size_t i = r->cps_started ? heads_after(n, r->cps_after) : 0;
	for (; i < n->nheads; i++) {
		if (!tb_conn_may_push(c))
			return false;
		uint8_t cp[TB_CHECKPOINT_MAX];
		size_t len;
		memcpy(r->cps_after, n->heads[i].log_id, TB_KEY_LEN);
		r->cps_started = true;
		if (tb_store_checkpoint_get(n->store, n->heads[i].log_id, cp, sizeof cp, &len))
			continue;
		struct tb_peer_msg m = {.type = TB_MSG_CHECKPOINT_MSG};
		m.u.checkpoint_msg.checkpoint = (struct tb_view){cp, len};
		if (tb_conn_send(c, &m))
			return false;
	}
	r->cps_due = false;
	return true;
}

struct fill {
	uint8_t *buf;
	size_t len, cap;
	uint64_t last;
	uint64_t upto; /* the log's head as of the last scan */
};

static int fill_one(void *ctx, uint64_t seq, struct tb_view rec)
{
	struct fill *f = ctx;
	/* Nothing past the scanned head: an entry tally appended since has not
	 * been through the clearing step (a prepare of ours would leave before
	 * the node saw it held). The next scan sends it. */
	if (seq > f->upto)
		return 1;
	/* 1: no room left in this message; TB_ETOOBIG: a stored record empty
	 * or over TB_ENTRY_MAX (a corrupt store), reported by the caller. */
	int rc = tb_records_add(f->buf, f->cap, &f->len, rec);
	if (rc)
		return rc;
	f->last = seq;
	return 0;
}

/* Entries the peer lacks, log by log, starting where the last call stopped
 * for want of queue room (every log is visited once per call). */
static void push_entries(struct tb_conn *c)
{
	struct tb_repl *r = c->repl;
	struct tb_node *n = c->node;
	uint8_t buf[TB_BATCH_BYTES];
	size_t start = r->push_at < n->nheads ? r->push_at : 0;
	for (size_t step = 0; step < n->nheads; step++) {
		size_t i = (start + step) % n->nheads;
		const struct tb_head *h = &n->heads[i];
		for (;;) {
			if (!tb_conn_may_push(c)) {
				r->push_at = i;
				return;
			}
			uint64_t k = tb_known_get(c, h->log_id);
			if (k >= h->seq)
				break;
			struct fill f = {buf, 0, sizeof buf, k, h->seq};
			int err = tb_store_foreach_entry(n->store, h->log_id, k + 1, fill_one, &f);
			if (err < 0 || f.last == k) {
				tb_log(n, TB_LOG_ERROR, "cannot read entries to send: %s",
				       tb_strerror(err));
				return;
			}
			struct tb_peer_msg m = {.type = TB_MSG_ENTRIES};
			m.u.entries.records.p = buf;
			m.u.entries.records.len = f.len;
			if (tb_conn_send(c, &m))
				return;
			if (tb_known_raise(c, h->log_id, f.last)) {
				tb_conn_close(c, "too many logs");
				return;
			}
		}
	}
	r->push_at = 0;
}

/* ---- listings (PROTOCOL.md 7c; listings.c takes them) ---- */

struct lst_batch {
	uint8_t buf[TB_BATCH_BYTES];
	size_t len;
	uint64_t last; /* stamp of the last version looked at */
	uint64_t now;  /* tb_listing_now() */
	size_t n;
};

static int batch_one(void *ctx, const struct tb_listing *l, const uint8_t *obj, size_t len,
		     uint64_t stamp)
{
	struct lst_batch *b = ctx;
	/* An expired version waits in the store for the next prune (at most
	 * TB_LST_PRUNE_S); the peer would only refuse it (PROTOCOL.md 7c). */
	if (l->visibility == TB_LISTING_FEDERATION && l->expires > b->now) {
		int rc = tb_records_add(b->buf, sizeof b->buf, &b->len, (struct tb_view){obj, len});
		if (rc)
			return rc;
		b->n++;
	}
	b->last = stamp;
	return 0;
}

void tb_lst_push(struct tb_conn *c)
{
	struct tb_repl *r = c->repl;
	struct tb_node *n = c->node;
	struct lst_batch b;
	while (r->lst_ready && r->lst_sent < n->lst_stamp && tb_conn_may_push(c)) {
		b.len = b.n = 0;
		b.last = r->lst_sent;
		b.now = tb_listing_now();
		int err = tb_store_listings_since(n->store, r->lst_sent, batch_one, &b);
		if (err < 0) {
			tb_log(n, TB_LOG_ERROR, "cannot read listings to send: %s",
			       tb_strerror(err));
			return;
		}
		if (b.last == r->lst_sent) /* nothing stored past it (pruned) */
			b.last = n->lst_stamp;
		r->lst_sent = b.last;
		if (!b.n)
			continue;
		struct tb_peer_msg m = {.type = TB_MSG_LISTINGS};
		m.u.listings.records = (struct tb_view){b.buf, b.len};
		if (tb_conn_send(c, &m))
			return;
	}
}

/* ---- answers (PROTOCOL.md 7d; answers.c takes them) ---- */

struct ans_batch {
	const uint8_t *to;   /* the peer's node id */
	const uint8_t *self; /* our own */
	uint8_t buf[TB_ANS_BYTES];
	size_t len, n;
	uint64_t last; /* stamp of the last answer looked at */
};

static int ans_one(void *ctx, const struct tb_answer *a, const uint8_t *obj, size_t len,
		   uint64_t stamp)
{
	struct ans_batch *b = ctx;
	if (b->n == TB_ANS_PER_MSG)
		return 1;
	if (!memcmp(a->listing_log, b->to, TB_KEY_LEN) &&
	    !memcmp(a->from_log, b->self, TB_KEY_LEN)) {
		int rc = tb_records_add(b->buf, sizeof b->buf, &b->len, (struct tb_view){obj, len});
		if (rc)
			return 1;
		b->n++;
	}
	b->last = stamp;
	return 0;
}

void tb_ans_push(struct tb_conn *c)
{
	struct tb_repl *r = c->repl;
	struct tb_node *n = c->node;
	struct ans_batch b;
	while (r->lst_ready && r->ans_sent < n->ans_stamp && tb_conn_may_push(c)) {
		b.to = c->remote_id;
		b.self = n->self;
		b.len = b.n = 0;
		b.last = r->ans_sent;
		int err = tb_store_answers_since(n->store, r->ans_sent, ans_one, &b);
		if (err < 0) {
			tb_log(n, TB_LOG_ERROR, "cannot read answers to send: %s",
			       tb_strerror(err));
			return;
		}
		if (b.last == r->ans_sent) /* nothing stored past it (pruned) */
			b.last = n->ans_stamp;
		r->ans_sent = b.last;
		if (!b.n)
			continue;
		struct tb_peer_msg m = {.type = TB_MSG_ANSWERS};
		m.u.answers.records = (struct tb_view){b.buf, b.len};
		if (tb_conn_send(c, &m))
			return;
	}
}

void tb_repl_pump(struct tb_conn *c)
{
	struct tb_repl *r = c->repl;
	if (c->state != TB_CONN_OPEN || !r)
		return;
	if (!push_heads(c) || !push_forks(c) || !r->synced || r->heads_sending)
		return;
	if (!push_checkpoints(c))
		return;
	push_entries(c);
	tb_lst_push(c);
	tb_ans_push(c);
}

void tb_node_checkpoint_spread(struct tb_node *n, struct tb_conn *except, const uint8_t *p,
			       size_t len)
{
	for (struct tb_conn *o = n->conns; o; o = o->next) {
		if (o == except || !tb_repl_synced(o))
			continue;
		struct tb_peer_msg m = {.type = TB_MSG_CHECKPOINT_MSG};
		m.u.checkpoint_msg.checkpoint = (struct tb_view){p, len};
		(void)!tb_conn_send(o, &m);
	}
}

static int collect_fork(void *ctx, const uint8_t log_id[TB_KEY_LEN], uint64_t seq, struct tb_view a,
			struct tb_view b)
{
	(void)seq;
	(void)a;
	(void)b;
	struct tb_node *n = ctx;
	void *p = realloc(n->forks, (n->nforks + 1) * sizeof *n->forks);
	if (!p)
		return TB_ENOMEM;
	n->forks = p;
	memcpy(n->forks[n->nforks++], log_id, TB_KEY_LEN);
	return 0;
}

bool tb_node_has_fork(const struct tb_node *n, const uint8_t *log_id)
{
	size_t lo = 0, hi = n->nforks;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = memcmp(n->forks[mid], log_id, TB_KEY_LEN);
		if (cmp == 0)
			return true;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

void tb_node_forks_changed(struct tb_node *n)
{
	free(n->forks);
	n->forks = NULL;
	n->nforks = 0;
	/* The store lists proofs in log id order. */
	int err = tb_store_foreach_fork(n->store, collect_fork, n);
	if (err)
		tb_log(n, TB_LOG_ERROR, "cannot list fork proofs: %s", tb_strerror(err));
	for (struct tb_conn *c = n->conns; c; c = c->next)
		tb_repl_pump(c);
}

void tb_node_fork_replaced(struct tb_node *n, struct tb_conn *from, const uint8_t *log_id)
{
	/* Every peer but the sender is sent the log's proof again: it may
	 * hold only the checkpoint proof. */
	for (struct tb_conn *c = n->conns; c; c = c->next) {
		struct tb_known *k = tb_known_at(c, log_id, false);
		if (c != from && k)
			k->flags &= ~TB_KNOWN_FORK;
		if (c->repl)
			c->repl->forks_sent = 0;
	}
	tb_node_forks_changed(n);
}
