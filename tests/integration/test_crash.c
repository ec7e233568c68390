/*
 * test_crash.c: kill -9 at any moment loses no acknowledged entry (DESIGN.md
 * 4, "Durability", and 8).
 *
 * Each round forks a child that opens the store (sync on, as the daemon
 * does) and appends without end: batches of 50-200 member-signed or
 * attested exchanges of a peer's log through tb_store_append, and between
 * them a few exchanges of the own log through tb_store_append_own. After
 * every append that returned success the child writes the acknowledged
 * (log, seq) to a pipe before it goes on. The parent kills it with SIGKILL
 * after a random 5-200 ms, reopens the store and checks: every acknowledged
 * entry is there; what an earlier round saw is unchanged; each chain links
 * (seq, prev, head) and the Merkle root equals one recomputed from the
 * records; balances sum to zero; and tb_verify_dir re-verifies everything.
 * Rounds continue from the state the previous one left. Some rounds instead
 * kill a tb_store_reindex half-way; the next writable open must finish it
 * and give back the same derived state.
 *
 * test_kill9_writers does the same with WRITERS processes appending to the
 * own log at once (each its own store handle, as several `tally` commands
 * do), all killed at one random moment; in every other round each writer
 * also dies on its own at its first commit that must flush its meta page
 * itself (TALLY_CRASH_AT=commit-unsynced, store/db.c): an entry is
 * acknowledged there only if a later commit of another writer carried its
 * meta page to disk, and an entry whose writer died there may be kept or
 * not, but the store must open whole either way.
 *
 * The seed is TB_SEED from the environment or the clock, and every failure
 * message names it.
 */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define APPEND_ROUNDS 20
#define REINDEX_EVERY 5 /* after every 5th append round, a reindex round */
#define MEMBERS 6
#define WRITERS 4 /* test_kill9_writers: processes appending at once */
#define WRITER_ROUNDS 10
#define OWN_KEY 7000
#define PEER_KEY 8000

enum { OWN = 0, PEER = 1, NLOGS = 2 };

static uint64_t g_seed;
static uint64_t g_rng;

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond))                                                                 \
			fail_msg("%s:%d: %s (replay with TB_SEED=%llu)", __FILE__, __LINE__, \
				 #cond, (unsigned long long)g_seed);                         \
	} while (0)

/* splitmix64 */
static uint64_t rnd(void)
{
	uint64_t z = (g_rng += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

struct ack {
	uint8_t log;
	uint8_t pad[7];
	uint64_t seq;
};

struct fixture {
	char *dir;
	char data[4200];
	struct tb_keypair own, peer;
	struct tb_keypair mk[NLOGS][MEMBERS + 1];
	uint64_t acked[NLOGS]; /* highest acknowledged seq */
	uint64_t seen[NLOGS];  /* head seen after the last round */
	uint8_t seen_hash[NLOGS][TB_HASHLEN];
	uint64_t entries_max;
};

static const uint8_t *log_id(struct fixture *f, int l)
{
	return l == OWN ? f->own.pk.b : f->peer.pk.b;
}

/* ---- the child: appends until it is killed ---- */

static void child_fail(const char *what, int err, const struct tb_reject *rej)
{
	fprintf(stderr, "test_crash child: %s: %s (%s) at seq %llu\n", what, tb_errname(err),
		rej ? rej->msg : "", rej ? (unsigned long long)rej->seq : 0ull);
	_exit(2);
}

static void ack(int fd, int l, uint64_t seq)
{
	struct ack a = {(uint8_t)l, {0}, seq};
	if (write(fd, &a, sizeof a) != (ssize_t)sizeof a)
		_exit(3);
}

/* An exchange of log l at seq (its txid is made from both, so ids never
 * repeat, whatever a crash left behind). Signed by both members when sign. */
static void make_exchange(struct fixture *f, int l, uint64_t seq, bool sign,
			  struct tb_test_exchange *tx)
{
	uint32_t p = 1 + (uint32_t)(seq % MEMBERS), r = 1 + (uint32_t)((seq + 1) % MEMBERS);
	uint64_t minutes = 1 + seq % 90;
	tb_test_exchange(tx, log_id(f, l), ((uint64_t)(l + 1) << 48) | seq, p, r, minutes,
			 sign ? &f->mk[l][p] : NULL, sign ? &f->mk[l][r] : NULL);
}

static void child_append(struct fixture *f, int fd)
{
	struct tb_store *s;
	int err = tb_store_open(&s, f->data, 0);
	if (err)
		child_fail("open", err, NULL);
	struct tb_head h;
	if ((err = tb_store_head(s, f->peer.pk.b, &h)))
		child_fail("head", err, NULL);
	struct tb_test_log peer;
	peer.kp = f->peer;
	peer.seq = h.seq;
	memcpy(peer.head, h.hash, TB_HASHLEN);
	peer.timestamp = 1740000000 + h.seq;
	struct tb_test_recs r = {0};
	struct tb_reject rej;
	for (;;) {
		/* A batch of the peer's log. */
		size_t n = 50 + (size_t)(rnd() % 151);
		tb_test_recs_clear(&r);
		for (size_t i = 0; i < n; i++) {
			struct tb_test_exchange tx;
			make_exchange(f, PEER, peer.seq + 1, rnd() % 4 != 0, &tx);
			tb_test_log_add(&peer, &r, TB_KIND_EXCHANGE, &tx.x);
		}
		size_t acc;
		if ((err = tb_store_append(s, tb_test_recs_views(&r, 0), n, &acc, &rej)))
			child_fail("append", err, &rej);
		if (acc != n)
			child_fail("append took less", 0, NULL);
		ack(fd, PEER, peer.seq);
		/* A few entries of the own log. */
		int k = 1 + (int)(rnd() % 4);
		for (int i = 0; i < k; i++) {
			if ((err = tb_store_head(s, f->own.pk.b, &h)))
				child_fail("own head", err, NULL);
			struct tb_test_exchange tx;
			make_exchange(f, OWN, h.seq + 1, rnd() % 2, &tx);
			uint64_t seq;
			if ((err = tb_store_append_own(s, &f->own, TB_KIND_EXCHANGE, &tx.x, &seq,
						       &rej)))
				child_fail("append_own", err, &rej);
			if (seq != h.seq + 1)
				child_fail("append_own seq", 0, NULL);
			ack(fd, OWN, seq);
		}
	}
}

/* One of the concurrent writers: own-log exchanges until killed; txids
 * unique by round, writer and count, whatever order the writers commit in. */
static void child_writer(struct fixture *f, int fd, unsigned round, unsigned w, bool crash_point)
{
	if (crash_point)
		setenv("TALLY_CRASH_AT", "commit-unsynced", 1);
	g_rng ^= (uint64_t)(w + 1) << 32;
	struct tb_store *s;
	int err = tb_store_open(&s, f->data, 0);
	if (err)
		child_fail("open", err, NULL);
	struct tb_reject rej;
	for (uint64_t k = 0;; k++) {
		struct tb_test_exchange tx;
		uint64_t id = ((uint64_t)(OWN + 1) << 48) | ((uint64_t)round << 40) |
			      ((uint64_t)w << 32) | k;
		uint32_t p = 1 + (uint32_t)(k % MEMBERS), r = 1 + (uint32_t)((k + 1) % MEMBERS);
		bool sign = rnd() % 2;
		tb_test_exchange(&tx, f->own.pk.b, id, p, r, 1 + k % 90,
				 sign ? &f->mk[OWN][p] : NULL, sign ? &f->mk[OWN][r] : NULL);
		uint64_t seq;
		if ((err = tb_store_append_own(s, &f->own, TB_KIND_EXCHANGE, &tx.x, &seq, &rej)))
			child_fail("append_own", err, &rej);
		ack(fd, OWN, seq);
	}
}

static void child_reindex(struct fixture *f, int fd)
{
	struct tb_store *s;
	int err = tb_store_open(&s, f->data, 0);
	if (err)
		child_fail("open", err, NULL);
	struct tb_reject rej;
	ack(fd, OWN, 0); /* started */
	if ((err = tb_store_reindex(s, &rej)))
		child_fail("reindex", err, &rej);
	tb_store_free(s);
	ack(fd, PEER, 0); /* done */
	pause();
	_exit(0);
}

/* ---- the parent ---- */

static int sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return 0;
}

/* Reads the acknowledgements left in the pipe after its writers died into
 * acks[n..cap), closes it, and returns how many acks holds. */
static size_t drain_acks(int fd, struct ack *acks, size_t n, size_t cap)
{
	for (;;) {
		struct ack a;
		ssize_t got = read(fd, &a, sizeof a);
		if (got == 0)
			break;
		CHECK(got == (ssize_t)sizeof a);
		if (n < cap)
			acks[n++] = a;
	}
	close(fd);
	return n;
}

/* Runs one child (append or reindex), kills it after a random delay (from
 * its first acknowledgement if after_ack: on a busy machine a child may not
 * even open the store within 200 ms), and returns the acknowledgements it
 * wrote. */
static size_t run_child(struct fixture *f, bool reindex, bool after_ack, struct ack *acks,
			size_t cap, uint64_t *delay)
{
	int p[2];
	CHECK(pipe(p) == 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (reindex)
			child_reindex(f, p[1]);
		else
			child_append(f, p[1]);
		_exit(4);
	}
	close(p[1]);
	size_t n = 0;
	if (after_ack) {
		ssize_t got = read(p[0], &acks[0], sizeof acks[0]);
		CHECK(got == 0 || got == (ssize_t)sizeof acks[0]);
		n = got > 0;
	}
	*delay = 5 + rnd() % 196;
	sleep_ms(*delay);
	CHECK(kill(pid, SIGKILL) == 0);
	int status;
	CHECK(waitpid(pid, &status, 0) == pid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail_msg("the child ended by itself (status %d), not by SIGKILL "
			 "(TB_SEED=%llu)",
			 status, (unsigned long long)g_seed);
	return drain_acks(p[0], acks, n, cap);
}

/* Runs WRITERS concurrent writers, kills them all at one random moment
 * (from the first acknowledgement of any), and returns the acknowledgements
 * they wrote (one pipe: each write of an ack is atomic). */
static size_t run_writers(struct fixture *f, unsigned round, bool crash_point, struct ack *acks,
			  size_t cap)
{
	int p[2];
	pid_t pid[WRITERS];
	CHECK(pipe(p) == 0);
	fflush(stdout);
	fflush(stderr);
	for (unsigned w = 0; w < WRITERS; w++) {
		pid[w] = fork();
		CHECK(pid[w] >= 0);
		if (pid[w] == 0) {
			close(p[0]);
			child_writer(f, p[1], round, w, crash_point);
			_exit(4);
		}
	}
	close(p[1]);
	size_t n = 0;
	/* Crash-point rounds may end with no acknowledgement at all. */
	if (!crash_point) {
		ssize_t got = read(p[0], &acks[0], sizeof acks[0]);
		CHECK(got == 0 || got == (ssize_t)sizeof acks[0]);
		n = got > 0;
	}
	sleep_ms(5 + rnd() % 196);
	for (unsigned w = 0; w < WRITERS; w++) {
		int status;
		kill(pid[w], SIGKILL); /* ESRCH never: unreaped until waitpid */
		CHECK(waitpid(pid[w], &status, 0) == pid[w]);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			fail_msg("writer %u ended by itself (status %d), not by SIGKILL "
				 "(TB_SEED=%llu)",
				 w, status, (unsigned long long)g_seed);
	}
	return drain_acks(p[0], acks, n, cap);
}

struct chain {
	uint64_t n;
	uint8_t prev[TB_HASHLEN];
	uint8_t (*leaves)[TB_HASHLEN];
	uint64_t cap;
	const uint8_t *log;
	bool ok;
};

static int chain_cb(void *ctx, uint64_t seq, struct tb_view rec)
{
	struct chain *c = ctx;
	struct tb_entry e;
	if (seq != c->n + 1 || c->n == c->cap || tb_entry_decode(&e, rec.p, rec.len) ||
	    e.seq != seq || memcmp(e.log_id, c->log, TB_KEY_LEN) ||
	    memcmp(e.prev, c->prev, TB_HASHLEN)) {
		c->ok = false;
		return 1;
	}
	tb_entry_hash(c->prev, rec.p, rec.len);
	memcpy(c->leaves[c->n], c->prev, TB_HASHLEN);
	c->n++;
	return 0;
}

static int sum_cb(void *ctx, const struct tb_member *m)
{
	*(int64_t *)ctx += m->balance;
	return 0;
}

/* Everything the reopened store must show. */
static void check_store(struct fixture *f, struct tb_store *s)
{
	for (int l = 0; l < NLOGS; l++) {
		struct tb_head h;
		CHECK(tb_store_head(s, log_id(f, l), &h) == 0);
		if (h.seq < f->acked[l])
			fail_msg("log %d: acknowledged entry %llu lost, head is %llu "
				 "(TB_SEED=%llu)",
				 l, (unsigned long long)f->acked[l], (unsigned long long)h.seq,
				 (unsigned long long)g_seed);
		CHECK(h.seq >= f->seen[l]);
		/* What an earlier round saw is still there, byte for byte. */
		uint8_t rec[TB_ENTRY_MAX], hash[TB_HASHLEN];
		size_t len;
		if (f->seen[l]) {
			CHECK(tb_store_get_entry(s, log_id(f, l), f->seen[l], rec, sizeof rec,
						 &len) == 0);
			tb_entry_hash(hash, rec, len);
			CHECK(memcmp(hash, f->seen_hash[l], TB_HASHLEN) == 0);
		}
		struct chain c = {0,	     {0},	   calloc(h.seq + 1, TB_HASHLEN),
				  h.seq + 1, log_id(f, l), true};
		CHECK(c.leaves != NULL);
		CHECK(tb_store_foreach_entry(s, log_id(f, l), 1, chain_cb, &c) == 0);
		CHECK(c.ok);
		CHECK(c.n == h.seq);
		CHECK(memcmp(c.prev, h.hash, TB_HASHLEN) == 0);
		uint8_t root[TB_HASHLEN], want[TB_HASHLEN];
		CHECK(tb_store_root(s, log_id(f, l), h.seq, root) == 0);
		tb_test_mth(want, (const uint8_t(*)[TB_HASHLEN])c.leaves, c.n);
		CHECK(memcmp(root, want, TB_HASHLEN) == 0);
		free(c.leaves);
		int64_t sum = 0;
		CHECK(tb_store_foreach_member(s, log_id(f, l), sum_cb, &sum) == 0);
		CHECK(sum == 0);
		f->seen[l] = h.seq;
		memcpy(f->seen_hash[l], h.hash, TB_HASHLEN);
		if (h.seq > f->entries_max)
			f->entries_max = h.seq;
	}
}

static void verify_dir(struct fixture *f)
{
	struct tb_verify_report rep;
	int err = tb_verify_dir(f->data, f->dir, &rep);
	if (err)
		fail_msg("tb_verify_dir: %s at seq %llu: %s (TB_SEED=%llu)", tb_errname(err),
			 (unsigned long long)rep.where.seq, rep.where.msg,
			 (unsigned long long)g_seed);
	CHECK(rep.logs == NLOGS);
}

/* Genesis and members of both logs. */
static void setup_store(struct fixture *f)
{
	struct tb_store *s;
	CHECK(tb_store_open(&s, f->data, 0) == 0);
	CHECK(tb_store_set_self(s, f->own.pk.b) == 0);
	struct tb_reject rej;
	struct tb_genesis g;
	char names[MEMBERS + 1][8];
	tb_test_genesis(&g, "Crashtown", -TB_LIMIT_MAX, 0);
	CHECK(tb_store_append_own(s, &f->own, TB_KIND_GENESIS, &g, NULL, &rej) == 0);
	for (uint32_t i = 1; i <= MEMBERS; i++) {
		struct tb_member_join j;
		snprintf(names[i], sizeof names[i], "m%u", i);
		tb_test_join(&j, i, names[i], &f->mk[OWN][i], -TB_LIMIT_MAX, 0);
		CHECK(tb_store_append_own(s, &f->own, TB_KIND_MEMBER_JOIN, &j, NULL, &rej) == 0);
	}
	struct tb_test_log peer;
	tb_test_log_init(&peer, PEER_KEY);
	struct tb_test_recs r = {0};
	tb_test_genesis(&g, "Peerville", -TB_LIMIT_MAX, 0);
	tb_test_log_add(&peer, &r, TB_KIND_GENESIS, &g);
	for (uint32_t i = 1; i <= MEMBERS; i++) {
		struct tb_member_join j;
		tb_test_join(&j, i, names[i], &f->mk[PEER][i], -TB_LIMIT_MAX, 0);
		tb_test_log_add(&peer, &r, TB_KIND_MEMBER_JOIN, &j);
	}
	size_t acc;
	CHECK(tb_store_append(s, tb_test_recs_views(&r, 0), r.n, &acc, &rej) == 0);
	tb_test_recs_free(&r);
	check_store(f, s);
	tb_store_free(s);
}

/* The fixture of both tests: keys, and a store with both logs' members. */
static void fixture_init(struct fixture *f)
{
	const char *env = getenv("TB_SEED");
	g_seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	g_rng = g_seed;
	memset(f, 0, sizeof *f);
	f->dir = tb_test_tmpdir("crash");
	snprintf(f->data, sizeof f->data, "%s/data", f->dir);
	CHECK(mkdir(f->data, 0700) == 0);
	tb_test_keypair(&f->own, OWN_KEY);
	tb_test_keypair(&f->peer, PEER_KEY);
	for (int l = 0; l < NLOGS; l++)
		for (uint32_t i = 1; i <= MEMBERS; i++)
			tb_test_keypair(&f->mk[l][i], (l == OWN ? OWN_KEY : PEER_KEY) + i);
	setup_store(f);
}

static void test_kill9(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);

	struct ack *acks = calloc(100000, sizeof *acks);
	CHECK(acks != NULL);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int appends = 0, reindexes = 0, reindex_cut = 0;
	uint64_t total_acks = 0;
	while (appends < APPEND_ROUNDS) {
		bool reindex = appends && appends % REINDEX_EVERY == 0 &&
			       reindexes < appends / REINDEX_EVERY;
		char *derived = NULL;
		if (reindex) {
			struct tb_store *s;
			CHECK(tb_store_open(&s, f.data, 0) == 0);
			derived = tb_test_store_dump_derived(s);
			tb_store_free(s);
		}
		uint64_t delay;
		/* One append round in four is killed only after an append was
		 * acknowledged, so every run checks acknowledged entries. */
		bool after_ack = !reindex && appends % 4 == 3;
		size_t n = run_child(&f, reindex, after_ack, acks, 100000, &delay);
		struct tb_store *s;
		/* The writable open finishes a reindex the kill cut short. */
		CHECK(tb_store_open(&s, f.data, 0) == 0);
		if (reindex) {
			reindexes++;
			if (n < 2)
				reindex_cut++;
			char *now = tb_test_store_dump_derived(s);
			if (strcmp(derived, now))
				fail_msg("derived state differs after a reindex killed "
					 "at %llu ms (TB_SEED=%llu)",
					 (unsigned long long)delay, (unsigned long long)g_seed);
			free(now);
			free(derived);
		} else {
			appends++;
			for (size_t i = 0; i < n; i++) {
				CHECK(acks[i].log < NLOGS);
				if (acks[i].seq > f.acked[acks[i].log])
					f.acked[acks[i].log] = acks[i].seq;
			}
			total_acks += n;
		}
		check_store(&f, s);
		tb_store_free(s);
		verify_dir(&f);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("%d kill -9 rounds while appending (%llu acknowledged appends, "
		      "%llu + %llu entries), %d while reindexing (%d cut short), %.1f s, "
		      "TB_SEED=%llu\n",
		      appends, (unsigned long long)total_acks, (unsigned long long)f.seen[OWN],
		      (unsigned long long)f.seen[PEER], reindexes, reindex_cut,
		      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		      (unsigned long long)g_seed);
	CHECK(total_acks > 0);
	free(acks);
	tb_test_rmrf(f.dir);
}

static void test_kill9_writers(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	struct ack *acks = calloc(100000, sizeof *acks);
	CHECK(acks != NULL);
	uint64_t total_acks = 0, crash_acks = 0;
	for (unsigned round = 1; round <= WRITER_ROUNDS; round++) {
		bool crash_point = round % 2 == 0;
		size_t n = run_writers(&f, round, crash_point, acks, 100000);
		for (size_t i = 0; i < n; i++) {
			CHECK(acks[i].log == OWN);
			if (acks[i].seq > f.acked[OWN])
				f.acked[OWN] = acks[i].seq;
		}
		total_acks += n;
		crash_acks += crash_point ? n : 0;
		struct tb_store *s;
		CHECK(tb_store_open(&s, f.data, 0) == 0);
		check_store(&f, s);
		tb_store_free(s);
		verify_dir(&f);
	}
	print_message("%d kill -9 rounds of %d concurrent writers: %llu acknowledged appends "
		      "(%llu in rounds at the crash point), %llu entries, TB_SEED=%llu\n",
		      WRITER_ROUNDS, WRITERS, (unsigned long long)total_acks,
		      (unsigned long long)crash_acks, (unsigned long long)f.seen[OWN],
		      (unsigned long long)g_seed);
	CHECK(total_acks > 0);
	free(acks);
	tb_test_rmrf(f.dir);
}

static int group_setup(void **state)
{
	(void)state;
	return tb_crypto_init() == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill9),
		cmocka_unit_test(test_kill9_writers),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
