/*
 * test_verify_corpus.c: `tally verify` and `tally audit` agree. Each file of
 * tests/corpus/verify/ is a crafted export covering one case of FORMAT.md
 * 10.3 and 11.1 where the two commands once judged differently (a checkpoint
 * before its log, one covering more than the file holds, a log repeated or
 * split, a damaged genesis log id, a genesis followed by another log's
 * entries, FORK items that prove nothing, a framing error after a bad
 * record, ...). Both commands run as real processes with --json on every
 * file; their verdict, rule, log, seq, item and counts must be equal, and
 * equal to the decision written in the table below (from FORMAT.md, not
 * from the code). The export of FORMAT.md's worked example (13.1), read
 * from the document itself, must pass both; its entry sizes, hashes and
 * Merkle roots (13.2 to 13.6) and its key file (13.8) must be what the code
 * makes of those bytes; and both agree on every export
 * of the fuzz corpus (test_cli checks its exports the same way, agree.h).
 *
 * `test_verify_corpus --write DIR` makes the files again (fixed keys and
 * timestamps: the same bytes every time).
 */
#include "testutil.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agree.h"
#include "runproc.h"

#define KEY_A 71
#define KEY_B 72
#define KEY_M 7100 /* members: KEY_M + n */
#define NE 6	   /* entries of each clean log */

/* ---- the files ---- */

struct xbuf {
	uint8_t *p;
	size_t len, cap;
	uint64_t items;
};

static void x_raw(struct xbuf *x, const void *p, size_t len)
{
	if (x->len + len > x->cap) {
		x->cap = (x->len + len) * 2 + 4096;
		x->p = realloc(x->p, x->cap);
		assert_non_null(x->p);
	}
	memcpy(x->p + x->len, p, len);
	x->len += len;
}

static void x_init(struct xbuf *x)
{
	memset(x, 0, sizeof *x);
	uint8_t h[9];
	tb_export_header(h);
	x_raw(x, h, sizeof h);
}

static void x_item(struct xbuf *x, enum tb_export_item type, const void *p, size_t len)
{
	uint8_t h[5];
	tb_export_item_header(h, type, (uint32_t)len);
	x_raw(x, h, sizeof h);
	x_raw(x, p, len);
	x->items++;
}

static void x_end(struct xbuf *x)
{
	uint8_t e[13];
	tb_export_item_header(e, TB_EXPORT_END, 8);
	tb_be64_put(e + 5, x->items);
	x_raw(x, e, sizeof e);
}

static void x_recs(struct xbuf *x, struct tb_test_recs *r, size_t from, size_t to)
{
	const struct tb_view *v = tb_test_recs_views(r, 0);
	for (size_t i = from; i < to; i++)
		x_item(x, TB_EXPORT_ENTRY, v[i].p, v[i].len);
}

/* A community of two members and NE entries: genesis, two joins, three
 * exchanges (the last one member-signed). */
static void make_log(struct tb_test_recs *r, uint32_t key, const char *name)
{
	struct tb_test_log l;
	tb_test_log_init(&l, key);
	/* Entries recorded on 2024-03-01: the exchanges' date (2024-02-29,
	 * tb_test_exchange's) must not be after the day after (7.5). */
	l.timestamp = 1709251200;
	struct tb_keypair m[3];
	tb_test_keypair(&m[1], KEY_M + key * 10 + 1);
	tb_test_keypair(&m[2], KEY_M + key * 10 + 2);
	struct tb_genesis g;
	tb_test_genesis(&g, name, -600, 0);
	tb_test_log_add(&l, r, TB_KIND_GENESIS, &g);
	for (uint32_t i = 1; i <= 2; i++) {
		struct tb_member_join j;
		tb_test_join(&j, i, i == 1 ? "ann" : "ben", &m[i], -600, 0);
		tb_test_log_add(&l, r, TB_KIND_MEMBER_JOIN, &j);
	}
	for (uint64_t t = 1; t <= 3; t++) {
		struct tb_test_exchange tx;
		tb_test_exchange(&tx, l.kp.pk.b, key * 100 + t, t % 2 ? 1 : 2, t % 2 ? 2 : 1,
				 30 * t, t == 3 ? &m[1] : NULL, t == 3 ? &m[2] : NULL);
		tb_test_log_add(&l, r, TB_KIND_EXCHANGE, &tx.x);
	}
	assert_int_equal(r->n, NE);
}

static size_t make_cp(uint8_t out[TB_CHECKPOINT_MAX], uint32_t key, struct tb_test_recs *r,
		      uint64_t size, bool flip_root)
{
	struct tb_keypair kp;
	tb_test_keypair(&kp, key);
	uint8_t(*leaves)[TB_HASHLEN] = calloc(size, TB_HASHLEN);
	assert_non_null(leaves);
	const struct tb_view *v = tb_test_recs_views(r, 0);
	for (uint64_t i = 0; i < size && i < r->n; i++)
		tb_entry_hash(leaves[i], v[i].p, v[i].len);
	struct tb_checkpoint cp;
	memset(&cp, 0, sizeof cp);
	memcpy(cp.log_id, kp.pk.b, TB_KEY_LEN);
	cp.size = size;
	tb_test_mth(cp.root, (const uint8_t(*)[TB_HASHLEN])leaves, size);
	free(leaves);
	if (flip_root)
		cp.root[3] ^= 0x10;
	cp.timestamp = 1700100000;
	size_t len = 0;
	assert_int_equal(tb_checkpoint_seal(out, TB_CHECKPOINT_MAX, &len, &cp, &kp), 0);
	return len;
}

static void save(const char *dir, const char *name, struct xbuf *x)
{
	char path[4300];
	snprintf(path, sizeof path, "%s/%s.tally", dir, name);
	assert_int_equal(tb_test_write_file(path, x->p, x->len), 0);
	free(x->p);
}

/* A copy of record i of r with byte b xor mask. */
static void x_damaged(struct xbuf *x, struct tb_test_recs *r, size_t i, size_t b, uint8_t mask)
{
	const struct tb_view *v = tb_test_recs_views(r, 0);
	uint8_t rec[TB_ENTRY_MAX];
	memcpy(rec, v[i].p, v[i].len);
	rec[b] ^= mask;
	x_item(x, TB_EXPORT_ENTRY, rec, v[i].len);
}

/* Offset of the log id inside a record: array header, version, bin 32. */
#define LOGID_OFF 4

static void write_corpus(const char *dir)
{
	struct tb_test_recs a = {0}, b = {0};
	make_log(&a, KEY_A, "Alder");
	make_log(&b, KEY_B, "Birch");
	uint8_t cp[TB_CHECKPOINT_MAX];
	size_t cplen;
	struct xbuf x;

	x_init(&x); /* clean: both logs, each with its checkpoint */
	x_recs(&x, &a, 0, NE);
	cplen = make_cp(cp, KEY_A, &a, NE, false);
	x_item(&x, TB_EXPORT_CHECKPOINT, cp, cplen);
	x_recs(&x, &b, 0, NE);
	x_end(&x);
	save(dir, "clean", &x);

	x_init(&x); /* a checkpoint contradicting its log, before the log */
	cplen = make_cp(cp, KEY_A, &a, 4, true);
	x_item(&x, TB_EXPORT_CHECKPOINT, cp, cplen);
	x_recs(&x, &a, 0, NE);
	x_end(&x);
	save(dir, "checkpoint-before-log", &x);

	x_init(&x); /* a checkpoint of 10 entries, 6 held: a copy behind */
	x_recs(&x, &a, 0, NE);
	cplen = make_cp(cp, KEY_A, &a, 10, false);
	x_item(&x, TB_EXPORT_CHECKPOINT, cp, cplen);
	x_end(&x);
	save(dir, "checkpoint-ahead", &x);

	x_init(&x); /* a log repeated from seq 1 right after itself */
	x_recs(&x, &a, 0, NE);
	x_recs(&x, &a, 0, NE);
	x_end(&x);
	save(dir, "log-repeated", &x);

	x_init(&x); /* a log in two runs: A 1-3, B, A 4-6 */
	x_recs(&x, &a, 0, 3);
	x_recs(&x, &b, 0, NE);
	x_recs(&x, &a, 3, NE);
	x_end(&x);
	save(dir, "log-split", &x);

	x_init(&x); /* after A and B, A again from 1, entry 2 altered (bad sig) */
	x_recs(&x, &a, 0, NE);
	x_recs(&x, &b, 0, NE);
	x_recs(&x, &a, 0, 1);
	x_damaged(&x, &a, 1, 40, 0x01); /* in prev: the signature no longer holds */
	x_end(&x);
	save(dir, "conflicting-copy-bad-sig", &x);

	x_init(&x); /* a bit of the genesis log id flipped */
	x_damaged(&x, &a, 0, LOGID_OFF + 5, 0x08);
	x_recs(&x, &a, 1, NE);
	x_end(&x);
	save(dir, "genesis-log-id-flipped", &x);

	x_init(&x); /* A's genesis, then B's entries from 2 */
	x_recs(&x, &a, 0, 1);
	x_recs(&x, &b, 1, NE);
	x_end(&x);
	save(dir, "genesis-then-other-log", &x);

	x_init(&x); /* an entry missing: 4 follows 2 */
	x_recs(&x, &a, 0, 2);
	x_recs(&x, &a, 3, NE);
	x_end(&x);
	save(dir, "gap", &x);

	x_init(&x); /* entry 3 does not decode (array header made a map) */
	x_recs(&x, &a, 0, 2);
	x_damaged(&x, &a, 2, 0, 0x10);
	x_recs(&x, &a, 3, NE);
	x_end(&x);
	save(dir, "undecodable", &x);

	x_init(&x); /* a forged signature at entry 3, then the file is cut */
	x_recs(&x, &a, 0, 2);
	x_damaged(&x, &a, 2, tb_test_recs_views(&a, 0)[2].len - 5, 0x40);
	x_recs(&x, &a, 3, NE);
	x.len -= 7; /* inside entry 6 */
	save(dir, "bad-record-then-framing", &x);

	x_init(&x); /* a FORK item of length 0 */
	x_recs(&x, &a, 0, NE);
	x_item(&x, TB_EXPORT_FORK, "", 0);
	x_end(&x);
	save(dir, "fork-empty", &x);

	x_init(&x); /* a FORK item whose second record's signature is bad */
	x_recs(&x, &a, 0, NE);
	{
		const struct tb_view *v = tb_test_recs_views(&a, 0);
		uint8_t f[2 + 2 * TB_ENTRY_MAX];
		f[0] = (uint8_t)(v[4].len >> 8);
		f[1] = (uint8_t)v[4].len;
		memcpy(f + 2, v[4].p, v[4].len);
		memcpy(f + 2 + v[4].len, v[4].p, v[4].len);
		f[2 + v[4].len + 40] ^= 0x01; /* inside the body: signs other bytes */
		x_item(&x, TB_EXPORT_FORK, f, 2 + 2 * v[4].len);
	}
	x_end(&x);
	save(dir, "fork-bad-signature", &x);

	memset(&x, 0, sizeof x); /* not an export: the magic's last letter */
	x_raw(&x, "TALLYEXQ\x01", 9);
	x_end(&x);
	save(dir, "bad-magic", &x);

	tb_test_recs_free(&a);
	tb_test_recs_free(&b);
}

/* ---- the decisions ---- */

enum who { NOLOG, LOG_A, LOG_B, LOG_A_FLIPPED };

struct want {
	const char *file;
	const char *rule; /* NULL: clean */
	enum who log;
	uint64_t seq, item;
	uint64_t logs, entries;
};

/* FORMAT.md 10.3 and 11.1, case by case. */
static const struct want cases[] = {
	{"clean", NULL, NOLOG, 0, 0, 2, 12},
	/* Checkpoints are checked after every entry: the root contradicts. */
	{"checkpoint-before-log", "EPROOF", LOG_A, 4, 1, 1, 6},
	/* More entries than held: not checked, not a violation. */
	{"checkpoint-ahead", NULL, NOLOG, 0, 0, 1, 6},
	/* Each log is one run from entry 1: the repeat is out of place. */
	{"log-repeated", "ESEQ", LOG_A, 1, 7, 1, 6},
	/* A 5 continues its run after the out-of-place 4: a gap, kept. */
	{"log-split", "ESEQ", LOG_A, 4, 10, 2, 11},
	{"conflicting-copy-bad-sig", "ESEQ", LOG_A, 1, 13, 2, 12},
	/* Named by its claim: the flipped log id does not sign it. */
	{"genesis-log-id-flipped", "EBADSIG", LOG_A_FLIPPED, 1, 1, 2, 5},
	{"genesis-then-other-log", "ESEQ", LOG_B, 2, 2, 2, 5},
	/* A gap is 7.2 step 5's: reported at 4, which is kept. */
	{"gap", "ESEQ", LOG_A, 4, 3, 1, 5},
	/* Named after the record before it, not appended. */
	{"undecodable", "ETYPE", LOG_A, 3, 3, 1, 5},
	/* The record's error comes before the framing error after it. */
	{"bad-record-then-framing", "EBADSIG", LOG_A, 3, 3, 1, 5},
	{"fork-empty", "EPROOF", LOG_A, 6, 7, 1, 6},
	{"fork-bad-signature", "EPROOF", LOG_A, 5, 7, 1, 6},
	{"bad-magic", "EKIND", NOLOG, 0, 0, 0, 0},
};

static void want_log(uint8_t out[TB_KEY_LEN], enum who w)
{
	struct tb_keypair kp;
	memset(out, 0, TB_KEY_LEN);
	if (w == NOLOG)
		return;
	tb_test_keypair(&kp, w == LOG_B ? KEY_B : KEY_A);
	memcpy(out, kp.pk.b, TB_KEY_LEN);
	if (w == LOG_A_FLIPPED)
		out[5] ^= 0x08; /* LOGID_OFF + 5 of the record */
}

static uint64_t get_u(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_integer(v))
		fail_msg("no integer %s", k);
	return (uint64_t)json_integer_value(v);
}

/* A count of a verify or audit result (its "summary"). */
static uint64_t count_of(json_t *result, const char *k)
{
	return get_u(json_object_get(result, "summary"), k);
}

/* A violation object against the wanted one. */
static void check_violation(const char *file, const char *cmd, json_t *v, const struct want *w)
{
	uint8_t log[TB_KEY_LEN];
	char hex[2 * TB_KEY_LEN + 1];
	want_log(log, w->log);
	tb_hex_encode(hex, log, TB_KEY_LEN);
	const char *rule = json_string_value(json_object_get(v, "code"));
	const char *got = json_string_value(json_object_get(v, "log"));
	if (!rule || strcmp(rule, w->rule) || !got || strcmp(got, hex) ||
	    get_u(v, "seq") != w->seq || get_u(v, "item") != w->item)
		fail_msg("%s, %s: %s at log %.16s seq %llu item %llu (%s); want %s at %.16s seq "
			 "%llu item %llu",
			 file, cmd, rule ? rule : "?", got ? got : "?",
			 (unsigned long long)get_u(v, "seq"), (unsigned long long)get_u(v, "item"),
			 json_string_value(json_object_get(v, "message")), w->rule, hex,
			 (unsigned long long)w->seq, (unsigned long long)w->item);
}

static json_t *run_json(const char *cmd, const char *path, int want_code)
{
	static struct tb_proc_result res;
	const char *argv[] = {tb_tally_bin(), cmd, "--json", path, NULL};
	assert_int_equal(tb_run(&res, argv), 0);
	if (res.code != want_code)
		fail_msg("tally %s %s exited %d, want %d: %s", cmd, path, res.code, want_code,
			 res.err);
	json_error_t e;
	json_t *j = json_loads(res.out, 0, &e);
	if (!j)
		fail_msg("tally %s %s: not JSON (%s): %s", cmd, path, e.text, res.out);
	return j;
}

static void test_corpus(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct want *w = &cases[i];
		char path[4300];
		snprintf(path, sizeof path, "%s/tests/corpus/verify/%s.tally", TB_SOURCE_DIR,
			 w->file);
		int code = w->rule ? 1 : 0;
		json_t *v = run_json("verify", path, code);
		json_t *a = run_json("audit", path, code);
		bool ok = w->rule == NULL;
		if (json_is_true(json_object_get(v, "clean")) != ok ||
		    json_is_true(json_object_get(a, "clean")) != ok)
			fail_msg("%s: verify clean=%d, audit clean=%d, want %d", w->file,
				 json_is_true(json_object_get(v, "clean")),
				 json_is_true(json_object_get(a, "clean")), ok);
		const char *counts[] = {"logs", "entries", "legs_in_flight", "legs_unmatched"};
		for (size_t c = 0; c < 4; c++)
			if (count_of(v, counts[c]) != count_of(a, counts[c]))
				fail_msg("%s: %s %llu by verify, %llu by audit", w->file, counts[c],
					 (unsigned long long)count_of(v, counts[c]),
					 (unsigned long long)count_of(a, counts[c]));
		if (count_of(v, "logs") != w->logs || count_of(v, "entries") != w->entries)
			fail_msg("%s: %llu logs, %llu entries; want %llu, %llu", w->file,
				 (unsigned long long)count_of(v, "logs"),
				 (unsigned long long)count_of(v, "entries"),
				 (unsigned long long)w->logs, (unsigned long long)w->entries);
		if (!ok) {
			check_violation(w->file, "verify", json_object_get(v, "violation"), w);
			json_t *list = json_object_get(a, "violations");
			assert_true(json_is_array(list) && json_array_size(list) >= 1);
			check_violation(w->file, "audit", json_array_get(list, 0), w);
		}
		json_decref(v);
		json_decref(a);
	}
}

/* The bytes of an xxd dump ("00000000: 5441 4c4c ...  TALLY..."). */
static size_t unxxd(const char *text, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		const char *p = strchr(line, ':');
		if (p && (!end || p < end)) {
			p++;
			/* Hex groups end at the two spaces before the text column. */
			while (*p && *p != '\n' && !(p[0] == ' ' && p[1] == ' ')) {
				unsigned v;
				if (*p == ' ') {
					p++;
				} else if (sscanf(p, "%2x", &v) == 1 && n < cap) {
					out[n++] = (uint8_t)v;
					p += 2;
				} else {
					break;
				}
			}
		}
		line = end ? end + 1 : NULL;
	}
	return n;
}

/* FORMAT.md, NUL-terminated (free it). */
static char *format_md(void)
{
	char path[4300];
	snprintf(path, sizeof path, "%s/docs/FORMAT.md", TB_SOURCE_DIR);
	size_t len;
	char *doc = (char *)tb_test_read_file(path, &len);
	assert_non_null(doc);
	doc = realloc(doc, len + 1);
	assert_non_null(doc);
	doc[len] = 0;
	return doc;
}

/* The bytes of the first ``` block after heading in doc. */
static size_t doc_block(const char *doc, const char *heading, uint8_t *out, size_t cap)
{
	const char *sec = strstr(doc, heading);
	assert_non_null(sec);
	const char *from = strstr(sec, "```\n");
	assert_non_null(from);
	from += 4;
	const char *to = strstr(from, "```");
	assert_non_null(to);
	char *text = strndup(from, (size_t)(to - from));
	assert_non_null(text);
	size_t n = unxxd(text, out, cap);
	free(text);
	return n;
}

static uint8_t worked[65536];

/* FORMAT.md 13.1's export still checks, and both commands say so. */
static void test_worked_example(void **state)
{
	(void)state;
	char *doc = format_md();
	size_t n = doc_block(doc, "### 13.1 The export file", worked, sizeof worked);
	free(doc);
	assert_true(n > 9 && !memcmp(worked, "TALLYEXP", 8));
	char path[4300];
	char *dir = tb_test_scratchdir("worked");
	snprintf(path, sizeof path, "%s/worked.tally", dir);
	assert_int_equal(tb_test_write_file(path, worked, n), 0);
	json_t *v = run_json("verify", path, 0);
	json_t *a = run_json("audit", path, 0);
	assert_true(json_is_true(json_object_get(v, "clean")));
	assert_true(json_is_true(json_object_get(a, "clean")));
	assert_int_equal(count_of(v, "entries"), 6);
	assert_int_equal(count_of(a, "entries"), 6);
	json_decref(v);
	json_decref(a);
	tb_test_rmrf(dir);
}

/* RFC 6962's tree hash of leaves[0..n) (leaves are entry hashes). */
static void mth(uint8_t out[32], uint8_t (*leaves)[32], size_t n)
{
	if (n == 0) {
		tb_sha256(out, NULL, 0);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], 32);
		return;
	}
	size_t k = 1;
	while (k * 2 < n)
		k *= 2;
	uint8_t node[65];
	node[0] = 1;
	mth(node + 1, leaves, k);
	mth(node + 33, leaves + k, n - k);
	tb_sha256(out, node, sizeof node);
}

/* The rest of FORMAT.md 13 against the code: each entry's size in 13.2 to
 * 13.5, the entry hashes and Merkle roots of 13.6, and 13.8's key file,
 * which opens with passphrase "x" to the key of 13.1's log. */
static void test_worked_values(void **state)
{
	(void)state;
	char *doc = format_md();
	size_t n = doc_block(doc, "### 13.1 The export file", worked, sizeof worked);
	struct tb_export_reader r;
	enum tb_export_item type;
	struct tb_view item;
	uint8_t hashes[8][32], log_id[TB_KEY_LEN];
	size_t sizes[8], count = 0;
	assert_int_equal(tb_export_open(&r, worked, n), 0);
	int more;
	while ((more = tb_export_next(&r, &type, &item)) == 1) {
		struct tb_entry e;
		if (type != TB_EXPORT_ENTRY)
			continue;
		assert_int_equal(tb_entry_decode(&e, item.p, item.len), 0);
		assert_true(count < 8 && e.seq == count + 1);
		if (count == 0)
			memcpy(log_id, e.log_id, TB_KEY_LEN);
		tb_entry_hash(hashes[count], item.p, item.len);
		sizes[count++] = item.len;
	}
	assert_int_equal(more, 0);
	assert_int_equal(count, 6);
	/* "### 13.N Entry K (...), B bytes" */
	size_t told = 0;
	for (const char *h = strstr(doc, "\n### 13."); h; h = strstr(h + 1, "\n### 13.")) {
		unsigned sub, k;
		const char *eol = strchr(h + 1, '\n'), *comma = strstr(h, "), ");
		size_t bytes;
		if (sscanf(h, "\n### 13.%u Entry %u", &sub, &k) != 2 || !comma || !eol ||
		    comma > eol || sscanf(comma, "), %zu bytes", &bytes) != 1)
			continue;
		assert_true(k >= 1 && k <= count);
		if (sizes[k - 1] != bytes)
			fail_msg("FORMAT.md 13.%u: entry %u has %zu bytes, not %zu", sub, k,
				 sizes[k - 1], bytes);
		told++;
	}
	assert_int_equal(told, 4);
	/* 13.6: "| N | `HEX` |" rows, entry hashes then roots. */
	const char *sec = strstr(doc, "### 13.6");
	const char *end = sec ? strstr(sec, "### 13.7") : NULL;
	assert_non_null(end);
	size_t rows = 0, roots = 0;
	bool in_roots = false;
	for (const char *l = sec; l && l < end; l = strchr(l + 1, '\n')) {
		unsigned k;
		char hex[65];
		uint8_t want[32], got[32];
		if (!strncmp(l, "\n| tree size", 12))
			in_roots = true;
		if (sscanf(l, "\n| %u | `%64[0-9a-f]` |", &k, hex) != 2)
			continue;
		assert_int_equal(tb_hex_decode(want, 32, hex), 0);
		assert_true(k <= count);
		if (in_roots) {
			mth(got, hashes, k);
			roots++;
		} else {
			assert_true(k >= 1);
			memcpy(got, hashes[k - 1], 32);
			rows++;
		}
		if (memcmp(want, got, 32))
			fail_msg("FORMAT.md 13.6: the %s of %u is not %s",
				 in_roots ? "root" : "hash", k, hex);
	}
	assert_int_equal(rows, 6);
	assert_int_equal(roots, 7);
	/* 13.8 */
	uint8_t img[256];
	size_t klen = doc_block(doc, "### 13.8 The community key file", img, sizeof img);
	struct tb_keypair kp;
	assert_int_equal(tb_keyfile_open(&kp, img, klen, "x", 1), 0);
	assert_memory_equal(kp.pk.b, log_id, TB_KEY_LEN);
	tb_wipe(&kp, sizeof kp);
	free(doc);
}

/* The exports the fuzz corpus holds (clean, damaged, crafted): verify and
 * audit agree on each. */
static void test_fuzz_exports(void **state)
{
	(void)state;
	char dir[4300], path[4600];
	snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/export", TB_SOURCE_DIR);
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	size_t n = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%.255s", dir, de->d_name);
		(void)tb_test_verify_agrees(path);
		n++;
	}
	closedir(d);
	assert_true(n >= 10);
}

int main(int argc, char **argv)
{
	if (tb_crypto_init())
		return 2;
	if (argc == 3 && !strcmp(argv[1], "--write")) {
		write_corpus(argv[2]);
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_worked_values),
		cmocka_unit_test(test_fuzz_exports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
