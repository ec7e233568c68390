/*
 * test_succession.c: a forked community recovered by succession, with three
 * real tallyd processes on 127.0.0.1. Community 0 (Comm00) trades with
 * Comm01; nodes 1 and 2 hold its log. Its data directory is copied while
 * tallyd is stopped, and both copies go on: copy A records an exchange and a
 * payment to Comm01 (which Comm01 commits), copy B two exchanges. Each copy
 * runs in turn as node 0, so the peers see two histories signed by one key:
 * every node freezes the log. Then, on B: `tally succession` shows the fork;
 * it refuses while tallyd runs and refuses the branch it does not hold; with
 * --keep and --dropped (an export of A) it starts the new log, lists the
 * dropped branch's exchanges and completes the payment Comm01 committed.
 * Node 0 restarts as the new log; every node converges on it; audit on
 * node 1 reports the fork with its successor and no violation; verify
 * passes. A payment from Comm01 to Comm00 made while no branch can answer
 * is refused by the successor and released on Comm01 (PROTOCOL.md 12.6). A
 * succession without a fork proof, or signed by another key, sent by a fake
 * peer, closes the connection.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agree.h"
#include "fed.h"
#include "tb_node.h"

#define WAIT_MS 60000

static void contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("expected '%s' in: %s", needle, hay);
}

/* Runs tally on another data directory than node i's own; fails unless it
 * exits want. */
static void tally_at_is(struct tb_fed *f, size_t i, const char *data, int want, int line,
			const char *const *args)
{
	char saved[sizeof f->node[i].data];
	memcpy(saved, f->node[i].data, sizeof saved);
	size_t n = strlen(data);
	assert_true(n < sizeof f->node[i].data);
	memcpy(f->node[i].data, data, n + 1);
	tb_fed_tally_is(f, i, want, line, args);
	memcpy(f->node[i].data, saved, sizeof saved);
}
#define TALLY_AT_IS(f, i, want, d, ...) \
	tally_at_is(f, i, d, want, __LINE__, (const char *const[]){__VA_ARGS__, NULL})

static void swap_dirs(const char *a, const char *b, const char *tmp)
{
	assert_int_equal(rename(a, tmp), 0);
	assert_int_equal(rename(b, a), 0);
	assert_int_equal(rename(tmp, b), 0);
}

static bool forked_at(struct tb_fed *f, size_t i, const uint8_t *log)
{
	struct tb_fed_heads hs;
	tb_fed_heads(f, i, &hs);
	const struct tb_head *h = tb_fed_find(&hs, log);
	return h && (h->flags & TB_LOG_FORKED);
}

/* Whether node i's fork proof of log is two records: a checkpoint proof
 * (a node may see the other branch's checkpoint before its entry) cannot
 * travel in a succession, and gives way to two records once the entry
 * comes. */
static bool two_records_at(struct tb_fed *f, size_t i, const uint8_t *log)
{
	static uint8_t buf[2 * TB_ENTRY_MAX];
	char ledger[TB_FED_PATH + 32];
	snprintf(ledger, sizeof ledger, "%s/ledger", f->node[i].data);
	struct tb_store *s;
	struct tb_view a, b;
	assert_int_equal(tb_store_open(&s, ledger, TB_STORE_RDONLY), 0);
	int err = tb_store_fork_get(s, log, buf, sizeof buf, &a, &b);
	tb_store_free(s);
	return !err && a.len && a.p[0] != 0x94;
}

/* Every node froze the log and holds a proof of two records of it (node 0
 * makes its succession with its own; the forged ones below use node 1's). */
static bool all_frozen(struct tb_fed *f, void *ctx, char *why, size_t cap, size_t *blame)
{
	const uint8_t *log = ctx;
	for (size_t i = 0; i < f->n; i++) {
		if (!forked_at(f, i, log) || !two_records_at(f, i, log)) {
			snprintf(why, cap, "node %zu does not hold the fork %s yet", i,
				 forked_at(f, i, log) ? "as two records" : "at all");
			*blame = i;
			return false;
		}
	}
	return true;
}

static void hash_of_head(struct tb_fed *f, size_t i, const uint8_t *log, char out[65])
{
	struct tb_fed_heads hs;
	tb_fed_heads(f, i, &hs);
	const struct tb_head *h = tb_fed_find(&hs, log);
	assert_non_null(h);
	tb_hex_encode(out, h->hash, TB_HASHLEN);
}

/* The fork proof node i holds of log, as a succession carries it. */
struct proof {
	uint8_t p[2 + 2 * TB_ENTRY_MAX];
	size_t len;
	const uint8_t *log;
};

static int proof_cb(void *ctx, const uint8_t log_id[TB_KEY_LEN], uint64_t seq, struct tb_view a,
		    struct tb_view b)
{
	struct proof *pr = ctx;
	(void)seq;
	if (memcmp(log_id, pr->log, TB_KEY_LEN))
		return 0;
	pr->p[0] = (uint8_t)(a.len >> 8);
	pr->p[1] = (uint8_t)a.len;
	memcpy(pr->p + 2, a.p, a.len);
	memcpy(pr->p + 2 + a.len, b.p, b.len);
	pr->len = 2 + a.len + b.len;
	return 0;
}

/* A fake peer sends a new log whose entry 2 is a bad succession of log:
 * the daemon refuses it and closes the connection. */
static void forged_refused(struct tb_fed *f, size_t i, const struct proof *pr, bool signed_ok,
			   const char *why)
{
	uint8_t psk[32];
	assert_int_equal(tb_fedkey_read(f->fedkey, psk), 0);
	/* A fresh log each time (a second genesis of one key would be a fork). */
	uint32_t key = signed_ok ? 9111 : 9101;
	struct tb_keypair nk, other;
	tb_test_keypair(&nk, key);
	tb_test_keypair(&other, 9102);
	struct tb_test_log l;
	tb_test_log_init(&l, key);
	l.timestamp = (uint64_t)time(NULL);
	struct tb_test_recs r = {0};
	struct tb_genesis g;
	tb_test_genesis(&g, "Forger", -600, 0);
	tb_test_log_add(&l, &r, TB_KIND_GENESIS, &g);
	struct tb_succession s;
	memset(&s, 0, sizeof s);
	memcpy(s.old_log, pr->log, TB_KEY_LEN);
	s.kept_seq = 1;
	static const uint8_t none[2];
	s.fork_proof = signed_ok ? (struct tb_view){none, 2} : (struct tb_view){pr->p, pr->len};
	struct tb_succession_terms t;
	uint8_t buf[256];
	size_t len;
	tb_succession_terms_of(&t, nk.pk.b, &s);
	assert_int_equal(tb_terms_encode(buf, sizeof buf, &len, &tb_def_succession_terms, &t), 0);
	/* With no proof the signature is "right" (a key it is not: the test
	 * cannot sign as the old key, so both cases sign with another). */
	tb_sign(s.old_sig, &other, TB_CTX_SUCCESSION, buf, len);
	tb_test_log_add(&l, &r, TB_KIND_SUCCESSION, &s);
	struct tb_fake *p = calloc(1, sizeof *p);
	assert_non_null(p);
	tb_fake_open(p, f->node[i].port, psk, 9103);
	assert_int_equal(tb_fake_entries(p, tb_test_recs_views(&r, 0), r.n), 0);
	assert_true(tb_fake_closed_within(p, 20000));
	tb_fake_close(p);
	free(p);
	tb_test_recs_free(&r);
	tb_fed_wait_log_line(f, i, "refused entry", why, 20000);
}

static void test_succession(void **state)
{
	(void)state;
	static const struct tb_fed_spec spec[3] = {
		{"Comm00", {"m1", "m2", NULL}},
		{"Comm01", {"m1", "m2", NULL}},
		{"Comm02", {"m1", "m2", NULL}},
	};
	struct tb_fed *f = tb_fed_new_spec("succession", 3, spec);
	tb_fed_link(f, 1, 0);
	tb_fed_link(f, 2, 0);
	tb_fed_link(f, 1, 2);
	char id0[65], id1[65];
	tb_hex_encode(id0, f->node[0].id, TB_KEY_LEN);
	tb_hex_encode(id1, f->node[1].id, TB_KEY_LEN);
	TB_FED_TALLY_IS(f, 0, 0, "link", "add", id1, "--limit", "10");
	TB_FED_TALLY_IS(f, 1, 0, "link", "add", id0, "--limit", "10");
	tb_fed_start_all(f);
	tb_fed_record(f, 0);
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);
	uint64_t base0 = tb_fed_own_seq(f, 0), base1 = tb_fed_own_seq(f, 1);

	/* Two copies of node 0's data directory, each going on alone. */
	tb_fed_stop(f, 0);
	char a[TB_FED_PATH + 32], tmp[TB_FED_PATH + 32], cmd[3 * TB_FED_PATH];
	snprintf(a, sizeof a, "%s/copy-a", f->root);
	snprintf(tmp, sizeof tmp, "%s/copy-tmp", f->root);
	snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", f->node[0].data, a);
	assert_int_equal(system(cmd), 0);
	char lockf[TB_FED_PATH + 48];
	snprintf(lockf, sizeof lockf, "%s/tallyd.lock", a);
	unlink(lockf);
	TALLY_AT_IS(f, 0, 0, a, "exchange", "record", "--attest", "--provider", "m1", "--receiver",
		    "m2", "--minutes", "20", "--memo", "only on A");
	char to[TB_FED_PATH];
	snprintf(to, sizeof to, "m1@%s", id1);
	TALLY_AT_IS(f, 0, 0, a, "exchange", "send", "--attest", "--from", "m2", "--to", to,
		    "--minutes", "25", "--memo", "paid on A", "--no-wait", "--ttl", "3600");
	tb_fed_record(f, 0); /* B: two entries */
	tb_fed_record(f, 0);

	/* A runs first (Comm01 commits the payment), then B: a fork. */
	swap_dirs(f->node[0].data, a, tmp);
	tb_fed_start(f, 0);
	tb_fed_wait_log_seq(f, 1, f->node[0].id, base0 + 2, WAIT_MS);
	tb_fed_wait_log_seq(f, 0, f->node[1].id, base1 + 1, WAIT_MS); /* Comm01's decision */
	tb_fed_stop(f, 0);
	swap_dirs(f->node[0].data, a, tmp);
	tb_fed_start(f, 0);
	tb_fed_wait(f, WAIT_MS, all_frozen, f->node[0].id,
		    "every node freezes the forked log with a proof of two records");
	TB_FED_TALLY_IS(f, 0, 1, "exchange", "record", "--attest", "--provider", "m1", "--receiver",
			"m2", "--minutes", "5", "--memo", "frozen");
	contains(f->res.err, "EFORKED");

	/* The refusals. */
	char held[65];
	hash_of_head(f, 0, f->node[0].id, held);
	TB_FED_TALLY_IS(f, 0, 2, "succession", "--keep", held);
	contains(f->res.err, "is running");
	tb_fed_stop(f, 0);

	/* Comm01 pays Comm00 while no branch of it can answer: held on Comm01
	 * until the successor refuses it (PROTOCOL.md 12.6). */
	char to0[TB_FED_PATH];
	snprintf(to0, sizeof to0, "m1@%s", id0);
	TB_FED_TALLY_IS(f, 1, 0, "exchange", "send", "--attest", "--from", "m2", "--to", to0,
			"--minutes", "15", "--memo", "to the forked log", "--no-wait", "--ttl",
			"3600");
	const char *pt = strstr(f->res.out, "prepared ");
	assert_non_null(pt);
	char held_tx[2 * TB_TXID_LEN + 1];
	memcpy(held_tx, pt + 9, 2 * TB_TXID_LEN);
	held_tx[2 * TB_TXID_LEN] = 0;
	uint64_t seq1 = tb_fed_own_seq(f, 1);
	TB_FED_TALLY_IS(f, 0, 0, "succession");
	contains(f->res.out, "forked at seq ");
	const char *oh = strstr(f->res.out, "has hash ");
	assert_non_null(oh);
	char other[17];
	memcpy(other, oh + 9, 16);
	other[16] = 0;
	TB_FED_TALLY_IS(f, 0, 2, "succession", "--keep", other);
	contains(f->res.err, "is the other branch");
	TB_FED_TALLY_IS(f, 0, 2, "succession", "--keep", "0123456789abcdef");
	contains(f->res.err, "no branch ends");
	char exp[TB_FED_PATH + 32];
	snprintf(exp, sizeof exp, "%s/a.export", f->root);
	TALLY_AT_IS(f, 0, 0, a, "export", "--out", exp);

	/* The succession, keeping B. */
	TB_FED_TALLY_IS(f, 0, 0, "succession", "--keep", held, "--dropped", exp);
	contains(f->res.out, "continues in log");
	contains(f->res.out, "1 open payments completed");
	contains(f->res.out, "exchange");
	uint8_t old_id[TB_KEY_LEN];
	memcpy(old_id, f->node[0].id, TB_KEY_LEN);
	const char *at = strstr(f->res.out, "continues in log ");
	assert_non_null(at);
	char newid[65];
	memcpy(newid, at + 17, 64);
	newid[64] = 0;
	assert_int_equal(tb_hex_decode(f->node[0].id, TB_KEY_LEN, newid), 0);
	TB_FED_TALLY_IS(f, 0, 1, "succession", "--keep", held);
	contains(f->res.err, "already continues");
	/* The dropped branch listed again, to record its exchanges: A's
	 * exchange and its payment (completed). */
	TB_FED_TALLY_IS(f, 0, 0, "succession", "--dropped", exp);
	contains(f->res.out, " entries of the dropped branch");
	contains(f->res.out, "  exchange ");
	contains(f->res.out, "  payment ");

	/* Node 0 runs as the new log; every node takes it. */
	uint64_t seq = tb_fed_own_seq(f, 0);
	assert_true(seq > 2);
	tb_fed_start(f, 0);
	tb_fed_wait_log_seq(f, 1, f->node[0].id, seq, WAIT_MS);
	tb_fed_wait_log_seq(f, 2, f->node[0].id, seq, WAIT_MS);
	TB_FED_TALLY_IS(f, 0, 0, "exchange", "record", "--attest", "--provider", "m1", "--receiver",
			"m2", "--minutes", "20", "--memo", "again");
	tb_fed_wait_log_seq(f, 2, f->node[0].id, seq + 1, WAIT_MS);

	/* The payment held on Comm01: refused by the successor, released. */
	tb_fed_wait_log_seq(f, 1, f->node[1].id, seq1 + 1, WAIT_MS);
	TB_FED_TALLY_IS(f, 1, 0, "exchange", "status", held_tx);
	contains(f->res.out, "released");
	contains(f->res.out, "refused: link missing");
	contains(f->res.out, "hold released");

	/* The balances carried: m2 paid 25 minutes on A (completed) and B's
	 * two exchanges of 30 minutes went each way; then 20 again. */
	TB_FED_TALLY_IS(f, 0, 0, "--json", "balance", "m2");
	contains(f->res.out, "\"balance_minutes\":-75");

	/* Audit and verify on node 1: the fork, told, no violation. */
	TB_FED_TALLY_IS(f, 1, 0, "audit", f->node[1].data);
	contains(f->res.out, "FORK log");
	contains(f->res.out, "continues in log");
	contains(f->res.out, "clean");
	TB_FED_TALLY_IS(f, 1, 0, "verify");
	contains(f->res.out, "forks: 1");
	assert_true(tb_fed_agrees(f, 1));
	/* Node 0 kept branch B; another community's decision answers branch
	 * A's prepare, which both commands report (ELEG) on node 0's copy. */
	(void)tb_fed_agrees(f, 0);
	(void)tb_test_verify_agrees(exp); /* the dropped branch, as exported */

	/* Forged successions from a fake peer. */
	struct proof pr = {.log = old_id};
	struct tb_store *s;
	char ledger[TB_FED_PATH + 32];
	snprintf(ledger, sizeof ledger, "%s/ledger", f->node[1].data);
	assert_int_equal(tb_store_open(&s, ledger, TB_STORE_RDONLY), 0);
	assert_int_equal(tb_store_foreach_fork(s, proof_cb, &pr), 0);
	tb_store_free(s);
	assert_true(pr.len > 2);
	forged_refused(f, 2, &pr, false, "ESUCCESSION");
	forged_refused(f, 2, &pr, true, "EPROOF");
	tb_fed_stop_all(f);
	/* A log with one history has nothing to recover. */
	TB_FED_TALLY_IS(f, 2, 2, "succession", "--keep", "0123456789abcdef");
	contains(f->res.err, "not forked");
	tb_fed_free(f);
}

int main(void)
{
	if (tb_crypto_init())
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_succession),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	tb_fed_kill_all();
	return rc;
}
