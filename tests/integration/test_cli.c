/*
 * test_cli.c: the `tally` command line as a user runs it, with real
 * processes: the README walk-through (members, a member-signed exchange, an
 * attested one, a refused one that leaves the log unchanged, a reversal,
 * a receipt that says what it checked),
 * --json output, exit codes, bad passphrases and key files, and tampering
 * detection by `tally verify` on exports and on the LMDB file itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agree.h"
#include "runproc.h"
#include "testutil.h"

struct fixture {
	char *dir;
	char data[4200];
	char pass[4300];
};

static struct tb_proc_result res;

/* Runs tally with the fixture's data directory; args end with NULL. */
static int tally(struct fixture *f, const char *const *args)
{
	const char *argv[40];
	int n = 0;
	argv[n++] = tb_tally_bin();
	argv[n++] = "--data";
	argv[n++] = f->data;
	for (size_t i = 0; args[i] && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	assert_int_equal(tb_run(&res, argv), 0);
	if (res.code >= 126)
		fail_msg("tally %s died with code %d; stderr: %s", args[0], res.code, res.err);
	return res.code;
}

#define T(f, ...) tally(f, (const char *const[]){__VA_ARGS__, NULL})

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	f->dir = tb_test_tmpdir("cli");
	snprintf(f->data, sizeof f->data, "%s/data", f->dir);
	snprintf(f->pass, sizeof f->pass, "%s/pass", f->dir);
	write_file(f->pass, "correct horse\n");
	setenv("TALLY_PASSPHRASE", "correct horse", 1);
	setenv("TALLY_MEMBER_PASSPHRASE", "member secret", 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tb_test_rmrf(f->dir);
	free(f);
	return 0;
}

/* Sets up Riverside with alice, bob and carol (carol's debt limit 2 h). */
static void community(struct fixture *f)
{
	assert_int_equal(T(f, "init", "--name", "Riverside", "--debt-limit", "10"), 0);
	assert_non_null(strstr(res.out, "Riverside"));
	assert_int_equal(T(f, "member", "add", "alice"), 0);
	assert_int_equal(T(f, "member", "add", "bob"), 0);
	assert_int_equal(T(f, "member", "add", "carol", "--debt-limit", "2"), 0);
}

static long head_seq(struct fixture *f)
{
	assert_int_equal(T(f, "--json", "log"), 0);
	const char *last = NULL, *p = res.out;
	while ((p = strstr(p, "\"seq\":"))) {
		last = p;
		p++;
	}
	return last ? strtol(last + 6, NULL, 10) : 0;
}

static void test_walkthrough(void **state)
{
	struct fixture *f = *state;
	community(f);

	/* Member-signed: alice proposes, bob confirms. */
	assert_int_equal(T(f, "exchange", "propose", "--provider", "alice", "--receiver", "bob",
			   "--hours", "1.5", "--memo", "fixed the fence", "--category", "garden"),
			 0);
	char txid[40];
	memcpy(txid, res.out, 32);
	txid[32] = '\0';
	assert_int_equal(T(f, "exchange", "pending"), 0);
	assert_non_null(strstr(res.out, txid));
	assert_int_equal(T(f, "exchange", "confirm", txid), 0);
	assert_non_null(strstr(res.out, "signed by both"));
	/* Its receipt verifies, and says it did not check the members' own
	 * signatures: it carries no member keys. */
	char rcpt[4300];
	snprintf(rcpt, sizeof rcpt, "%s/x.receipt", f->dir);
	assert_int_equal(T(f, "receipt", txid, "--out", rcpt), 0);
	assert_int_equal(T(f, "receipt", "verify", rcpt), 0);
	assert_null(strstr(res.out, "signed by both"));
	assert_non_null(strstr(res.out, "signatures are not"));
	assert_int_equal(T(f, "receipt", "verify", rcpt, "--json"), 0);
	assert_non_null(strstr(res.out, "\"members_signatures_checked\":false"));
	assert_int_equal(T(f, "exchange", "pending", "--json"), 0);
	assert_string_equal(res.out, "{\"pending\":[]}\n");

	/* Coordinator-attested; --json is what POST /api/v1/exchanges answers. */
	assert_int_equal(T(f, "--json", "exchange", "record", "--attest", "--provider", "bob",
			   "--receiver", "carol", "--minutes", "90", "--memo", "tutoring"),
			 0);
	{
		char hex[33], tail[4] = "";
		unsigned long seq = 0;
		assert_int_equal(sscanf(res.out, "{\"txid\":\"%32[0-9a-f]\",\"seq\":%lu%3s", hex,
					&seq, tail),
				 3);
		assert_string_equal(tail, "}");
		assert_true(seq > 1);
	}
	/* A member added prints the member object (POST /api/v1/members). */
	assert_int_equal(T(f, "--json", "member", "add", "dora", "--keyless"), 0);
	assert_non_null(strstr(res.out, "\"name\":\"dora\""));
	assert_non_null(strstr(res.out, "\"debt_limit_minutes\":"));
	assert_null(strstr(res.out, "floor"));

	/* Refused: carol would go below her 2 hour limit. The log is unchanged. */
	long before = head_seq(f);
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice", "--receiver",
			   "carol", "--hours", "1", "--memo", "too much"),
			 1);
	assert_non_null(strstr(res.err, "-2:00"));
	assert_non_null(strstr(res.err, "carol"));
	assert_int_equal(head_seq(f), before);

	/* Balances sum to zero. */
	assert_int_equal(T(f, "balance", "--json"), 0);
	assert_non_null(strstr(res.out, "\"sum_minutes\":0"));
	assert_int_equal(T(f, "balance", "alice"), 0);
	assert_non_null(strstr(res.out, "+1:30"));

	/* Reversal with the same consent (both members sign). */
	assert_int_equal(T(f, "exchange", "reverse", txid, "--attest"), 1);
	assert_int_equal(T(f, "exchange", "reverse", txid), 0);
	assert_int_equal(T(f, "exchange", "reverse", txid), 1);
	assert_int_equal(T(f, "balance", "alice", "--json"), 0);
	assert_non_null(strstr(res.out, "\"balance_minutes\":0"));

	/* Statement and journal. */
	assert_int_equal(T(f, "history", "bob"), 0);
	assert_non_null(strstr(res.out, "fixed the fence"));
	assert_non_null(strstr(res.out, "REVERSAL"));
	assert_int_equal(T(f, "history", "--json"), 0);
	assert_non_null(strstr(res.out, "tutoring"));

	/* Erasing a memo leaves the signed history intact. */
	/* Irreversible: without a terminal it needs --yes (and the community key). */
	assert_int_equal(T(f, "memo", "erase", txid), 2);
	assert_non_null(strstr(res.err, "--yes"));
	assert_int_equal(T(f, "memo", "erase", txid, "--yes"), 0);
	assert_int_equal(T(f, "history", "bob"), 0);
	assert_null(strstr(res.out, "fixed the fence"));

	/* A member leaves; the history stays; they can no longer exchange. */
	/* carol has a balance: removing her needs a decision about it. */
	assert_int_equal(T(f, "member", "remove", "carol"), 2);
	assert_non_null(strstr(res.err, "--keep-balance"));
	assert_int_equal(T(f, "member", "remove", "carol", "--keep-balance"), 0);
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "bob", "--receiver",
			   "carol", "--minutes", "5", "--memo", "x"),
			 1);
	assert_int_equal(T(f, "member", "list", "--all", "--json"), 0);
	assert_non_null(strstr(res.out, "\"active\":false"));

	/* verify, export, reindex. */
	assert_int_equal(T(f, "verify"), 0);
	char exp[4300];
	snprintf(exp, sizeof exp, "%s/x.tally", f->dir);
	assert_int_equal(T(f, "export", "--out", exp), 0);
	assert_int_equal(T(f, "verify", exp), 0);
	/* --json names the file as a JSON string, whatever its name holds. */
	char odd[4300];
	snprintf(odd, sizeof odd, "%s/x\"y.tally", f->dir);
	assert_int_equal(T(f, "--json", "export", "--out", odd), 0);
	assert_non_null(strstr(res.out, "x\\\"y.tally\",\"items\":"));
	assert_true(tb_test_verify_agrees(exp));
	assert_true(tb_test_verify_agrees(f->data));
	assert_int_equal(T(f, "reindex"), 0);
	assert_int_equal(T(f, "balance", "--json"), 0);
	assert_non_null(strstr(res.out, "\"sum_minutes\":0"));
	assert_int_equal(T(f, "verify", "--json"), 0);
	assert_non_null(strstr(res.out, "{\"clean\":true,\"summary\":{\"logs\":1,"));
}

static void test_usage_and_keys(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(T(f, "balance"), 2); /* not initialised */
	assert_non_null(strstr(res.err, "tally init"));
	community(f);
	assert_int_equal(T(f, "--help"), 0);
	assert_int_equal(T(f, "exchange", "propose", "--help"), 0);
	assert_non_null(strstr(res.out, "--provider"));
	assert_int_equal(T(f, "frobnicate"), 2);
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice"), 2);
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice", "--receiver",
			   "bob", "--hours", "0.01", "--memo", "x"),
			 2);
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice", "--receiver",
			   "bob", "--minutes", "0", "--memo", "x"),
			 1);
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice", "--receiver",
			   "alice", "--minutes", "5", "--memo", "x"),
			 1);
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice", "--receiver",
			   "nobody", "--minutes", "5", "--memo", "x"),
			 1);
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice", "--receiver",
			   "bob", "--minutes", "5", "--memo", "x", "--date", "2026-02-30"),
			 2);
	assert_int_equal(T(f, "member", "add", "alice"), 1); /* name in use */
	assert_int_equal(T(f, "init", "--name", "Again"), 2);

	/* Wrong passphrase: clear error, nothing appended. */
	long before = head_seq(f);
	setenv("TALLY_PASSPHRASE", "wrong", 1);
	assert_int_equal(T(f, "member", "add", "dave"), 2);
	assert_non_null(strstr(res.err, "wrong passphrase"));
	setenv("TALLY_PASSPHRASE", "correct horse", 1);
	/* The passphrase file wins over the environment. */
	setenv("TALLY_PASSPHRASE", "wrong", 1);
	assert_int_equal(T(f, "--passphrase-file", f->pass, "member", "add", "dave"), 0);
	setenv("TALLY_PASSPHRASE", "correct horse", 1);
	assert_int_equal(head_seq(f), before + 1);

	/* No passphrase anywhere (stdin is not a terminal). */
	unsetenv("TALLY_PASSPHRASE");
	assert_int_equal(T(f, "member", "add", "erin"), 2);
	assert_non_null(strstr(res.err, "TALLY_PASSPHRASE"));
	setenv("TALLY_PASSPHRASE", "correct horse", 1);

	/* A corrupt key file is named, and nothing changes. */
	char key[4400];
	snprintf(key, sizeof key, "%s/keys/node.key", f->data);
	size_t len;
	uint8_t *orig = tb_test_read_file(key, &len);
	assert_non_null(orig);
	FILE *fp = fopen(key, "wb");
	fwrite(orig, 1, 20, fp);
	fclose(fp);
	assert_int_equal(T(f, "member", "add", "erin"), 3);
	assert_non_null(strstr(res.err, "damaged"));
	fp = fopen(key, "wb");
	fwrite(orig, 1, len, fp);
	fclose(fp);
	free(orig);
	assert_int_equal(head_seq(f), before + 1);
	assert_int_equal(T(f, "verify"), 0);
}

/* Finds the first occurrence of needle in hay. */
static long find(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return (long)i;
	return -1;
}

static void tamper_detection(void **state)
{
	struct fixture *f = *state;
	community(f);
	for (int i = 0; i < 3; i++)
		assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice",
				   "--receiver", "bob", "--minutes", "15", "--memo", "x"),
				 0);
	char exp[4300], bad[4300], mdb[4300], copy[4300];
	snprintf(exp, sizeof exp, "%s/x.tally", f->dir);
	snprintf(bad, sizeof bad, "%s/bad.tally", f->dir);
	assert_int_equal(T(f, "export", "--out", exp), 0);
	size_t len;
	uint8_t *file = tb_test_read_file(exp, &len);
	assert_non_null(file);

	/* Every byte of every entry item of the export (header bytes too). */
	size_t off = 9;
	uint64_t seq = 0;
	while (off + 5 <= len && file[off] == 1) {
		uint32_t n = (uint32_t)file[off + 1] << 24 | (uint32_t)file[off + 2] << 16 |
			     (uint32_t)file[off + 3] << 8 | file[off + 4];
		seq++;
		/* Flip a spread of bytes of this entry: every 7th, plus the last. */
		for (size_t b = 0; b < n; b += (b + 7 < n ? 7 : (n - b - 1 ? n - b - 1 : 1))) {
			file[off + 5 + b] ^= 0x01;
			FILE *fp = fopen(bad, "wb");
			fwrite(file, 1, len, fp);
			fclose(fp);
			file[off + 5 + b] ^= 0x01;
			assert_int_equal(T(f, "verify", bad, "--json"), 1);
			char want[64];
			snprintf(want, sizeof want, "\"seq\":%llu", (unsigned long long)seq);
			if (!strstr(res.out, want))
				fail_msg("flip at entry %llu byte %zu: %s", (unsigned long long)seq,
					 b, res.out);
			/* audit judges alike (a few entries: each check is two
			 * processes, and this loop runs verify hundreds of times). */
			if (b == 0 && (seq == 1 || seq == 5))
				assert_false(tb_test_verify_agrees(bad));
			if (b == n - 1)
				break;
		}
		off += 5 + n;
	}
	assert_true(seq >= 7);
	/* A truncated export fails too. */
	FILE *fp = fopen(bad, "wb");
	fwrite(file, 1, len - 3, fp);
	fclose(fp);
	assert_int_equal(T(f, "verify", bad), 1);
	assert_false(tb_test_verify_agrees(bad));

	/* Flip a byte of a stored entry inside the LMDB file itself. */
	snprintf(mdb, sizeof mdb, "%s/ledger/data.mdb", f->data);
	snprintf(copy, sizeof copy, "%s/orig.mdb", f->dir);
	size_t mlen;
	uint8_t *m = tb_test_read_file(mdb, &mlen);
	assert_non_null(m);
	/* Entry 6 is the second exchange: its record is item 6 of the export. */
	off = 9;
	for (int i = 1; i < 6; i++)
		off += 5 + ((uint32_t)file[off + 3] << 8 | file[off + 4]);
	uint32_t n6 = (uint32_t)file[off + 3] << 8 | file[off + 4];
	/* LMDB copies pages on write, so stale copies of the record may sit in
	 * free pages: flip the byte in every copy, one of which is live. */
	long at[16];
	int copies = 0;
	for (long from = 0; copies < 16;) {
		long hit = find(m + from, mlen - (size_t)from, file + off + 5, n6);
		if (hit < 0)
			break;
		at[copies++] = from + hit;
		from += hit + 1;
	}
	assert_true(copies > 0);
	for (uint32_t b = 0; b < n6; b += 29) {
		for (int c = 0; c < copies; c++)
			m[at[c] + b] ^= 0x80;
		fp = fopen(mdb, "wb");
		fwrite(m, 1, mlen, fp);
		fclose(fp);
		for (int c = 0; c < copies; c++)
			m[at[c] + b] ^= 0x80;
		assert_int_equal(T(f, "verify", "--json"), 1);
		if (!strstr(res.out, "\"seq\":6"))
			fail_msg("flip at byte %u of stored entry 6: %s", b, res.out);
	}
	fp = fopen(mdb, "wb");
	fwrite(m, 1, mlen, fp);
	fclose(fp);
	assert_int_equal(T(f, "verify"), 0);
	free(m);
	free(file);
}

/* tamper_detection runs as a CTest test of its own (test_cli_tamper). */
int main(int argc, char **argv)
{
	tb_test_select(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_walkthrough, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_and_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(tamper_detection, setup, teardown),
	};
	if (tb_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
