/*
 * fuzz_ledger.c: libFuzzer target for the ledger rules (store/rules.c,
 * xrules.c, clearing.c) through tb_store_append into a fresh scratch store
 * (TB_STORE_SCRATCH, in a directory made once under $TMPDIR, else /dev/shm,
 * else /tmp) per input. Entries are sealed here with fixed community keys,
 * so the fuzzer gets past the entry signature and reaches the rules;
 * fuzz_entry covers the decoder.
 *
 * Input: a flags byte (bit 0: audit mode, tb_store_set_audit; bit 1: run the
 * clearing step of community 0 after every entry), then operations, each
 * [h][kind][u16 big-endian n][n bytes: the body, msgpack of that kind].
 * h: bits 0-1 the community (modulo 3: keys FUZZ_LOG_SEED + i; community 0
 * is the store's own log); bit 2 seq = head (a second entry at a seq), bit 3
 * seq = head + 2 (a gap), bit 4 prev all zero, bit 5 re-sign the members'
 * consent (exchange, xprepare: member m's key is FUZZ_MEMBER_SEED + m % 4;
 * reversal: members 1 and 2), bit 6 timestamp an hour back, bit 7 run the
 * clearing step after this entry. A body that does not decode is skipped.
 *
 * Checks: no storage error; an accepted entry becomes the head of its log
 * (in audit mode, unless a violation was reported: then the head is the
 * entry or the one before); a refused one leaves the head as it was; in every community the member
 * balances and clearing balances sum to 0, and nothing held is negative.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "tb_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NLOGS 3
#define NOW 1740000000u

static char g_dir[64];
static int g_debug; /* FUZZ_LEDGER_DEBUG set: say what happened to each entry */
static char g_store[128];
static struct tb_keypair g_log[NLOGS], g_member[4];

static void remove_store(void)
{
	char f[256];
	snprintf(f, sizeof f, "%s/data.mdb", g_store);
	unlink(f);
	snprintf(f, sizeof f, "%s/lock.mdb", g_store);
	unlink(f);
	rmdir(g_store);
}

static void cleanup(void)
{
	remove_store();
	rmdir(g_dir);
}

static void init_once(void)
{
	static int done;
	if (done)
		return;
	TB_ASSERT(tb_crypto_init() == 0);
	for (int i = 0; i < NLOGS; i++)
		fuzz_keypair(&g_log[i], FUZZ_LOG_SEED + i);
	for (int i = 0; i < 4; i++)
		fuzz_keypair(&g_member[i], FUZZ_MEMBER_SEED + i);
	/* One store per input, in a scratch folder on tmpfs. */
	fuzz_scratch_dir(g_dir, sizeof g_dir, "fuzz_ledger");
	snprintf(g_store, sizeof g_store, "%s/s", g_dir);
	atexit(cleanup);
	g_debug = getenv("FUZZ_LEDGER_DEBUG") != NULL;
	done = 1;
}

static void head(struct tb_store *s, int log, struct tb_head *h)
{
	int err = tb_store_head(s, g_log[log].pk.b, h);
	if (err == TB_ENOTFOUND) {
		memset(h, 0, sizeof *h);
		return;
	}
	TB_ASSERT(err == 0);
}

static int sum_member(void *ctx, const struct tb_member *m)
{
	int64_t *sum = ctx;
	TB_ASSERT(m->held >= 0);
	*sum += m->balance;
	return 0;
}

static int sum_clearing(void *ctx, const struct tb_clearing *c)
{
	int64_t *sum = ctx;
	TB_ASSERT(c->held >= 0);
	*sum += c->balance;
	return 0;
}

static void check_sums(struct tb_store *s)
{
	for (int i = 0; i < NLOGS; i++) {
		int64_t sum = 0;
		int err = tb_store_foreach_member(s, g_log[i].pk.b, sum_member, &sum);
		TB_ASSERT(err >= 0 || err == TB_ENOTFOUND);
		err = tb_store_foreach_clearing(s, g_log[i].pk.b, sum_clearing, &sum);
		TB_ASSERT(err >= 0 || err == TB_ENOTFOUND);
		TB_ASSERT(sum == 0);
	}
}

static void violation(void *ctx, const struct tb_reject *v)
{
	(*(uint64_t *)ctx)++;
	TB_ASSERT(v->err < 0);
}

static void clear(struct tb_store *s)
{
	struct tb_clear c = {
		.what = TB_CLEAR_DECIDE | TB_CLEAR_FINAL, .now = NOW + 7200, .max = 16};
	int err = tb_store_clear(s, &g_log[0], &c);
	if (g_debug)
		fprintf(stderr, "clearing: %s, %zu decided, %zu finished, %zu skipped\n",
			err ? tb_errname(err) : "ok", c.decided, c.finished, c.skips);
	/* No input stops the step: what cannot be recorded is skipped. */
	TB_ASSERT(err == 0);
	TB_ASSERT(c.decided <= 16 && c.finished <= 16);
}

static void run(struct tb_store *s, const uint8_t *p, size_t len, uint8_t flags,
		const uint64_t *violations)
{
	static uint8_t rec[TB_ENTRY_MAX];
	uint64_t ts = NOW;
	while (len >= 4) {
		uint8_t h = p[0];
		uint64_t kind = p[1];
		size_t n = (size_t)p[2] << 8 | p[3];
		p += 4;
		len -= 4;
		if (n > len)
			n = len;
		const uint8_t *body = p;
		p += n;
		len -= n;
		const struct tb_msgdef *d = tb_kind_def(kind);
		if (!d)
			continue;
		struct tb_entry e;
		memset(&e, 0, sizeof e);
		if (tb_msg_decode_exact(body, n, d, &e.body))
			continue;
		int log = (h & 3) % NLOGS;
		struct tb_head before;
		head(s, log, &before);
		e.version = TB_ENTRY_VERSION;
		e.kind = kind;
		memcpy(e.log_id, g_log[log].pk.b, TB_KEY_LEN);
		e.seq = before.seq + 1;
		if (h & 0x04)
			e.seq = before.seq;
		if (h & 0x08)
			e.seq = before.seq + 2;
		if (e.seq == 0)
			continue;
		memcpy(e.prev, before.hash, TB_HASHLEN);
		if (h & 0x10)
			memset(e.prev, 0, TB_HASHLEN);
		ts += 60;
		e.timestamp = h & 0x40 ? ts - 3600 : ts;
		uint8_t sigs[2][TB_SIGLEN];
		if (h & 0x20)
			fuzz_consent(&e, g_member, sigs);
		size_t rlen;
		if (tb_entry_seal(rec, sizeof rec, &rlen, &e, &g_log[log]))
			continue; /* too big once re-signed */
		struct tb_view v = {rec, rlen};
		size_t accepted = 7;
		uint64_t reported = *violations;
		struct tb_reject rej;
		int err = tb_store_append(s, &v, 1, &accepted, &rej);
		TB_ASSERT(err != TB_EIO && err != TB_ESTORE && err != TB_ENOMEM && err != TB_EFULL);
		if (g_debug)
			fprintf(stderr, "log %d seq %llu kind %s: %s %s\n", log,
				(unsigned long long)e.seq, tb_kind_name(kind),
				err ? tb_errname(err) : "accepted", err ? rej.msg : "");
		struct tb_head after;
		head(s, log, &after);
		if (err == 0 && *violations != reported) {
			/* Audit mode: a violation reported; a rule breach is kept
			 * without effect, a fork or a broken chain is not kept. */
			TB_ASSERT(after.seq == before.seq || after.seq == e.seq);
		} else if (err == 0) {
			TB_ASSERT(accepted == 1);
			TB_ASSERT(after.seq == e.seq);
			uint8_t hash[TB_HASHLEN];
			tb_entry_hash(hash, rec, rlen);
			TB_ASSERT(memcmp(after.hash, hash, TB_HASHLEN) == 0);
		} else {
			TB_ASSERT(err < 0 && accepted == 0);
			TB_ASSERT(after.seq == before.seq &&
				  memcmp(after.hash, before.hash, TB_HASHLEN) == 0);
		}
		if ((flags & 2) || (h & 0x80))
			clear(s);
	}
	clear(s);
	check_sums(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_once();
	if (size < 1)
		return 0;
	struct tb_store *s;
	TB_ASSERT(mkdir(g_store, 0700) == 0);
	TB_ASSERT(tb_store_open(&s, g_store, TB_STORE_SCRATCH) == 0);
	tb_store_set_threads(s, 1);
	TB_ASSERT(tb_store_set_self(s, g_log[0].pk.b) == 0);
	uint64_t violations = 0;
	if (g_debug)
		fprintf(stderr, "-- flags %u\n", data[0]);
	if (data[0] & 1)
		tb_store_set_audit(s, violation, &violations);
	run(s, data + 1, size - 1, data[0], &violations);
	tb_store_free(s);
	remove_store();
	return 0;
}
