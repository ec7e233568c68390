/*
 * log.c: tallyd's log lines on stderr: time, level, message. Peers' input is
 * never printed raw: callers describe it (address and reason).
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
	strftime(when, sizeof when, "%H:%M:%S", &tm);
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s.%03ld tallyd[%.8s] %s: ", when, ts.tv_nsec / 1000000,
		n->name, names[lvl]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

uint64_t tb_now_ms(struct tb_node *n)
{
	return uv_now(n->loop);
}
