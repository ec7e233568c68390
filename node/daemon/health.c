/*
 * health.c: what a monitor asks of a running node, on the HTTP listener.
 * GET /healthz answers 200 {"status":"ok"} or 503 {"status":"degraded",
 * "reasons":[...]} naming each problem: a forked log, a restore not yet
 * synced, no peer connected for TB_HEALTH_NOPEER_S, a disk almost full, a
 * peer holding entries we lack for longer than TB_HEALTH_BEHIND_S. GET
 * /metrics answers the Prometheus text format (version 0.0.4): entries per
 * log, peers connected, lag per peer and log, exchanges in flight, durable
 * commits and their latency (a histogram), HTTP requests by status class,
 * and the process's memory. Both are public (no session) and read only what
 * the node already holds; neither writes anything.
 */
#include "daemon.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define TB_HEALTH_NOPEER_S (10 * 60)
#define TB_HEALTH_BEHIND_S 60
#define TB_HEALTH_DISK_PCT 5
#define TB_HEALTH_DISK_MIN (100ull << 20)
#define TB_METRICS_MAX (4u << 20)

struct buf {
	char *p;
	size_t len, cap;
	bool full;
};

static void add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct buf *b, const char *fmt, ...)
{
	if (b->full)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap * 2;
		char *p = cap <= TB_METRICS_MAX ? realloc(b->p, cap) : NULL;
		if (!p) {
			b->full = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

static int count_fork(void *ctx, const uint8_t log_id[TB_KEY_LEN], uint64_t seq, struct tb_view a,
		      struct tb_view b)
{
	(void)seq;
	(void)a;
	(void)b;
	struct buf *r = ctx;
	char id[17];
	tb_hex_encode(id, log_id, 8);
	add(r, "%s\"forked log %s\"", r->len ? "," : "", id);
	return 0;
}

static void on_healthz(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	(void)req;
	struct tb_node *n = ctx;
	struct buf r = {malloc(1024), 0, 1024, false};
	if (!r.p) {
		tb_http_error(resp, 503, "ENOMEM", "out of memory");
		return;
	}
	r.p[0] = '\0';
	(void)tb_store_foreach_fork(n->store, count_fork, &r);
	if (n->restored)
		add(&r, "%s\"restored from a backup: waiting for peers\"", r.len ? "," : "");
	uint64_t now = (uint64_t)time(NULL), now_ms = tb_now_ms(n);
	size_t open = 0;
	for (struct tb_conn *c = n->conns; c; c = c->next)
		open += c->state == TB_CONN_OPEN;
	uint64_t last = n->started; /* the last contact with any peer */
	for (size_t i = 0; i < n->npeers; i++)
		if (n->peers[i].last_contact > last)
			last = n->peers[i].last_contact;
	if (n->npeers && !open && now - last > TB_HEALTH_NOPEER_S)
		add(&r, "%s\"no peer connected for %llu minutes\"", r.len ? "," : "",
		    (unsigned long long)(now - last) / 60);
	struct statvfs sv;
	if (!statvfs(n->data, &sv)) {
		uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize,
			 total = (uint64_t)sv.f_blocks * sv.f_frsize;
		if (avail < TB_HEALTH_DISK_MIN || avail * 100 < total * TB_HEALTH_DISK_PCT)
			add(&r, "%s\"disk almost full: %llu MiB free\"", r.len ? "," : "",
			    (unsigned long long)(avail >> 20));
	}
	for (struct tb_conn *c = n->conns; c; c = c->next) {
		if (!tb_repl_synced(c) || now_ms - c->opened < TB_HEALTH_BEHIND_S * 1000)
			continue;
		for (size_t i = 0; i < n->nheads; i++) {
			uint64_t theirs = tb_known_get(c, n->heads[i].log_id);
			if (theirs > n->heads[i].seq) {
				char id[17];
				tb_hex_encode(id, n->heads[i].log_id, 8);
				add(&r, "%s\"behind %s on log %s by %llu entries\"",
				    r.len ? "," : "", c->addr, id,
				    (unsigned long long)(theirs - n->heads[i].seq));
				break;
			}
		}
	}
	resp->status = r.len ? 503 : 200;
	resp->type = "application/json";
	resp->cache = "no-store";
	size_t cap = r.len + 64;
	resp->body = malloc(cap);
	if (resp->body)
		resp->len =
			(size_t)snprintf(resp->body, cap, "{\"status\":\"%s\",\"reasons\":[%s]}\n",
					 r.len ? "degraded" : "ok", r.len ? r.p : "");
	free(r.p);
}

static void metric(struct buf *b, const char *name, const char *type, const char *help)
{
	add(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void memory(struct buf *b)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	metric(b, "tally_process_resident_bytes", "gauge", "Resident memory of tallyd.");
	add(b, "tally_process_resident_bytes %lld\n",
	    (long long)resident * (long long)sysconf(_SC_PAGESIZE));
}

static void logs_and_peers(struct tb_node *n, struct buf *b)
{
	metric(b, "tally_log_entries", "gauge", "Entries held per log.");
	for (size_t i = 0; i < n->nheads; i++) {
		char id[17];
		tb_hex_encode(id, n->heads[i].log_id, 8);
		add(b, "tally_log_entries{log=\"%s\",own=\"%d\"} %llu\n", id,
		    !memcmp(n->heads[i].log_id, n->self, TB_KEY_LEN),
		    (unsigned long long)n->heads[i].seq);
	}
	size_t open = 0;
	for (struct tb_conn *c = n->conns; c; c = c->next)
		open += c->state == TB_CONN_OPEN;
	metric(b, "tally_peers_configured", "gauge", "Peers tallyd dials.");
	add(b, "tally_peers_configured %zu\n", n->npeers);
	metric(b, "tally_peers_connected", "gauge", "Open peer connections.");
	add(b, "tally_peers_connected %zu\n", open);
	metric(b, "tally_peer_lag_entries", "gauge",
	       "Entries we hold of a log beyond what the peer holds (negative: the peer is ahead).");
	for (struct tb_conn *c = n->conns; c; c = c->next) {
		if (!tb_repl_synced(c))
			continue;
		for (size_t i = 0; i < n->nheads; i++) {
			char id[17];
			tb_hex_encode(id, n->heads[i].log_id, 8);
			add(b, "tally_peer_lag_entries{peer=\"%s\",log=\"%s\"} %lld\n", c->addr, id,
			    (long long)(n->heads[i].seq - tb_known_get(c, n->heads[i].log_id)));
		}
	}
}

static void on_metrics(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	(void)req;
	struct tb_node *n = ctx;
	struct buf b = {malloc(8192), 0, 8192, false};
	if (!b.p) {
		tb_http_error(resp, 503, "ENOMEM", "out of memory");
		return;
	}
	logs_and_peers(n, &b);
	size_t held = 0, decide = 0, final = 0;
	(void)!tb_store_clear_due(n->store, &held, &decide, &final);
	metric(&b, "tally_exchanges_in_flight", "gauge",
	       "Cross-community exchanges of this community not yet final.");
	add(&b, "tally_exchanges_in_flight %zu\n", held + decide + final);
	metric(&b, "tally_restored", "gauge", "1 while a restore waits for the peers.");
	add(&b, "tally_restored %d\n", n->restored);
	struct tb_store_stats st;
	tb_store_stats(n->store, &st);
	metric(&b, "tally_commit_seconds", "histogram",
	       "Durable LMDB commits of tallyd (mostly fsync).");
	for (size_t i = 0; i < TB_STORE_BUCKETS; i++)
		add(&b, "tally_commit_seconds_bucket{le=\"%g\"} %llu\n", (double)st.le_ns[i] / 1e9,
		    (unsigned long long)st.le[i]);
	add(&b, "tally_commit_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)st.commits);
	add(&b, "tally_commit_seconds_sum %.6f\ntally_commit_seconds_count %llu\n",
	    (double)st.commit_ns / 1e9, (unsigned long long)st.commits);
	uint64_t rq[6];
	tb_http_requests(n->http, rq);
	metric(&b, "tally_http_requests_total", "counter", "HTTP requests answered.");
	for (int i = 1; i <= 5; i++)
		add(&b, "tally_http_requests_total{code=\"%dxx\"} %llu\n", i,
		    (unsigned long long)rq[i]);
	memory(&b);
	if (b.full) {
		free(b.p);
		tb_http_error(resp, 503, "EFULL", "the metrics are over their size cap");
		return;
	}
	resp->status = 200;
	resp->type = "text/plain; version=0.0.4; charset=utf-8";
	resp->cache = "no-store";
	resp->body = b.p;
	resp->len = b.len;
}

int tb_node_health_routes(struct tb_node *n)
{
	if (!n->http)
		return 0;
	const struct tb_route routes[] = {
		{"GET", "/healthz", TB_ROUTE_PUBLIC, 0, on_healthz, n},
		{"GET", "/metrics", TB_ROUTE_PUBLIC, 0, on_metrics, n},
	};
	for (size_t i = 0; i < 2; i++) {
		int err = tb_http_route(n->http, &routes[i]);
		if (err)
			return err;
	}
	return 0;
}
