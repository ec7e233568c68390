/*
 * test_crash_api.c: tallyd's group commit loses no answered change (FORMAT.md
 * 7.13, "Group commit"). WRITERS client threads post attested exchanges
 * through the API at once, each on its own connections, each sending its
 * next one as soon as its 201 is in, so tallyd's turns hold several of
 * them in one commit. Every round the daemon dies in one of three ways:
 * SIGKILL at a random moment; on its own right after a group commit, before
 * any of that group's answers is sent (TALLYD_CRASH_AT=group-committed:
 * those entries are kept but were never answered); or between a commit and
 * its meta page's flush (TALLY_CRASH_AT=commit-unsynced: they may be kept or
 * not). After each round the data directory is opened and checked: the
 * entry of every answered request is there, at the seq and with the txid its
 * answer gave; the own log's chain links and its Merkle root matches the
 * records; balances sum to zero; tb_verify_dir re-verifies everything; and
 * what an earlier round saw is unchanged.
 *
 * The seed is TB_SEED from the environment or the clock, and every failure
 * message names it.
 */
#include "fed.h"
#include "httpc.h"
#include "tb_audit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WRITERS 4
#define ROUNDS 9
#define ACKS_MAX 4096 /* answered requests a writer keeps per round */
#define ROUND_MS 3000 /* the longest a round runs before its SIGKILL */
#define PW "crash-test-password"

static uint64_t g_seed, g_rng;

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond))                                                                 \
			fail_msg("%s:%d: %s (replay with TB_SEED=%llu)", __FILE__, __LINE__, \
				 #cond, (unsigned long long)g_seed);                         \
	} while (0)

static uint64_t rnd(void)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return g_rng;
}

struct ack {
	uint8_t txid[TB_TXID_LEN];
	uint64_t seq;
};

struct writer {
	pthread_t tid;
	uint16_t http;
	const struct tb_httpc_session *sess;
	unsigned no, round;
	struct ack acks[ACKS_MAX];
	size_t n;
	int bad; /* an answer other than 201 or a broken connection */
	char why[160];
};

/* The txid and seq of a 201's body {"txid":"<hex>","seq":N}. */
static bool parse_answer(const char *body, struct ack *a)
{
	const char *t = strstr(body, "\"txid\":\"");
	const char *s = strstr(body, "\"seq\":");
	char hex[2 * TB_TXID_LEN + 1];
	if (!t || !s || strlen(t + 8) < sizeof hex - 1)
		return false;
	memcpy(hex, t + 8, sizeof hex - 1);
	hex[sizeof hex - 1] = '\0';
	a->seq = strtoull(s + 6, NULL, 10);
	return !tb_hex_decode(a->txid, TB_TXID_LEN, hex) && a->seq > 0;
}

/* Posts exchanges (the provider taking turns, so balances stay near zero)
 * until the daemon is gone. */
static void *write_loop(void *arg)
{
	struct writer *w = arg;
	for (unsigned k = 0; w->n < ACKS_MAX; k++) {
		char body[200];
		snprintf(body, sizeof body,
			 "{\"provider\":\"%s\",\"receiver\":\"%s\",\"minutes\":%u,"
			 "\"memo\":\"r%u w%u k%u\",\"attest\":true}",
			 k % 2 ? "m1" : "m2", k % 2 ? "m2" : "m1", 1 + w->no, w->round, w->no, k);
		struct tb_httpc_resp r;
		int st = tb_httpc(w->http, "POST", "/api/v1/exchanges", w->sess, true, body, &r);
		if (st == 201 && !parse_answer(r.body ? r.body : "", &w->acks[w->n]))
			st = -1;
		if (st == 201)
			w->n++;
		else if (st && !w->bad) /* 0: the daemon is gone */
			snprintf(w->why, sizeof w->why, "%d %.120s", st, r.body ? r.body : "");
		w->bad |= st && st != 201;
		tb_httpc_free(&r);
		if (st != 201)
			break;
	}
	return NULL;
}

struct state {
	struct tb_fed *f;
	char tmp[TB_FED_PATH + 16];
	char ledger[TB_FED_PATH + 32];
	uint8_t self[TB_KEY_LEN];
	uint64_t seen;		       /* the own log's head after the last round */
	uint8_t seen_hash[TB_HASHLEN]; /* and its hash */
	size_t acked, unanswered_kept; /* over all rounds */
};

struct chain {
	uint64_t n;
	uint8_t prev[TB_HASHLEN];
	uint8_t (*leaves)[TB_HASHLEN];
	bool ok;
};

static int chain_cb(void *ctx, uint64_t seq, struct tb_view rec)
{
	struct chain *c = ctx;
	struct tb_entry e;
	if (tb_entry_decode(&e, rec.p, rec.len) || e.seq != seq || seq != c->n + 1 ||
	    memcmp(e.prev, c->prev, TB_HASHLEN))
		c->ok = false;
	tb_entry_hash(c->prev, rec.p, rec.len);
	memcpy(c->leaves[c->n++], c->prev, TB_HASHLEN);
	return 0;
}

static int sum_cb(void *ctx, const struct tb_member *m)
{
	*(int64_t *)ctx += m->balance;
	return 0;
}

static void check_dir(struct state *st, struct writer *w)
{
	struct tb_store *s;
	CHECK(tb_store_open(&s, st->ledger, TB_STORE_RDONLY) == 0);
	struct tb_head h;
	CHECK(tb_store_head(s, st->self, &h) == 0);
	CHECK(h.seq >= st->seen);
	for (unsigned i = 0; i < WRITERS; i++)
		for (size_t k = 0; k < w[i].n; k++) {
			uint64_t seq = 0, rev;
			int err = tb_store_tx(s, st->self, w[i].acks[k].txid, &seq, &rev);
			if (err || seq != w[i].acks[k].seq)
				fail_msg("writer %u: answered exchange %zu (seq %llu) lost: %s "
					 "(TB_SEED=%llu)",
					 i, k, (unsigned long long)w[i].acks[k].seq,
					 tb_errname(err), (unsigned long long)g_seed);
			st->acked++;
		}
	if (st->seen) { /* what the last round saw is there, byte for byte */
		uint8_t rec[TB_ENTRY_MAX], hash[TB_HASHLEN];
		size_t len;
		CHECK(tb_store_get_entry(s, st->self, st->seen, rec, sizeof rec, &len) == 0);
		tb_entry_hash(hash, rec, len);
		CHECK(memcmp(hash, st->seen_hash, TB_HASHLEN) == 0);
	}
	struct chain c = {0, {0}, calloc(h.seq + 1, TB_HASHLEN), true};
	CHECK(c.leaves != NULL);
	CHECK(tb_store_foreach_entry(s, st->self, 1, chain_cb, &c) == 0);
	CHECK(c.ok && c.n == h.seq && !memcmp(c.prev, h.hash, TB_HASHLEN));
	uint8_t root[TB_HASHLEN], want[TB_HASHLEN];
	CHECK(tb_store_root(s, st->self, h.seq, root) == 0);
	tb_test_mth(want, (const uint8_t(*)[TB_HASHLEN])c.leaves, c.n);
	CHECK(memcmp(root, want, TB_HASHLEN) == 0);
	free(c.leaves);
	int64_t sum = 0;
	CHECK(tb_store_foreach_member(s, st->self, sum_cb, &sum) == 0);
	CHECK(sum == 0);
	size_t answered = 0;
	for (unsigned i = 0; i < WRITERS; i++)
		answered += w[i].n;
	st->unanswered_kept += h.seq - st->seen - answered;
	st->seen = h.seq;
	memcpy(st->seen_hash, h.hash, TB_HASHLEN);
	tb_store_free(s);
	struct tb_verify_report rep;
	int err = tb_verify_dir(st->ledger, st->tmp, &rep);
	if (err)
		fail_msg("tb_verify_dir: %s at seq %llu: %s (TB_SEED=%llu)", tb_errname(err),
			 (unsigned long long)rep.where.seq, rep.where.msg,
			 (unsigned long long)g_seed);
}

/* Logs in once the daemon answers; false if it died first (a crash point
 * reached by a commit of its start). */
static bool log_in(struct tb_fed *f, uint16_t http, struct tb_httpc_session *sess)
{
	for (unsigned i = 0; i < 1000; i++) {
		if (tb_httpc_login(http, "cora", PW, sess) == 200)
			return true;
		if (tb_fed_wait_exit(f, 0, 0) != -1)
			return false;
		tb_fed_sleep_ms(10);
	}
	fail_msg("tallyd did not answer within 10 s (TB_SEED=%llu)", (unsigned long long)g_seed);
	return false;
}

static void round_run(struct state *st, unsigned round, uint16_t http)
{
	static const char *const how[] = {"kill", "group-committed", "commit-unsynced"};
	unsigned mode = round % 3;
	char arg[32], env[64];
	snprintf(arg, sizeof arg, "127.0.0.1:%u", http);
	snprintf(env, sizeof env, "%s=%s", mode == 1 ? "TALLYD_CRASH_AT" : "TALLY_CRASH_AT",
		 how[mode]);
	const char *extra[] = {"--http", arg, NULL};
	const char *envs[] = {env, NULL};
	tb_fed_spawn_env(st->f, 0, extra, mode ? envs : NULL);
	struct tb_httpc_session sess;
	struct writer *w = calloc(WRITERS, sizeof *w);
	CHECK(w != NULL);
	if (log_in(st->f, http, &sess)) {
		for (unsigned i = 0; i < WRITERS; i++) {
			w[i] = (struct writer){
				.http = http, .sess = &sess, .no = i, .round = round};
			CHECK(pthread_create(&w[i].tid, NULL, write_loop, &w[i]) == 0);
		}
		unsigned ms = mode ? ROUND_MS : 50 + (unsigned)(rnd() % 400);
		uint64_t until = tb_fed_now_ms() + ms;
		while (tb_fed_now_ms() < until && tb_fed_wait_exit(st->f, 0, 0) == -1)
			tb_fed_sleep_ms(5);
	}
	tb_fed_kill(st->f, 0);
	size_t answered = 0;
	for (unsigned i = 0; i < WRITERS; i++) {
		if (w[i].tid)
			pthread_join(w[i].tid, NULL);
		if (w[i].bad)
			fail_msg("round %u writer %u: %s (TB_SEED=%llu)", round, i, w[i].why,
				 (unsigned long long)g_seed);
		answered += w[i].n;
	}
	check_dir(st, w);
	printf("round %u (%s): %zu answered, head %llu\n", round, how[mode], answered,
	       (unsigned long long)st->seen);
	free(w);
}

static void test_kill9_api_writers(void **state)
{
	(void)state;
	const char *env = getenv("TB_SEED");
	g_seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	g_rng = g_seed | 1;
	struct state st = {0};
	const struct tb_fed_spec spec[] = {{"Crashville", {"m1", "m2", NULL}}};
	st.f = tb_fed_new_spec("crashapi", 1, spec);
	snprintf(st.tmp, sizeof st.tmp, "%s/tmp", st.f->root);
	snprintf(st.ledger, sizeof st.ledger, "%s/ledger", st.f->node[0].data);
	CHECK(mkdir(st.tmp, 0700) == 0);
	memcpy(st.self, st.f->node[0].id, TB_KEY_LEN);
	char pw[TB_FED_PATH + 16];
	snprintf(pw, sizeof pw, "%s/cora.pw", st.f->root);
	CHECK(tb_test_write_file(pw, PW, strlen(PW)) == 0);
	CHECK(TB_FED_TALLY(st.f, 0, "coordinator", "add", "cora", "--role", "coordinator",
			   "--password-file", pw) == 0);
	uint16_t http = tb_fed_free_port();
	for (unsigned r = 0; r < ROUNDS; r++)
		round_run(&st, r, http);
	printf("%zu answered exchanges all kept; %zu kept unanswered (TB_SEED=%llu)\n", st.acked,
	       st.unanswered_kept, (unsigned long long)g_seed);
	CHECK(st.acked > 0);
	tb_fed_free(st.f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill9_api_writers)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
