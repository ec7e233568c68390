/*
 * fed.c: test federations of real tallyd processes on 127.0.0.1, and a fake
 * peer speaking the protocol of node/daemon/conn.c (see fed.h). Test code
 * only: it fails through cmocka and never returns half-started state.
 */
#include "fed.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tb_node.h"
#include "procmem.h"

#define POLL_MS 25
#define START_MS 30000 /* a daemon listens within this (ASan, loaded CI) */
#define STOP_MS 30000

/* ---- process-wide list of daemons started ---- */

static pid_t live[512];
static size_t nlive;

static void kill_all_at_exit(void)
{
	tb_fed_kill_all();
}

static void live_add(pid_t pid)
{
	static bool hooked;
	if (!hooked) {
		atexit(kill_all_at_exit);
		hooked = true;
	}
	if (nlive < sizeof live / sizeof *live)
		live[nlive++] = pid;
}

static void live_del(pid_t pid)
{
	for (size_t i = 0; i < nlive; i++) {
		if (live[i] == pid) {
			live[i] = live[--nlive];
			return;
		}
	}
}

void tb_fed_kill_all(void)
{
	for (size_t i = 0; i < nlive; i++) {
		kill(live[i], SIGKILL);
		while (waitpid(live[i], NULL, 0) < 0 && errno == EINTR)
			;
	}
	nlive = 0;
}

/* ---- small things ---- */

const char *tb_tallyd_bin(void)
{
	const char *b = getenv("TALLYD_BIN");
	return b && *b ? b : "tallyd";
}

uint64_t tb_fed_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void tb_fed_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static bool port_free(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

static uint16_t given[1024];
static size_t ngiven;

static bool was_given(uint16_t p)
{
	for (size_t i = 0; i < ngiven; i++)
		if (given[i] == p)
			return true;
	return false;
}

/*
 * A port that binds on 127.0.0.1 now. Preferably below the kernel's
 * ephemeral range, so that no outgoing connection (of any daemon) can take it
 * between now and the daemon's bind; else whatever bind(port 0) gives.
 */
uint16_t tb_fed_free_port(void)
{
	static bool seeded;
	if (!seeded) {
		srand((unsigned)getpid() ^ (unsigned)tb_fed_now_ms());
		seeded = true;
	}
	unsigned lo = 32768;
	FILE *fp = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (fp) {
		unsigned a, b;
		if (fscanf(fp, "%u %u", &a, &b) == 2)
			lo = a;
		fclose(fp);
	}
	uint16_t port = 0;
	if (lo > 12000) {
		for (int tries = 0; tries < 200 && !port; tries++) {
			uint16_t p = (uint16_t)(10000 + (unsigned)rand() % (lo - 11000));
			if (!was_given(p) && port_free(p))
				port = p;
		}
	}
	for (int tries = 0; tries < 100 && !port; tries++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(fd >= 0);
		struct sockaddr_in a = {0};
		socklen_t len = sizeof a;
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
		assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
		close(fd);
		if (!was_given(ntohs(a.sin_port)))
			port = ntohs(a.sin_port);
	}
	assert_true(port != 0);
	if (ngiven < sizeof given / sizeof *given)
		given[ngiven++] = port;
	return port;
}

/* ---- creating nodes ---- */

/* In a child: init a node and add its members; exit code says. */
static int init_node(const char *fedkey, const struct tb_fed_node *nd, const char *const *members)
{
	static struct tb_proc_result r;
	const char *tally = tb_tally_bin();
	const char *init[] = {tally,	"--data",	nd->data, "init", "--name",
			      nd->name, "--federation", fedkey,	  NULL};
	if (tb_run(&r, init) || r.code) {
		fprintf(stderr, "%s: init failed (%d): %s\n", nd->name, r.code, r.err);
		return 1;
	}
	for (size_t i = 0; members[i]; i++) {
		const char *add[] = {tally, "--data", nd->data, "member", "add", members[i], NULL};
		if (tb_run(&r, add) || r.code) {
			fprintf(stderr, "%s: member add %s failed (%d): %s\n", nd->name, members[i],
				r.code, r.err);
			return 1;
		}
	}
	return 0;
}

/* In a child: node i admits every other node of the federation (one
 * `tally community admit ID=NAME...`), so that all logs flow everywhere. */
static int admit_others(const struct tb_fed *f, size_t i)
{
	static struct tb_proc_result r;
	static char pairs[TB_FED_MAX_NODES][2 * TB_KEY_LEN + 32];
	const char *argv[TB_FED_MAX_NODES + 8];
	size_t k = 0;
	argv[k++] = tb_tally_bin();
	argv[k++] = "--data";
	argv[k++] = f->node[i].data;
	argv[k++] = "community";
	argv[k++] = "admit";
	for (size_t j = 0; j < f->n; j++) {
		if (j == i)
			continue;
		char hex[2 * TB_KEY_LEN + 1];
		tb_hex_encode(hex, f->node[j].id, TB_KEY_LEN);
		snprintf(pairs[j], sizeof pairs[j], "%s=%s", hex, f->node[j].name);
		argv[k++] = pairs[j];
	}
	argv[k] = NULL;
	if (k == 5)
		return 0;
	if (tb_run(&r, argv) || r.code) {
		fprintf(stderr, "%s: community admit failed (%d): %s\n", f->node[i].name, r.code,
			r.err);
		return 1;
	}
	return 0;
}

static void admit_all(struct tb_fed *f)
{
	size_t next = 0, running = 0;
	bool failed = false;
	while (next < f->n || running) {
		if (next < f->n && running < 4) {
			fflush(NULL);
			pid_t pid = fork();
			assert_true(pid >= 0);
			if (pid == 0)
				_exit(admit_others(f, next));
			next++;
			running++;
			continue;
		}
		int st;
		pid_t w = wait(&st);
		if (w < 0 && errno == EINTR)
			continue;
		assert_true(w > 0);
		running--;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			failed = true;
	}
	if (failed)
		fail_msg("admitting the communities failed (see above)");
}

void tb_fed_admit(struct tb_fed *f, size_t i, const uint8_t id[TB_KEY_LEN], const char *name)
{
	tb_fed_admit_many(f, i, (const uint8_t(*)[TB_KEY_LEN])id, &name, 1);
}

void tb_fed_admit_many(struct tb_fed *f, size_t i, const uint8_t (*ids)[TB_KEY_LEN],
		       const char *const *names, size_t n)
{
	enum { PAIR = 2 * TB_KEY_LEN + TB_NAME_MAX + 2 };
	char *pairs = malloc(n * PAIR);
	const char **argv = calloc(n + 6, sizeof *argv);
	assert_true(pairs && argv);
	size_t k = 0;
	argv[k++] = tb_tally_bin();
	argv[k++] = "--data";
	argv[k++] = f->node[i].data;
	argv[k++] = "community";
	argv[k++] = "admit";
	for (size_t j = 0; j < n; j++) {
		char hex[2 * TB_KEY_LEN + 1];
		tb_hex_encode(hex, ids[j], TB_KEY_LEN);
		snprintf(pairs + j * PAIR, PAIR, "%s=%s", hex, names[j]);
		argv[k++] = pairs + j * PAIR;
	}
	argv[k] = NULL;
	assert_int_equal(tb_run(&f->res, argv), 0);
	if (f->res.code)
		fail_msg("%s: tally community admit (%zu): %d %s", f->node[i].name, n, f->res.code,
			 f->res.err);
	free(pairs);
	free(argv);
}

struct tb_fed *tb_fed_new(const char *tag, size_t n)
{
	return tb_fed_new_spec(tag, n, NULL);
}

struct tb_fed *tb_fed_new_spec(const char *tag, size_t n, const struct tb_fed_spec *spec)
{
	static const char *const default_members[] = {"m1", "m2", NULL};
	assert_true(n > 0 && n <= TB_FED_MAX_NODES);
	setenv("TALLY_PASSPHRASE", TB_FED_PASS, 1);
	setenv("TALLY_MEMBER_PASSPHRASE", TB_FED_MEMBER_PASS, 1);
	struct tb_fed *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->root = tb_test_tmpdir(tag);
	f->n = n;
	snprintf(f->fedkey, sizeof f->fedkey, "%s/fed.key", f->root);
	const char *mk[] = {tb_tally_bin(), "federation", "create", "--out", f->fedkey, NULL};
	assert_int_equal(tb_run(&f->res, mk), 0);
	if (f->res.code)
		fail_msg("tally federation create: %d %s", f->res.code, f->res.err);
	for (size_t i = 0; i < n; i++) {
		struct tb_fed_node *nd = &f->node[i];
		if (spec)
			snprintf(nd->name, sizeof nd->name, "%s", spec[i].name);
		else
			snprintf(nd->name, sizeof nd->name, "Comm%02u", (unsigned)i);
		snprintf(nd->data, sizeof nd->data, "%.1000s/node%02u", f->root, (unsigned)i);
		snprintf(nd->log, sizeof nd->log, "%.1000s/node%02u/tallyd.log", f->root,
			 (unsigned)i);
		nd->port = tb_fed_free_port();
	}
	/* Up to 4 nodes at once: key derivation dominates. */
	size_t next = 0, running = 0;
	bool failed = false;
	while (next < n || running) {
		if (next < n && running < 4) {
			fflush(NULL);
			pid_t pid = fork();
			assert_true(pid >= 0);
			if (pid == 0)
				_exit(init_node(f->fedkey, &f->node[next],
						spec ? spec[next].members : default_members));
			next++;
			running++;
			continue;
		}
		int st;
		pid_t w = wait(&st);
		if (w < 0 && errno == EINTR)
			continue;
		assert_true(w > 0);
		running--;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			failed = true;
	}
	if (failed)
		fail_msg("creating the nodes failed (see above)");
	for (size_t i = 0; i < n; i++) {
		struct tb_store *s;
		char ledger[TB_FED_PATH + 64];
		snprintf(ledger, sizeof ledger, "%s/ledger", f->node[i].data);
		assert_int_equal(tb_store_open(&s, ledger, TB_STORE_RDONLY), 0);
		assert_int_equal(tb_store_self(s, f->node[i].id), 0);
		tb_store_free(s);
	}
	admit_all(f);
	return f;
}

void tb_fed_free(struct tb_fed *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		if (f->node[i].pid)
			tb_fed_kill(f, i);
	if (getenv("TB_KEEP")) {
		fprintf(stderr, "keeping %s\n", f->root);
		free(f->root);
	} else {
		tb_test_rmrf(f->root);
	}
	free(f);
}

void tb_fed_link(struct tb_fed *f, size_t a, size_t b)
{
	assert_true(a < f->n && b < f->n && a != b);
	f->node[a].dials[b] = true;
}

/* ---- daemons ---- */

char *tb_fed_log_tail(struct tb_fed *f, size_t i, size_t max_bytes)
{
	size_t len = 0;
	uint8_t *all = tb_test_read_file(f->node[i].log, &len);
	char *out = malloc(max_bytes + 64);
	assert_non_null(out);
	if (!all) {
		snprintf(out, max_bytes + 64, "(no %s)", f->node[i].log);
		return out;
	}
	size_t from = len > max_bytes ? len - max_bytes : 0;
	while (from > 0 && from < len && all[from - 1] != '\n')
		from++;
	memcpy(out, all + from, len - from);
	out[len - from] = '\0';
	free(all);
	return out;
}

static void fail_with_log(struct tb_fed *f, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail_with_log(struct tb_fed *f, size_t i, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* cmocka cuts long messages: the log tail goes to stderr first. */
	if (i < f->n)
		tb_fed_print_tail(f, i, 6000);
	fail_msg("%s%s%s", msg, f->note[0] ? "\n" : "", f->note);
}

void tb_fed_print_tail(struct tb_fed *f, size_t i, size_t max_bytes)
{
	char *tail = tb_fed_log_tail(f, i, max_bytes);
	fprintf(stderr, "---- tail of node %zu (%s) %s ----\n%s---- end ----\n", i, f->node[i].name,
		f->node[i].log, tail);
	free(tail);
}

void tb_fed_spawn(struct tb_fed *f, size_t i, const char *const *extra)
{
	tb_fed_spawn_env(f, i, extra, NULL);
}

void tb_fed_spawn_env(struct tb_fed *f, size_t i, const char *const *extra, const char *const *env)
{
	struct tb_fed_node *nd = &f->node[i];
	assert_int_equal(nd->pid, 0);
	char listen[64], peers[TB_FED_MAX_NODES][64];
	snprintf(listen, sizeof listen, "127.0.0.1:%u", nd->port);
	const char *level = getenv("TB_FED_LOG_LEVEL");
	const char *argv[2 * TB_FED_MAX_NODES + 40];
	size_t a = 0;
	argv[a++] = tb_tallyd_bin();
	argv[a++] = "--data";
	argv[a++] = nd->data;
	argv[a++] = "--listen";
	argv[a++] = listen;
	argv[a++] = "--log-level";
	argv[a++] = level && *level ? level : "info";
	for (size_t j = 0; j < f->n; j++) {
		if (!nd->dials[j])
			continue;
		snprintf(peers[j], sizeof peers[j], "127.0.0.1:%u", f->node[j].port);
		argv[a++] = "--peer";
		argv[a++] = peers[j];
	}
	bool http = false;
	for (size_t k = 0; extra && extra[k] && a < sizeof argv / sizeof *argv - 3; k++) {
		http |= !strcmp(extra[k], "--http");
		argv[a++] = extra[k];
	}
	/* The console only where a test asks for it (nodes share 127.0.0.1). */
	if (!http) {
		argv[a++] = "--http";
		argv[a++] = "off";
	}
	argv[a] = NULL;

	int fd = open(nd->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	dprintf(fd, "==== test: starting tallyd on %s ====\n", listen);
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Dies with the test process, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		setenv("TALLY_PASSPHRASE", TB_FED_PASS, 1);
		for (size_t k = 0; env && env[k]; k++)
			putenv((char *)env[k]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fd);
	nd->pid = pid;
	live_add(pid);
}

/* Reaps node i if its daemon exited; true if it did (pid cleared). */
static bool reaped(struct tb_fed *f, size_t i, int *status)
{
	struct tb_fed_node *nd = &f->node[i];
	if (!nd->pid)
		return true;
	pid_t w = waitpid(nd->pid, status, WNOHANG);
	if (w == nd->pid) {
		live_del(nd->pid);
		nd->pid = 0;
		return true;
	}
	return false;
}

const char *tb_fed_describe_status(int st, char buf[64])
{
	if (WIFEXITED(st))
		snprintf(buf, 64, "exited with code %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, 64, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, 64, "status %#x", st);
	return buf;
}

void tb_fed_wait_up(struct tb_fed *f, size_t i)
{
	struct tb_fed_node *nd = &f->node[i];
	pid_t pid = nd->pid;
	uint64_t until = tb_fed_now_ms() + START_MS;
	for (;;) {
		int st = 0;
		char b[64];
		if (reaped(f, i, &st))
			fail_with_log(f, i, "tallyd of node %zu (pid %d) %s at start", i, (int)pid,
				      tb_fed_describe_status(st, b));
		struct tb_status s;
		if (tb_status_read(nd->data, &s) == 0) {
			bool up = s.pid == (uint32_t)pid;
			tb_status_free(&s);
			if (up)
				return;
		}
		if (tb_fed_now_ms() > until)
			fail_with_log(f, i, "tallyd of node %zu did not start within %d ms", i,
				      START_MS);
		tb_fed_sleep_ms(10);
	}
}

int tb_fed_wait_exit(struct tb_fed *f, size_t i, unsigned ms)
{
	uint64_t until = tb_fed_now_ms() + ms;
	for (;;) {
		int st = 0;
		if (!f->node[i].pid)
			return -1;
		if (reaped(f, i, &st))
			return st;
		if (tb_fed_now_ms() > until)
			return -1;
		tb_fed_sleep_ms(5);
	}
}

void tb_fed_start_args(struct tb_fed *f, size_t i, const char *const *extra)
{
	tb_fed_spawn(f, i, extra);
	tb_fed_wait_up(f, i);
}

void tb_fed_start(struct tb_fed *f, size_t i)
{
	tb_fed_start_args(f, i, NULL);
}

void tb_fed_start_all(struct tb_fed *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (!f->node[i].pid)
			tb_fed_spawn(f, i, NULL);
	for (size_t i = 0; i < f->n; i++)
		tb_fed_wait_up(f, i);
}

/* Waits for a daemon sent SIGTERM: it must exit 0. */
static void wait_stopped(struct tb_fed *f, size_t i, pid_t pid)
{
	uint64_t until = tb_fed_now_ms() + STOP_MS;
	int st = 0;
	while (!reaped(f, i, &st)) {
		if (tb_fed_now_ms() > until) {
			tb_fed_kill(f, i);
			fail_with_log(f, i,
				      "tallyd of node %zu did not stop within %d ms of SIGTERM", i,
				      STOP_MS);
		}
		tb_fed_sleep_ms(5);
	}
	char b[64];
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_with_log(f, i, "tallyd of node %zu (pid %d) did not stop cleanly: %s", i,
			      (int)pid, tb_fed_describe_status(st, b));
}

void tb_fed_stop(struct tb_fed *f, size_t i)
{
	pid_t pid = f->node[i].pid;
	assert_true(pid > 0);
	assert_int_equal(kill(pid, SIGTERM), 0);
	wait_stopped(f, i, pid);
}

void tb_fed_stop_all(struct tb_fed *f)
{
	/* One SIGTERM each (a second one during shutdown would find the
	 * default action again), then wait for all. */
	pid_t pids[TB_FED_MAX_NODES] = {0};
	for (size_t i = 0; i < f->n; i++) {
		pids[i] = f->node[i].pid;
		if (pids[i])
			assert_int_equal(kill(pids[i], SIGTERM), 0);
	}
	for (size_t i = 0; i < f->n; i++)
		if (pids[i])
			wait_stopped(f, i, pids[i]);
}

void tb_fed_kill(struct tb_fed *f, size_t i)
{
	struct tb_fed_node *nd = &f->node[i];
	if (!nd->pid)
		return;
	kill(nd->pid, SIGKILL);
	while (waitpid(nd->pid, NULL, 0) < 0 && errno == EINTR)
		;
	live_del(nd->pid);
	nd->pid = 0;
}

/* ---- the command line ---- */

int tb_fed_tally(struct tb_fed *f, size_t i, const char *const *args)
{
	const char *argv[48];
	size_t n = 0;
	argv[n++] = tb_tally_bin();
	argv[n++] = "--data";
	argv[n++] = f->node[i].data;
	for (size_t k = 0; args[k] && n < 47; k++)
		argv[n++] = args[k];
	argv[n] = NULL;
	assert_int_equal(tb_run(&f->res, argv), 0);
	return f->res.code;
}

void tb_fed_tally_is(struct tb_fed *f, size_t i, int want, int line, const char *const *args)
{
	int rc = tb_fed_tally(f, i, args);
	if (rc == want)
		return;
	char cmd[256];
	size_t at = 0;
	cmd[0] = 0;
	for (size_t k = 0; args[k]; k++) {
		int w = snprintf(cmd + at, sizeof cmd - at, "%s%s", k ? " " : "", args[k]);
		if (w < 0 || (size_t)w >= sizeof cmd - at)
			break;
		at += (size_t)w;
	}
	fprintf(stderr, "---- stdout of tally %s ----\n%s---- end ----\n", cmd, f->res.out);
	fail_with_log(f, i, "line %d: tally %s at node %zu exited %d, not %d: %s", line, cmd, i, rc,
		      want, f->res.err);
}

void tb_fed_record(struct tb_fed *f, size_t i)
{
	struct tb_fed_node *nd = &f->node[i];
	bool turn = nd->recorded % 2 == 0;
	char memo[64];
	snprintf(memo, sizeof memo, "exchange %llu at %s", (unsigned long long)nd->recorded,
		 nd->name);
	uint64_t t0 = tb_fed_now_ms();
	int rc = TB_FED_TALLY(f, i, "exchange", "record", "--attest", "--provider",
			      turn ? "m1" : "m2", "--receiver", turn ? "m2" : "m1", "--minutes",
			      "30", "--memo", memo);
	uint64_t took = tb_fed_now_ms() - t0;
	if (rc)
		fail_with_log(f, i, "recording at node %zu: exit %d after %llu ms: %s", i, rc,
			      (unsigned long long)took, f->res.err);
	if (took > 5000)
		print_message("note: recording at node %zu took %llu ms\n", i,
			      (unsigned long long)took);
	nd->recorded++;
}

/* ---- heads ---- */

static int heads_cb(void *ctx, const struct tb_head *h)
{
	struct tb_fed_heads *hs = ctx;
	if (hs->n == TB_FED_MAX_LOGS)
		return TB_EFULL;
	hs->h[hs->n++] = *h;
	return 0;
}

int tb_fed_heads_dir(const char *data, struct tb_fed_heads *out)
{
	char ledger[TB_FED_PATH + 64];
	snprintf(ledger, sizeof ledger, "%s/ledger", data);
	out->n = 0;
	struct tb_store *s;
	int err = tb_store_open(&s, ledger, TB_STORE_RDONLY);
	if (err)
		return err;
	err = tb_store_foreach_log(s, heads_cb, out);
	tb_store_free(s);
	return err;
}

void tb_fed_heads(struct tb_fed *f, size_t i, struct tb_fed_heads *out)
{
	int err = tb_fed_heads_dir(f->node[i].data, out);
	if (err)
		fail_with_log(f, i, "cannot read the heads of node %zu: %s", i, tb_strerror(err));
}

const struct tb_head *tb_fed_find(const struct tb_fed_heads *hs, const uint8_t *log_id)
{
	size_t lo = 0, hi = hs->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = memcmp(hs->h[mid].log_id, log_id, TB_KEY_LEN);
		if (cmp == 0)
			return &hs->h[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

uint64_t tb_fed_own_seq(struct tb_fed *f, size_t i)
{
	struct tb_fed_heads hs;
	tb_fed_heads(f, i, &hs);
	const struct tb_head *h = tb_fed_find(&hs, f->node[i].id);
	return h ? h->seq : 0;
}

const char *tb_fed_log_name(struct tb_fed *f, const uint8_t *log_id, char buf[24])
{
	for (size_t i = 0; i < f->n; i++) {
		if (!memcmp(f->node[i].id, log_id, TB_KEY_LEN)) {
			snprintf(buf, 24, "%s", f->node[i].name);
			return buf;
		}
	}
	tb_hex_encode(buf, log_id, 8);
	return buf;
}

/* Describes how b differs from a; empty if the same. */
static void heads_diff(struct tb_fed *f, const struct tb_fed_heads *a, const char *an,
		       const struct tb_fed_heads *b, const char *bn, char *why, size_t cap)
{
	why[0] = '\0';
	size_t len = 0;
	char nm[24];
	for (size_t i = 0; i < a->n && len < cap; i++) {
		const struct tb_head *x = &a->h[i], *y = tb_fed_find(b, x->log_id);
		if (!y)
			len += (size_t)snprintf(
				why + len, cap - len, "%s lacks log %s (%s has seq %llu); ", bn,
				tb_fed_log_name(f, x->log_id, nm), an, (unsigned long long)x->seq);
		else if (y->seq != x->seq || memcmp(y->hash, x->hash, TB_HASHLEN))
			len += (size_t)snprintf(why + len, cap - len,
						"%s has log %s at seq %llu, %s at seq %llu%s; ", bn,
						tb_fed_log_name(f, x->log_id, nm),
						(unsigned long long)y->seq, an,
						(unsigned long long)x->seq,
						y->seq == x->seq ? " (different heads!)" : "");
	}
	for (size_t i = 0; i < b->n && len < cap; i++)
		if (!tb_fed_find(a, b->h[i].log_id))
			len += (size_t)snprintf(why + len, cap - len,
						"%s lacks log %s (%s has it); ", an,
						tb_fed_log_name(f, b->h[i].log_id, nm), bn);
}

void tb_fed_assert_same_heads(struct tb_fed *f, const struct tb_fed_heads *a,
			      const struct tb_fed_heads *b, const char *what)
{
	char why[2048];
	heads_diff(f, a, "before", b, "after", why, sizeof why);
	if (why[0])
		fail_msg("%s: heads changed: %s%s", what, why, f->note);
}

/* ---- logs ---- */

bool tb_fed_log_has(struct tb_fed *f, size_t i, const char *a, const char *b)
{
	size_t len;
	uint8_t *all = tb_test_read_file(f->node[i].log, &len);
	if (!all)
		return false;
	char *text = realloc(all, len + 1);
	assert_non_null(text);
	text[len] = '\0';
	bool found = false;
	for (char *line = text; line && *line && !found;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		found = strstr(line, a) && (!b || strstr(line, b));
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	return found;
}

/* ---- waits ---- */

bool tb_fed_poll(struct tb_fed *f, unsigned ms, tb_fed_pred p, void *ctx, char *why, size_t cap,
		 size_t *blame)
{
	uint64_t until = tb_fed_now_ms() + ms;
	for (;;) {
		for (size_t i = 0; i < f->n; i++) {
			int st = 0;
			pid_t pid = f->node[i].pid;
			char b[64];
			if (pid && reaped(f, i, &st))
				fail_with_log(f, i, "tallyd of node %zu (pid %d) died: %s", i,
					      (int)pid, tb_fed_describe_status(st, b));
		}
		why[0] = '\0';
		*blame = 0;
		if (p(f, ctx, why, cap, blame))
			return true;
		if (tb_fed_now_ms() > until)
			return false;
		tb_fed_sleep_ms(POLL_MS);
	}
}

void tb_fed_wait(struct tb_fed *f, unsigned ms, tb_fed_pred p, void *ctx, const char *what)
{
	char why[4096];
	size_t blame = 0;
	if (!tb_fed_poll(f, ms, p, ctx, why, sizeof why, &blame))
		fail_with_log(f, blame, "%s: not reached within %u ms: %s", what, ms, why);
}

struct conv_ctx {
	const size_t *set;
	size_t k;
};

static bool converged(struct tb_fed *f, void *vctx, char *why, size_t cap, size_t *blame)
{
	struct conv_ctx *c = vctx;
	size_t k = c->k ? c->k : f->n;
	static struct tb_fed_heads hs[TB_FED_MAX_NODES];
	for (size_t j = 0; j < k; j++)
		tb_fed_heads(f, c->k ? c->set[j] : j, &hs[j]);
	/* Everyone's own log, held by its owner. */
	for (size_t j = 0; j < k; j++) {
		size_t nj = c->k ? c->set[j] : j;
		for (size_t i = 0; i < k; i++) {
			size_t ni = c->k ? c->set[i] : i;
			const struct tb_head *own = tb_fed_find(&hs[i], f->node[ni].id);
			const struct tb_head *got = tb_fed_find(&hs[j], f->node[ni].id);
			assert_non_null(own);
			if (!got || got->seq != own->seq ||
			    memcmp(got->hash, own->hash, TB_HASHLEN)) {
				if (got)
					snprintf(why, cap,
						 "node %zu (%s) is behind on log %s: "
						 "it holds seq %llu, the owner seq %llu",
						 nj, f->node[nj].name, f->node[ni].name,
						 (unsigned long long)got->seq,
						 (unsigned long long)own->seq);
				else
					snprintf(why, cap,
						 "node %zu (%s) lacks log %s (the owner "
						 "holds seq %llu)",
						 nj, f->node[nj].name, f->node[ni].name,
						 (unsigned long long)own->seq);
				*blame = nj;
				return false;
			}
		}
	}
	/* And the same heads of every other log. */
	for (size_t j = 1; j < k; j++) {
		size_t nj = c->k ? c->set[j] : j, n0 = c->k ? c->set[0] : 0;
		char an[32], bn[32];
		snprintf(an, sizeof an, "node %zu", n0);
		snprintf(bn, sizeof bn, "node %zu", nj);
		heads_diff(f, &hs[0], an, &hs[j], bn, why, cap);
		if (why[0]) {
			*blame = nj;
			return false;
		}
	}
	return true;
}

void tb_fed_wait_converged(struct tb_fed *f, const size_t *set, size_t k, unsigned ms)
{
	struct conv_ctx c = {set, k};
	tb_fed_wait(f, ms, converged, &c, "convergence");
}

struct has_ctx {
	size_t holder;
	const uint8_t *log_id;
	uint64_t seq;
	const uint8_t *hash; /* NULL: any */
};

static bool has_log(struct tb_fed *f, void *vctx, char *why, size_t cap, size_t *blame)
{
	struct has_ctx *c = vctx;
	struct tb_fed_heads hs;
	tb_fed_heads(f, c->holder, &hs);
	const struct tb_head *h = tb_fed_find(&hs, c->log_id);
	*blame = c->holder;
	char nm[24];
	if (!h) {
		snprintf(why, cap, "node %zu (%s) lacks log %s", c->holder, f->node[c->holder].name,
			 tb_fed_log_name(f, c->log_id, nm));
		return false;
	}
	if (h->seq < c->seq ||
	    (h->seq == c->seq && c->hash && memcmp(h->hash, c->hash, TB_HASHLEN))) {
		snprintf(why, cap, "node %zu (%s) holds log %s at seq %llu, not %llu", c->holder,
			 f->node[c->holder].name, tb_fed_log_name(f, c->log_id, nm),
			 (unsigned long long)h->seq, (unsigned long long)c->seq);
		return false;
	}
	return true;
}

void tb_fed_wait_has(struct tb_fed *f, size_t holder, size_t owner, unsigned ms)
{
	struct tb_fed_heads hs;
	tb_fed_heads(f, owner, &hs);
	const struct tb_head *own = tb_fed_find(&hs, f->node[owner].id);
	assert_non_null(own);
	struct has_ctx c = {holder, f->node[owner].id, own->seq, own->hash};
	char what[96];
	snprintf(what, sizeof what, "node %zu holding node %zu's log", holder, owner);
	tb_fed_wait(f, ms, has_log, &c, what);
}

void tb_fed_wait_log_seq(struct tb_fed *f, size_t holder, const uint8_t *log_id, uint64_t seq,
			 unsigned ms)
{
	struct has_ctx c = {holder, log_id, seq, NULL};
	char what[96];
	snprintf(what, sizeof what, "node %zu holding a log up to seq %llu", holder,
		 (unsigned long long)seq);
	tb_fed_wait(f, ms, has_log, &c, what);
}

struct line_ctx {
	size_t node;
	const char *a, *b;
};

static bool log_line(struct tb_fed *f, void *vctx, char *why, size_t cap, size_t *blame)
{
	struct line_ctx *c = vctx;
	*blame = c->node;
	if (tb_fed_log_has(f, c->node, c->a, c->b))
		return true;
	snprintf(why, cap, "no line of node %zu's log has \"%s\"%s%s%s", c->node, c->a,
		 c->b ? " and \"" : "", c->b ? c->b : "", c->b ? "\"" : "");
	return false;
}

void tb_fed_wait_log_line(struct tb_fed *f, size_t i, const char *a, const char *b, unsigned ms)
{
	struct line_ctx c = {i, a, b};
	tb_fed_wait(f, ms, log_line, &c, "a log line");
}

/* ---- the fake peer ---- */

#define PROLOGUE "tally/1"
#define CLOSED (-1000)

int tb_fake_connect(struct tb_fake *p, uint16_t port, uint32_t keyno)
{
	memset(p, 0, sizeof *p);
	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return -1;
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(p->fd, (struct sockaddr *)&a, sizeof a)) {
		close(p->fd);
		p->fd = -1;
		return -1;
	}
	int one = 1;
	setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	socklen_t len = sizeof a;
	getsockname(p->fd, (struct sockaddr *)&a, &len);
	p->port = ntohs(a.sin_port);
	snprintf(p->addr, sizeof p->addr, "127.0.0.1:%u", p->port);
	tb_test_keypair(&p->id, keyno);
	uint8_t pub[32];
	tb_noise_keypair(p->noise_secret, pub);
	return 0;
}

int tb_fake_send_raw(struct tb_fake *p, const void *b, size_t len)
{
	const uint8_t *c = b;
	while (len) {
		ssize_t w = send(p->fd, c, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		len -= (size_t)w;
	}
	return 0;
}

int tb_fake_send_frame(struct tb_fake *p, const void *body, size_t len)
{
	uint8_t *buf = malloc(len + 2);
	assert_non_null(buf);
	buf[0] = (uint8_t)(len >> 8);
	buf[1] = (uint8_t)len;
	memcpy(buf + 2, body, len);
	int rc = tb_fake_send_raw(p, buf, len + 2);
	free(buf);
	return rc;
}

int tb_fake_send_plain(struct tb_fake *p, const uint8_t *pt, size_t len)
{
	size_t clen;
	int err = tb_noise_encrypt(&p->tx, pt, len, p->out_ct, sizeof p->out_ct, &clen);
	if (err)
		return err;
	return tb_fake_send_frame(p, p->out_ct, clen);
}

int tb_fake_send(struct tb_fake *p, const struct tb_peer_msg *m)
{
	size_t len;
	int err = tb_peer_msg_encode(p->out_msg, sizeof p->out_msg, &len, m);
	if (err)
		return err;
	return tb_fake_send_plain(p, p->out_msg, len);
}

int tb_fake_entries(struct tb_fake *p, const struct tb_view *recs, size_t n)
{
	static uint8_t buf[TB_FRAME_PAYLOAD_MAX];
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		assert_true(len + 2 + recs[i].len <= TB_FRAME_PAYLOAD_MAX - 64);
		buf[len] = (uint8_t)(recs[i].len >> 8);
		buf[len + 1] = (uint8_t)recs[i].len;
		memcpy(buf + len + 2, recs[i].p, recs[i].len);
		len += 2 + recs[i].len;
	}
	struct tb_peer_msg m = {.type = TB_MSG_ENTRIES};
	m.u.entries.records.p = buf;
	m.u.entries.records.len = len;
	return tb_fake_send(p, &m);
}

/* Reads more bytes: >0 read, 0 closed, -1 timeout, -2 error. */
static int fill(struct tb_fake *p, int timeout_ms)
{
	struct pollfd pfd = {p->fd, POLLIN, 0};
	int r;
	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -1;
	if (r < 0)
		return -2;
	ssize_t got;
	do
		got = read(p->fd, p->rbuf + p->rlen, sizeof p->rbuf - p->rlen);
	while (got < 0 && errno == EINTR);
	if (got == 0 || (got < 0 && (errno == ECONNRESET || errno == EPIPE)))
		return 0;
	if (got < 0)
		return -2;
	p->rlen += (size_t)got;
	return 1;
}

int tb_fake_read_frame(struct tb_fake *p, int timeout_ms, const uint8_t **f, size_t *n)
{
	uint64_t until = tb_fed_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		if (p->rlen >= 2) {
			size_t len = (size_t)p->rbuf[0] << 8 | p->rbuf[1];
			if (p->rlen >= 2 + len) {
				memcpy(p->frame, p->rbuf + 2, len);
				memmove(p->rbuf, p->rbuf + 2 + len, p->rlen - 2 - len);
				p->rlen -= 2 + len;
				*f = p->frame;
				*n = len;
				return 1;
			}
		}
		uint64_t now = tb_fed_now_ms();
		if (now >= until)
			return -1;
		int r = fill(p, (int)(until - now));
		if (r <= 0)
			return r;
	}
}

int tb_fake_hs1(struct tb_fake *p, const uint8_t psk[32])
{
	uint8_t out[256];
	size_t olen;
	int err = tb_noise_init(&p->hs, TB_NOISE_INITIATOR, (const uint8_t *)PROLOGUE,
				strlen(PROLOGUE), psk, p->noise_secret, NULL);
	if (!err)
		err = tb_noise_write(&p->hs, NULL, 0, out, sizeof out, &olen);
	if (!err)
		err = tb_fake_send_frame(p, out, olen);
	return err;
}

int tb_fake_hs2(struct tb_fake *p, int timeout_ms)
{
	const uint8_t *f;
	size_t n, plen;
	uint8_t payload[256];
	int r = tb_fake_read_frame(p, timeout_ms, &f, &n);
	if (r != 1)
		return r == 0 ? CLOSED : r;
	return tb_noise_read(&p->hs, f, n, payload, sizeof payload, &plen);
}

int tb_fake_hs3(struct tb_fake *p)
{
	uint8_t out[256], rs[32];
	size_t olen;
	int err = tb_noise_write(&p->hs, NULL, 0, out, sizeof out, &olen);
	if (!err)
		err = tb_fake_send_frame(p, out, olen);
	if (!err && !tb_noise_done(&p->hs))
		err = TB_EINVAL;
	if (!err)
		err = tb_noise_split(&p->hs, &p->tx, &p->rx, p->hh, rs);
	return err;
}

int tb_fake_recv(struct tb_fake *p, struct tb_peer_msg *m, int timeout_ms)
{
	const uint8_t *f;
	size_t n, plen;
	int r = tb_fake_read_frame(p, timeout_ms, &f, &n);
	if (r != 1)
		return r;
	if (tb_noise_decrypt(&p->rx, f, n, p->plain, sizeof p->plain, &plen))
		return -2;
	if (tb_peer_msg_decode(m, p->plain, plen))
		return -2;
	return 1;
}

int tb_fake_expect(struct tb_fake *p, uint64_t type, struct tb_peer_msg *m, int timeout_ms)
{
	uint64_t until = tb_fed_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		uint64_t now = tb_fed_now_ms();
		if (now >= until)
			return -1;
		int r = tb_fake_recv(p, m, (int)(until - now));
		if (r != 1)
			return r;
		if (m->type == type)
			return 1;
	}
}

int tb_fake_hello(struct tb_fake *p, int timeout_ms)
{
	uint8_t proof[33];
	memcpy(proof, p->hh, 32);
	proof[32] = 0; /* the initiator signs */
	struct tb_peer_msg m = {.type = TB_MSG_HELLO};
	m.u.hello.version = TB_PROTO_VERSION;
	memcpy(m.u.hello.node_id, p->id.pk.b, TB_KEY_LEN);
	tb_sign(m.u.hello.sig, &p->id, TB_CTX_HANDSHAKE, proof, sizeof proof);
	m.u.hello.name.p = (const uint8_t *)"FakePeer";
	m.u.hello.name.len = 8;
	int err = tb_fake_send(p, &m);
	if (err)
		return err;
	struct tb_peer_msg r;
	int got = tb_fake_recv(p, &r, timeout_ms);
	if (got != 1)
		return got == 0 ? CLOSED : got;
	if (r.type != TB_MSG_HELLO)
		return TB_EINVAL;
	proof[32] = 1; /* the responder signed */
	if (tb_verify(r.u.hello.sig, r.u.hello.node_id, TB_CTX_HANDSHAKE, proof, sizeof proof))
		return TB_EBADSIG;
	memcpy(p->remote_id, r.u.hello.node_id, TB_KEY_LEN);
	return 0;
}

int tb_fake_sync(struct tb_fake *p)
{
	struct tb_peer_msg m = {.type = TB_MSG_SYNC};
	memset(m.u.sync.digest, 0, sizeof m.u.sync.digest);
	m.u.sync.logs = 0;
	return tb_fake_send(p, &m);
}

void tb_fake_open(struct tb_fake *p, uint16_t port, const uint8_t psk[32], uint32_t keyno)
{
	assert_int_equal(tb_fake_connect(p, port, keyno), 0);
	assert_int_equal(tb_fake_hs1(p, psk), 0);
	assert_int_equal(tb_fake_hs2(p, 10000), 0);
	assert_int_equal(tb_fake_hs3(p), 0);
	assert_int_equal(tb_fake_hello(p, 10000), 0);
	assert_int_equal(tb_fake_sync(p), 0);
}

bool tb_fake_closed_within(struct tb_fake *p, int timeout_ms)
{
	uint64_t until = tb_fed_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		uint64_t now = tb_fed_now_ms();
		if (now >= until)
			return false;
		p->rlen = 0;
		int r = fill(p, (int)(until - now));
		if (r == 0 || r == -2)
			return true;
	}
}

int tb_fake_drain(struct tb_fake *p)
{
	for (;;) {
		p->rlen = 0;
		int r = fill(p, 0);
		if (r == 0 || r == -2)
			return 0;
		if (r == -1)
			return 1;
	}
}

void tb_fake_close(struct tb_fake *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	tb_wipe(&p->hs, sizeof p->hs);
}

/* ---- additions for the hostile-network tests ---- */

void tb_fed_preload(struct tb_fed *f, size_t i, const struct tb_view *recs, size_t n)
{
	assert_int_equal(f->node[i].pid, 0);
	char ledger[TB_FED_PATH + 64];
	snprintf(ledger, sizeof ledger, "%s/ledger", f->node[i].data);
	struct tb_store *s;
	assert_int_equal(tb_store_open(&s, ledger, 0), 0);
	for (size_t done = 0; done < n;) {
		size_t k = n - done < TB_APPEND_MAX ? n - done : TB_APPEND_MAX, acc = 0;
		struct tb_reject rej;
		int err = tb_store_append(s, recs + done, k, &acc, &rej);
		if (err)
			fail_msg("preloading node %zu: record %zu refused: %s (%s)", i, done + acc,
				 rej.msg, tb_errname(err));
		done += k;
	}
	tb_store_free(s);
}

long tb_fed_anon_kib(struct tb_fed *f, size_t i)
{
	struct tb_procmem m;
	if (tb_procmem_read(f->node[i].pid, false, &m))
		fail_with_log(f, i, "cannot read the memory of node %zu's daemon", i);
	return m.anon;
}

long tb_fed_cpu_ms(struct tb_fed *f, size_t i)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)f->node[i].pid);
	FILE *fp = fopen(path, "r");
	size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
	if (fp)
		fclose(fp);
	buf[n] = '\0';
	/* Fields after the command (which may hold spaces): state is the 3rd,
	 * utime the 14th, stime the 15th. */
	char *p = strrchr(buf, ')');
	unsigned long ut = 0, st = 0;
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		fail_with_log(f, i, "cannot read the CPU time of node %zu's daemon", i);
	long hz = sysconf(_SC_CLK_TCK);
	return (long)((ut + st) * 1000 / (unsigned long)(hz > 0 ? hz : 100));
}

int tb_fake_sync_heads(struct tb_fake *p, const uint8_t (*ids)[TB_KEY_LEN], size_t n)
{
	struct tb_peer_msg m = {.type = TB_MSG_SYNC};
	tb_random(m.u.sync.digest, sizeof m.u.sync.digest);
	m.u.sync.logs = n;
	int err = tb_fake_send(p, &m);
	static uint8_t buf[TB_FRAME_PAYLOAD_MAX];
	const size_t per = (TB_FRAME_PAYLOAD_MAX - 64) / TB_HEAD_REC_LEN;
	for (size_t i = 0; !err && i < n; i += per) {
		size_t k = n - i < per ? n - i : per;
		memset(buf, 0, k * TB_HEAD_REC_LEN);
		for (size_t j = 0; j < k; j++)
			memcpy(buf + j * TB_HEAD_REC_LEN, ids[i + j], TB_KEY_LEN);
		struct tb_peer_msg h = {.type = TB_MSG_HEADS};
		h.u.heads.heads.p = buf;
		h.u.heads.heads.len = k * TB_HEAD_REC_LEN;
		err = tb_fake_send(p, &h);
	}
	return err;
}

int tb_fake_send_heads(struct tb_fake *p, const uint8_t (*recs)[TB_HEAD_REC_LEN], size_t n)
{
	struct tb_peer_msg m = {.type = TB_MSG_SYNC};
	tb_random(m.u.sync.digest, sizeof m.u.sync.digest);
	m.u.sync.logs = n;
	int err = tb_fake_send(p, &m);
	const size_t per = (TB_FRAME_PAYLOAD_MAX - 64) / TB_HEAD_REC_LEN;
	for (size_t i = 0; !err && i < n; i += per) {
		size_t k = n - i < per ? n - i : per;
		struct tb_peer_msg h = {.type = TB_MSG_HEADS};
		h.u.heads.heads.p = recs[i];
		h.u.heads.heads.len = k * TB_HEAD_REC_LEN;
		err = tb_fake_send(p, &h);
	}
	return err;
}

int tb_fake_try_open(struct tb_fake *p, uint16_t port, const uint8_t psk[32], uint32_t keyno,
		     int timeout_ms)
{
	int err = tb_fake_connect(p, port, keyno);
	if (!err)
		err = tb_fake_hs1(p, psk);
	if (!err)
		err = tb_fake_hs2(p, timeout_ms);
	if (!err)
		err = tb_fake_hs3(p);
	if (!err)
		err = tb_fake_hello(p, timeout_ms);
	return err ? (err > 0 ? -err : err) : 0;
}
