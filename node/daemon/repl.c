/*
 * repl.c: replication of signed logs between peers (DESIGN.md section 5).
 *
 * On open, each side sends SYNC, a digest of all its heads: equal digests
 * mean both hold the same, and nothing more is sent. Otherwise both send
 * HEADS, and from then on each side knows, per log, the seq the peer holds,
 * and pushes the entries past it in seq order, in ENTRIES batches, under a
 * cap on queued bytes; new entries (from the command line, from ingest,
 * from any peer) are pushed as the store's heads move, which is how logs are
 * relayed. Received entries go through tb_store_append, which verifies
 * everything before writing. A conflicting, validly signed entry is a fork:
 * the proof is kept and sent to every peer. Any other refused entry closes
 * the connection, logged with the peer's address and the reason.
 */
#include "daemon.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TB_INGEST_BYTES (4u << 20)

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

static uint64_t known_get(const struct tb_conn *c, const uint8_t *log_id)
{
	bool found;
	size_t i = known_find(c, log_id, &found);
	return found ? c->known[i].seq : 0;
}

/* Raises what the peer is known to hold (never lowers it). */
static int known_raise(struct tb_conn *c, const uint8_t *log_id, uint64_t seq)
{
	bool found;
	size_t i = known_find(c, log_id, &found);
	if (found) {
		if (seq > c->known[i].seq)
			c->known[i].seq = seq;
		return 0;
	}
	if (c->nknown >= TB_PEER_LOGS_MAX)
		return TB_EFULL;
	if (c->nknown == c->capknown) {
		size_t cap = c->capknown ? c->capknown * 2 : 16;
		void *k = realloc(c->known, cap * sizeof *c->known);
		if (!k)
			return TB_ENOMEM;
		c->known = k;
		c->capknown = cap;
	}
	memmove(&c->known[i + 1], &c->known[i], (c->nknown - i) * sizeof *c->known);
	memcpy(c->known[i].log_id, log_id, TB_KEY_LEN);
	c->known[i].seq = seq;
	c->nknown++;
	return 0;
}

void tb_repl_conn_free(struct tb_conn *c)
{
	free(c->known);
	free(c->snapshot);
	free(c->ingest);
	free(c->ingest_recs);
	c->known = NULL;
	c->snapshot = NULL;
	c->ingest = NULL;
	c->ingest_recs = NULL;
}

/* ---- heads of the store ---- */

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
	bool changed = memcmp(d, n->digest, 32) != 0;
	if (changed)
		tb_node_http_heads(n, n->heads, n->nheads, s.h, s.n);
	free(n->heads);
	n->heads = s.h;
	n->nheads = s.n;
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

/* ---- sending ---- */

static void send_heads(struct tb_conn *c, const struct tb_head *h, size_t n)
{
	const size_t per = (TB_FRAME_PAYLOAD_MAX - 64) / TB_HEAD_REC_LEN;
	uint8_t *buf = malloc(per * TB_HEAD_REC_LEN);
	if (!buf) {
		tb_conn_close(c, "out of memory");
		return;
	}
	for (size_t i = 0; i < n && c->state == TB_CONN_OPEN; i += per) {
		size_t k = n - i < per ? n - i : per;
		for (size_t j = 0; j < k; j++) {
			uint8_t *r = buf + j * TB_HEAD_REC_LEN;
			memcpy(r, h[i + j].log_id, TB_KEY_LEN);
			tb_be64_put(r + TB_KEY_LEN, h[i + j].seq);
			memcpy(r + TB_KEY_LEN + 8, h[i + j].hash, TB_HASHLEN);
		}
		struct tb_peer_msg m = {.type = TB_MSG_HEADS};
		m.u.heads.heads.p = buf;
		m.u.heads.heads.len = k * TB_HEAD_REC_LEN;
		(void)!tb_conn_send(c, &m);
	}
	free(buf);
}

struct fill {
	uint8_t *buf;
	size_t len, cap;
	uint64_t last;
};

static int fill_one(void *ctx, uint64_t seq, struct tb_view rec)
{
	struct fill *f = ctx;
	if (f->len + 2 + rec.len > f->cap)
		return 1;
	f->buf[f->len] = (uint8_t)(rec.len >> 8);
	f->buf[f->len + 1] = (uint8_t)rec.len;
	memcpy(f->buf + f->len + 2, rec.p, rec.len);
	f->len += 2 + rec.len;
	f->last = seq;
	return 0;
}

void tb_repl_pump(struct tb_conn *c)
{
	struct tb_node *n = c->node;
	if (c->state != TB_CONN_OPEN || !c->synced)
		return;
	uint8_t buf[TB_FRAME_PAYLOAD_MAX - 64];
	for (size_t i = 0; i < n->nheads; i++) {
		const struct tb_head *h = &n->heads[i];
		for (;;) {
			if (c->queued >= TB_QUEUE_MAX || c->state != TB_CONN_OPEN)
				return;
			uint64_t k = known_get(c, h->log_id);
			if (k >= h->seq)
				break;
			struct fill f = {buf, 0, sizeof buf, k};
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
			if (known_raise(c, h->log_id, f.last)) {
				tb_conn_close(c, "too many logs");
				return;
			}
		}
	}
}

static int send_fork(void *ctx, const uint8_t log_id[TB_KEY_LEN], uint64_t seq,
		     struct tb_view a, struct tb_view b)
{
	(void)log_id;
	(void)seq;
	struct tb_conn *c = ctx;
	struct tb_peer_msg m = {.type = TB_MSG_FORK};
	m.u.fork.a = a;
	m.u.fork.b = b;
	return tb_conn_send(c, &m) ? 1 : 0;
}

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
	memcpy(c->sync_digest, n->digest, 32);
	struct tb_peer_msg m = {.type = TB_MSG_SYNC};
	memcpy(m.u.sync.digest, n->digest, 32);
	m.u.sync.logs = n->nheads;
	if (tb_conn_send(c, &m))
		return;
	(void)tb_store_foreach_fork(n->store, send_fork, c);
}

/* ---- receiving ---- */

static void synced(struct tb_conn *c, bool same)
{
	c->synced = true;
	struct tb_node *n = c->node;
	if (c->peer)
		c->peer->synced_once = true;
	if (!n->restore_first_ms)
		n->restore_first_ms = tb_now_ms(n);
	/* Peers that held the same heads already exchanged checkpoints; others
	 * get the newest we hold of every log. */
	for (size_t i = 0; !same && i < n->nheads && c->state == TB_CONN_OPEN; i++) {
		uint8_t cp[TB_CHECKPOINT_MAX];
		size_t len;
		if (tb_store_checkpoint_get(n->store, n->heads[i].log_id, cp, sizeof cp, &len))
			continue;
		struct tb_peer_msg m = {.type = TB_MSG_CHECKPOINT_MSG};
		m.u.checkpoint_msg.checkpoint = (struct tb_view){cp, len};
		(void)!tb_conn_send(c, &m);
	}
	free(c->snapshot);
	c->snapshot = NULL;
	tb_log(c->node, TB_LOG_DEBUG, "%s: in sync handshake done, %zu logs known",
	       c->addr, c->nknown);
	tb_repl_pump(c);
	tb_node_status_dirty(c->node);
	tb_node_restore_check(n);
}

static int on_sync(struct tb_conn *c, const struct tb_sync *s)
{
	if (c->synced || c->sync_received || !c->snapshot) {
		tb_conn_close(c, "unexpected SYNC");
		return TB_EINVAL;
	}
	c->sync_received = true;
	if (!memcmp(s->digest, c->sync_digest, 32) && s->logs == c->nsnapshot) {
		/* Same heads: the peer holds exactly our snapshot. */
		for (size_t i = 0; i < c->nsnapshot; i++) {
			if (known_raise(c, c->snapshot[i].log_id, c->snapshot[i].seq)) {
				tb_conn_close(c, "too many logs");
				return TB_EFULL;
			}
		}
		synced(c, true);
		return 0;
	}
	if (s->logs > TB_PEER_LOGS_MAX) {
		tb_conn_close(c, "peer claims too many logs");
		return TB_EFULL;
	}
	send_heads(c, c->snapshot, c->nsnapshot);
	c->heads_due = s->logs;
	if (!c->heads_due)
		synced(c, false);
	return 0;
}

/* 1 if we hold entry seq of the log and its hash is not `hash`. */
static int differs(struct tb_node *n, const uint8_t *log_id, uint64_t seq,
		   const uint8_t *hash)
{
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
	for (size_t i = 0; i < n; i++) {
		const uint8_t *r = h->heads.p + i * TB_HEAD_REC_LEN;
		uint64_t seq = tb_be64_get(r + TB_KEY_LEN);
		/* A head we hold with another hash means our histories of the
		 * log differ: send our entry at that seq, so the peer sees two
		 * signed entries at one seq and keeps the fork proof. */
		if (seq && differs(c->node, r, seq, r + TB_KEY_LEN + 8))
			seq--;
		if (known_raise(c, r, seq)) {
			tb_conn_close(c, "too many logs");
			return TB_EFULL;
		}
	}
	c->heads_due -= n;
	if (!c->heads_due)
		synced(c, false);
	return 0;
}

static int on_entries(struct tb_conn *c, const struct tb_entries *e)
{
	if (!c->synced) {
		tb_conn_close(c, "ENTRIES before the heads were exchanged");
		return TB_EINVAL;
	}
	if (!c->ingest) {
		c->ingest = malloc(TB_INGEST_BYTES);
		c->ingest_recs = malloc(TB_INGEST_BATCH * sizeof *c->ingest_recs);
		if (!c->ingest || !c->ingest_recs) {
			tb_conn_close(c, "out of memory");
			return TB_ENOMEM;
		}
	}
	size_t off = 0;
	while (off < e->records.len) {
		if (e->records.len - off < 2) {
			tb_conn_close(c, "truncated record in ENTRIES");
			return TB_ETRUNCATED;
		}
		size_t len = (size_t)e->records.p[off] << 8 | e->records.p[off + 1];
		off += 2;
		if (len == 0 || len > TB_ENTRY_MAX || len > e->records.len - off) {
			tb_conn_close(c, "record length out of bounds in ENTRIES");
			return TB_ETRUNCATED;
		}
		if (c->ningest == TB_INGEST_BATCH || c->ingest_len + len > TB_INGEST_BYTES)
			tb_repl_flush(c);
		if (c->state != TB_CONN_OPEN)
			return TB_EINVAL;
		memcpy(c->ingest + c->ingest_len, e->records.p + off, len);
		c->ingest_recs[c->ningest].p = c->ingest + c->ingest_len;
		c->ingest_recs[c->ningest].len = len;
		c->ingest_len += len;
		c->ningest++;
		off += len;
	}
	return 0;
}

void tb_node_checkpoint_spread(struct tb_node *n, struct tb_conn *except,
				const uint8_t *p, size_t len)
{
	for (struct tb_conn *o = n->conns; o; o = o->next) {
		if (o == except || o->state != TB_CONN_OPEN || !o->synced)
			continue;
		struct tb_peer_msg m = {.type = TB_MSG_CHECKPOINT_MSG};
		m.u.checkpoint_msg.checkpoint = (struct tb_view){p, len};
		(void)!tb_conn_send(o, &m);
	}
}

static void broadcast_fork(struct tb_node *n, struct tb_conn *except, struct tb_view a,
			   struct tb_view b)
{
	for (struct tb_conn *o = n->conns; o; o = o->next) {
		if (o == except || o->state != TB_CONN_OPEN)
			continue;
		(void)send_fork(o, NULL, 0, a, b);
	}
}

/* A refused record at recs[i]: a fork (kept, broadcast) or a bad peer. */
static int refused(struct tb_conn *c, const struct tb_view *rec, int err,
		   const struct tb_reject *rej)
{
	struct tb_node *n = c->node;
	char id[17];
	tb_hex_encode(id, rej->log_id, 8);
	if (err == TB_EFORKED) {
		int ferr = tb_store_fork_check(n->store, rec->p, rec->len);
		if (ferr == 0) {
			struct tb_entry e;
			uint8_t held[TB_ENTRY_MAX];
			size_t hlen;
			if (!tb_entry_decode(&e, rec->p, rec->len) &&
			    !tb_store_get_entry(n->store, e.log_id, e.seq, held, sizeof held, &hlen)) {
				tb_log(n, TB_LOG_WARN,
				       "FORK of log %s at seq %llu (entries from %s): proof kept, log frozen",
				       id, (unsigned long long)rej->seq, c->addr);
				struct tb_view a = {held, hlen};
				broadcast_fork(n, NULL, a, *rec);
			}
			tb_node_store_changed(n);
			return 0;
		}
		if (ferr == TB_ENOTFOUND)
			return 0;
		if (strstr(rej->msg, "log is forked"))
			return 0; /* already frozen: ignore its entries */
	}
	char why[400];
	snprintf(why, sizeof why, "refused entry: log %s seq %llu: %s (%s)", id,
		 (unsigned long long)rej->seq, rej->msg, tb_errname(err));
	tb_conn_close(c, why);
	return err;
}

void tb_repl_flush(struct tb_conn *c)
{
	struct tb_node *n = c->node;
	size_t done = 0;
	bool any = false;
	while (done < c->ningest && c->state == TB_CONN_OPEN) {
		size_t k = c->ningest - done;
		if (k > TB_APPEND_MAX)
			k = TB_APPEND_MAX;
		size_t accepted = 0;
		struct tb_reject rej;
		int err = tb_store_append(n->store, c->ingest_recs + done, k, &accepted, &rej);
		for (size_t i = 0; i < accepted; i++) {
			struct tb_entry e;
			const struct tb_view *r = &c->ingest_recs[done + i];
			if (!tb_entry_decode(&e, r->p, r->len))
				(void)known_raise(c, e.log_id, e.seq);
		}
		any |= accepted > 0;
		done += accepted;
		if (err) {
			if (accepted == k || err == TB_EIO || err == TB_ESTORE || err == TB_EFULL ||
			    err == TB_ENOMEM || err == TB_EDISKFULL || err == TB_EPERM) {
				char why[4400], path[4200];
				snprintf(path, sizeof path, "%s/ledger", n->data);
				tb_describe_storage(why, sizeof why, err, path,
						    tb_store_need(n->store));
				tb_log(n, TB_LOG_ERROR, "storage: %s", why);
				tb_conn_close(c, "local storage error");
				break;
			}
			if (refused(c, &c->ingest_recs[done], err, &rej))
				break;
			done++; /* skip the forked record, go on with the rest */
		}
	}
	c->ningest = 0;
	c->ingest_len = 0;
	if (any) {
		if (c->peer)
			c->peer->last_contact = (uint64_t)time(NULL);
		(void)tb_node_scan(n);
		tb_node_restore_check(n);
	}
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
		if (c->ningest || known_get(c, n->self) > h.seq)
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
		return on_entries(c, &m->u.entries);
	case TB_MSG_FORK: {
		int err = tb_store_fork_add(n->store, m->u.fork.a.p, m->u.fork.a.len,
					    m->u.fork.b.p, m->u.fork.b.len);
		if (err < 0) {
			char why[160];
			snprintf(why, sizeof why, "invalid fork proof: %s", tb_strerror(err));
			tb_conn_close(c, why);
			return err;
		}
		if (err == 1) {
			tb_log(n, TB_LOG_WARN, "fork proof received from %s: log frozen", c->addr);
			broadcast_fork(n, c, m->u.fork.a, m->u.fork.b);
			tb_node_store_changed(n);
		}
		return 0;
	}
	case TB_MSG_PING: {
		struct tb_peer_msg r = {.type = TB_MSG_PONG};
		r.u.pong.nonce = m->u.ping.nonce;
		return tb_conn_send(c, &r);
	}
	case TB_MSG_PONG:
		tb_node_status_dirty(n);
		return 0;
	case TB_MSG_CHECKPOINT_MSG: {
		const struct tb_view *v = &m->u.checkpoint_msg.checkpoint;
		int err = tb_store_checkpoint_put(n->store, v->p, v->len);
		if (err == TB_EBADSIG || err == TB_EPROOF) {
			/* A checkpoint that contradicts the entries we hold is
			 * evidence, not noise: say so, but keep the peer. */
			tb_log(n, TB_LOG_WARN, "%s sent a checkpoint that %s", c->addr,
			       err == TB_EBADSIG ? "does not verify"
						 : "disagrees with the log's entries");
			return 0;
		}
		if (err == 1)
			tb_node_checkpoint_spread(n, c, v->p, v->len);
		return 0;
	}
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
