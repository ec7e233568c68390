/*
 * repl.c: replication of signed logs between peers (DESIGN.md section 5):
 * the opening exchange, what each peer is known to hold, the heads of the
 * store, and the dispatch of messages once a connection is OPEN.
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

/* ---- known heads of a peer ---- */

static size_t known_find(const struct tb_conn *c, const uint8_t *log_id, bool *found)
{
	size_t lo = 0, hi = c->nknown;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = memcmp(c->known[mid].log_id, log_id, TB_KEY_LEN);
		if (cmp == 0) {
			*found = true;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

uint64_t tb_known_get(const struct tb_conn *c, const uint8_t *log_id)
{
	bool found;
	size_t i = known_find(c, log_id, &found);
	return found ? c->known[i].seq : 0;
}

struct tb_known *tb_known_at(struct tb_conn *c, const uint8_t *log_id, bool create)
{
	bool found;
	size_t i = known_find(c, log_id, &found);
	if (found)
		return &c->known[i];
	if (!create || c->nknown >= TB_PEER_LOGS_MAX)
		return NULL;
	if (c->nknown == c->capknown) {
		size_t cap = c->capknown ? c->capknown * 2 : 16;
		void *k = realloc(c->known, cap * sizeof *c->known);
		if (!k)
			return NULL;
		c->known = k;
		c->capknown = cap;
	}
	/* One insertion: head records go through known_merge instead. */
	memmove(&c->known[i + 1], &c->known[i], (c->nknown - i) * sizeof *c->known);
	memset(&c->known[i], 0, sizeof c->known[i]);
	memcpy(c->known[i].log_id, log_id, TB_KEY_LEN);
	c->nknown++;
	return &c->known[i];
}

int tb_known_raise(struct tb_conn *c, const uint8_t *log_id, uint64_t seq)
{
	struct tb_known *k = tb_known_at(c, log_id, true);
	if (!k)
		return TB_EFULL;
	if (seq > k->seq)
		k->seq = seq;
	return 0;
}

/* Merges k records (sorted by log id, no repeats) into what is known, in
 * one pass; a log in both keeps the larger seq. */
static int known_merge(struct tb_conn *c, const struct tb_known *in, size_t k)
{
	size_t cap = c->nknown + k;
	if (!k)
		return 0;
	struct tb_known *out = malloc(cap * sizeof *out);
	if (!out)
		return TB_ENOMEM;
	size_t i = 0, j = 0, o = 0;
	while (i < c->nknown || j < k) {
		int cmp = i == c->nknown ? 1
			  : j == k       ? -1
					 : memcmp(c->known[i].log_id, in[j].log_id, TB_KEY_LEN);
		if (cmp < 0) {
			out[o++] = c->known[i++];
		} else if (cmp > 0) {
			out[o++] = in[j++];
		} else {
			out[o] = c->known[i++];
			if (in[j].seq > out[o].seq)
				out[o].seq = in[j].seq;
			o++;
			j++;
		}
	}
	if (o > TB_PEER_LOGS_MAX) {
		free(out);
		return TB_EFULL;
	}
	free(c->known);
	c->known = out;
	c->nknown = o;
	c->capknown = cap;
	return 0;
}

static int cmp_known(const void *a, const void *b)
{
	const struct tb_known *x = a, *y = b;
	int cmp = memcmp(x->log_id, y->log_id, TB_KEY_LEN);
	if (cmp)
		return cmp;
	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0; /* larger first */
}

void tb_repl_conn_free(struct tb_conn *c)
{
	free(c->known);
	free(c->snapshot);
	c->known = NULL;
	c->snapshot = NULL;
	c->nknown = c->capknown = c->nsnapshot = 0;
}

/* ---- heads of the store ---- */

const struct tb_head *tb_node_head(const struct tb_node *n, const uint8_t *log_id)
{
	size_t lo = 0, hi = n->nheads;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = memcmp(n->heads[mid].log_id, log_id, TB_KEY_LEN);
		if (cmp == 0)
			return &n->heads[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct scan {
	struct tb_head *h;
	size_t n, cap;
	int err;
};

static int scan_one(void *ctx, const struct tb_head *h)
{
	struct scan *s = ctx;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		void *p = realloc(s->h, cap * sizeof *s->h);
		if (!p)
			return s->err = TB_ENOMEM;
		s->h = p;
		s->cap = cap;
	}
	s->h[s->n++] = *h;
	return 0;
}

static void digest_of(const struct tb_head *h, size_t n, uint8_t out[32])
{
	struct tb_sha256_ctx c;
	tb_sha256_init(&c);
	for (size_t i = 0; i < n; i++) {
		uint8_t seq[8];
		tb_be64_put(seq, h[i].seq);
		tb_sha256_update(&c, h[i].log_id, TB_KEY_LEN);
		tb_sha256_update(&c, seq, 8);
		tb_sha256_update(&c, h[i].hash, TB_HASHLEN);
	}
	tb_sha256_final(&c, out);
}

int tb_node_scan(struct tb_node *n)
{
	/* Legs due are appended first, so this scan announces them. */
	tb_node_clear(n);
	struct scan s = {0};
	int err = tb_store_foreach_log(n->store, scan_one, &s);
	if (err || s.err) {
		free(s.h);
		tb_log(n, TB_LOG_ERROR, "cannot read the store's heads: %s",
		       tb_strerror(err ? err : s.err));
		return err ? err : s.err;
	}
	uint8_t d[32];
	digest_of(s.h, s.n, d);
	/* A log changed: its ADMIT entries may have, so the admitted set is
	 * read again, and only admitted logs are announced and pushed. */
	if (!n->admission_loaded || memcmp(d, n->raw_digest, 32)) {
		if (tb_node_admission_load(n) && !n->admission_loaded) {
			free(s.h);
			return TB_EIO;
		}
		memcpy(n->raw_digest, d, 32);
	}
	size_t kept = 0;
	for (size_t i = 0; i < s.n; i++)
		if (tb_node_admits(n, s.h[i].log_id))
			s.h[kept++] = s.h[i];
	s.n = kept;
	digest_of(s.h, s.n, d);
	bool changed = memcmp(d, n->digest, 32) != 0;
	if (changed)
		tb_node_http_heads(n, n->heads, n->nheads, s.h, s.n);
	free(n->heads);
	n->heads = s.h;
	n->nheads = s.n;
	n->capheads = s.cap;
	memcpy(n->digest, d, 32);
	if (changed) {
		for (struct tb_conn *c = n->conns; c; c = c->next)
			tb_repl_pump(c);
		tb_node_status_dirty(n);
	}
	return 0;
}

static void on_scan(uv_timer_t *t)
{
	struct tb_node *n = t->data;
	n->scan_armed = false;
	(void)tb_node_scan(n);
}

void tb_node_store_changed(struct tb_node *n)
{
	if (n->scan_armed || n->stopping)
		return;
	n->scan_armed = true;
	uv_timer_start(&n->scan_timer, on_scan, 1, 0);
}

/* ---- the opening exchange ---- */

void tb_repl_start(struct tb_conn *c)
{
	struct tb_node *n = c->node;
	free(c->snapshot);
	c->snapshot = malloc((n->nheads ? n->nheads : 1) * sizeof *c->snapshot);
	if (!c->snapshot) {
		tb_conn_close(c, "out of memory");
		return;
	}
	memcpy(c->snapshot, n->heads, n->nheads * sizeof *c->snapshot);
	c->nsnapshot = n->nheads;
	c->heads_total = n->nheads;
	memcpy(c->sync_digest, n->digest, 32);
	c->cp_tokens = TB_CP_BURST + (double)n->nheads;
	c->cp_at = tb_now_ms(n);
	struct tb_peer_msg m = {.type = TB_MSG_SYNC};
	memcpy(m.u.sync.digest, n->digest, 32);
	m.u.sync.logs = n->nheads;
	if (tb_conn_send(c, &m))
		return;
	/* Fork proofs go first: a peer learns about frozen logs before it is
	 * sent their entries. */
	tb_repl_pump(c);
}

static void snapshot_free(struct tb_conn *c)
{
	free(c->snapshot);
	c->snapshot = NULL;
	c->nsnapshot = 0;
}

static void synced(struct tb_conn *c, bool same)
{
	c->synced = true;
	struct tb_node *n = c->node;
	if (c->peer)
		c->peer->synced_once = true;
	if (!n->restore_first_ms)
		n->restore_first_ms = tb_now_ms(n);
	/* Peers that held the same heads already exchanged checkpoints; others
	 * get the newest we hold of every log, as the send queue allows. */
	c->cps_due = !same;
	tb_log(c->node, TB_LOG_DEBUG, "%s: in sync handshake done, %zu logs known",
	       c->addr, c->nknown);
	tb_repl_pump(c);
	tb_node_status_dirty(c->node);
	tb_node_restore_check(n);
}

/*
 * A restored node lifts its mark when at least one peer has synced with it,
 * no synced peer knows of an entry of our own log past our head (each one's
 * HEADS said what it holds; the entries it then pushed are taken), and every
 * configured peer has synced, or restore_wait_ms passed since the first one
 * did (a peer that stays down may hold nothing newer, or never come back).
 */
void tb_node_restore_check(struct tb_node *n)
{
	if (!n->restored || n->stopping)
		return;
	uint64_t seq;
	int err = tb_store_restored(n->store, &seq);
	if (err == TB_ENOTFOUND) {
		n->restored = false;
		tb_log(n, TB_LOG_WARN, "restore confirmed without peers ('tally restore "
				       "--no-peers'): signing again");
		uv_timer_stop(&n->restore_timer);
		tb_node_store_changed(n);
		return;
	}
	struct tb_head h;
	if (err || tb_store_head(n->store, n->self, &h))
		return;
	size_t synced_peers = 0;
	for (struct tb_conn *c = n->conns; c; c = c->next) {
		if (c->state != TB_CONN_OPEN || !c->synced)
			continue;
		if ((n->ingest_conn == c && n->ningest) || tb_known_get(c, n->self) > h.seq)
			return; /* still taking entries back from it */
		synced_peers++;
	}
	if (!synced_peers)
		return;
	bool all = true;
	for (size_t i = 0; i < n->npeers; i++)
		all &= n->peers[i].synced_once;
	if (!all && tb_now_ms(n) - n->restore_first_ms < n->restore_wait_ms)
		return;
	if ((err = tb_store_set_restored(n->store, false))) {
		tb_log(n, TB_LOG_ERROR, "cannot lift the restored mark: %s", tb_strerror(err));
		return;
	}
	n->restored = false;
	uv_timer_stop(&n->restore_timer);
	tb_log(n, TB_LOG_INFO,
	       "restore synced: own log at entry %llu (the backup had %llu), nothing newer held "
	       "by %zu peer(s)%s; signing again",
	       (unsigned long long)h.seq, (unsigned long long)n->restored_seq, synced_peers,
	       all ? "" : " (some configured peers never answered)");
	tb_node_store_changed(n);
}

static int on_sync(struct tb_conn *c, const struct tb_sync *s)
{
	if (c->synced || c->sync_received || !c->snapshot) {
		tb_conn_close(c, "unexpected SYNC");
		return TB_EINVAL;
	}
	c->sync_received = true;
	if (!memcmp(s->digest, c->sync_digest, 32) && s->logs == c->nsnapshot) {
		/* Same heads: the peer holds exactly our snapshot (sorted). */
		struct tb_known *in = malloc((c->nsnapshot ? c->nsnapshot : 1) * sizeof *in);
		if (!in) {
			tb_conn_close(c, "out of memory");
			return TB_ENOMEM;
		}
		for (size_t i = 0; i < c->nsnapshot; i++) {
			memcpy(in[i].log_id, c->snapshot[i].log_id, TB_KEY_LEN);
			in[i].seq = c->snapshot[i].seq;
			in[i].flags = 0;
		}
		int err = known_merge(c, in, c->nsnapshot);
		free(in);
		if (err) {
			tb_conn_close(c, err == TB_EFULL ? "too many logs" : "out of memory");
			return err;
		}
		snapshot_free(c);
		synced(c, true);
		return 0;
	}
	/* Our HEADS go from the heads of the moment they are sent (newer than
	 * the snapshot), as many records as our SYNC announced. */
	snapshot_free(c);
	if (s->logs > TB_PEER_LOGS_MAX) {
		tb_conn_close(c, "peer claims too many logs");
		return TB_EFULL;
	}
	c->heads_sending = true;
	c->heads_sent = 0;
	c->heads_due = s->logs;
	tb_repl_pump(c);
	if (c->state == TB_CONN_OPEN && !c->heads_due)
		synced(c, false);
	return 0;
}

/* 1 if we hold entry seq of the log and its hash is not `hash`. */
static int differs(struct tb_node *n, const uint8_t *log_id, uint64_t seq,
		   const uint8_t *hash)
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
	size_t n = h->heads.len / TB_HEAD_REC_LEN;
	if (h->heads.len % TB_HEAD_REC_LEN || n > c->heads_due || c->synced ||
	    !c->sync_received) {
		tb_conn_close(c, "malformed or unexpected HEADS");
		return TB_EINVAL;
	}
	struct tb_known *in = malloc((n ? n : 1) * sizeof *in);
	if (!in) {
		tb_conn_close(c, "out of memory");
		return TB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *r = h->heads.p + i * TB_HEAD_REC_LEN;
		uint64_t seq = tb_be64_get(r + TB_KEY_LEN);
		/* A head we hold with another hash means our histories of the
		 * log differ: send our entry at that seq, so the peer sees two
		 * signed entries at one seq and keeps the fork proof. */
		if (seq && differs(c->node, r, seq, r + TB_KEY_LEN + 8))
			seq--;
		memcpy(in[i].log_id, r, TB_KEY_LEN);
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
	int err = known_merge(c, in, k);
	free(in);
	if (err) {
		tb_conn_close(c, err == TB_EFULL ? "too many logs" : "out of memory");
		return err;
	}
	c->heads_due -= n;
	if (!c->heads_due)
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
