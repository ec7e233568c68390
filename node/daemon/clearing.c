/*
 * clearing.c: tallyd's part in cross-community exchanges. Whenever the
 * store may have changed (a peer's entries ingested, tally's commit seen),
 * before announcing heads, run the store's clearing step: decide the
 * prepares addressed to us, finish our own whose decision arrived. The legs
 * appended then travel to peers with the scan that follows, so nothing is
 * announced before it is durable.
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

void tb_node_clear(struct tb_node *n)
{
	if (n->restored)
		return; /* nothing is signed until the restore synced */
	size_t held, decide, final;
	int err = tb_store_clear_due(n->store, &held, &decide, &final);
	if (err) {
		tb_log(n, TB_LOG_ERROR, "cannot read open cross-community exchanges: %s",
		       tb_strerror(err));
		return;
	}
	if (held)
		crash_point(n, "after-prepare");
	if (decide && final && !n->crash_at) {
		/* Both due: one transaction, one fsync. */
		size_t d = 0, f = 0;
		err = tb_store_clear(n->store, &n->key, TB_CLEAR_DECIDE | TB_CLEAR_FINAL,
				     (uint64_t)time(NULL), TB_CLEAR_BATCH, &d, &f);
		if (err)
			tb_log(n, TB_LOG_ERROR, "cannot record cross-community legs: %s",
			       tb_strerror(err));
		else
			tb_log(n, TB_LOG_DEBUG, "decided %zu and finished %zu exchanges", d, f);
		return;
	}
	if (decide) {
		crash_point(n, "before-decision");
		size_t done = 0;
		err = tb_store_clear(n->store, &n->key, TB_CLEAR_DECIDE, (uint64_t)time(NULL),
				     TB_CLEAR_BATCH, &done, NULL);
		if (err)
			tb_log(n, TB_LOG_ERROR, "cannot record decisions: %s", tb_strerror(err));
		else
			tb_log(n, TB_LOG_DEBUG, "decided %zu cross-community exchanges", done);
		if (done)
			crash_point(n, "after-decision");
	}
	if (final) {
		crash_point(n, "before-final");
		size_t done = 0;
		err = tb_store_clear(n->store, &n->key, TB_CLEAR_FINAL, (uint64_t)time(NULL),
				     TB_CLEAR_BATCH, NULL, &done);
		if (err)
			tb_log(n, TB_LOG_ERROR, "cannot finish exchanges: %s", tb_strerror(err));
		else
			tb_log(n, TB_LOG_DEBUG, "finished %zu cross-community exchanges", done);
		if (done)
			crash_point(n, "after-final");
	}
}
