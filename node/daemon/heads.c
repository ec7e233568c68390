/*
 * heads.c: the heads of every log the store holds, as of the last scan, and
 * what follows when they move: the logs admitted are read again when a log
 * changed, only admitted logs are announced and pushed, the HTTP server
 * announces logs that grew, and the peers are pumped. A scan is debounced
 * after the store's changes. The heads are read before the clearing step
 * (cross-community legs due), so that step has seen every entry the scan
 * announces; the legs it appends go out with the next scan, at once. A
 * restored node lifts its mark here too. Each scan also looks at the
 * listings' last stamp (new listings are pumped) and, a minute apart,
 * deletes expired listings.
 */
#include "daemon.h"
#include "tb_ops.h"

#include <stdlib.h>
#include <string.h>

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

/* Announces on the HTTP server (if it runs) the logs that grew between two
 * sets of heads (both sorted by log id). */
static void http_heads(struct tb_node *n, const struct tb_head *old, size_t nold,
		       const struct tb_head *now, size_t nnow)
{
	if (!n->http)
		return;
	size_t i = 0;
	for (size_t j = 0; j < nnow; j++) {
		while (i < nold && memcmp(old[i].log_id, now[j].log_id, TB_KEY_LEN) < 0)
			i++;
		bool same = i < nold && !memcmp(old[i].log_id, now[j].log_id, TB_KEY_LEN);
		if (!same || old[i].seq != now[j].seq)
			tb_http_announce(n->http, now[j].log_id, now[j].seq);
	}
}

int tb_node_scan(struct tb_node *n)
{
	/* Heads first, then the clearing step: tally appends from another
	 * process at any moment, and a prepare of ours it commits between the
	 * two reads must not be announced before the step saw it held. Legs
	 * the step appends, or more due than one step takes: another scan. */
	struct scan s = {0};
	int err = tb_store_foreach_log(n->store, scan_one, &s);
	if (err || s.err) {
		free(s.h);
		tb_log(n, TB_LOG_ERROR, "cannot read the store's heads: %s",
		       tb_strerror(err ? err : s.err));
		return err ? err : s.err;
	}
	if (tb_node_clear(n))
		tb_node_store_changed(n);
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
		http_heads(n, n->heads, n->nheads, s.h, s.n);
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
	tb_node_listings_scan(n);
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
		tb_log(n, TB_LOG_WARN,
		       "restore confirmed without peers ('tally restore "
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
		if (!tb_repl_synced(c))
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

void tb_node_listings_scan(struct tb_node *n)
{
	uint64_t stamp, now = tb_listing_now();
	size_t removed = 0;
	if (now >= n->lst_pruned + TB_LST_PRUNE_S) {
		n->lst_pruned = now;
		int err = tb_store_listings_prune(n->store, now, &removed);
		if (err)
			tb_log(n, TB_LOG_ERROR, "cannot delete expired listings: %s",
			       tb_strerror(err));
		else if (removed)
			tb_log(n, TB_LOG_DEBUG, "%zu expired listings deleted", removed);
		/* Answers go with their listing (expired, withdrawn or gone). */
		if ((err = tb_store_answers_prune(n->store, now, &removed)))
			tb_log(n, TB_LOG_ERROR, "cannot delete answers: %s", tb_strerror(err));
	}
	uint64_t astamp;
	bool more = !tb_store_answers_stamp(n->store, &astamp) && astamp != n->ans_stamp;
	if (more)
		n->ans_stamp = astamp;
	if (!tb_store_listings_stamp(n->store, &stamp) && stamp != n->lst_stamp) {
		n->lst_stamp = stamp;
		more = true;
	}
	if (!more)
		return;
	for (struct tb_conn *c = n->conns; c; c = c->next)
		tb_repl_pump(c);
}
