/*
 * bench_api.c: tallyd's JSON API over loopback beside the same operations
 * done in-process (issue 13, "Benchmarks"). One community of MEMBERS
 * members is joined straight into its ledger; then:
 *
 *  1. memory: tallyd's private memory (RssAnon) idle with --http off, then
 *     idle with the console on;
 *  2. reads: GET /api/v1/balances by one coordinator, first on one
 *     keep-alive connection (as a browser sends them: the target row), then
 *     one request per connection (connect, request, close), each with
 *     tallyd's CPU time per request; beside the same document read and
 *     encoded in-process (tb_vocab_balances + tb_json_dump, what `tally
 *     --json balance` does minus the process start);
 *  3. writes: POST /api/v1/exchanges with "attest": true on one keep-alive
 *     connection, each answered after its durable commit, beside
 *     tb_store_append_own of the same attested exchange into a second node's
 *     ledger holding the same members (durable commits too);
 *  4. CLIENTS keep-alive connections at once, each sending GET
 *     /api/v1/balances again as soon as its answer is in, for CLIENTS_S
 *     seconds, tallyd's RssAnon sampled every 100 ms (peak).
 *
 * Targets: the ratios API / in-process at least 0.7; tallyd's private
 * memory with the console idle and under CLIENTS clients at most 16 MiB
 * more than with --http off. Daemons die with this process (benchutil).
 * Usage: bench_api [REQUESTS] (default 2000 reads each way and a quarter as
 * many writes).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchhttp.h"
#include "benchutil.h"
#include "fed.h"
#include "httpc.h"
#include "procmem.h"
#include "tb_json.h"
#include "testutil.h"

#define MEMBERS 200
#define SETTLE_MS 3000
#define IDLE_SAMPLES 8
#define IDLE_EVERY_MS 250
#define CLIENTS 100
#define WARM 10	  /* untimed reads first, each way */
#define ROUNDS 10 /* turns of the API and the in-process side */
#define CLIENTS_S 5.0

/* Operations of one kind: how many, their wall-clock and CPU seconds. */
struct side {
	double secs, cpu;
	unsigned n;
};

struct result {
	struct side ka, close, st;	     /* reads: keep-alive, close, in-process */
	struct side api_w, st_w;	     /* attested writes */
	size_t api_bytes, st_bytes;	     /* the document's length */
	long anon_off, anon_idle, anon_busy; /* tallyd's RssAnon, KiB */
	double many_rps;		     /* requests per second of CLIENTS */
};

/* Joins members 3..MEMBERS (fed.c made m1 and m2). */
static void join_members(const char *data)
{
	struct tb_keypair kp;
	tb_bench_node_key(data, &kp);
	struct tb_store *s = tb_bench_open_ledger(data, 0);
	for (uint32_t no = 3; no <= MEMBERS; no++) {
		struct tb_keypair mk;
		tb_test_keypair(&mk, 1000 + no);
		char name[16];
		snprintf(name, sizeof name, "member%u", no);
		struct tb_member_join j;
		tb_test_join(&j, no, name, &mk, -600, 0);
		struct tb_reject rej;
		int err = tb_store_append_own(s, &kp, TB_KIND_MEMBER_JOIN, &j, NULL, &rej);
		if (err)
			tb_bench_die(rej.msg, err);
	}
	tb_store_free(s);
	tb_keypair_wipe(&kp);
}

static double rate(const struct side *s)
{
	return s->n / s->secs;
}

static double cpu_us(const struct side *s)
{
	return s->cpu * 1e6 / s->n;
}

static void account(struct side *s, unsigned n, double t0, double c0, double c1)
{
	s->secs += tb_bench_now() - t0;
	s->cpu += c1 - c0;
	s->n += n;
}

/* Node 1's ledger, opened in this process (no daemon runs on it). */
struct direct {
	struct tb_store *s;
	struct tb_keypair kp;
	const uint8_t *self;
	uint32_t today;
	unsigned next; /* the next exchange's number */
};

static void direct_open(struct direct *d, const char *data, const uint8_t *self)
{
	tb_bench_node_key(data, &d->kp);
	d->s = tb_bench_open_ledger(data, 0);
	d->self = self;
	d->today = tb_bench_today(false);
	d->next = 1;
}

static void direct_close(struct direct *d)
{
	tb_store_free(d->s);
	tb_keypair_wipe(&d->kp);
}

/* What `tally --json balance` does minus the process start: the API's
 * balances document read and encoded, in this process. */
static void direct_reads(struct direct *d, unsigned n, struct side *out, size_t *bytes)
{
	double t0 = tb_bench_now(), c0 = tb_bench_cpu_self();
	for (unsigned i = 0; i < n; i++) {
		int err;
		struct tb_json *o = tb_vocab_balances(d->s, d->self, &err);
		char *text = o ? tb_json_dump(o, bytes) : NULL;
		tb_json_free(o);
		if (!text)
			tb_bench_die("balances", o ? TB_ENOMEM : err);
		free(text);
	}
	account(out, n, t0, c0, tb_bench_cpu_self());
}

/* The same attested exchange as the API's, appended with a durable commit. */
static void direct_writes(struct direct *d, unsigned n, struct side *out)
{
	double t0 = tb_bench_now(), c0 = tb_bench_cpu_self();
	for (unsigned i = 0; i < n; i++) {
		struct tb_exchange x;
		tb_bench_exchange(&x, "benchapi", d->next++, NULL, 1, 2, d->today, false);
		struct tb_reject rej;
		int err = tb_store_append_own(d->s, &d->kp, TB_KIND_EXCHANGE, &x, NULL, &rej);
		if (err)
			tb_bench_die(rej.msg, err);
	}
	account(out, n, t0, c0, tb_bench_cpu_self());
}

/* n GETs of /api/v1/balances: on one keep-alive connection, or each on its
 * own connection (close); tallyd's CPU time counted. */
static void api_reads(pid_t pid, uint16_t http, const char *cookie, int close, unsigned n,
		      struct side *out, size_t *bytes)
{
	size_t len;
	char *req = tb_bench_http_text(http, "GET", "/api/v1/balances", cookie, NULL, NULL, close,
				       &len);
	struct tb_bench_http c = {.fd = -1};
	double t0 = tb_bench_now(), c0 = tb_bench_proc_cpu(pid);
	for (unsigned i = 0; i < n; i++) {
		if (c.fd < 0 && tb_bench_http_open(&c, http))
			tb_bench_die("connect", TB_EIO);
		if (tb_bench_http_request(&c, req, len) != 200)
			tb_bench_die("GET /api/v1/balances", TB_EIO);
		*bytes = c.body_len;
		if (close)
			tb_bench_http_close(&c);
	}
	account(out, n, t0, c0, tb_bench_proc_cpu(pid));
	tb_bench_http_close(&c);
	free(req);
}

/* n POSTs of attested exchanges on one keep-alive connection, each answered
 * after its durable commit. */
static void api_writes(pid_t pid, uint16_t http, const struct tb_httpc_session *sess, unsigned n,
		       unsigned *next, struct side *out)
{
	struct tb_bench_http c;
	if (tb_bench_http_open(&c, http))
		tb_bench_die("connect", TB_EIO);
	double t0 = tb_bench_now(), c0 = tb_bench_proc_cpu(pid);
	for (unsigned i = 0; i < n; i++, (*next)++) {
		char body[200];
		snprintf(
			body, sizeof body,
			"{\"provider\":\"%s\",\"receiver\":\"%s\",\"minutes\":1,\"memo\":\"bench %u\","
			"\"attest\":true}",
			*next % 2 ? "m2" : "m1", *next % 2 ? "m1" : "m2", *next);
		size_t len;
		char *req = tb_bench_http_text(http, "POST", "/api/v1/exchanges", sess->cookie,
					       sess->csrf, body, 0, &len);
		int st = req ? tb_bench_http_request(&c, req, len) : -1;
		free(req);
		if (st != 201) {
			fprintf(stderr, "POST /api/v1/exchanges: %d %s\n", st, c.buf ? c.buf : "");
			tb_bench_die("POST /api/v1/exchanges", TB_EIO);
		}
	}
	account(out, n, t0, c0, tb_bench_proc_cpu(pid));
	tb_bench_http_close(&c);
}

/* The API and the in-process side in turns, ROUNDS of each, so that a
 * change of the machine's load weighs on both alike. */
static void compare(struct tb_fed *f, uint16_t http, const struct tb_httpc_session *sess,
		    unsigned reads, unsigned writes, struct result *r)
{
	pid_t pid = f->node[0].pid;
	struct direct d;
	direct_open(&d, f->node[1].data, f->node[1].id);
	struct side warm = {0};
	api_reads(pid, http, sess->cookie, 0, WARM, &warm, &r->api_bytes);
	direct_reads(&d, WARM, &warm, &r->st_bytes);
	unsigned rr = (reads + ROUNDS - 1) / ROUNDS, wr = (writes + ROUNDS - 1) / ROUNDS, next = 0;
	for (unsigned i = 0; i < ROUNDS; i++) {
		api_reads(pid, http, sess->cookie, 0, rr, &r->ka, &r->api_bytes);
		api_reads(pid, http, sess->cookie, 1, rr, &r->close, &r->api_bytes);
		direct_reads(&d, rr, &r->st, &r->st_bytes);
	}
	for (unsigned i = 0; i < ROUNDS; i++) {
		api_writes(pid, http, sess, wr, &next, &r->api_w);
		direct_writes(&d, wr, &r->st_w);
	}
	direct_close(&d);
}

/* tallyd's private memory (RssAnon, KiB) while it idles: the peak of
 * IDLE_SAMPLES samples after SETTLE_MS. */
static long idle_anon(pid_t pid)
{
	tb_fed_sleep_ms(SETTLE_MS);
	struct tb_procmem peak, m;
	tb_procmem_clear(&peak);
	for (int i = 0; i < IDLE_SAMPLES; i++) {
		if (tb_procmem_read(pid, false, &m))
			tb_bench_die("/proc of tallyd", TB_EIO);
		tb_procmem_peak(&peak, &m);
		tb_fed_sleep_ms(IDLE_EVERY_MS);
	}
	return peak.anon;
}

struct busy {
	pid_t pid;
	struct tb_procmem peak;
};

static void busy_sample(void *ctx)
{
	struct busy *b = ctx;
	struct tb_procmem m;
	if (!tb_procmem_read(b->pid, false, &m))
		tb_procmem_peak(&b->peak, &m);
}

/* CLIENTS keep-alive connections polling GET /api/v1/balances for
 * CLIENTS_S: requests per second; tallyd's peak RssAnon in *anon. */
static double many_clients(struct tb_fed *f, uint16_t http, const char *cookie, long *anon)
{
	size_t len;
	char *req =
		tb_bench_http_text(http, "GET", "/api/v1/balances", cookie, NULL, NULL, 0, &len);
	struct busy b = {.pid = f->node[0].pid};
	tb_procmem_clear(&b.peak);
	double t0 = tb_bench_now();
	const char *reqs[] = {req};
	long n = tb_bench_http_clients(http, CLIENTS, reqs, &len, 1, 200, CLIENTS_S, 100,
				       busy_sample, &b);
	double rps = n / (tb_bench_now() - t0);
	free(req);
	if (n <= 0)
		tb_bench_die("many clients", TB_EIO);
	busy_sample(&b);
	*anon = b.peak.anon;
	return rps;
}

static double mib(long kib)
{
	return kib / 1024.0;
}

static void report(const struct result *r)
{
	printf("%u members (a balances document of %zu bytes); %u reads each way, %u attested "
	       "writes (durable) each way, in %u turns, on 127.0.0.1\n",
	       MEMBERS, r->api_bytes, r->ka.n, r->st_w.n, ROUNDS);
	printf("  in-process: tb_vocab_balances + tb_json_dump (%zu bytes), %.0f us CPU each; "
	       "an append %.0f us CPU\n",
	       r->st_bytes, cpu_us(&r->st), cpu_us(&r->st_w));
	printf("  tallyd's CPU a request: %.0f us keep-alive, %.0f us one request per "
	       "connection, %.0f us an attested POST\n",
	       cpu_us(&r->ka), cpu_us(&r->close), cpu_us(&r->api_w));
	printf("  private memory (RssAnon): %.1f MiB with --http off, %.1f MiB with the console "
	       "idle, %.1f MiB peak under %u clients (%.0f req/s)\n",
	       mib(r->anon_off), mib(r->anon_idle), mib(r->anon_busy), CLIENTS, r->many_rps);
	printf("  load average %.2f\n", tb_bench_load_avg());
	tb_bench_figure("api_balances_rps", rate(&r->ka), "req/s", 0, NULL, 0);
	tb_bench_figure("api_balances_ratio", rate(&r->ka) / rate(&r->st), "x_store", 2, ">=", 0.7);
	tb_bench_figure("store_balances_rps", rate(&r->st), "reads/s", 0, NULL, 0);
	tb_bench_figure("api_balances_close_rps", rate(&r->close), "req/s", 0, NULL, 0);
	tb_bench_figure("api_balances_close_ratio", rate(&r->close) / rate(&r->st), "x_store", 2,
			NULL, 0);
	tb_bench_figure("api_balances_cpu_us", cpu_us(&r->ka), "us/req", 0, NULL, 0);
	tb_bench_figure("store_balances_cpu_us", cpu_us(&r->st), "us/read", 0, NULL, 0);
	/* CPU time against CPU time: what the machine's load changes least. */
	tb_bench_figure("api_balances_cpu_ratio", cpu_us(&r->st) / cpu_us(&r->ka), "x_store", 2,
			NULL, 0);
	tb_bench_figure("api_exchanges_rps", rate(&r->api_w), "req/s", 0, NULL, 0);
	tb_bench_figure("api_exchanges_ratio", rate(&r->api_w) / rate(&r->st_w), "x_store", 2,
			">=", 0.7);
	tb_bench_figure("store_exchanges_rps", rate(&r->st_w), "appends/s", 0, NULL, 0);
	tb_bench_figure("api_mem_nohttp_mib", mib(r->anon_off), "MiB", 1, NULL, 0);
	tb_bench_figure("api_mem_idle_extra_mib", mib(r->anon_idle - r->anon_off), "MiB", 1,
			"<=", 16);
	tb_bench_figure("api_mem_clients_extra_mib", mib(r->anon_busy - r->anon_off), "MiB", 1,
			"<=", 16);
	tb_bench_figure("api_clients_rps", r->many_rps, "req/s", 0, NULL, 0);
	tb_bench_print_figures(9);
}

int main(int argc, char **argv)
{
	tb_bench_init("bench_api", "[REQUESTS]");
	tb_bench_setup(TB_BENCH_DAEMONS | TB_BENCH_DIE_TAILS);
	unsigned reads = argc > 1 ? (unsigned)tb_bench_arg(argv[1], 4, 1000000) : 2000;
	unsigned writes = reads / 4;
	struct tb_fed *f = tb_bench_fed_new("api", 2);
	join_members(f->node[0].data);
	join_members(f->node[1].data);
	tb_bench_coordinator(f, 0, "cora", "coordinator", "a bench password");
	struct result r = {0};
	const char *off[] = {"--http", "off", NULL};
	tb_fed_start_args(f, 0, off);
	r.anon_off = idle_anon(f->node[0].pid);
	tb_fed_stop(f, 0);

	uint16_t http = tb_bench_start_console(f, 0);
	r.anon_idle = idle_anon(f->node[0].pid);
	struct tb_httpc_session sess;
	if (tb_httpc_login(http, "cora", "a bench password", &sess) != 200)
		tb_bench_die("login", TB_EIO);
	compare(f, http, &sess, reads, writes, &r);
	r.many_rps = many_clients(f, http, sess.cookie, &r.anon_busy);
	tb_bench_check_alive(f, 0);
	tb_fed_stop(f, 0);
	report(&r);
	tb_bench_fed_free(f);
	return 0;
}
