/*
 * test_proto.c: unit tests of the proto module's canonical encodings.
 *
 * Every entry kind and every other message is round-tripped with random but
 * valid field values, driven by the msgdef field tables so that a new kind or
 * field is covered without touching this file; records are sealed with fixed
 * test keys and compared field by field, and a small independent msgpack
 * writer here must agree with the product's encoder byte for byte. Random
 * mutations of valid records must be refused with a decode error or re-encode
 * to exactly the mutated bytes. Hand-built records hit each distinct error
 * code, and export files are checked item by item. Randomness comes from
 * TB_SEED (or a fixed default) and every failure names the seed.
 */
#include "testutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb_proto.h"

/* ---- seeded randomness and failure messages ---- */

static uint64_t g_seed = 0x7a11e5eedull;
static uint64_t g_rng;
static char g_ctx[160] = "-";

#define FAILF(fmt, ...)                                                                           \
	fail_msg("%s:%d: " fmt " (at %s) [TB_SEED=%" PRIu64 "]", __FILE__, __LINE__, __VA_ARGS__, \
		 g_ctx, g_seed)
#define CHECK(cond)                         \
	do {                                \
		if (!(cond))                \
			FAILF("%s", #cond); \
	} while (0)
#define CHECK_RC(expr, want)                                                                      \
	do {                                                                                      \
		int got_ = (expr), want_ = (want);                                                \
		if (got_ != want_)                                                                \
			FAILF("%s gave %s, want %s", #expr, tb_errname(got_), tb_errname(want_)); \
	} while (0)
#define CTX(...) snprintf(g_ctx, sizeof g_ctx, __VA_ARGS__)

/* splitmix64; each test starts its own stream so tests do not depend on
 * their order. */
static uint64_t rnd(void)
{
	uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rnd_stream(uint64_t stream)
{
	g_rng = g_seed ^ (stream * 0x2545f4914f6cdd1dull);
	CTX("-");
}

/* Uniform in [lo, hi], often an end or a msgpack size boundary. */
static uint64_t rnd_u(uint64_t lo, uint64_t hi)
{
	static const uint64_t edges[] = {0,   1,   31,	  32,	 127,		128,
					 255, 256, 65535, 65536, 0xffffffffull, 0x100000000ull};
	uint64_t r = rnd();
	if (r % 8 == 0)
		return lo;
	if (r % 8 == 1)
		return hi;
	if (r % 8 == 2) {
		uint64_t e = edges[(r >> 8) % (sizeof edges / sizeof edges[0])];
		if (e >= lo && e <= hi)
			return e;
	}
	uint64_t span = hi - lo;
	return span == UINT64_MAX ? rnd() : lo + rnd() % (span + 1);
}

static int64_t rnd_i(int64_t lo, int64_t hi)
{
	static const int64_t edges[] = {0,    -1,     -32,    -33,	 -128,
					-129, -32768, -32769, INT32_MIN, (int64_t)INT32_MIN - 1,
					127,  128};
	uint64_t r = rnd();
	if (r % 8 == 0)
		return lo;
	if (r % 8 == 1)
		return hi;
	if (r % 8 == 2) {
		int64_t e = edges[(r >> 8) % (sizeof edges / sizeof edges[0])];
		if (e >= lo && e <= hi)
			return e;
	}
	uint64_t span = (uint64_t)hi - (uint64_t)lo;
	uint64_t off = span == UINT64_MAX ? rnd() : rnd() % (span + 1);
	return (int64_t)((uint64_t)lo + off);
}

static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* Valid UTF-8 of exactly n bytes, no control characters. */
static void rnd_utf8(uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t room = n - i < 4 ? n - i : 4;
		size_t w = 1 + rnd() % room;
		uint32_t cp;
		switch (w) {
		case 1:
			p[i++] = (uint8_t)(0x20 + rnd() % 95);
			continue;
		case 2:
			cp = (uint32_t)rnd_u(0xa0, 0x7ff);
			p[i++] = (uint8_t)(0xc0 | cp >> 6);
			break;
		case 3:
			do
				cp = (uint32_t)rnd_u(0x800, 0xffff);
			while (cp >= 0xd800 && cp <= 0xdfff);
			p[i++] = (uint8_t)(0xe0 | cp >> 12);
			p[i++] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
			break;
		default:
			cp = (uint32_t)rnd_u(0x10000, 0x10ffff);
			p[i++] = (uint8_t)(0xf0 | cp >> 18);
			p[i++] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
			p[i++] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
			break;
		}
		p[i++] = (uint8_t)(0x80 | (cp & 0x3f));
	}
}

/* ---- the message tables, from the one list ---- */

static const struct tb_msgdef *const kind_defs[] = {
#define X_KIND(UP, low, num) &tb_def_##low,
	TB_ENTRY_KINDS(X_KIND)
#undef X_KIND
};
#define NKINDS (sizeof kind_defs / sizeof kind_defs[0])
/* A kind number no entry kind has: one past the largest (numbers may have
 * gaps where a kind is reserved). */
static const uint64_t kind_nums[] = {
#define X_NUM(UP, low, num) num,
	TB_ENTRY_KINDS(X_NUM)
#undef X_NUM
};
static uint64_t unknown_kind(void)
{
	uint64_t max = 0;
	for (size_t i = 0; i < NKINDS; i++)
		if (kind_nums[i] > max)
			max = kind_nums[i];
	return max + 1;
}

static const struct tb_msgdef *const other_defs[] = {
#define X_MSG(UP, low) &tb_def_##low,
	TB_OTHER_MESSAGES(X_MSG)
#undef X_MSG
};
#define NOTHERS (sizeof other_defs / sizeof other_defs[0])

/* Any decoded message fits in this. */
union any_msg {
	struct tb_entry entry;
#define X_MSG(UP, low) struct tb_##low low;
	TB_OTHER_MESSAGES(X_MSG)
#undef X_MSG
};

static size_t field_index(const struct tb_msgdef *d, const char *name)
{
	for (size_t i = 0; i < d->nfields; i++)
		if (strcmp(d->fields[i].name, name) == 0)
			return i;
	FAILF("%s has no field %s", d->name, name);
	return 0;
}

static struct tb_view get_view(const void *obj, const struct tb_field *f)
{
	struct tb_view v;
	memcpy(&v, (const uint8_t *)obj + f->offset, sizeof v);
	return v;
}

/* ---- a tiny msgpack byte builder (independent of the product's) ---- */

struct bb {
	uint8_t *p;
	size_t len, cap;
};

static void bb_raw(struct bb *b, const void *p, size_t n)
{
	CHECK(n <= b->cap - b->len);
	if (n)
		memmove(b->p + b->len, p, n); /* callers may pass bytes of b itself */
	b->len += n;
}

static void bb_u8(struct bb *b, uint8_t v)
{
	bb_raw(b, &v, 1);
}

static void bb_be(struct bb *b, uint64_t v, unsigned n)
{
	for (unsigned i = n; i-- > 0;)
		bb_u8(b, (uint8_t)(v >> (8 * i)));
}

static void bb_uint(struct bb *b, uint64_t v)
{
	if (v <= 0x7f) {
		bb_u8(b, (uint8_t)v);
	} else if (v <= 0xff) {
		bb_u8(b, 0xcc);
		bb_be(b, v, 1);
	} else if (v <= 0xffff) {
		bb_u8(b, 0xcd);
		bb_be(b, v, 2);
	} else if (v <= 0xffffffffull) {
		bb_u8(b, 0xce);
		bb_be(b, v, 4);
	} else {
		bb_u8(b, 0xcf);
		bb_be(b, v, 8);
	}
}

static void bb_int(struct bb *b, int64_t v)
{
	if (v >= 0) {
		bb_uint(b, (uint64_t)v);
	} else if (v >= -32) {
		bb_u8(b, (uint8_t)v);
	} else if (v >= INT8_MIN) {
		bb_u8(b, 0xd0);
		bb_be(b, (uint64_t)v, 1);
	} else if (v >= INT16_MIN) {
		bb_u8(b, 0xd1);
		bb_be(b, (uint64_t)v, 2);
	} else if (v >= INT32_MIN) {
		bb_u8(b, 0xd2);
		bb_be(b, (uint64_t)v, 4);
	} else {
		bb_u8(b, 0xd3);
		bb_be(b, (uint64_t)v, 8);
	}
}

static void bb_bin(struct bb *b, const void *p, size_t n)
{
	if (n <= 0xff) {
		bb_u8(b, 0xc4);
		bb_be(b, n, 1);
	} else if (n <= 0xffff) {
		bb_u8(b, 0xc5);
		bb_be(b, n, 2);
	} else {
		bb_u8(b, 0xc6);
		bb_be(b, n, 4);
	}
	bb_raw(b, p, n);
}

static void bb_str(struct bb *b, const void *p, size_t n)
{
	if (n <= 31) {
		bb_u8(b, (uint8_t)(0xa0 | n));
	} else if (n <= 0xff) {
		bb_u8(b, 0xd9);
		bb_be(b, n, 1);
	} else if (n <= 0xffff) {
		bb_u8(b, 0xda);
		bb_be(b, n, 2);
	} else {
		bb_u8(b, 0xdb);
		bb_be(b, n, 4);
	}
	bb_raw(b, p, n);
}

static void bb_arr(struct bb *b, uint32_t n)
{
	if (n <= 15) {
		bb_u8(b, (uint8_t)(0x90 | n));
	} else if (n <= 0xffff) {
		bb_u8(b, 0xdc);
		bb_be(b, n, 2);
	} else {
		bb_u8(b, 0xdd);
		bb_be(b, n, 4);
	}
}

static void bb_field(struct bb *b, const struct tb_field *f, const void *obj)
{
	const uint8_t *at = (const uint8_t *)obj + f->offset;
	uint64_t u;
	int64_t s;
	struct tb_view v;
	switch (f->type) {
	case TB_FT_UINT:
		memcpy(&u, at, sizeof u);
		bb_uint(b, u);
		return;
	case TB_FT_INT:
		memcpy(&s, at, sizeof s);
		bb_int(b, s);
		return;
	case TB_FT_FIXED:
		bb_bin(b, at, (size_t)f->max);
		return;
	case TB_FT_BIN:
	case TB_FT_STR:
		v = get_view(obj, f);
		if (f->type == TB_FT_BIN)
			bb_bin(b, v.p, v.len);
		else
			bb_str(b, v.p, v.len);
		return;
	}
	FAILF("bad field type %d", (int)f->type);
}

static void bb_msg(struct bb *b, const struct tb_msgdef *d, const void *obj)
{
	bb_arr(b, (uint32_t)d->nfields);
	for (size_t i = 0; i < d->nfields; i++)
		bb_field(b, &d->fields[i], obj);
}

/* The signed part of e as FORMAT.md spells it. */
static void bb_entry_signed(struct bb *b, const struct tb_entry *e)
{
	bb_arr(b, 7);
	bb_uint(b, e->version);
	bb_bin(b, e->log_id, TB_KEY_LEN);
	bb_uint(b, e->seq);
	bb_bin(b, e->prev, TB_HASHLEN);
	bb_uint(b, e->timestamp);
	bb_uint(b, e->kind);
	bb_msg(b, tb_kind_def(e->kind), &e->body);
}

/* ---- random valid messages and field-by-field comparison ---- */

struct arena {
	uint8_t b[32768];
	size_t used;
};

static void rnd_msg(const struct tb_msgdef *d, void *obj, struct arena *a)
{
	memset(obj, 0, d->size);
	for (size_t i = 0; i < d->nfields; i++) {
		const struct tb_field *f = &d->fields[i];
		uint8_t *at = (uint8_t *)obj + f->offset;
		uint64_t u;
		int64_t s;
		struct tb_view v;
		switch (f->type) {
		case TB_FT_UINT:
			u = rnd_u((uint64_t)f->min, (uint64_t)f->max);
			memcpy(at, &u, sizeof u);
			break;
		case TB_FT_INT:
			s = rnd_i(f->min, f->max);
			memcpy(at, &s, sizeof s);
			break;
		case TB_FT_FIXED:
			rnd_bytes(at, (size_t)f->max);
			break;
		case TB_FT_BIN:
		case TB_FT_STR:
			v.len = (size_t)rnd_u((uint64_t)f->min, (uint64_t)f->max);
			CHECK(v.len <= sizeof a->b - a->used);
			v.p = a->b + a->used;
			if (f->type == TB_FT_BIN)
				rnd_bytes(a->b + a->used, v.len);
			else
				rnd_utf8(a->b + a->used, v.len);
			a->used += v.len;
			memcpy(at, &v, sizeof v);
			break;
		}
	}
}

static void check_same_msg(const struct tb_msgdef *d, const void *a, const void *b)
{
	for (size_t i = 0; i < d->nfields; i++) {
		const struct tb_field *f = &d->fields[i];
		const uint8_t *x = (const uint8_t *)a + f->offset;
		const uint8_t *y = (const uint8_t *)b + f->offset;
		struct tb_view u, v;
		int same = 0;
		switch (f->type) {
		case TB_FT_UINT:
		case TB_FT_INT:
			same = memcmp(x, y, sizeof(uint64_t)) == 0;
			break;
		case TB_FT_FIXED:
			same = memcmp(x, y, (size_t)f->max) == 0;
			break;
		case TB_FT_BIN:
		case TB_FT_STR:
			u = get_view(a, f);
			v = get_view(b, f);
			same = u.len == v.len && (u.len == 0 || memcmp(u.p, v.p, u.len) == 0);
			break;
		}
		if (!same)
			FAILF("field %s.%s differs", d->name, f->name);
	}
}

/* Every BIN and STR view of obj lies inside [p, p + len). */
static void check_views_inside(const struct tb_msgdef *d, const void *obj, const uint8_t *p,
			       size_t len)
{
	for (size_t i = 0; i < d->nfields; i++) {
		const struct tb_field *f = &d->fields[i];
		if (f->type != TB_FT_BIN && f->type != TB_FT_STR)
			continue;
		struct tb_view v = get_view(obj, f);
		if (v.len && (v.p < p || v.p + v.len > p + len))
			FAILF("view %s.%s outside its input", d->name, f->name);
	}
}

static void rnd_entry(struct tb_entry *e, const struct tb_msgdef *d, const struct tb_keypair *kp,
		      struct arena *a)
{
	memset(e, 0, sizeof *e);
	e->version = TB_ENTRY_VERSION;
	memcpy(e->log_id, kp->pk.b, TB_KEY_LEN);
	e->seq = rnd_u(1, INT64_MAX);
	rnd_bytes(e->prev, TB_HASHLEN);
	e->timestamp = rnd_u(0, 4ull * UINT32_MAX);
	e->kind = d->kind;
	rnd_msg(d, &e->body, a);
}

static void check_same_entry(const struct tb_entry *a, const struct tb_entry *b)
{
	CHECK(a->version == b->version);
	CHECK(memcmp(a->log_id, b->log_id, TB_KEY_LEN) == 0);
	CHECK(a->seq == b->seq);
	CHECK(memcmp(a->prev, b->prev, TB_HASHLEN) == 0);
	CHECK(a->timestamp == b->timestamp);
	CHECK(a->kind == b->kind);
	CHECK(memcmp(a->sig, b->sig, TB_SIGLEN) == 0);
	check_same_msg(tb_kind_def(a->kind), &a->body, &b->body);
}

static uint8_t *dup_exact(const uint8_t *p, size_t len)
{
	/* Exact-size heap copies let ASan catch any read past the end. */
	uint8_t *q = malloc(len ? len : 1);
	CHECK(q != NULL);
	if (len)
		memcpy(q, p, len);
	return q;
}

static int decode_copy(struct tb_entry *e, const uint8_t *p, size_t len)
{
	uint8_t *q = dup_exact(p, len);
	int rc = tb_entry_decode(e, q, len);
	free(q);
	return rc;
}

static int is_decode_error(int rc)
{
	return rc == TB_ETRUNCATED || rc == TB_ETRAILING || rc == TB_ETYPE || rc == TB_ERANGE ||
	       rc == TB_ETOOLONG || rc == TB_ETOOBIG || rc == TB_ENONCANON || rc == TB_EVERSION ||
	       rc == TB_EKIND || rc == TB_EARITY || rc == TB_EUTF8;
}

static int group_setup(void **state)
{
	(void)state;
	const char *s = getenv("TB_SEED");
	if (s && *s)
		g_seed = strtoull(s, NULL, 0);
	return tb_crypto_init() == 0 ? 0 : -1;
}

/* ---- tables ---- */

static void test_tables(void **state)
{
	(void)state;
	rnd_stream(1);
	CHECK(NKINDS >= 6);
	for (size_t i = 0; i < NKINDS; i++) {
		const struct tb_msgdef *d = kind_defs[i];
		CTX("kind %s", d->name);
		CHECK(tb_kind_def(d->kind) == d);
		CHECK(strcmp(tb_kind_name(d->kind), d->name) == 0);
		CHECK(d->size <= sizeof(((struct tb_entry *)0)->body));
	}
	for (size_t i = 0; i < NKINDS + NOTHERS; i++) {
		const struct tb_msgdef *d = i < NKINDS ? kind_defs[i] : other_defs[i - NKINDS];
		CTX("def %s", d->name);
		/* The hand-built cases below assume fixarray sizes. */
		CHECK(d->nfields >= 1 && d->nfields < 15);
		if (i >= NKINDS)
			CHECK(d->kind == 0);
		for (size_t k = 0; k < d->nfields; k++) {
			const struct tb_field *f = &d->fields[k];
			size_t fsize = f->type == TB_FT_FIXED ? (size_t)f->max
				       : f->type == TB_FT_BIN || f->type == TB_FT_STR
					       ? sizeof(struct tb_view)
					       : sizeof(uint64_t);
			CHECK(f->min <= f->max);
			CHECK(f->offset + fsize <= d->size);
			if (f->type == TB_FT_FIXED)
				CHECK(f->min == f->max);
			if (f->type != TB_FT_INT)
				CHECK(f->min >= 0);
			for (size_t j = 0; j < k; j++)
				CHECK(strcmp(d->fields[j].name, f->name) != 0);
		}
	}
	CHECK(tb_kind_def(0) == NULL);
	CHECK(tb_kind_def(unknown_kind()) == NULL);
	CHECK(tb_kind_def(UINT64_MAX) == NULL);
	CHECK(tb_kind_def(1ull << 32 | 1) == NULL);
	CHECK(strcmp(tb_kind_name(0), "unknown") == 0);
	CHECK(strcmp(tb_kind_name(UINT64_MAX), "unknown") == 0);
}

/* ---- entries: round trips ---- */

#define ROUNDTRIPS 150

static void test_entry_roundtrip(void **state)
{
	struct tb_keypair kp;
	(void)state;
	tb_test_keypair(&kp, 1);
	rnd_stream(2);
	for (size_t k = 0; k < NKINDS; k++) {
		const struct tb_msgdef *d = kind_defs[k];
		for (int it = 0; it < ROUNDTRIPS; it++) {
			struct arena a = {.used = 0};
			struct tb_entry e, got;
			uint8_t rec[TB_ENTRY_MAX], again[TB_ENTRY_MAX + 1];
			size_t len, len2;
			CTX("kind %s round trip %d", d->name, it);
			rnd_entry(&e, d, &kp, &a);
			CHECK_RC(tb_entry_seal(rec, sizeof rec, &len, &e, &kp), 0);
			CHECK(len > TB_SIGLEN);
			CHECK(e.signed_part.p == rec);
			CHECK(e.signed_part.len == len - TB_SIGLEN);
			CHECK(memcmp(e.sig, rec + len - TB_SIGLEN, TB_SIGLEN) == 0);

			/* The independent writer spells the same bytes. */
			uint8_t mine[TB_ENTRY_MAX];
			struct bb b = {mine, 0, sizeof mine};
			bb_entry_signed(&b, &e);
			CHECK(b.len == len - TB_SIGLEN);
			CHECK(memcmp(mine, rec, b.len) == 0);

			/* decode(encode(x)) == x, views into the record. */
			uint8_t *copy = dup_exact(rec, len);
			CHECK_RC(tb_entry_decode(&got, copy, len), 0);
			check_same_entry(&e, &got);
			CHECK(got.signed_part.p == copy);
			CHECK(got.signed_part.len == len - TB_SIGLEN);
			check_views_inside(d, &got.body, copy, len);

			/* The signature verifies through the verify job. */
			struct tb_verify_job job;
			tb_entry_verify_job(&job, &got);
			CHECK_RC(tb_verify_batch(&job, 1, 1), 0);
			CHECK_RC(job.result, 0);

			/* Re-sealing the decoded struct gives identical bytes. */
			CHECK_RC(tb_entry_seal(again, sizeof again, &len2, &got, &kp), 0);
			CHECK(len2 == len);
			CHECK(memcmp(again, rec, len) == 0);
			free(copy);

			uint8_t h1[TB_HASHLEN], h2[TB_HASHLEN];
			tb_entry_hash(h1, rec, len);
			tb_leaf_hash(h2, rec, len);
			CHECK(memcmp(h1, h2, TB_HASHLEN) == 0);

			/* One byte more is trailing; every prefix truncated. */
			memcpy(again, rec, len);
			again[len] = (uint8_t)rnd();
			CHECK_RC(decode_copy(&got, again, len + 1), TB_ETRAILING);
			if (it < 8)
				for (size_t n = 0; n < len; n++)
					CHECK_RC(decode_copy(&got, rec, n), TB_ETRUNCATED);
		}
	}
}

static void test_entry_wrong_key(void **state)
{
	struct tb_keypair kp, other;
	struct arena a = {.used = 0};
	struct tb_entry e, got;
	uint8_t rec[TB_ENTRY_MAX];
	size_t len;
	(void)state;
	tb_test_keypair(&kp, 1);
	tb_test_keypair(&other, 2);
	rnd_stream(3);
	for (size_t k = 0; k < NKINDS; k++) {
		CTX("kind %s", kind_defs[k]->name);
		/* Sealed by a key that is not the log's: decodes, never
		 * verifies. */
		a.used = 0;
		rnd_entry(&e, kind_defs[k], &kp, &a);
		CHECK_RC(tb_entry_seal(rec, sizeof rec, &len, &e, &other), 0);
		CHECK_RC(tb_entry_decode(&got, rec, len), 0);
		struct tb_verify_job job;
		tb_entry_verify_job(&job, &got);
		CHECK_RC(tb_verify_batch(&job, 1, 1), TB_EBADSIG);
		CHECK_RC(job.result, TB_EBADSIG);
	}
}

static void test_seal_errors(void **state)
{
	struct tb_keypair kp;
	struct arena a = {.used = 0};
	struct tb_entry e;
	uint8_t rec[TB_ENTRY_MAX];
	size_t len, full;
	(void)state;
	tb_test_keypair(&kp, 1);
	rnd_stream(4);
	rnd_entry(&e, &tb_def_exchange, &kp, &a);
	CHECK_RC(tb_entry_seal(rec, sizeof rec, &full, &e, &kp), 0);

	len = 99;
	CHECK_RC(tb_entry_seal(rec, full, &len, &e, &kp), 0);
	CHECK(len == full);
	CHECK_RC(tb_entry_seal(rec, full - 1, &len, &e, &kp), TB_ETOOBIG);
	CHECK(len == 0);
	CHECK_RC(tb_entry_seal(rec, full - TB_SIGLEN, &len, &e, &kp), TB_ETOOBIG);
	CHECK_RC(tb_entry_seal(rec, 10, &len, &e, &kp), TB_ETOOBIG);
	CHECK_RC(tb_entry_seal(rec, 0, &len, &e, &kp), TB_ETOOBIG);
	CHECK(len == 0);

	e.kind = 0;
	len = 99;
	CHECK_RC(tb_entry_seal(rec, sizeof rec, &len, &e, &kp), TB_EKIND);
	CHECK(len == 0);
	e.kind = unknown_kind();
	CHECK_RC(tb_entry_seal(rec, sizeof rec, &len, &e, &kp), TB_EKIND);
}

/* ---- entries: mutations ---- */

#define MUT_RECORDS 40
#define MUT_PER_RECORD 240

/* Accepted bytes must be exactly what re-encoding the decoded entry gives. */
static void check_canonical_accept(const struct tb_entry *got, const uint8_t *m, size_t mlen,
				   const uint8_t *orig, size_t len, const struct tb_keypair *kp)
{
	uint8_t mine[TB_ENTRY_MAX];
	struct bb b = {mine, 0, sizeof mine};
	CHECK(mlen > TB_SIGLEN);
	bb_entry_signed(&b, got);
	CHECK(b.len == mlen - TB_SIGLEN);
	CHECK(memcmp(mine, m, b.len) == 0);
	CHECK(memcmp(got->sig, m + b.len, TB_SIGLEN) == 0);

	struct tb_entry copy = *got;
	uint8_t sealed[TB_ENTRY_MAX];
	size_t slen;
	CHECK_RC(tb_entry_seal(sealed, sizeof sealed, &slen, &copy, kp), 0);
	CHECK(slen == mlen);
	CHECK(memcmp(sealed, m, mlen - TB_SIGLEN) == 0);

	/* Any other bytes than the sealed ones never verify. */
	if (mlen != len || memcmp(m, orig, len) != 0)
		CHECK(tb_verify(got->sig, got->log_id, TB_CTX_ENTRY, m, mlen - TB_SIGLEN) != 0);
}

static void test_entry_mutations(void **state)
{
	struct tb_keypair kp;
	size_t accepted = 0, rejected = 0;
	(void)state;
	tb_test_keypair(&kp, 1);
	rnd_stream(5);
	for (size_t k = 0; k < NKINDS; k++) {
		const struct tb_msgdef *d = kind_defs[k];
		for (int r = 0; r < MUT_RECORDS; r++) {
			struct arena a = {.used = 0};
			struct tb_entry e, got;
			uint8_t rec[TB_ENTRY_MAX];
			size_t len;
			rnd_entry(&e, d, &kp, &a);
			CHECK_RC(tb_entry_seal(rec, sizeof rec, &len, &e, &kp), 0);
			for (int m = 0; m < MUT_PER_RECORD; m++) {
				uint8_t mut[TB_ENTRY_MAX + 1];
				size_t mlen = len, pos;
				int how = m % 4;
				memcpy(mut, rec, len);
				switch (how) {
				case 0: /* one byte changed */
					pos = rnd() % len;
					mut[pos] ^= (uint8_t)(1 + rnd() % 255);
					break;
				case 1: /* truncated */
					mlen = rnd() % len;
					break;
				case 2: /* one byte inserted */
					pos = rnd() % (len + 1);
					memmove(mut + pos + 1, mut + pos, len - pos);
					mut[pos] = (uint8_t)rnd();
					mlen = len + 1;
					break;
				default: /* one byte deleted */
					pos = rnd() % len;
					memmove(mut + pos, mut + pos + 1, len - pos - 1);
					mlen = len - 1;
					break;
				}
				CTX("kind %s record %d mutation %d (type %d)", d->name, r, m, how);
				uint8_t *q = dup_exact(mut, mlen);
				int rc = tb_entry_decode(&got, q, mlen);
				if (rc == 0) {
					accepted++;
					check_canonical_accept(&got, q, mlen, rec, len, &kp);
				} else {
					rejected++;
					if (!is_decode_error(rc))
						FAILF("unexpected error %s", tb_errname(rc));
					if (how == 1)
						CHECK_RC(rc, TB_ETRUNCATED);
				}
				free(q);
			}
		}
	}
	/* Both outcomes happened: the property was not vacuous. */
	CTX("entry mutations: %zu accepted, %zu rejected", accepted, rejected);
	CHECK(accepted > 100);
	CHECK(rejected > 1000);
}

/* ---- entries: hand-built bad input ---- */

/*
 * Hand-built records: elements are numbered in wire order (0 the envelope
 * array header, 1 version, 2 log_id, 3 seq, 4 prev, 5 timestamp, 6 kind, 7 the
 * body's array header, 8.. the body's fields, then the signature). One
 * element can be replaced by raw bytes (or dropped, with no bytes).
 */
enum { EL_ARR, EL_VERSION, EL_LOGID, EL_SEQ, EL_PREV, EL_TS, EL_KIND, EL_BODY, EL_FIELDS };

struct hand {
	struct bb b;
	int idx, at;
	const uint8_t *raw;
	size_t rawlen;
};

static int hand_take(struct hand *h)
{
	if (h->idx++ != h->at)
		return 0;
	bb_raw(&h->b, h->raw, h->rawlen);
	return 1;
}

static const uint8_t LOG_ID[TB_KEY_LEN] = {1, 2, 3};
static const uint8_t PREV[TB_HASHLEN] = {4, 5, 6};
static const uint8_t SIG[TB_SIGLEN] = {7, 8, 9};
static const uint8_t FILL[TB_ENTRY_MAX + 16];

/* A valid, unremarkable value of a field. */
static void hand_field(struct hand *h, const struct tb_field *f)
{
	switch (f->type) {
	case TB_FT_UINT:
		bb_uint(&h->b, (uint64_t)f->min + (f->max > f->min));
		return;
	case TB_FT_INT:
		bb_int(&h->b, f->max - (f->max > f->min));
		return;
	case TB_FT_FIXED:
	case TB_FT_BIN:
		bb_bin(&h->b, FILL, (size_t)f->min);
		return;
	case TB_FT_STR:
		bb_str(&h->b, "ab", f->max < 2 ? (size_t)f->max : 2);
		return;
	}
}

static void hand_msg(struct hand *h, const struct tb_msgdef *d)
{
	if (!hand_take(h))
		bb_arr(&h->b, (uint32_t)d->nfields);
	for (size_t i = 0; i < d->nfields; i++)
		if (!hand_take(h))
			hand_field(h, &d->fields[i]);
}

static void hand_entry(struct hand *h, uint64_t kind)
{
	if (!hand_take(h))
		bb_arr(&h->b, 7);
	if (!hand_take(h))
		bb_uint(&h->b, TB_ENTRY_VERSION);
	if (!hand_take(h))
		bb_bin(&h->b, LOG_ID, sizeof LOG_ID);
	if (!hand_take(h))
		bb_uint(&h->b, 5);
	if (!hand_take(h))
		bb_bin(&h->b, PREV, sizeof PREV);
	if (!hand_take(h))
		bb_uint(&h->b, 1740000000);
	if (!hand_take(h))
		bb_uint(&h->b, kind);
	hand_msg(h, tb_kind_def(kind));
	if (!hand_take(h))
		bb_raw(&h->b, SIG, sizeof SIG);
}

static uint8_t g_hand[TB_ENTRY_MAX + 64];

/* Builds an entry of kind with element `at` replaced, and decodes it. */
static int entry_raw(uint64_t kind, int at, const void *raw, size_t rawlen)
{
	struct hand h = {{g_hand, 0, sizeof g_hand}, 0, at, raw, rawlen};
	struct tb_entry e;
	CTX("hand-built %s, element %d", tb_kind_name(kind), at);
	hand_entry(&h, kind);
	return decode_copy(&e, g_hand, h.b.len);
}

static int hand_len(uint64_t kind)
{
	struct hand h = {{g_hand, 0, sizeof g_hand}, 0, -1, NULL, 0};
	hand_entry(&h, kind);
	return (int)h.b.len;
}

#define RAW(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
#define ENTRY_RAW(kind, at, ...) entry_raw(kind, at, RAW(__VA_ARGS__))

/* Element number of a named body field. */
static int ef(uint64_t kind, const char *name)
{
	return EL_FIELDS + (int)field_index(tb_kind_def(kind), name);
}

static int entry_uint(uint64_t kind, int at, uint64_t v)
{
	uint8_t buf[16];
	struct bb b = {buf, 0, sizeof buf};
	bb_uint(&b, v);
	return entry_raw(kind, at, buf, b.len);
}

static int entry_int(uint64_t kind, int at, int64_t v)
{
	uint8_t buf[16];
	struct bb b = {buf, 0, sizeof buf};
	bb_int(&b, v);
	return entry_raw(kind, at, buf, b.len);
}

static int entry_str(uint64_t kind, int at, const void *s, size_t n)
{
	uint8_t buf[300];
	struct bb b = {buf, 0, sizeof buf};
	bb_str(&b, s, n);
	return entry_raw(kind, at, buf, b.len);
}

static int entry_bin(uint64_t kind, int at, size_t n)
{
	uint8_t buf[300];
	struct bb b = {buf, 0, sizeof buf};
	bb_bin(&b, FILL, n);
	return entry_raw(kind, at, buf, b.len);
}

static int entry_sig(uint64_t kind, size_t n)
{
	return entry_raw(kind, EL_FIELDS + (int)tb_kind_def(kind)->nfields, FILL, n);
}

#define GEN TB_KIND_GENESIS
#define JOIN TB_KIND_MEMBER_JOIN
#define XCH TB_KIND_EXCHANGE
#define REV TB_KIND_REVERSAL

static void test_hand_valid(void **state)
{
	(void)state;
	/* The builder's defaults are valid for every kind, so each bad case
	 * below fails for its one bad element only. */
	for (size_t k = 0; k < NKINDS; k++)
		CHECK_RC(entry_raw(kind_defs[k]->kind, -1, NULL, 0), 0);
	/* Boundaries that are still valid. */
	CHECK_RC(entry_uint(XCH, ef(XCH, "minutes"), 1), 0);
	CHECK_RC(entry_uint(XCH, ef(XCH, "minutes"), TB_MINUTES_MAX), 0);
	CHECK_RC(entry_uint(XCH, ef(XCH, "provider"), TB_MEMBER_MAX), 0);
	CHECK_RC(entry_uint(XCH, ef(XCH, "date"), 19700101), 0);
	CHECK_RC(entry_uint(XCH, ef(XCH, "date"), 99991231), 0);
	CHECK_RC(entry_int(JOIN, ef(JOIN, "floor"), -TB_LIMIT_MAX), 0);
	CHECK_RC(entry_int(JOIN, ef(JOIN, "floor"), 0), 0);
	CHECK_RC(entry_uint(JOIN, ef(JOIN, "ceiling"), TB_LIMIT_MAX), 0);
	CHECK_RC(entry_uint(GEN, EL_SEQ, 1), 0);
	CHECK_RC(entry_uint(GEN, EL_SEQ, INT64_MAX), 0);
	CHECK_RC(entry_uint(GEN, EL_TS, 0), 0);
	CHECK_RC(entry_uint(GEN, EL_TS, 4ull * UINT32_MAX), 0);
	CHECK_RC(entry_str(GEN, ef(GEN, "name"), "x", 1), 0);
	char name[TB_NAME_MAX];
	memset(name, 'n', sizeof name);
	CHECK_RC(entry_str(GEN, ef(GEN, "name"), name, TB_NAME_MAX), 0);
	CHECK_RC(entry_str(XCH, ef(XCH, "category"), "", 0), 0);
	CHECK_RC(entry_bin(XCH, ef(XCH, "provider_sig"), TB_SIGLEN), 0);
	CHECK_RC(entry_bin(REV, ef(REV, "receiver_sig"), TB_SIGLEN), 0);
}

static void test_bad_truncated(void **state)
{
	(void)state;
	/* Every proper prefix of every kind. */
	for (size_t k = 0; k < NKINDS; k++) {
		uint64_t kind = kind_defs[k]->kind;
		int len = hand_len(kind);
		uint8_t rec[TB_ENTRY_MAX];
		struct tb_entry e;
		memcpy(rec, g_hand, (size_t)len);
		for (int n = 0; n < len; n++) {
			CTX("%s prefix %d of %d", kind_defs[k]->name, n, len);
			CHECK_RC(decode_copy(&e, rec, (size_t)n), TB_ETRUNCATED);
		}
	}
	CHECK_RC(entry_sig(GEN, TB_SIGLEN - 1), TB_ETRUNCATED);
	CHECK_RC(entry_sig(GEN, 0), TB_ETRUNCATED);
	/* FIXED fields shorter than their size. */
	CHECK_RC(entry_bin(GEN, EL_LOGID, TB_KEY_LEN - 1), TB_ETRUNCATED);
	CHECK_RC(entry_bin(GEN, EL_PREV, 0), TB_ETRUNCATED);
	CHECK_RC(entry_bin(XCH, ef(XCH, "txid"), TB_TXID_LEN - 1), TB_ETRUNCATED);
	CHECK_RC(entry_bin(JOIN, ef(JOIN, "key"), 1), TB_ETRUNCATED);
	/* Lengths that claim more than there is, without overflowing. */
	CHECK_RC(ENTRY_RAW(GEN, ef(GEN, "name"), 0xdb, 0xff, 0xff, 0xff, 0xff), TB_ETRUNCATED);
	CHECK_RC(ENTRY_RAW(XCH, ef(XCH, "provider_sig"), 0xc6, 0xff, 0xff, 0xff, 0xff),
		 TB_ETRUNCATED);
	CHECK_RC(ENTRY_RAW(GEN, EL_ARR, 0xdd, 0xff, 0xff, 0xff, 0xff), TB_ETRUNCATED);
	CHECK_RC(ENTRY_RAW(GEN, EL_BODY, 0xdd, 0x00, 0x01, 0x00, 0x00), TB_ETRUNCATED);
}

static void test_bad_trailing(void **state)
{
	(void)state;
	CHECK_RC(entry_sig(GEN, TB_SIGLEN + 1), TB_ETRAILING);
	CHECK_RC(entry_sig(XCH, 2 * TB_SIGLEN), TB_ETRAILING);
	/* An element more than the body's array holds is trailing too. */
	CHECK_RC(ENTRY_RAW(GEN, ef(GEN, "ceiling"), 0x01, 0x01), TB_ETRAILING);
}

static void test_bad_toobig(void **state)
{
	uint8_t *big = calloc(1, TB_ENTRY_MAX + 2);
	struct tb_entry e;
	(void)state;
	CHECK(big != NULL);
	int len = hand_len(GEN);
	memcpy(big, g_hand, (size_t)len);
	/* The cap is judged first; exactly at the cap is merely trailing. */
	CHECK_RC(decode_copy(&e, big, TB_ENTRY_MAX), TB_ETRAILING);
	CHECK_RC(decode_copy(&e, big, TB_ENTRY_MAX + 1), TB_ETOOBIG);
	CHECK_RC(decode_copy(&e, big, TB_ENTRY_MAX + 2), TB_ETOOBIG);
	memset(big, 0xc1, TB_ENTRY_MAX + 2);
	CHECK_RC(decode_copy(&e, big, TB_ENTRY_MAX + 1), TB_ETOOBIG);
	CHECK_RC(tb_entry_decode(&e, big, SIZE_MAX), TB_ETOOBIG);
	free(big);
}

static void test_bad_noncanon(void **state)
{
	(void)state;
	CHECK_RC(entry_uint(GEN, EL_SEQ, 5), 0);
	CHECK_RC(ENTRY_RAW(GEN, EL_SEQ, 0xcc, 0x05), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, EL_SEQ, 0xcd, 0x00, 0x05), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, EL_SEQ, 0xce, 0, 0, 0, 5), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, EL_SEQ, 0xcf, 0, 0, 0, 0, 0, 0, 0, 5), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, EL_SEQ, 0xcd, 0x00, 0xff), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, EL_SEQ, 0xce, 0x00, 0x00, 0xff, 0xff), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, EL_SEQ, 0xcf, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, EL_VERSION, 0xcc, 0x01), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, EL_KIND, 0xcc, 0x01), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(XCH, ef(XCH, "minutes"), 0xcd, 0x00, 0x02), TB_ENONCANON);
	/* Arrays, str and bin in longer forms than needed. */
	CHECK_RC(ENTRY_RAW(GEN, EL_ARR, 0xdc, 0x00, 0x07), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, EL_BODY, 0xdc, 0x00, 0x03), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, ef(GEN, "name"), 0xd9, 0x02, 'a', 'b'), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, ef(GEN, "name"), 0xda, 0x00, 0x02, 'a', 'b'), TB_ENONCANON);
	uint8_t buf[64];
	struct bb b = {buf, 0, sizeof buf};
	bb_raw(&b, RAW(0xc5, 0x00, TB_KEY_LEN));
	bb_raw(&b, LOG_ID, TB_KEY_LEN);
	CHECK_RC(entry_raw(GEN, EL_LOGID, buf, b.len), TB_ENONCANON);
	/* Signed ints: negative forms for values with shorter ones. */
	CHECK_RC(entry_int(GEN, ef(GEN, "floor"), -1), 0);
	CHECK_RC(ENTRY_RAW(GEN, ef(GEN, "floor"), 0xd0, 0xff), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, ef(GEN, "floor"), 0xd0, 0x00), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, ef(GEN, "floor"), 0xd0, 0xe0), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, ef(GEN, "floor"), 0xd1, 0xff, 0x80), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, ef(GEN, "floor"), 0xd2, 0xff, 0xff, 0x80, 0x00), TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, ef(GEN, "floor"), 0xd3, 0xff, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00,
			   0x00),
		 TB_ENONCANON);
	CHECK_RC(ENTRY_RAW(GEN, ef(GEN, "floor"), 0xd0, 0xdf), 0);
	CHECK_RC(entry_int(GEN, ef(GEN, "floor"), -33), 0);
	CHECK_RC(entry_int(GEN, ef(GEN, "floor"), -129), 0);
	CHECK_RC(entry_int(GEN, ef(GEN, "floor"), -32769), 0);
}

static void test_bad_type(void **state)
{
	(void)state;
	uint8_t buf[64];
	struct bb b = {buf, 0, sizeof buf};
	bb_str(&b, LOG_ID, TB_KEY_LEN);
	CHECK_RC(entry_raw(GEN, EL_LOGID, buf, b.len), TB_ETYPE);
	CHECK_RC(ENTRY_RAW(GEN, ef(GEN, "name"), 0xc4, 0x02, 'a', 'b'), TB_ETYPE);
	CHECK_RC(ENTRY_RAW(GEN, EL_SEQ, 0xc0), TB_ETYPE);	/* nil */
	CHECK_RC(ENTRY_RAW(GEN, EL_SEQ, 0xc3), TB_ETYPE);	/* true */
	CHECK_RC(ENTRY_RAW(GEN, EL_SEQ, 0xff), TB_ETYPE);	/* -1 */
	CHECK_RC(ENTRY_RAW(GEN, EL_SEQ, 0xd0, 0x80), TB_ETYPE); /* int8 */
	CHECK_RC(ENTRY_RAW(GEN, EL_SEQ, 0xca, 0x40, 0xa0, 0, 0), TB_ETYPE);
	CHECK_RC(ENTRY_RAW(GEN, EL_SEQ, 0xcb, 0x40, 0x14, 0, 0, 0, 0, 0, 0), TB_ETYPE);
	CHECK_RC(ENTRY_RAW(GEN, EL_SEQ, 0xa1, '5'), TB_ETYPE);
	CHECK_RC(ENTRY_RAW(GEN, EL_ARR, 0x87), TB_ETYPE); /* a map */
	CHECK_RC(ENTRY_RAW(GEN, EL_ARR, 0xde, 0x00, 0x07), TB_ETYPE);
	CHECK_RC(ENTRY_RAW(GEN, EL_BODY, 0x83), TB_ETYPE);
	CHECK_RC(ENTRY_RAW(GEN, EL_BODY, 0xc0), TB_ETYPE);
	CHECK_RC(ENTRY_RAW(GEN, ef(GEN, "floor"), 0xa1, '0'), TB_ETYPE);
	CHECK_RC(ENTRY_RAW(GEN, ef(GEN, "floor"), 0xc2), TB_ETYPE);
	CHECK_RC(ENTRY_RAW(XCH, ef(XCH, "provider_sig"), 0xa0), TB_ETYPE);
	CHECK_RC(ENTRY_RAW(XCH, ef(XCH, "txid"), 0x90), TB_ETYPE);
	CHECK_RC(ENTRY_RAW(XCH, ef(XCH, "date"), 0xd4, 0x01, 0x00), TB_ETYPE);
	CHECK_RC(ENTRY_RAW(XCH, ef(XCH, "attested"), 0xc7, 0x00, 0x01), TB_ETYPE);
}

static void test_bad_version(void **state)
{
	(void)state;
	CHECK_RC(entry_uint(GEN, EL_VERSION, TB_ENTRY_VERSION), 0);
	CHECK_RC(entry_uint(GEN, EL_VERSION, 0), TB_EVERSION);
	CHECK_RC(entry_uint(GEN, EL_VERSION, TB_ENTRY_VERSION + 1), TB_EVERSION);
	CHECK_RC(entry_uint(GEN, EL_VERSION, 255), TB_EVERSION);
	CHECK_RC(entry_uint(XCH, EL_VERSION, UINT64_MAX), TB_EVERSION);
}

static void test_bad_kind(void **state)
{
	(void)state;
	CHECK_RC(entry_uint(GEN, EL_KIND, 0), TB_EKIND);
	CHECK_RC(entry_uint(GEN, EL_KIND, unknown_kind()), TB_EKIND);
	CHECK_RC(entry_uint(GEN, EL_KIND, 127), TB_EKIND);
	CHECK_RC(entry_uint(GEN, EL_KIND, 256 + TB_KIND_GENESIS), TB_EKIND);
	CHECK_RC(entry_uint(GEN, EL_KIND, (1ull << 32) + TB_KIND_GENESIS), TB_EKIND);
	CHECK_RC(entry_uint(GEN, EL_KIND, UINT64_MAX), TB_EKIND);
	/* A known kind with another kind's body is refused too. */
	CHECK(entry_uint(GEN, EL_KIND, TB_KIND_MEMBER_LEFT) < 0);
}

static void test_bad_arity(void **state)
{
	(void)state;
	CHECK_RC(ENTRY_RAW(GEN, EL_ARR, 0x96), TB_EARITY);
	CHECK_RC(ENTRY_RAW(GEN, EL_ARR, 0x98), TB_EARITY);
	CHECK_RC(ENTRY_RAW(GEN, EL_ARR, 0x90), TB_EARITY);
	CHECK_RC(ENTRY_RAW(GEN, EL_ARR, 0xdc, 0x00, 0x10), TB_EARITY);
	for (size_t k = 0; k < NKINDS; k++) {
		const struct tb_msgdef *d = kind_defs[k];
		uint8_t n = (uint8_t)d->nfields;
		CHECK_RC(ENTRY_RAW(d->kind, EL_BODY, (uint8_t)(0x90 | (n - 1))), TB_EARITY);
		CHECK_RC(ENTRY_RAW(d->kind, EL_BODY, (uint8_t)(0x90 | (n + 1))), TB_EARITY);
		CHECK_RC(ENTRY_RAW(d->kind, EL_BODY, 0x90), TB_EARITY);
	}
}

static void test_bad_toolong(void **state)
{
	char name[TB_NAME_MAX + 1];
	(void)state;
	memset(name, 'n', sizeof name);
	CHECK_RC(entry_str(GEN, ef(GEN, "name"), name, TB_NAME_MAX), 0);
	CHECK_RC(entry_str(GEN, ef(GEN, "name"), name, TB_NAME_MAX + 1), TB_ETOOLONG);
	CHECK_RC(entry_str(JOIN, ef(JOIN, "name"), name, TB_NAME_MAX + 1), TB_ETOOLONG);
	CHECK_RC(entry_str(XCH, ef(XCH, "category"), name, TB_CATEGORY_MAX), 0);
	CHECK_RC(entry_str(XCH, ef(XCH, "category"), name, TB_CATEGORY_MAX + 1), TB_ETOOLONG);
	CHECK_RC(entry_bin(GEN, EL_LOGID, TB_KEY_LEN + 1), TB_ETOOLONG);
	CHECK_RC(entry_bin(GEN, EL_PREV, 255), TB_ETOOLONG);
	CHECK_RC(entry_bin(JOIN, ef(JOIN, "key"), TB_KEY_LEN + 1), TB_ETOOLONG);
	CHECK_RC(entry_bin(XCH, ef(XCH, "provider_sig"), TB_SIGLEN + 1), TB_ETOOLONG);
	CHECK_RC(entry_bin(REV, ef(REV, "original"), TB_TXID_LEN + 1), TB_ETOOLONG);
}

static void test_bad_utf8(void **state)
{
	static const struct {
		const char *s;
		int ok;
	} cases[] = {
		{"plain", 1},
		{"caf\xc3\xa9", 1},
		{"\xe2\x82\xac 5", 1},
		{"\xf0\x9f\x98\x80", 1},
		{"\xc2\xa0", 1},
		{"\xef\xbf\xbd", 1},
		{"\xf4\x8f\xbf\xbf", 1},
		{"\xed\x9f\xbf", 1},
		{"tab\there", 0},
		{"nl\n", 0},
		{"\x01", 0},
		{"\x1f", 0},
		{"del\x7f", 0},
		{"\xc2\x80", 0}, /* C1 control */
		{"\xc2\x9f", 0}, /* C1 control */
		{"\xff", 0},
		{"\xfe", 0},
		{"\x80", 0},		 /* lone continuation */
		{"\xc0\x80", 0},	 /* overlong NUL */
		{"\xc1\xbf", 0},	 /* overlong */
		{"\xe0\x80\xaf", 0},	 /* overlong */
		{"\xf0\x80\x80\xaf", 0}, /* overlong */
		{"\xed\xa0\x80", 0},	 /* surrogate */
		{"\xed\xbf\xbf", 0},	 /* surrogate */
		{"\xf4\x90\x80\x80", 0}, /* over U+10FFFF */
		{"\xf5\x80\x80\x80", 0},
		{"a\xc3", 0}, /* cut short */
		{"\xe2\x82", 0},
		{"\xf0\x9f\x98", 0},
		{"\xc3\x28", 0}, /* bad continuation */
		{"\xe2\x28\xa1", 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = strlen(cases[i].s);
		int want = cases[i].ok ? 0 : TB_EUTF8;
		CHECK_RC(entry_str(GEN, ef(GEN, "name"), cases[i].s, n), want);
		CHECK_RC(entry_str(JOIN, ef(JOIN, "name"), cases[i].s, n), want);
		CHECK_RC(entry_str(XCH, ef(XCH, "category"), cases[i].s, n), want);
	}
	/* A NUL inside the name. */
	CHECK_RC(entry_str(GEN, ef(GEN, "name"), "a\0b", 3), TB_EUTF8);
}

static void test_bad_range(void **state)
{
	(void)state;
	CHECK_RC(entry_uint(XCH, ef(XCH, "minutes"), 0), TB_ERANGE);
	CHECK_RC(entry_uint(XCH, ef(XCH, "minutes"), TB_MINUTES_MAX + 1), TB_ERANGE);
	/* Member 0 is the community account: a valid exchange party. */
	CHECK_RC(entry_uint(XCH, ef(XCH, "provider"), 0), 0);
	CHECK_RC(entry_uint(XCH, ef(XCH, "provider"), TB_MEMBER_MAX + 1ull), TB_ERANGE);
	CHECK_RC(entry_uint(XCH, ef(XCH, "receiver"), TB_MEMBER_MAX + 1ull), TB_ERANGE);
	CHECK_RC(entry_uint(XCH, ef(XCH, "attested"), 2), TB_ERANGE);
	CHECK_RC(entry_uint(XCH, ef(XCH, "date"), 19700100), TB_ERANGE);
	CHECK_RC(entry_uint(XCH, ef(XCH, "date"), 99991232), TB_ERANGE);
	CHECK_RC(entry_uint(JOIN, ef(JOIN, "member"), 0), TB_ERANGE);
	CHECK_RC(entry_int(JOIN, ef(JOIN, "floor"), 1), TB_ERANGE);
	CHECK_RC(entry_int(JOIN, ef(JOIN, "floor"), -TB_LIMIT_MAX - 1), TB_ERANGE);
	CHECK_RC(entry_int(GEN, ef(GEN, "floor"), INT64_MIN), TB_ERANGE);
	CHECK_RC(entry_uint(GEN, ef(GEN, "floor"), UINT64_MAX), TB_ERANGE);
	CHECK_RC(entry_uint(JOIN, ef(JOIN, "ceiling"), TB_LIMIT_MAX + 1), TB_ERANGE);
	CHECK_RC(entry_uint(TB_KIND_MEMBER_LEFT, ef(TB_KIND_MEMBER_LEFT, "member"), 0), TB_ERANGE);
	CHECK_RC(entry_str(GEN, ef(GEN, "name"), "", 0), TB_ERANGE);
	/* Envelope ranges. */
	CHECK_RC(entry_uint(GEN, EL_SEQ, 0), TB_ERANGE);
	CHECK_RC(entry_uint(GEN, EL_SEQ, (uint64_t)INT64_MAX + 1), TB_ERANGE);
	CHECK_RC(entry_uint(GEN, EL_SEQ, UINT64_MAX), TB_ERANGE);
	CHECK_RC(entry_uint(GEN, EL_TS, 4ull * UINT32_MAX + 1), TB_ERANGE);
}

/* ---- other messages ---- */

static int msg_raw(const struct tb_msgdef *d, int at, const void *raw, size_t rawlen)
{
	struct hand h = {{g_hand, 0, sizeof g_hand}, 0, at, raw, rawlen};
	union any_msg obj;
	CTX("hand-built %s, element %d", d->name, at);
	hand_msg(&h, d);
	uint8_t *q = dup_exact(g_hand, h.b.len);
	int rc = tb_msg_decode_exact(q, h.b.len, d, &obj);
	free(q);
	return rc;
}

#define MSG_RAW(d, at, ...) msg_raw(d, at, RAW(__VA_ARGS__))

/* Element number of a named field of a message (0 is its array header). */
static int mf(const struct tb_msgdef *d, const char *name)
{
	return 1 + (int)field_index(d, name);
}

static int msg_uint(const struct tb_msgdef *d, const char *field, uint64_t v)
{
	uint8_t buf[16];
	struct bb b = {buf, 0, sizeof buf};
	bb_uint(&b, v);
	return msg_raw(d, mf(d, field), buf, b.len);
}

static int msg_bin(const struct tb_msgdef *d, const char *field, size_t n, int as_str)
{
	uint8_t buf[300];
	char s[256];
	struct bb b = {buf, 0, sizeof buf};
	memset(s, 's', sizeof s);
	if (as_str)
		bb_str(&b, s, n);
	else
		bb_bin(&b, FILL, n);
	return msg_raw(d, mf(d, field), buf, b.len);
}

static void test_msg_roundtrip(void **state)
{
	(void)state;
	rnd_stream(6);
	for (size_t i = 0; i < NKINDS + NOTHERS; i++) {
		const struct tb_msgdef *d = i < NKINDS ? kind_defs[i] : other_defs[i - NKINDS];
		for (int it = 0; it < ROUNDTRIPS; it++) {
			struct arena a = {.used = 0};
			union any_msg x, got;
			uint8_t out[TB_ENTRY_MAX * 2], again[TB_ENTRY_MAX * 2 + 1];
			size_t len, len2;
			CTX("%s round trip %d", d->name, it);
			rnd_msg(d, &x, &a);
			CHECK_RC(tb_terms_encode(out, sizeof out, &len, d, &x), 0);
			uint8_t mine[TB_ENTRY_MAX * 2];
			struct bb b = {mine, 0, sizeof mine};
			bb_msg(&b, d, &x);
			CHECK(b.len == len && memcmp(mine, out, len) == 0);

			uint8_t *copy = dup_exact(out, len);
			CHECK_RC(tb_msg_decode_exact(copy, len, d, &got), 0);
			check_same_msg(d, &x, &got);
			check_views_inside(d, &got, copy, len);
			CHECK_RC(tb_terms_encode(again, sizeof again, &len2, d, &got), 0);
			CHECK(len2 == len && memcmp(again, out, len) == 0);
			free(copy);

			/* Not exact: tb_msg_decode stops at the message end. */
			memcpy(again, out, len);
			again[len] = 0xc0;
			struct tb_reader r;
			tb_reader_init(&r, again, len + 1);
			CHECK_RC(tb_msg_decode(&r, d, &got), 0);
			CHECK(r.off == len);
			CHECK_RC(tb_msg_decode_exact(again, len + 1, d, &got), TB_ETRAILING);
			if (it < 4)
				for (size_t n = 0; n < len; n++) {
					uint8_t *p = dup_exact(out, n);
					CHECK_RC(tb_msg_decode_exact(p, n, d, &got), TB_ETRUNCATED);
					free(p);
				}
			/* A buffer too small for the encoding. */
			CHECK_RC(tb_terms_encode(again, len - 1, &len2, d, &x), TB_ETOOBIG);
		}
	}
}

static void test_msg_mutations(void **state)
{
	size_t accepted = 0, rejected = 0;
	(void)state;
	rnd_stream(7);
	for (size_t i = 0; i < NKINDS + NOTHERS; i++) {
		const struct tb_msgdef *d = i < NKINDS ? kind_defs[i] : other_defs[i - NKINDS];
		for (int r = 0; r < MUT_RECORDS; r++) {
			struct arena a = {.used = 0};
			union any_msg x, got;
			uint8_t out[TB_ENTRY_MAX * 2];
			size_t len;
			rnd_msg(d, &x, &a);
			CHECK_RC(tb_terms_encode(out, sizeof out, &len, d, &x), 0);
			for (int m = 0; m < MUT_PER_RECORD / 2; m++) {
				uint8_t mut[TB_ENTRY_MAX * 2 + 1];
				size_t mlen = len, pos = rnd() % len;
				memcpy(mut, out, len);
				if (m % 2 == 0) {
					mut[pos] ^= (uint8_t)(1 + rnd() % 255);
				} else {
					memmove(mut + pos + 1, mut + pos, len - pos);
					mut[pos] = (uint8_t)rnd();
					mlen++;
				}
				CTX("%s record %d mutation %d", d->name, r, m);
				uint8_t *q = dup_exact(mut, mlen);
				int rc = tb_msg_decode_exact(q, mlen, d, &got);
				if (rc == 0) {
					uint8_t mine[TB_ENTRY_MAX * 2];
					struct bb b = {mine, 0, sizeof mine};
					accepted++;
					bb_msg(&b, d, &got);
					CHECK(b.len == mlen);
					CHECK(memcmp(mine, q, mlen) == 0);
				} else {
					rejected++;
					if (!is_decode_error(rc))
						FAILF("unexpected error %s", tb_errname(rc));
				}
				free(q);
			}
		}
	}
	CTX("message mutations: %zu accepted, %zu rejected", accepted, rejected);
	CHECK(accepted > 100);
	CHECK(rejected > 100);
}

static void test_msg_bad(void **state)
{
	const struct tb_msgdef *xt = &tb_def_exchange_terms;
	const struct tb_msgdef *rt = &tb_def_reversal_terms;
	const struct tb_msgdef *pr = &tb_def_proposal;
	(void)state;
	for (size_t i = 0; i < NOTHERS; i++) {
		const struct tb_msgdef *d = other_defs[i];
		uint8_t n = (uint8_t)d->nfields;
		CHECK_RC(msg_raw(d, -1, NULL, 0), 0);
		CHECK_RC(MSG_RAW(d, 0, (uint8_t)(0x90 | (n - 1))), TB_EARITY);
		CHECK_RC(MSG_RAW(d, 0, (uint8_t)(0x90 | (n + 1))), TB_EARITY);
		CHECK_RC(MSG_RAW(d, 0, 0xdc, 0x00, n), TB_ENONCANON);
		CHECK_RC(MSG_RAW(d, 0, 0x80 | n), TB_ETYPE);
		CHECK_RC(MSG_RAW(d, 1, 0xc0), TB_ETYPE);
		bool has_txid = false;
		for (size_t k = 0; k < d->nfields; k++)
			has_txid |= strcmp(d->fields[k].name, "txid") == 0;
		if (!has_txid)
			continue;
		CHECK_RC(msg_bin(d, "txid", TB_TXID_LEN, 1), TB_ETYPE);
		CHECK_RC(msg_bin(d, "txid", TB_TXID_LEN - 1, 0), TB_ETRUNCATED);
		CHECK_RC(msg_bin(d, "txid", TB_TXID_LEN + 1, 0), TB_ETOOLONG);
		CHECK_RC(msg_bin(d, "txid", TB_TXID_LEN, 0), 0);
	}
	CHECK_RC(msg_uint(xt, "minutes", 0), TB_ERANGE);
	CHECK_RC(msg_uint(xt, "minutes", TB_MINUTES_MAX + 1), TB_ERANGE);
	CHECK_RC(msg_uint(xt, "minutes", TB_MINUTES_MAX), 0);
	CHECK_RC(MSG_RAW(xt, mf(xt, "minutes"), 0xcc, 0x05), TB_ENONCANON);
	CHECK_RC(msg_uint(xt, "provider", 0), TB_ERANGE);
	CHECK_RC(msg_uint(xt, "date", 1), TB_ERANGE);
	CHECK_RC(msg_bin(xt, "log_id", TB_KEY_LEN + 1, 0), TB_ETOOLONG);
	CHECK_RC(msg_bin(xt, "category", TB_CATEGORY_MAX + 1, 1), TB_ETOOLONG);
	CHECK_RC(msg_bin(xt, "category", TB_CATEGORY_MAX, 1), 0);
	CHECK_RC(msg_bin(xt, "category", 3, 0), TB_ETYPE);
	CHECK_RC(MSG_RAW(xt, mf(xt, "category"), 0xa2, 'a', 0x0a), TB_EUTF8);
	CHECK_RC(MSG_RAW(xt, mf(xt, "category"), 0xa2, 0xc3, 0x28), TB_EUTF8);

	CHECK_RC(msg_bin(rt, "original", TB_TXID_LEN - 1, 0), TB_ETRUNCATED);
	CHECK_RC(msg_bin(rt, "log_id", 0, 0), TB_ETRUNCATED);

	CHECK_RC(msg_bin(pr, "provider_sig", TB_SIGLEN, 0), 0);
	CHECK_RC(msg_bin(pr, "provider_sig", TB_SIGLEN - 1, 0), TB_ERANGE);
	CHECK_RC(msg_bin(pr, "provider_sig", 0, 0), TB_ERANGE);
	CHECK_RC(msg_bin(pr, "provider_sig", TB_SIGLEN + 1, 0), TB_ETOOLONG);
	CHECK_RC(msg_uint(pr, "created", UINT32_MAX), 0);
	CHECK_RC(msg_uint(pr, "created", (uint64_t)UINT32_MAX + 1), TB_ERANGE);
	CHECK_RC(msg_uint(pr, "receiver", TB_MEMBER_MAX), 0);
}

/* ---- export files ---- */

static void ex_item(struct bb *b, uint8_t type, const uint8_t *p, uint32_t n)
{
	uint8_t h[5];
	tb_export_item_header(h, (enum tb_export_item)type, n);
	bb_raw(b, h, sizeof h);
	bb_raw(b, p, n);
}

static void ex_end(struct bb *b, uint64_t count)
{
	uint8_t h[5];
	tb_export_item_header(h, TB_EXPORT_END, 8);
	bb_raw(b, h, sizeof h);
	bb_be(b, count, 8);
}

static void ex_header(struct bb *b)
{
	uint8_t h[9];
	tb_export_header(h);
	bb_raw(b, h, sizeof h);
}

/* Reads a whole export (from an exact-size copy): 0 at a valid END with
 * *items counted, else the first error. */
static int ex_read(const uint8_t *p, size_t len, size_t *items)
{
	uint8_t *q = dup_exact(p, len);
	struct tb_export_reader r;
	enum tb_export_item type;
	struct tb_view item;
	int rc = tb_export_open(&r, q, len);
	*items = 0;
	while (rc == 0 && (rc = tb_export_next(&r, &type, &item)) == 1) {
		CHECK(type == TB_EXPORT_ENTRY);
		CHECK(item.p >= q && item.p + item.len <= q + len);
		(*items)++;
		rc = 0;
	}
	if (rc == 0)
		CHECK(r.done && r.off == len);
	free(q);
	return rc;
}

#define EX_RECORDS 5

struct ex_fixture {
	uint8_t rec[EX_RECORDS][TB_ENTRY_MAX];
	size_t len[EX_RECORDS];
	uint8_t file[EX_RECORDS * (TB_ENTRY_MAX + 5) + 64];
};

static void ex_records(struct ex_fixture *fx)
{
	struct tb_keypair kp;
	tb_test_keypair(&kp, 3);
	for (size_t i = 0; i < EX_RECORDS; i++) {
		struct arena a = {.used = 0};
		struct tb_entry e;
		rnd_entry(&e, kind_defs[i % NKINDS], &kp, &a);
		CHECK_RC(tb_entry_seal(fx->rec[i], TB_ENTRY_MAX, &fx->len[i], &e, &kp), 0);
	}
}

static void test_export_roundtrip(void **state)
{
	struct ex_fixture *fx = calloc(1, sizeof *fx);
	uint8_t h[9];
	(void)state;
	CHECK(fx != NULL);
	rnd_stream(8);
	tb_export_header(h);
	CHECK(memcmp(h, "TALLYEXP\x01", 9) == 0);
	tb_export_item_header(h, TB_EXPORT_ENTRY, 0x01020304);
	CHECK(memcmp(h, "\x01\x01\x02\x03\x04", 5) == 0);
	ex_records(fx);

	for (size_t n = 0; n <= EX_RECORDS; n++) {
		struct bb b = {fx->file, 0, sizeof fx->file};
		CTX("export of %zu records", n);
		ex_header(&b);
		for (size_t i = 0; i < n; i++)
			ex_item(&b, TB_EXPORT_ENTRY, fx->rec[i], (uint32_t)fx->len[i]);
		ex_end(&b, n);

		struct tb_export_reader r;
		enum tb_export_item type;
		struct tb_view item;
		CHECK_RC(tb_export_open(&r, fx->file, b.len), 0);
		for (size_t i = 0; i < n; i++) {
			struct tb_entry e;
			CHECK_RC(tb_export_next(&r, &type, &item), 1);
			CHECK(type == TB_EXPORT_ENTRY);
			CHECK(item.len == fx->len[i]);
			CHECK(memcmp(item.p, fx->rec[i], item.len) == 0);
			CHECK_RC(tb_entry_decode(&e, item.p, item.len), 0);
		}
		CHECK_RC(tb_export_next(&r, &type, &item), 0);
		CHECK(r.items == n);
		/* END stays END. */
		CHECK_RC(tb_export_next(&r, &type, &item), 0);

		/* Every proper prefix is truncated. */
		for (size_t cut = 0; cut < b.len; cut++) {
			size_t items;
			CTX("export of %zu records cut at %zu", n, cut);
			CHECK_RC(ex_read(fx->file, cut, &items), TB_ETRUNCATED);
		}
	}
	free(fx);
}

static void test_export_bad(void **state)
{
	struct ex_fixture *fx = calloc(1, sizeof *fx);
	struct bb b;
	size_t items;
	(void)state;
	CHECK(fx != NULL);
	rnd_stream(9);
	ex_records(fx);
#define FILE_RESET() (b = (struct bb){fx->file, 0, sizeof fx->file})
#define ADD(i) ex_item(&b, TB_EXPORT_ENTRY, fx->rec[i], (uint32_t)fx->len[i])

	FILE_RESET();
	ex_header(&b);
	ADD(0);
	ADD(1);
	ex_end(&b, 2);
	CHECK_RC(ex_read(fx->file, b.len, &items), 0);
	CHECK(items == 2);

	/* Bad magic, bad version. */
	fx->file[0] = 'X';
	CHECK_RC(ex_read(fx->file, b.len, &items), TB_EKIND);
	fx->file[0] = 'T';
	fx->file[7] = 'p';
	CHECK_RC(ex_read(fx->file, b.len, &items), TB_EKIND);
	fx->file[7] = 'P';
	fx->file[8] = TB_EXPORT_VERSION + 1;
	CHECK_RC(ex_read(fx->file, b.len, &items), TB_EVERSION);
	fx->file[8] = 0;
	CHECK_RC(ex_read(fx->file, b.len, &items), TB_EVERSION);
	fx->file[8] = TB_EXPORT_VERSION;

	/* Trailing bytes after END. */
	bb_u8(&b, 0);
	CHECK_RC(ex_read(fx->file, b.len, &items), TB_ETRAILING);
	ex_end(&b, 2);
	CHECK_RC(ex_read(fx->file, b.len, &items), TB_ETRAILING);

	/* Count mismatch, and an END of the wrong length. */
	for (uint64_t c = 0; c < 5; c++) {
		if (c == 2)
			continue;
		FILE_RESET();
		ex_header(&b);
		ADD(0);
		ADD(1);
		ex_end(&b, c);
		CTX("END count %" PRIu64 " for 2 items", c);
		CHECK_RC(ex_read(fx->file, b.len, &items), TB_ECORRUPT);
	}
	FILE_RESET();
	ex_header(&b);
	ex_end(&b, UINT64_MAX);
	CHECK_RC(ex_read(fx->file, b.len, &items), TB_ECORRUPT);
	FILE_RESET();
	ex_header(&b);
	ex_item(&b, TB_EXPORT_END, FILL, 9);
	CHECK_RC(ex_read(fx->file, b.len, &items), TB_ECORRUPT);
	FILE_RESET();
	ex_header(&b);
	ex_item(&b, TB_EXPORT_END, FILL, 0);
	CHECK_RC(ex_read(fx->file, b.len, &items), TB_ECORRUPT);

	/* No END at all. */
	FILE_RESET();
	ex_header(&b);
	ADD(0);
	CHECK_RC(ex_read(fx->file, b.len, &items), TB_ETRUNCATED);

	/* Items over the entry cap, with or without the bytes behind them. */
	FILE_RESET();
	ex_header(&b);
	ex_item(&b, TB_EXPORT_ENTRY, FILL, TB_ENTRY_MAX);
	ex_end(&b, 1);
	CHECK_RC(ex_read(fx->file, b.len, &items), 0);
	FILE_RESET();
	ex_header(&b);
	ex_item(&b, TB_EXPORT_ENTRY, FILL, TB_ENTRY_MAX + 1);
	ex_end(&b, 1);
	CHECK_RC(ex_read(fx->file, b.len, &items), TB_ETOOBIG);
	FILE_RESET();
	ex_header(&b);
	bb_raw(&b, RAW(TB_EXPORT_ENTRY, 0xff, 0xff, 0xff, 0xff));
	CHECK_RC(ex_read(fx->file, b.len, &items), TB_ETOOBIG);
	FILE_RESET();
	ex_header(&b);
	bb_raw(&b, RAW(TB_EXPORT_ENTRY, 0x00, 0x00, 0x20, 0x01));
	CHECK_RC(ex_read(fx->file, b.len, &items), TB_ETOOBIG);
	/* A length that runs past the end of the file. */
	FILE_RESET();
	ex_header(&b);
	bb_raw(&b, RAW(TB_EXPORT_ENTRY, 0x00, 0x00, 0x01, 0x00));
	bb_raw(&b, FILL, 100);
	CHECK_RC(ex_read(fx->file, b.len, &items), TB_ETRUNCATED);

	/* Unknown item types (1-3 are entry, checkpoint, fork), also after good items. */
	for (unsigned t = 4; t < 256; t += 51) {
		FILE_RESET();
		ex_header(&b);
		ADD(0);
		ex_item(&b, (uint8_t)t, fx->rec[1], (uint32_t)fx->len[1]);
		ex_end(&b, 2);
		CTX("item type %u", t);
		CHECK_RC(ex_read(fx->file, b.len, &items), TB_EKIND);
	}
	FILE_RESET();
	ex_header(&b);
	ex_item(&b, 0xff, FILL, 0);
	ex_end(&b, 1);
	CHECK_RC(ex_read(fx->file, b.len, &items), TB_EKIND);

	/* Too short for a header. */
	for (size_t n = 0; n < 9; n++)
		CHECK_RC(ex_read((const uint8_t *)"TALLYEXP\x01", n, &items), TB_ETRUNCATED);
#undef FILE_RESET
#undef ADD
	free(fx);
}

/* HEADS, ENTRIES and fork-proof records: what is built splits back the same,
 * and every cut or overlong length is refused (proto/items.c). */
static void test_items(void **state)
{
	(void)state;
	uint8_t buf[3 * TB_HEAD_REC_LEN], log_id[TB_KEY_LEN], hash[TB_HASHLEN];
	memset(hash, 0x5a, sizeof hash);
	for (int i = 0; i < 3; i++) {
		memset(log_id, i + 1, sizeof log_id);
		tb_heads_put(buf + i * TB_HEAD_REC_LEN, log_id, 7 + (uint64_t)i, hash);
	}
	size_t n;
	assert_int_equal(tb_heads_count((struct tb_view){buf, sizeof buf}, &n), 0);
	assert_int_equal(n, 3);
	struct tb_head_rec r;
	tb_heads_get((struct tb_view){buf, sizeof buf}, 2, &r);
	assert_int_equal(r.seq, 9);
	assert_int_equal(r.log_id[0], 3);
	assert_memory_equal(r.hash, hash, TB_HASHLEN);
	assert_int_equal(tb_heads_count((struct tb_view){buf, sizeof buf - 1}, &n), TB_ETRUNCATED);
	assert_int_equal(n, 0);

	static uint8_t recs[3 * (TB_ENTRY_MAX + 2)];
	static uint8_t big[TB_ENTRY_MAX + 1];
	size_t len = 0;
	assert_int_equal(tb_records_add(recs, 12, &len, (struct tb_view){big, 3}), 0);
	assert_int_equal(tb_records_add(recs, 12, &len, (struct tb_view){big, 5}), 0);
	assert_int_equal(tb_records_add(recs, 12, &len, (struct tb_view){big, 1}), 1);
	assert_int_equal(len, 12);
	assert_int_equal(tb_records_add(recs, sizeof recs, &len, (struct tb_view){big, 0}),
			 TB_ETOOBIG);
	assert_int_equal(
		tb_records_add(recs, sizeof recs, &len, (struct tb_view){big, TB_ENTRY_MAX + 1}),
		TB_ETOOBIG);
	struct tb_records_iter it;
	struct tb_view rec;
	tb_records_begin(&it, (struct tb_view){recs, len});
	assert_int_equal(tb_records_next(&it, &rec), 1);
	assert_ptr_equal(rec.p, recs + 2);
	assert_int_equal(rec.len, 3);
	assert_int_equal(tb_records_next(&it, &rec), 1);
	assert_int_equal(rec.len, 5);
	assert_int_equal(tb_records_next(&it, &rec), 0);
	/* Cut anywhere inside the last record or its prefix. */
	for (size_t cut = 6; cut < len; cut++) {
		tb_records_begin(&it, (struct tb_view){recs, cut});
		assert_int_equal(tb_records_next(&it, &rec), 1);
		assert_int_equal(tb_records_next(&it, &rec), TB_ETRUNCATED);
	}
	const uint8_t zero[3] = {0, 0, 1}, over[2] = {0x20, 0x01};
	tb_records_begin(&it, (struct tb_view){zero, sizeof zero});
	assert_int_equal(tb_records_next(&it, &rec), TB_ETRUNCATED);
	tb_records_begin(&it, (struct tb_view){over, sizeof over});
	assert_int_equal(tb_records_next(&it, &rec), TB_ETRUNCATED);

	uint8_t item[TB_FORK_ITEM_MAX];
	struct tb_view a, b;
	assert_int_equal(tb_fork_item_build(item, sizeof item, &len, (struct tb_view){big, 4},
					    (struct tb_view){big + 4, 6}),
			 0);
	assert_int_equal(len, 12);
	assert_int_equal(tb_fork_item_split((struct tb_view){item, len}, &a, &b), 0);
	assert_true(a.p == item + 2 && a.len == 4 && b.p == item + 6 && b.len == 6);
	assert_int_equal(tb_fork_item_split((struct tb_view){item, 5}, &a, &b), TB_ETRUNCATED);
	assert_int_equal(tb_fork_item_split((struct tb_view){item, 1}, &a, &b), TB_ETRUNCATED);
	assert_int_equal(tb_fork_item_build(item, 11, &len, (struct tb_view){big, 4},
					    (struct tb_view){big + 4, 6}),
			 TB_ETOOBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_entry_roundtrip),
		cmocka_unit_test(test_entry_wrong_key),
		cmocka_unit_test(test_seal_errors),
		cmocka_unit_test(test_entry_mutations),
		cmocka_unit_test(test_hand_valid),
		cmocka_unit_test(test_bad_truncated),
		cmocka_unit_test(test_bad_trailing),
		cmocka_unit_test(test_bad_toobig),
		cmocka_unit_test(test_bad_noncanon),
		cmocka_unit_test(test_bad_type),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_bad_kind),
		cmocka_unit_test(test_bad_arity),
		cmocka_unit_test(test_bad_toolong),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_bad_range),
		cmocka_unit_test(test_msg_roundtrip),
		cmocka_unit_test(test_msg_mutations),
		cmocka_unit_test(test_msg_bad),
		cmocka_unit_test(test_export_roundtrip),
		cmocka_unit_test(test_export_bad),
		cmocka_unit_test(test_items),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
