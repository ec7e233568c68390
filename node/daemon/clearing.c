/*
 * clearing.c: tallyd's part in cross-community exchanges. Whenever the
 * store may have changed (a peer's entries ingested, tally's commit seen),
 * before announcing heads, run the store's clearing step: decide the
 * prepares addressed to us, finish our own whose decision arrived. The legs
 * appended then travel to peers with the scan that follows, so nothing is
 * announced before it is durable; and no entry is announced before a
 * clearing step saw it (heads.c reads the heads before the step). A leg the
 * store could not record (its prepare breaks a rule of ours, a decision that
 * does not answer) is logged once, not at every step; the others go on.
 *
 * Fault injection (tests only): TALLYD_CRASH_AT names a point at which the
 * node exits at once with status 70, as if killed there: after-prepare (an
 * own prepare is held and not yet sent), before-decision, after-decision,
 * before-final, after-final.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define TB_CLEAR_BATCH 1024

static void crash_point(struct tb_node *n, const char *point)
{
	if (!n->crash_at || strcmp(n->crash_at, point))
		return;
	tb_log(n, TB_LOG_WARN, "crash point %s reached: exiting (TALLYD_CRASH_AT)", point);
	_exit(70);
}

/* Legs that cannot be recorded are logged once, not at every step: the
 * node remembers the last ones it logged (at most TB_CLEAR_SKIPS_MAX). */
struct skip_log {
	struct tb_node *n;
	size_t fresh, unlogged;
};

static void on_skip(void *ctx, const struct tb_reject *r)
{
	struct skip_log *sl = ctx;
	struct tb_node *n = sl->n;
	for (size_t i = 0; i < n->nskips; i++)
		if (n->skips[i].seq == r->seq && !memcmp(n->skips[i].payer, r->log_id, TB_KEY_LEN))
			return;
	if (n->nskips == TB_CLEAR_SKIPS_MAX) {
		sl->unlogged++;
		return;
	}
	memcpy(n->skips[n->nskips].payer, r->log_id, TB_KEY_LEN);
	n->skips[n->nskips++].seq = r->seq;
	sl->fresh++;
	char id[17];
	tb_hex_encode(id, r->log_id, 8);
	tb_log(n, TB_LOG_WARN,
	       "cross-community exchange of log %s entry %llu left as it is: %s (%s)", id,
	       (unsigned long long)r->seq, r->msg, tb_errname(r->err));
}

/* One clearing step; false if it failed (logged). */
static bool clear_step(struct tb_node *n, unsigned what, struct tb_clear *c)
{
	struct skip_log sl = {n, 0, 0};
	memset(c, 0, sizeof *c);
	c->what = what;
	c->now = (uint64_t)time(NULL);
	c->max = TB_CLEAR_BATCH;
	c->skipped = on_skip;
	c->ctx = &sl;
	int err = tb_store_clear(n->store, &n->key, c);
	if (err) {
		tb_log(n, TB_LOG_ERROR, "cannot record cross-community legs: %s", tb_strerror(err));
		return false;
	}
	if (sl.unlogged)
		tb_log(n, TB_LOG_WARN, "%zu more cross-community exchanges could not be moved on",
		       sl.unlogged);
	if (!c->skips)
		n->nskips = 0; /* all recorded: forget what was logged */
	tb_log(n, TB_LOG_DEBUG, "decided %zu and finished %zu exchanges (%zu left as they are)",
	       c->decided, c->finished, c->skips);
	return true;
}

bool tb_node_clear(struct tb_node *n)
{
	if (n->restored)
		return false; /* nothing is signed until the restore synced */
	size_t held, decide, final;
	int err = tb_store_clear_due(n->store, &held, &decide, &final);
	if (err) {
		tb_log(n, TB_LOG_ERROR, "cannot read open cross-community exchanges: %s",
		       tb_strerror(err));
		return false;
	}
	if (held)
		crash_point(n, "after-prepare");
	/* A step that took fewer than were due leaves c.more set. */
	struct tb_clear c;
	bool again = false;
	if (decide && final && !n->crash_at) {
		/* Both due: one transaction, one fsync. */
		return clear_step(n, TB_CLEAR_DECIDE | TB_CLEAR_FINAL, &c) &&
		       (c.decided || c.finished || c.more);
	}
	if (decide) {
		crash_point(n, "before-decision");
		if (clear_step(n, TB_CLEAR_DECIDE, &c) && c.decided)
			crash_point(n, "after-decision");
		again |= c.decided || c.more;
	}
	if (final) {
		crash_point(n, "before-final");
		if (clear_step(n, TB_CLEAR_FINAL, &c) && c.finished)
			crash_point(n, "after-final");
		again |= c.finished || c.more;
	}
	return again;
}
