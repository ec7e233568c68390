/*
 * test_federation.c: federations of real tallyd processes on 127.0.0.1
 * (tests/util/fed.h): logs relayed along a line, a 16-node random topology,
 * a node stopped and restarted, a node killed in the middle of a large
 * catch-up, strangers with another federation key, and a peer pinned to
 * another identity. Entries are recorded with the real command line while
 * the daemons run; heads are read straight from each node's ledger.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agree.h"
#include "fed.h"
#include "tb_node.h"

#define CONVERGE_MS 60000

struct fx {
	struct tb_fed *f;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof *x);
	assert_non_null(x);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	tb_fed_free(x->f);
	free(x);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tb_fed_kill_all();
	return 0;
}

/* Node i lists the logs of all n nodes, its own marked own, none forked. */
static void check_logs_json(struct tb_fed *f, size_t i)
{
	assert_int_equal(TB_FED_TALLY(f, i, "logs", "--json"), 0);
	for (size_t j = 0; j < f->n; j++) {
		char want[200], id[2 * TB_KEY_LEN + 1];
		tb_hex_encode(id, f->node[j].id, TB_KEY_LEN);
		snprintf(want, sizeof want, "\"log\":\"%s\",\"community_name\":\"%s\"", id,
			 f->node[j].name);
		if (!strstr(f->res.out, want))
			fail_msg("node %zu's logs lack %s: %s", i, f->node[j].name, f->res.out);
		char *at = strstr(f->res.out, want);
		char *end = strchr(at, '}');
		assert_non_null(end);
		*end = '\0';
		assert_non_null(strstr(at, j == i ? "\"own\":true" : "\"own\":false"));
		assert_non_null(strstr(at, "\"forked\":false"));
		*end = '}';
	}
}

/* A-B-C: A and C only meet through B, yet all hold all three logs. */
static void test_line_of_three(void **state)
{
	struct fx *x = *state;
	struct tb_fed *f = x->f = tb_fed_new("fed-line", 3);
	tb_fed_link(f, 0, 1);
	tb_fed_link(f, 2, 1);
	for (size_t i = 0; i < 3; i++)
		tb_fed_record(f, i); /* before any daemon runs */
	tb_fed_start_all(f);
	for (size_t r = 0; r < 2; r++)
		for (size_t i = 0; i < 3; i++)
			tb_fed_record(f, i);
	tb_fed_wait_converged(f, NULL, 0, CONVERGE_MS);
	/* A never talked to C. */
	assert_false(tb_fed_log_has(f, 0, "open: node", f->node[2].name));
	assert_false(tb_fed_log_has(f, 2, "open: node", f->node[0].name));
	assert_true(tb_fed_log_has(f, 0, "open: node", f->node[1].name));

	/* One more at each end travels through the middle both ways. */
	tb_fed_record(f, 0);
	tb_fed_record(f, 2);
	tb_fed_wait_has(f, 2, 0, CONVERGE_MS);
	tb_fed_wait_has(f, 0, 2, CONVERGE_MS);
	tb_fed_wait_converged(f, NULL, 0, CONVERGE_MS);
	assert_int_equal(tb_fed_own_seq(f, 0), TB_FED_BASE_SEQ(f) + 4);
	tb_fed_stop_all(f);
	for (size_t i = 0; i < 3; i++) {
		check_logs_json(f, i);
		if (TB_FED_TALLY(f, i, "verify"))
			fail_msg("tally verify at node %zu: %s%s", i, f->res.out, f->res.err);
		assert_true(tb_fed_agrees(f, i));
	}
}

/* xorshift64*: the topology is a function of the seed alone. */
static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static bool linked(struct tb_fed *f, size_t a, size_t b)
{
	return f->node[a].dials[b] || f->node[b].dials[a];
}

/* 16 nodes, a random spanning tree plus a few edges, entries from several
 * nodes before and while running: everyone ends up with everything. */
static void test_random_sixteen(void **state)
{
	struct fx *x = *state;
	const char *env = getenv("TB_SEED");
	unsigned seed = env && *env ? (unsigned)strtoul(env, NULL, 10) : 20240229u;
	print_message("random topology seed %u (set TB_SEED to change)\n", seed);
	rng_state = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 1;
	const size_t n = 16;
	struct tb_fed *f = x->f = tb_fed_new("fed-16", n);
	snprintf(f->note, sizeof f->note, "random topology seed %u (rerun with TB_SEED=%u)", seed,
		 seed);
	char edges[1024];
	size_t elen = 0;
	for (size_t i = 1; i < n; i++) {
		size_t p = (size_t)(rnd() % i);
		if (rnd() % 2)
			tb_fed_link(f, i, p);
		else
			tb_fed_link(f, p, i);
	}
	for (int extra = 0; extra < 4;) {
		size_t a = (size_t)(rnd() % n), b = (size_t)(rnd() % n);
		if (a == b || linked(f, a, b))
			continue;
		tb_fed_link(f, a, b);
		extra++;
	}
	for (size_t a = 0; a < n; a++)
		for (size_t b = 0; b < n; b++)
			if (f->node[a].dials[b])
				elen += (size_t)snprintf(edges + elen, sizeof edges - elen,
							 "%zu->%zu ", a, b);
	snprintf(f->note + strlen(f->note), sizeof f->note - strlen(f->note), "; %s", edges);
	print_message("edges: %s\n", edges);

	tb_fed_record(f, 0);
	tb_fed_record(f, 5);
	tb_fed_record(f, 5);
	tb_fed_record(f, 11);
	tb_fed_start_all(f);
	static const size_t at[] = {3, 7, 15, 0, 9, 3};
	for (size_t i = 0; i < sizeof at / sizeof *at; i++)
		tb_fed_record(f, at[i]);
	tb_fed_wait_converged(f, NULL, 0, CONVERGE_MS);
	/* Once more, in the converged network. */
	tb_fed_record(f, 12);
	tb_fed_record(f, 1);
	tb_fed_wait_converged(f, NULL, 0, CONVERGE_MS);
	struct tb_fed_heads hs;
	tb_fed_heads(f, 8, &hs);
	assert_int_equal(hs.n, n);
	tb_fed_stop_all(f);
}

/* A node stopped for a while catches up after a restart, and what it
 * recorded while it was down reaches the others. */
static void test_stop_and_restart(void **state)
{
	struct fx *x = *state;
	struct tb_fed *f = x->f = tb_fed_new("fed-restart", 3);
	tb_fed_link(f, 0, 1);
	tb_fed_link(f, 1, 2);
	tb_fed_link(f, 2, 0);
	tb_fed_start_all(f);
	for (size_t i = 0; i < 3; i++)
		tb_fed_record(f, i);
	tb_fed_wait_converged(f, NULL, 0, CONVERGE_MS);

	struct tb_fed_heads before;
	tb_fed_heads(f, 2, &before);
	tb_fed_stop(f, 2);
	for (int r = 0; r < 3; r++) {
		tb_fed_record(f, 0);
		tb_fed_record(f, 1);
	}
	tb_fed_record(f, 2); /* recorded while its daemon is down */
	const size_t up[] = {0, 1};
	tb_fed_wait_converged(f, up, 2, CONVERGE_MS);
	tb_fed_sleep_ms(1000);
	/* Nothing reached the stopped node. */
	struct tb_fed_heads now;
	tb_fed_heads(f, 2, &now);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(tb_fed_find(&now, f->node[i].id)->seq,
				 tb_fed_find(&before, f->node[i].id)->seq);

	tb_fed_start(f, 2);
	tb_fed_wait_converged(f, NULL, 0, CONVERGE_MS);
	assert_int_equal(tb_fed_own_seq(f, 0), TB_FED_BASE_SEQ(f) + 1 + 3);
	assert_int_equal(tb_fed_own_seq(f, 2), TB_FED_BASE_SEQ(f) + 2);
	tb_fed_stop_all(f);
}

/* Appends n attested exchanges to node i's own log through the library
 * (its daemon must not run): fast, in a few transactions. */
static void append_many(struct tb_fed *f, size_t i, size_t n)
{
	char path[TB_FED_PATH + 64];
	struct tb_store *s;
	snprintf(path, sizeof path, "%s/ledger", f->node[i].data);
	assert_int_equal(tb_store_open(&s, path, 0), 0);
	struct tb_test_log l;
	memset(&l, 0, sizeof l);
	snprintf(path, sizeof path, "%s/keys/node.key", f->node[i].data);
	assert_int_equal(tb_keyfile_read(path, &l.kp, TB_FED_PASS, strlen(TB_FED_PASS)), 0);
	assert_memory_equal(l.kp.pk.b, f->node[i].id, TB_KEY_LEN);
	struct tb_head h;
	assert_int_equal(tb_store_head(s, f->node[i].id, &h), 0);
	l.seq = h.seq;
	memcpy(l.head, h.hash, TB_HASHLEN);
	l.timestamp = (uint64_t)time(NULL);
	struct tb_test_recs recs = {0};
	for (size_t done = 0; done < n;) {
		tb_test_recs_clear(&recs);
		size_t k = n - done < 1000 ? n - done : 1000;
		for (size_t j = 0; j < k; j++) {
			struct tb_test_exchange tx;
			uint32_t a = (done + j) % 2 ? 2 : 1;
			tb_test_exchange(&tx, f->node[i].id, 1000000 + done + j, a, 3 - a, 1, NULL,
					 NULL);
			tb_test_log_add(&l, &recs, TB_KIND_EXCHANGE, &tx.x);
		}
		size_t accepted = 0;
		struct tb_reject rej;
		int err = tb_store_append(s, tb_test_recs_views(&recs, 0), k, &accepted, &rej);
		if (err)
			fail_msg("appending at %zu: %s (seq %llu: %s)", done, tb_strerror(err),
				 (unsigned long long)rej.seq, rej.msg);
		assert_int_equal(accepted, k);
		done += k;
	}
	tb_test_recs_free(&recs);
	tb_keypair_wipe(&l.kp);
	tb_store_free(s);
}

/* A node killed (SIGKILL) in the middle of a large catch-up keeps every
 * entry it committed, resumes, converges and verifies. */
static void test_kill_during_catch_up(void **state)
{
	struct fx *x = *state;
	struct tb_fed *f = x->f = tb_fed_new("fed-kill", 3);
	const size_t big = 4000;
	append_many(f, 0, big);
	tb_fed_link(f, 1, 0);
	tb_fed_link(f, 2, 0);
	tb_fed_link(f, 2, 1);
	uint64_t total = tb_fed_own_seq(f, 0);
	assert_int_equal(total, TB_FED_BASE_SEQ(f) + big);
	tb_fed_start(f, 0);
	tb_fed_start(f, 2);
	tb_fed_record(f, 2);

	/* Node 1 starts from nothing of node 0's log; kill it once a third
	 * of it is committed (in batches: the rest is still on its way). */
	tb_fed_spawn(f, 1, NULL);
	struct tb_fed_heads hs;
	uint64_t until = tb_fed_now_ms() + CONVERGE_MS, got = 0;
	for (;;) {
		if (tb_fed_heads_dir(f->node[1].data, &hs) == 0) {
			const struct tb_head *h = tb_fed_find(&hs, f->node[0].id);
			if (h && h->seq >= total / 3) {
				got = h->seq;
				break;
			}
		}
		assert_true(tb_fed_now_ms() < until);
		tb_fed_sleep_ms(1);
	}
	tb_fed_kill(f, 1);
	struct tb_fed_heads noted;
	tb_fed_heads(f, 1, &noted);
	const struct tb_head *h0 = tb_fed_find(&noted, f->node[0].id);
	assert_non_null(h0);
	assert_true(h0->seq >= got);
	print_message("killed node 1 holding %llu of %llu entries of node 0's log\n",
		      (unsigned long long)h0->seq, (unsigned long long)total);
	/* The store opens cleanly after the kill, and is consistent. */
	assert_int_equal(TB_FED_TALLY(f, 1, "verify"), 0);

	/* Meanwhile, the others go on. */
	tb_fed_record(f, 2);
	tb_fed_record(f, 0);
	tb_fed_start(f, 1);
	struct tb_fed_heads after;
	tb_fed_heads(f, 1, &after);
	for (size_t k = 0; k < noted.n; k++) {
		const struct tb_head *a = tb_fed_find(&after, noted.h[k].log_id);
		assert_non_null(a);
		assert_true(a->seq >= noted.h[k].seq);
	}
	tb_fed_wait_converged(f, NULL, 0, CONVERGE_MS);
	assert_int_equal(tb_fed_own_seq(f, 0), total + 1);
	tb_fed_stop_all(f);
	if (TB_FED_TALLY(f, 1, "verify"))
		fail_msg("tally verify at node 1: %s%s", f->res.out, f->res.err);
	assert_true(tb_fed_agrees(f, 1));
}

/* Two nodes of different federations never exchange a ledger byte. */
static void test_other_federation(void **state)
{
	struct fx *x = *state;
	struct tb_fed *f = x->f = tb_fed_new("fed-strangers", 2);
	char other[TB_FED_PATH + 32];
	snprintf(other, sizeof other, "%s/other.key", f->root);
	assert_int_equal(TB_FED_TALLY(f, 1, "federation", "create", "--out", other), 0);
	assert_int_equal(TB_FED_TALLY(f, 1, "federation", "join", other), 0);
	tb_fed_link(f, 0, 1);
	tb_fed_link(f, 1, 0);
	tb_fed_start_all(f);
	tb_fed_record(f, 0);
	tb_fed_record(f, 1);
	tb_fed_wait_log_line(f, 0, "closed: handshake failed", "federation key", CONVERGE_MS);
	tb_fed_wait_log_line(f, 1, "closed: handshake failed", "federation key", CONVERGE_MS);
	tb_fed_sleep_ms(1500); /* a few redials */
	for (size_t i = 0; i < 2; i++) {
		struct tb_fed_heads hs;
		tb_fed_heads(f, i, &hs);
		assert_int_equal(hs.n, 1);
		assert_memory_equal(hs.h[0].log_id, f->node[i].id, TB_KEY_LEN);
		assert_false(tb_fed_log_has(f, i, " open: node", NULL));
	}
	tb_fed_stop_all(f);

	/* The same nodes with the same key federate. */
	assert_int_equal(TB_FED_TALLY(f, 1, "federation", "join", f->fedkey), 0);
	tb_fed_start_all(f);
	tb_fed_wait_converged(f, NULL, 0, CONVERGE_MS);
	tb_fed_stop_all(f);
}

/* A peer pinned to another identity is refused before any ledger byte. */
static void test_pinned_identity(void **state)
{
	struct fx *x = *state;
	struct tb_fed *f = x->f = tb_fed_new("fed-pinned", 2);
	struct tb_keypair other;
	tb_test_keypair(&other, 77);
	char addr[32], wrong[2 * TB_KEY_LEN + 1], right[2 * TB_KEY_LEN + 1];
	snprintf(addr, sizeof addr, "127.0.0.1:%u", f->node[1].port);
	tb_hex_encode(wrong, other.pk.b, TB_KEY_LEN);
	tb_hex_encode(right, f->node[1].id, TB_KEY_LEN);
	assert_int_equal(TB_FED_TALLY(f, 0, "peer", "add", addr, "--id", wrong), 0);
	assert_non_null(strstr(f->res.out, "pinned"));
	tb_fed_start(f, 1);
	tb_fed_start(f, 0);
	tb_fed_wait_log_line(f, 0, addr, "pinned", CONVERGE_MS);
	tb_fed_sleep_ms(1000);
	for (size_t i = 0; i < 2; i++) {
		struct tb_fed_heads hs;
		tb_fed_heads(f, i, &hs);
		assert_int_equal(hs.n, 1);
		assert_memory_equal(hs.h[0].log_id, f->node[i].id, TB_KEY_LEN);
	}
	assert_false(tb_fed_log_has(f, 0, " open: node", NULL));
	tb_fed_stop_all(f);

	/* Pinned to the right identity, it federates. */
	assert_int_equal(TB_FED_TALLY(f, 0, "peer", "add", addr, "--id", right), 0);
	tb_fed_start(f, 1);
	tb_fed_start(f, 0);
	tb_fed_wait_converged(f, NULL, 0, CONVERGE_MS);
	tb_fed_stop_all(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_line_of_three, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_sixteen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_and_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_during_catch_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_federation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pinned_identity, setup, teardown),
	};
	if (tb_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
