/*
 * benchutil.c: see benchutil.h.
 */
#include "benchutil.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fed.h"
#include "tb_store.h"
#include "testutil.h"

static const char *prog = "bench";
static const char *usage_args = "";
static unsigned setup_flags;

/* ---- the program ---- */

void tb_bench_init(const char *name, const char *args)
{
	prog = name;
	usage_args = args;
}

void tb_bench_usage(void)
{
	fprintf(stderr, "usage: %s %s\n", prog, usage_args);
	exit(2);
}

unsigned long long tb_bench_arg(const char *arg, unsigned long long min, unsigned long long max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || *end || end == arg || v < min || v > max)
		tb_bench_usage();
	return v;
}

static struct tb_fed *feds[4];

void tb_bench_die(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s (%d)\n", prog, what, err ? tb_strerror(err) : "failed", err);
	if (setup_flags & TB_BENCH_DIE_TAILS)
		for (size_t i = 0; i < sizeof feds / sizeof *feds; i++)
			for (size_t j = 0; feds[i] && j < feds[i]->n; j++)
				tb_fed_print_tail(feds[i], j, 3000);
	exit(1);
}

/* ---- small things ---- */

double tb_bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tb_bench_sleep_us(unsigned us)
{
	struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

double tb_bench_load_avg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

double tb_bench_cpu_self(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

double tb_bench_proc_cpu(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long ut = 0, stt = 0;
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stt) != 2)
		return 0;
	return (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
}

uint32_t tb_bench_today(bool utc)
{
	time_t t = time(NULL);
	struct tm tm;
	if (utc)
		gmtime_r(&t, &tm);
	else
		localtime_r(&t, &tm);
	return (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

int tb_bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double tb_bench_quantile(const double *v, size_t n, double q)
{
	if (!n)
		return 0;
	size_t k = (size_t)(q * (double)n + 0.999999);
	k = k < 1 ? 1 : k > n ? n : k;
	return v[k - 1];
}

uint64_t tb_bench_xorshift(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 2685821657736338717ull;
}

uint64_t tb_bench_seed(void)
{
	const char *env = getenv("BENCH_SEED");
	return env && *env ? strtoull(env, NULL, 10)
			   : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 16;
}

/* ---- entries ---- */

void tb_bench_exchange(struct tb_exchange *x, const char *tag, uint64_t k,
		       const struct tb_keypair *kp, uint32_t a, uint32_t b, uint64_t date,
		       bool memo_of_digest)
{
	uint8_t seed[24], h[TB_HASHLEN];
	size_t len = 16;
	memcpy(seed, tag, 8);
	tb_be64_put(seed + 8, k);
	if (kp) {
		memcpy(seed + 16, kp->pk.b, 8);
		len = 24;
	}
	tb_sha256(h, seed, len);
	memset(x, 0, sizeof *x);
	memcpy(x->txid, h, TB_TXID_LEN);
	x->provider = k % 2 ? b : a;
	x->receiver = k % 2 ? a : b;
	x->minutes = 30;
	x->category = (struct tb_view){(const uint8_t *)"gardening", 9};
	tb_sha256(x->memo_hash, h, memo_of_digest ? TB_HASHLEN : TB_TXID_LEN);
	x->date = date;
	x->attested = 1;
}

void tb_bench_exchange_mix(struct tb_exchange *x, const char *tag, uint64_t k, uint32_t members)
{
	static const char *const categories[] = {
		"gardening", "childcare", "repairs", "transport", "tutoring", "cooking",
	};
	const char *cat = categories[(k / 2) % (sizeof categories / sizeof categories[0])];
	uint64_t p = k / 2;
	uint32_t a = 1 + (uint32_t)(p % members);
	uint32_t off = 1 + (uint32_t)((p / members) % (members - 1));
	uint32_t b = 1 + (a - 1 + off) % members;
	uint8_t seed[16], h[TB_HASHLEN];

	memset(x, 0, sizeof *x);
	memcpy(seed, tag, 8);
	tb_be64_put(seed + 8, k);
	tb_sha256(h, seed, sizeof seed);
	memcpy(x->txid, h, TB_TXID_LEN);
	x->provider = k % 2 ? b : a;
	x->receiver = k % 2 ? a : b;
	x->minutes = 15 + (p % 8) * 15;
	x->category = (struct tb_view){(const uint8_t *)cat, strlen(cat)};
	tb_sha256(x->memo_hash, x->txid, TB_TXID_LEN);
	x->date = 20240000 + (1 + (p / 28) % 12) * 100 + 1 + p % 28;
	x->attested = 1;
}

void tb_bench_log_entry(struct tb_entry *e, size_t i, uint32_t members, const char *bank,
			const char *tag, const struct tb_keypair *kp, const struct tb_keypair *mk,
			const uint8_t *prev, char name[32])
{
	memset(e, 0, sizeof *e);
	e->version = TB_ENTRY_VERSION;
	memcpy(e->log_id, kp->pk.b, TB_KEY_LEN);
	e->seq = i + 1;
	memcpy(e->prev, prev, TB_HASHLEN);
	e->timestamp = 1740000000u + i;
	if (i == 0) {
		e->kind = TB_KIND_GENESIS;
		e->body.genesis.name = (struct tb_view){(const uint8_t *)bank, strlen(bank)};
		e->body.genesis.floor = -TB_LIMIT_MAX;
		e->body.genesis.ceiling = 0;
	} else if (i <= members) {
		struct tb_member_join *j = &e->body.member_join;
		int len = snprintf(name, 32, "member-%05zu", i);
		e->kind = TB_KIND_MEMBER_JOIN;
		j->member = i;
		j->name = (struct tb_view){(const uint8_t *)name, (size_t)len};
		memcpy(j->key, mk[i - 1].pk.b, TB_KEY_LEN);
		j->floor = -TB_LIMIT_MAX;
		j->ceiling = 0;
	} else {
		e->kind = TB_KIND_EXCHANGE;
		tb_bench_exchange_mix(&e->body.exchange, tag, i - members - 1, members);
	}
}

size_t tb_bench_seal_exchange(uint8_t *out, size_t cap, const struct tb_keypair *kp, uint64_t *seq,
			      uint8_t *prev, uint64_t ts, const struct tb_exchange *x)
{
	struct tb_entry e;
	memset(&e, 0, sizeof e);
	e.version = TB_ENTRY_VERSION;
	memcpy(e.log_id, kp->pk.b, TB_KEY_LEN);
	e.seq = ++*seq;
	memcpy(e.prev, prev, TB_HASHLEN);
	e.timestamp = ts;
	e.kind = TB_KIND_EXCHANGE;
	e.body.exchange = *x;
	size_t len;
	int err = tb_entry_seal(out, cap, &len, &e, kp);
	if (err)
		tb_bench_die("tb_entry_seal", err);
	tb_entry_hash(prev, out, len);
	return len;
}

/* ---- figures ---- */

struct figure {
	char name[64];
	double value;
	const char *unit;
	int prec;
	const char *op; /* ">=", "<=" or NULL */
	double target;
};

#define FIGURES_MAX 64
static struct figure figures[FIGURES_MAX];
static size_t nfigures;

double tb_bench_rounded(double v, int prec)
{
	char b[64];
	snprintf(b, sizeof b, "%.*f", prec, v);
	return strtod(b, NULL);
}

void tb_bench_figure(const char *name, double value, const char *unit, int prec, const char *op,
		     double target)
{
	TB_ASSERT(nfigures < FIGURES_MAX);
	struct figure *f = &figures[nfigures++];
	snprintf(f->name, sizeof f->name, "%s", name);
	f->value = tb_bench_rounded(value, prec);
	f->unit = unit;
	f->prec = prec;
	f->op = op;
	f->target = target;
}

static void target_text(const struct figure *f, char t[32])
{
	if (f->op)
		snprintf(t, 32, "%s%g", f->op, f->target);
	else
		snprintf(t, 32, "-");
}

void tb_bench_print_figures(int unit_width)
{
	char t[32];
	printf("\n%-36s %14s  %-*s %-8s %s\n", "figure", "measured", unit_width, "unit", "target",
	       "");
	for (size_t i = 0; i < nfigures; i++) {
		const struct figure *f = &figures[i];
		const char *m = "";
		if (f->op) {
			bool ok = f->op[0] == '>' ? f->value >= f->target : f->value <= f->target;
			m = ok ? "MET" : "NOT MET";
		}
		target_text(f, t);
		printf("%-36s %14.*f  %-*s %-8s %s\n", f->name, f->prec, f->value, unit_width,
		       f->unit, t, m);
	}
	for (size_t i = 0; i < nfigures; i++) {
		const struct figure *f = &figures[i];
		target_text(f, t);
		printf("FIGURE %s %.*f %s %s\n", f->name, f->prec, f->value, f->unit, t);
	}
}

/* ---- every daemon dies with us ---- */

static char *scratch;
static bool keep_trees; /* $TB_KEEP, read before any signal */

static void on_exit_cleanup(void)
{
	for (size_t i = 0; i < sizeof feds / sizeof *feds; i++) {
		tb_fed_free(feds[i]);
		feds[i] = NULL;
	}
	tb_bench_scratch_free();
}

static void rm_tree(const char *path)
{
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/rm", "rm", "-rf", path, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

static void on_signal(int sig)
{
	/* Only async-signal-safe calls: kill and reap the daemons, then
	 * remove the trees with rm (unless $TB_KEEP). */
	for (size_t i = 0; i < sizeof feds / sizeof *feds; i++)
		for (size_t j = 0; feds[i] && j < feds[i]->n; j++)
			if (feds[i]->node[j].pid > 0)
				kill(feds[i]->node[j].pid, SIGKILL);
	for (size_t i = 0; i < sizeof feds / sizeof *feds; i++)
		for (size_t j = 0; feds[i] && j < feds[i]->n; j++)
			if (feds[i]->node[j].pid > 0)
				while (waitpid(feds[i]->node[j].pid, NULL, 0) < 0 && errno == EINTR)
					;
	for (size_t i = 0; !keep_trees && i < sizeof feds / sizeof *feds; i++)
		if (feds[i] && feds[i]->root)
			rm_tree(feds[i]->root);
	if (!keep_trees && scratch)
		rm_tree(scratch);
	_exit(128 + sig);
}

void tb_bench_setup(unsigned flags)
{
	setup_flags = flags;
	setvbuf(stdout, NULL, _IOLBF, 0);
	int err = tb_crypto_init();
	if (err)
		tb_bench_die("tb_crypto_init", err);
	if (!(flags & TB_BENCH_DAEMONS))
		return;
	tb_bench_find_binaries();
	keep_trees = !(flags & TB_BENCH_RM_KEPT) && getenv("TB_KEEP") != NULL;
	atexit(on_exit_cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (flags & TB_BENCH_LOG_WARN) {
		const char *l = getenv("TB_FED_LOG_LEVEL");
		setenv("TB_FED_LOG_LEVEL", l ? l : "warn", 1);
	}
}

/* ---- daemons ---- */

void tb_bench_find_binaries(void)
{
	char self[4096], path[4200];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		tb_bench_die("readlink /proc/self/exe", TB_EIO);
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	static const char *const vars[2] = {"TALLY_BIN", "TALLYD_BIN"};
	static const char *const names[2] = {"tally", "tallyd"};
	for (int i = 0; i < 2; i++) {
		const char *v = getenv(vars[i]);
		if (!v || !*v) {
			snprintf(path, sizeof path, "%s/../node/%s", self, names[i]);
			setenv(vars[i], path, 1);
			v = getenv(vars[i]);
		}
		if (access(v, X_OK)) {
			fprintf(stderr, "%s: %s=%s is not executable: set %s\n", prog, vars[i], v,
				vars[i]);
			exit(1);
		}
	}
}

struct tb_fed *tb_bench_fed_new(const char *tag, size_t n)
{
	struct tb_fed *f = tb_fed_new(tag, n);
	for (size_t i = 0; i < sizeof feds / sizeof *feds; i++) {
		if (!feds[i]) {
			feds[i] = f;
			return f;
		}
	}
	TB_ASSERT(!"too many federations");
	return NULL;
}

void tb_bench_fed_free(struct tb_fed *f)
{
	for (size_t i = 0; i < sizeof feds / sizeof *feds; i++)
		if (feds[i] == f)
			feds[i] = NULL;
	tb_fed_free(f);
}

const char *tb_bench_scratch(const char *tag)
{
	tb_bench_scratch_free();
	scratch = tb_test_tmpdir(tag);
	return scratch;
}

void tb_bench_scratch_free(void)
{
	char *dir = scratch;
	scratch = NULL;
	if (dir)
		tb_test_rmrf(dir);
}

void tb_bench_coordinator(struct tb_fed *f, size_t i, const char *name, const char *role,
			  const char *pw)
{
	char file[TB_FED_PATH + 80];
	snprintf(file, sizeof file, "%s/%.64s.pw", f->root, name);
	if (tb_test_write_file(file, pw, strlen(pw)) ||
	    TB_FED_TALLY(f, i, "coordinator", "add", name, "--role", role, "--password-file", file))
		tb_bench_die("coordinator add", TB_EIO);
}

uint16_t tb_bench_start_console(struct tb_fed *f, size_t i)
{
	uint16_t http = tb_fed_free_port();
	char arg[32];
	snprintf(arg, sizeof arg, "127.0.0.1:%u", http);
	const char *extra[] = {"--http", arg, NULL};
	tb_fed_start_args(f, i, extra);
	tb_fed_wait_log_line(f, i, "console and API on", NULL, 10000);
	return http;
}

void tb_bench_check_alive(struct tb_fed *f, size_t i)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	pid_t pid = f->node[i].pid;
	if (pid > 0 && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == pid) {
		char *tail = tb_fed_log_tail(f, i, 3000);
		fprintf(stderr, "%s: tallyd of node %zu (pid %d) exited:\n%s\n", prog, i, (int)pid,
			tail);
		free(tail);
		exit(1);
	}
}

struct tb_store *tb_bench_open_ledger(const char *data, unsigned flags)
{
	char path[TB_FED_PATH + 64];
	snprintf(path, sizeof path, "%s/ledger", data);
	struct tb_store *s;
	int err = tb_store_open(&s, path, flags);
	if (err)
		tb_bench_die(path, err);
	return s;
}

void tb_bench_node_key(const char *data, struct tb_keypair *kp)
{
	char path[TB_FED_PATH + 32];
	snprintf(path, sizeof path, "%s/keys/node.key", data);
	int err = tb_keyfile_read(path, kp, TB_FED_PASS, strlen(TB_FED_PASS));
	if (err)
		tb_bench_die(path, err);
}

uint64_t tb_bench_held_seq(struct tb_store *s, const uint8_t *log_id, uint8_t *hash)
{
	struct tb_head h;
	if (tb_store_head(s, log_id, &h))
		return 0;
	if (hash)
		memcpy(hash, h.hash, TB_HASHLEN);
	return h.seq;
}

void tb_bench_head_members(struct tb_store *s, const uint8_t *log_id, struct tb_head *h,
			   uint32_t *m1, uint32_t *m2, const char *what)
{
	struct tb_member a, b;
	int err;
	if ((err = tb_store_head(s, log_id, h)) ||
	    (err = tb_store_member_by_name(s, log_id, "m1", &a)) ||
	    (err = tb_store_member_by_name(s, log_id, "m2", &b)))
		tb_bench_die(what, err);
	*m1 = a.no;
	*m2 = b.no;
}

void tb_bench_link_random(struct tb_fed *f, uint64_t *rng)
{
	for (size_t i = 1; i < f->n; i++) {
		size_t a = (size_t)(tb_bench_xorshift(rng) % i);
		size_t b = (size_t)(tb_bench_xorshift(rng) % i);
		tb_fed_link(f, i, a);
		if (i > 1) {
			while (b == a)
				b = (size_t)(tb_bench_xorshift(rng) % i);
			tb_fed_link(f, i, b);
		}
	}
}

void tb_bench_start_all(struct tb_fed *f)
{
	for (size_t i = 0; i < f->n; i += 4) {
		for (size_t j = i; j < i + 4 && j < f->n; j++)
			tb_fed_spawn(f, j, NULL);
		for (size_t j = i; j < i + 4 && j < f->n; j++)
			tb_fed_wait_up(f, j);
	}
}
