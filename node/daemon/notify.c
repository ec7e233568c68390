/*
 * notify.c: tallyd under systemd (Type=notify), through libsystemd's
 * sd_notify, the only file that includes a systemd header. READY=1 once the
 * ledger is open and the listener bound; WATCHDOG=1 at half the interval the
 * unit asks for (WatchdogSec=), from the event loop, so a loop that hangs
 * stops petting and systemd restarts the node; STOPPING=1 on a clean stop;
 * STATUS= lines a person reads in `systemctl status`; while the ledger's
 * indexes are rebuilt before READY=1, EXTEND_TIMEOUT_USEC= after each batch,
 * so the start timeout (90 s by default) bounds a batch, not the whole
 * rebuild, and STATUS= how far it is. Outside systemd
 * (NOTIFY_SOCKET unset) every call does nothing.
 */
#include "daemon.h"

#include <systemd/sd-daemon.h>

static void on_watchdog(uv_timer_t *t)
{
	(void)t;
	sd_notify(0, "WATCHDOG=1");
}

void tb_notify_ready(struct tb_node *n)
{
	uint64_t usec = 0;
	uv_timer_init(n->loop, &n->watchdog_timer);
	n->watchdog_timer.data = n;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000) {
		uint64_t ms = usec / 2000;
		uv_timer_start(&n->watchdog_timer, on_watchdog, ms, ms);
		tb_log(n, TB_LOG_DEBUG, "systemd watchdog: petting every %llu ms",
		       (unsigned long long)ms);
	}
	sd_notifyf(0, "READY=1\nSTATUS=community %s, %zu peers configured%s", n->name, n->npeers,
		   n->restored ? ", restored: waiting for peers" : "");
}

/* A batch takes well under a second; a minute leaves room for a slow disk. */
#define TB_REBUILD_EXTEND_USEC 60000000ull

void tb_notify_rebuild(uint64_t done, uint64_t total)
{
	if (total)
		sd_notifyf(0,
			   "EXTEND_TIMEOUT_USEC=%llu\nSTATUS=rebuilding the ledger's indexes: %llu "
			   "of %llu entries",
			   TB_REBUILD_EXTEND_USEC, (unsigned long long)done,
			   (unsigned long long)total);
	else
		sd_notifyf(0,
			   "EXTEND_TIMEOUT_USEC=%llu\nSTATUS=converting the statement index: %llu "
			   "lines",
			   TB_REBUILD_EXTEND_USEC, (unsigned long long)done);
}

void tb_notify_stopping(struct tb_node *n)
{
	uv_timer_stop(&n->watchdog_timer);
	sd_notify(0, "STOPPING=1");
}
