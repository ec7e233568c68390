/*
 * log.c: tallyd's log lines on stderr: date and time (ISO 8601, UTC, to the
 * millisecond), level, message; one line each (a newline or control
 * character in a message is printed as a space), so journald and grep see one
 * event per line. Peers' input is never printed raw: callers describe it
 * (address and reason).
 */
#include "daemon.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

void tb_log(struct tb_node *n, enum tb_loglevel lvl, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	if (lvl > n->level)
		return;
	struct timespec ts;
	struct tm tm;
	char when[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	fprintf(stderr, "%s.%03ldZ tallyd[%.8s] %s: %s\n", when, ts.tv_nsec / 1000000, n->name,
		names[lvl], msg);
}

uint64_t tb_now_ms(struct tb_node *n)
{
	return uv_now(n->loop);
}
