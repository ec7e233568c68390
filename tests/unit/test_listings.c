/*
 * test_listings.c: listings (FORMAT.md 16) from bytes to a real store: the
 * object's encoding, the member's and the community's signatures, the
 * expiry range, text that shows otherwise than it reads, and every refusal
 * of tb_listing_open; then tb_store_listing_put
 * taking only what its community signed for an active member who signed it
 * (or attested), newer versions replacing older ones, a member who left
 * (only an attested withdrawal), the caps, search by
 * text, category, kind and community, the local hide list, and pruning at
 * expiry (tombstones too).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "tb_err.h"

#define LOGKEY 41
#define NOW 1800000000u
#define DAY TB_LISTING_DAY

struct fx {
	char *dir;
	struct tb_store *s;
	struct tb_test_log log;
	struct tb_keypair mk[4];
};

static struct tb_view sv(const char *s)
{
	return (struct tb_view){(const uint8_t *)s, strlen(s)};
}

static void must_append(struct fx *f, uint64_t kind, const void *body)
{
	uint8_t rec[TB_ENTRY_MAX];
	size_t len = tb_test_seal(&f->log, rec, kind, body), acc = 0;
	struct tb_view v = {rec, len};
	struct tb_reject rej;
	int err = tb_store_append(f->s, &v, 1, &acc, &rej);
	if (err)
		fail_msg("refused: %s: %s", tb_errname(err), rej.msg);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct tb_genesis g;
	struct tb_member_join j;
	assert_non_null(f);
	f->dir = tb_test_tmpdir("listings");
	assert_int_equal(tb_store_open(&f->s, f->dir, 0), 0);
	tb_test_log_init(&f->log, LOGKEY);
	assert_int_equal(tb_store_set_self(f->s, f->log.kp.pk.b), 0);
	for (uint32_t i = 0; i < 4; i++)
		tb_test_keypair(&f->mk[i], 4100 + i);
	tb_test_genesis(&g, "Riverside", -600, 0);
	must_append(f, TB_KIND_GENESIS, &g);
	tb_test_join(&j, 1, "alice", &f->mk[1], -600, 0);
	must_append(f, TB_KIND_MEMBER_JOIN, &j);
	tb_test_join(&j, 2, "bob", &f->mk[2], -600, 0);
	must_append(f, TB_KIND_MEMBER_JOIN, &j);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tb_store_free(f->s);
	tb_test_rmrf(f->dir);
	free(f);
	return 0;
}

/* A live offer of member 1 numbered n, signed by its member. */
static void make(struct tb_listing *l, const struct fx *f, uint32_t n, uint32_t member)
{
	memset(l, 0, sizeof *l);
	memcpy(l->log_id, f->log.kp.pk.b, TB_KEY_LEN);
	memset(l->id, 0, TB_LISTING_ID_LEN);
	l->id[0] = (uint8_t)(n >> 8);
	l->id[1] = (uint8_t)n;
	l->version = 1;
	l->member = member;
	l->kind = TB_LISTING_OFFER;
	l->title = sv("I can fix bikes");
	l->description = sv("Brakes, gears and punctures; bring the bike on Saturdays.");
	l->category = sv("Repairs");
	l->visibility = TB_LISTING_FEDERATION;
	l->created = NOW;
	l->expires = NOW + 30 * DAY;
	l->state = TB_LISTING_LIVE;
}

static uint8_t g_sig[TB_SIGLEN];

static size_t seal(uint8_t out[TB_LISTING_MAX], struct tb_listing *l, const struct fx *f)
{
	size_t len;
	if (!l->attested) {
		assert_int_equal(tb_listing_sign_member(g_sig, l, &f->mk[l->member % 4]), 0);
		l->member_sig = (struct tb_view){g_sig, TB_SIGLEN};
	}
	assert_int_equal(tb_listing_seal(out, TB_LISTING_MAX, &len, l, &f->log.kp), 0);
	return len;
}

static int put(struct fx *f, struct tb_listing *l, uint64_t now, struct tb_reject *rej)
{
	uint8_t obj[TB_LISTING_MAX];
	size_t len = seal(obj, l, f);
	return tb_store_listing_put(f->s, obj, len, now, rej);
}

static void test_codec(void **state)
{
	struct fx *f = *state;
	struct tb_listing l, back;
	uint8_t obj[TB_LISTING_MAX];
	make(&l, f, 1, 1);
	size_t len = seal(obj, &l, f);
	assert_int_equal(tb_listing_open(&back, obj, len), 0);
	assert_int_equal(back.version, 1);
	assert_int_equal(back.member, 1);
	assert_memory_equal(back.title.p, "I can fix bikes", back.title.len);
	assert_int_equal(tb_listing_verify_member(&back, f->mk[1].pk.b), 0);
	assert_int_equal(tb_listing_verify_member(&back, f->mk[2].pk.b), TB_ECONSENT);
	/* Every single-byte change is refused. */
	for (size_t i = 0; i < len; i++) {
		obj[i] ^= 0x01;
		assert_true(tb_listing_open(&back, obj, len) < 0);
		obj[i] ^= 0x01;
	}
	assert_true(tb_listing_open(&back, obj, len - 1) < 0);
	assert_int_equal(tb_listing_open(&back, obj, TB_LISTING_MAX + 1), TB_ETOOBIG);
	assert_int_equal(tb_listing_open(&back, obj, 10), TB_ETRUNCATED);
	/* Expiry 1..90 days after creation. */
	l.expires = l.created + DAY - 1;
	assert_int_equal(tb_listing_seal(obj, sizeof obj, &len, &l, &f->log.kp), TB_EEXPIRY);
	l.expires = l.created + 90 * DAY + 1;
	assert_int_equal(tb_listing_seal(obj, sizeof obj, &len, &l, &f->log.kp), TB_EEXPIRY);
	l.expires = l.created + 90 * DAY;
	assert_int_equal(tb_listing_seal(obj, sizeof obj, &len, &l, &f->log.kp), 0);
	/* Attested carries no member signature; signed carries 64 bytes. */
	l.attested = 1;
	assert_int_equal(tb_listing_seal(obj, sizeof obj, &len, &l, &f->log.kp), TB_ECONSENT);
	l.member_sig.len = 0;
	assert_int_equal(tb_listing_seal(obj, sizeof obj, &len, &l, &f->log.kp), 0);
	l.attested = 0;
	assert_int_equal(tb_listing_seal(obj, sizeof obj, &len, &l, &f->log.kp), TB_ECONSENT);
	/* Only the community's key seals. */
	make(&l, f, 1, 1);
	l.member_sig = (struct tb_view){g_sig, TB_SIGLEN};
	assert_int_equal(tb_listing_seal(obj, sizeof obj, &len, &l, &f->mk[1]), TB_EINVAL);
	/* A title over 80 bytes is refused by the decoder. */
	char longt[82];
	memset(longt, 'a', 81);
	longt[81] = 0;
	l.title = sv(longt);
	len = seal(obj, &l, f);
	assert_int_equal(tb_listing_open(&back, obj, len), TB_ETOOLONG);
}

/* Text that shows otherwise than it reads (FORMAT.md 16.2): bidirectional
 * formatting and line separators are refused in every text field, by seal,
 * by open and by the store; other scripts and joiners pass. */
static void test_text(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *s;
		uint32_t cp;
		size_t at;
	} bad[] = {
		{"fix \xe2\x80\xae"
		 "sekib",
		 0x202e, 4}, /* RIGHT-TO-LEFT OVERRIDE */
		{"\xe2\x80\xaa"
		 "x",
		 0x202a, 0}, /* LEFT-TO-RIGHT EMBEDDING */
		{"a\xe2\x81\xa6"
		 "b",
		 0x2066, 1},			   /* LEFT-TO-RIGHT ISOLATE */
		{"ab\xe2\x81\xa9", 0x2069, 2},	   /* POP DIRECTIONAL ISOLATE */
		{"a\xe2\x80\x8f", 0x200f, 1},	   /* RIGHT-TO-LEFT MARK */
		{"a\xd8\x9c", 0x061c, 1},	   /* ARABIC LETTER MARK */
		{"one\xe2\x80\xa8two", 0x2028, 3}, /* LINE SEPARATOR */
		{"x\xc2\x85", 0x85, 1},		   /* NEXT LINE (C1), by the decoder */
	};
	static const char *const good[] = {
		"R\xc3\xa9paration de v\xc3\xa9los",
		"\xd8\xa5\xd8\xb5\xd9\x84\xd8\xa7\xd8\xad",	/* Arabic, right to left */
		"\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x94\xa7", /* an emoji with a joiner */
		"",
	};
	uint32_t cp;
	size_t at;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const uint8_t *p = (const uint8_t *)bad[i].s;
		assert_int_equal(tb_listing_text_check(p, strlen(bad[i].s), &cp, &at), TB_EUTF8);
		if (bad[i].cp >= 0xa0) {
			assert_int_equal(cp, bad[i].cp);
			assert_int_equal(at, bad[i].at);
		}
	}
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_int_equal(
			tb_listing_text_check((const uint8_t *)good[i], strlen(good[i]), &cp, &at),
			0);

	/* seal refuses it in each field. */
	struct tb_listing l, back;
	uint8_t obj[TB_LISTING_MAX];
	size_t len;
	for (int field = 0; field < 3; field++) {
		make(&l, f, 1, 1);
		struct tb_view *v = field == 0	 ? &l.title
				    : field == 1 ? &l.description
						 : &l.category;
		*v = sv(bad[0].s);
		assert_int_equal(tb_listing_sign_member(g_sig, &l, &f->mk[1]), 0);
		l.member_sig = (struct tb_view){g_sig, TB_SIGLEN};
		assert_int_equal(tb_listing_seal(obj, sizeof obj, &len, &l, &f->log.kp), TB_EUTF8);
		/* Signed by its community anyway (a node of an older version, or a
		 * forger with the key): open and the store refuse it. */
		struct tb_wbuf w;
		tb_wbuf_init(&w, obj, sizeof obj);
		assert_int_equal(tb_msg_encode(&w, &tb_def_listing, &l), 0);
		tb_sign(obj + w.len, &f->log.kp, TB_CTX_LISTED, obj, w.len);
		len = w.len + TB_SIGLEN;
		assert_int_equal(tb_listing_open(&back, obj, len), TB_EUTF8);
		struct tb_reject rej;
		assert_int_equal(tb_store_listing_put(f->s, obj, len, NOW, &rej), TB_EUTF8);
		assert_non_null(strstr(rej.msg, "bidirectional"));
	}
	make(&l, f, 1, 1);
	l.title = sv(good[1]);
	len = seal(obj, &l, f);
	assert_int_equal(tb_listing_open(&back, obj, len), 0);
}

/* A member who left: only an attested withdrawal of their listings is
 * taken (FORMAT.md 16.3), so their community can take them down. */
static void test_left_member(void **state)
{
	struct fx *f = *state;
	struct tb_listing l;
	struct tb_reject rej;
	make(&l, f, 7, 2);
	assert_int_equal(put(f, &l, NOW, &rej), 0);
	struct tb_member_left left = {2};
	must_append(f, TB_KIND_MEMBER_LEFT, &left);
	make(&l, f, 8, 2); /* a new one */
	assert_int_equal(put(f, &l, NOW, &rej), TB_ELEFT);
	make(&l, f, 7, 2); /* renewed, signed by them, then attested */
	l.version = 2;
	l.expires = NOW + 60 * DAY;
	assert_int_equal(put(f, &l, NOW, &rej), TB_ELEFT);
	l.attested = 1;
	l.member_sig = (struct tb_view){NULL, 0};
	assert_int_equal(put(f, &l, NOW, &rej), TB_ELEFT);
	assert_non_null(strstr(rej.msg, "left"));
	make(&l, f, 7, 2); /* withdrawn, signed by them, then attested */
	l.version = 2;
	l.state = TB_LISTING_WITHDRAWN;
	assert_int_equal(put(f, &l, NOW, &rej), TB_ELEFT);
	l.attested = 1;
	l.member_sig = (struct tb_view){NULL, 0};
	assert_int_equal(put(f, &l, NOW, &rej), 0);
	uint8_t obj[TB_LISTING_MAX];
	size_t len;
	struct tb_listing back;
	assert_int_equal(tb_store_listing_get(f->s, l.log_id, l.id, obj, &len), 0);
	assert_int_equal(tb_listing_open(&back, obj, len), 0);
	assert_int_equal(back.state, TB_LISTING_WITHDRAWN);
}

static void test_store_put(void **state)
{
	struct fx *f = *state;
	struct tb_listing l;
	struct tb_reject rej;
	uint8_t obj[TB_LISTING_MAX];
	size_t len;
	make(&l, f, 1, 1);
	assert_int_equal(put(f, &l, NOW, &rej), 0);
	assert_int_equal(put(f, &l, NOW, &rej), 1); /* held already */
	/* A replay is answered before any check: even with a broken
	 * community signature or non-NFC text it is "held", not verified. */
	len = seal(obj, &l, f);
	obj[len - 1] ^= 0x01;
	assert_int_equal(tb_store_listing_put(f->s, obj, len, NOW, &rej), 1);
	l.title = sv("Cafe\xcc\x81 help");
	len = seal(obj, &l, f);
	assert_int_equal(tb_store_listing_put(f->s, obj, len, NOW, &rej), 1);
	l.version = 2;
	l.title = sv("I can fix bikes and scooters");
	assert_int_equal(put(f, &l, NOW, &rej), 0);
	l.version = 1;
	assert_int_equal(put(f, &l, NOW, &rej), 1); /* older: ignored */
	assert_int_equal(tb_store_listing_get(f->s, l.log_id, l.id, obj, &len), 0);
	struct tb_listing back;
	assert_int_equal(tb_listing_open(&back, obj, len), 0);
	assert_int_equal(back.version, 2);
	/* Another member cannot take over the id. */
	make(&l, f, 1, 2);
	l.version = 3;
	assert_int_equal(put(f, &l, NOW, &rej), TB_ECONFLICT);
	/* Unknown member; a signature by the wrong member. */
	make(&l, f, 2, 3);
	assert_int_equal(put(f, &l, NOW, &rej), TB_EMEMBER);
	assert_non_null(strstr(rej.msg, "no such member"));
	make(&l, f, 2, 1);
	assert_int_equal(tb_listing_sign_member(g_sig, &l, &f->mk[2]), 0);
	l.member_sig = (struct tb_view){g_sig, TB_SIGLEN};
	assert_int_equal(tb_listing_seal(obj, sizeof obj, &len, &l, &f->log.kp), 0);
	assert_int_equal(tb_store_listing_put(f->s, obj, len, NOW, &rej), TB_ECONSENT);
	assert_non_null(strstr(rej.msg, "signature"));
	/* Attested is taken without a member signature. */
	make(&l, f, 2, 1);
	l.attested = 1;
	assert_int_equal(put(f, &l, NOW, &rej), 0);
	/* Already expired; a community whose log is not held. */
	make(&l, f, 3, 1);
	assert_int_equal(put(f, &l, NOW + 30 * DAY, &rej), TB_EEXPIRY);
	struct tb_keypair other;
	tb_test_keypair(&other, 77);
	memcpy(l.log_id, other.pk.b, TB_KEY_LEN);
	assert_int_equal(tb_listing_sign_member(g_sig, &l, &f->mk[1]), 0);
	l.member_sig = (struct tb_view){g_sig, TB_SIGLEN};
	assert_int_equal(tb_listing_seal(obj, sizeof obj, &len, &l, &other), 0);
	assert_int_equal(tb_store_listing_put(f->s, obj, len, NOW, &rej), TB_ENOTFOUND);
	/* Text not in NFC ("e" + combining acute). */
	make(&l, f, 4, 1);
	l.title = sv("Cafe\xcc\x81 help");
	assert_int_equal(put(f, &l, NOW, &rej), TB_ENONCANON);
	/* The member cap. */
	int err = 0;
	for (uint32_t n = 100; n < 100 + TB_LISTINGS_PER_MEMBER && !err; n++) {
		make(&l, f, n, 2);
		err = put(f, &l, NOW, &rej);
	}
	assert_int_equal(err, 0);
	make(&l, f, 999, 2);
	assert_int_equal(put(f, &l, NOW, &rej), TB_EFULL);
	/* Made in the future: refused beyond the clock skew, else it would
	 * outlive now + 90 days (and prune). */
	make(&l, f, 5, 1);
	l.created = NOW + 10ull * 365 * DAY;
	l.expires = l.created + 30 * DAY;
	assert_int_equal(put(f, &l, NOW, &rej), TB_EEXPIRY);
	assert_non_null(strstr(rej.msg, "created in the future"));
	l.created = NOW + TB_LISTING_SKEW_S + 1;
	l.expires = l.created + 30 * DAY;
	assert_int_equal(put(f, &l, NOW, &rej), TB_EEXPIRY);
	l.created = NOW + TB_LISTING_SKEW_S;
	l.expires = l.created + 90 * DAY;
	assert_int_equal(put(f, &l, NOW, &rej), 0);
	assert_int_equal(tb_store_listings_prune(f->s, NOW + 90 * DAY + TB_LISTING_SKEW_S, NULL),
			 0);
	assert_int_equal(tb_store_listing_get(f->s, l.log_id, l.id, obj, &len), TB_ENOTFOUND);
}

struct refusals {
	size_t n;
	size_t last;
	int err;
};

static void refused_cb(void *ctx, size_t i, const struct tb_reject *rej)
{
	struct refusals *r = ctx;
	r->n++;
	r->last = i;
	r->err = rej->err;
}

/* One LISTINGS message is one write transaction: what it stores earlier
 * counts against the caps for what comes later in it, and a newer version
 * later in it replaces an older one. */
static void test_put_many(void **state)
{
	struct fx *f = *state;
	enum { N = TB_LISTINGS_PER_MEMBER + 3 };
	static uint8_t objs[N][TB_LISTING_MAX];
	struct tb_view v[N];
	int res[N];
	struct tb_listing l;
	struct refusals r = {0};
	for (uint32_t i = 0; i < TB_LISTINGS_PER_MEMBER + 1; i++) {
		make(&l, f, 200 + i, 2);
		v[i] = (struct tb_view){objs[i], seal(objs[i], &l, f)};
	}
	/* The first id again, as version 2, and once more as version 1. */
	make(&l, f, 200, 2);
	l.version = 2;
	v[N - 2] = (struct tb_view){objs[N - 2], seal(objs[N - 2], &l, f)};
	v[N - 1] = v[0];
	assert_int_equal(tb_store_listings_put_many(f->s, v, N, NOW, res, refused_cb, &r), 0);
	for (size_t i = 0; i < TB_LISTINGS_PER_MEMBER; i++)
		assert_int_equal(res[i], 0);
	assert_int_equal(res[TB_LISTINGS_PER_MEMBER], TB_EFULL);
	assert_int_equal(res[N - 2], 0);
	assert_int_equal(res[N - 1], 1);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.last, TB_LISTINGS_PER_MEMBER);
	assert_int_equal(r.err, TB_EFULL);
	uint8_t obj[TB_LISTING_MAX];
	size_t len;
	struct tb_listing back;
	assert_int_equal(tb_store_listing_get(f->s, l.log_id, l.id, obj, &len), 0);
	assert_int_equal(tb_listing_open(&back, obj, len), 0);
	assert_int_equal(back.version, 2);
	/* Nothing to store: no write at all. */
	assert_int_equal(tb_store_listings_put_many(f->s, v, 1, NOW, res, NULL, NULL), 0);
	assert_int_equal(res[0], 1);
	assert_int_equal(tb_store_listings_put_many(f->s, v, 0, NOW, res, NULL, NULL), 0);
}

static void set_held_count(struct fx *f, uint64_t n)
{
	struct tb_txn t;
	uint8_t k = 'N', v[8];
	tb_be64_put(v, n);
	tb_txn_begin(&t, f->s->db, true);
	tb_txn_put(&t, TB_T_LISTINGS, &k, 1, v, sizeof v);
	assert_int_equal(tb_txn_commit(&t), 0);
}

/* The node-wide cap: whatever the communities, at most TB_LISTINGS_MAX;
 * pruning frees room again. (The count is set directly: filling 20,000
 * listings would take 20 communities.) */
static void test_node_cap(void **state)
{
	struct fx *f = *state;
	struct tb_listing l;
	struct tb_reject rej;
	make(&l, f, 1, 1);
	assert_int_equal(put(f, &l, NOW, &rej), 0);
	set_held_count(f, TB_LISTINGS_MAX - 1);
	make(&l, f, 2, 1);
	l.expires = NOW + 2 * DAY;
	assert_int_equal(put(f, &l, NOW, &rej), 0);
	make(&l, f, 3, 1);
	assert_int_equal(put(f, &l, NOW, &rej), TB_EFULL);
	assert_non_null(strstr(rej.msg, "node"));
	/* A new version of a held one still goes in. */
	make(&l, f, 1, 1);
	l.version = 2;
	assert_int_equal(put(f, &l, NOW, &rej), 0);
	size_t removed;
	assert_int_equal(tb_store_listings_prune(f->s, NOW + 2 * DAY, &removed), 0);
	assert_int_equal(removed, 1);
	make(&l, f, 3, 1);
	assert_int_equal(put(f, &l, NOW, &rej), 0);
}

struct found {
	size_t n, hidden;
};

static int count_cb(void *ctx, const struct tb_listing *l, const uint8_t *obj, size_t len,
		    uint64_t hidden)
{
	struct found *fd = ctx;
	(void)l;
	(void)obj;
	(void)len;
	fd->n++;
	fd->hidden += hidden;
	return 0;
}

static size_t search(struct fx *f, const struct tb_listing_query *q)
{
	struct found fd = {0, 0};
	assert_int_equal(tb_store_listings_search(f->s, q, count_cb, &fd), 0);
	return fd.n;
}

static void test_search_hide_prune(void **state)
{
	struct fx *f = *state;
	struct tb_listing l;
	struct tb_reject rej;
	make(&l, f, 1, 1);
	assert_int_equal(put(f, &l, NOW, &rej), 0);
	make(&l, f, 2, 2);
	l.kind = TB_LISTING_REQUEST;
	l.title = sv("Lift to the clinic on Tuesdays");
	l.description = sv("");
	l.category = sv("Transport");
	l.expires = NOW + 2 * DAY;
	assert_int_equal(put(f, &l, NOW, &rej), 0);
	make(&l, f, 3, 2);
	l.title = sv("Ünterricht in Gärtnerei");
	l.description = sv("Zwei Stunden pro Woche");
	l.category = sv("");
	assert_int_equal(put(f, &l, NOW, &rej), 0);

	struct tb_listing_query q = {.kind = -1, .now = NOW};
	assert_int_equal(search(f, &q), 3);
	q.text = "BIKES";
	assert_int_equal(search(f, &q), 1);
	q.text = "saturdays";
	assert_int_equal(search(f, &q), 1);
	q.text = "ünterricht";
	assert_int_equal(search(f, &q), 1);
	q.text = NULL;
	q.category = "transport";
	assert_int_equal(search(f, &q), 1);
	q.category = NULL;
	q.kind = TB_LISTING_REQUEST;
	assert_int_equal(search(f, &q), 1);
	q.kind = -1;
	q.community = f->log.kp.pk.b;
	assert_int_equal(search(f, &q), 3);
	q.member = 2;
	assert_int_equal(search(f, &q), 2);
	q.member = 0;

	/* Hidden here: out of results unless asked for. */
	make(&l, f, 1, 1);
	assert_int_equal(tb_store_listing_hide(f->s, l.log_id, l.id, true), 0);
	assert_int_equal(search(f, &q), 2);
	q.hidden = true;
	assert_int_equal(search(f, &q), 3);
	q.hidden = false;
	assert_int_equal(tb_store_listing_hide(f->s, l.log_id, l.id, false), 0);
	assert_int_equal(search(f, &q), 3);

	/* Withdrawn: a tombstone that searches do not show. */
	make(&l, f, 3, 2);
	l.version = 2;
	l.state = TB_LISTING_WITHDRAWN;
	l.title = sv("withdrawn");
	l.description = sv("");
	assert_int_equal(put(f, &l, NOW, &rej), 0);
	assert_int_equal(search(f, &q), 2);
	q.withdrawn = true;
	assert_int_equal(search(f, &q), 3);

	/* Expired: gone from searches at once, from the store when pruned. */
	q.now = NOW + 2 * DAY;
	assert_int_equal(search(f, &q), 2);
	size_t removed = 9;
	assert_int_equal(tb_store_listings_prune(f->s, NOW + 2 * DAY, &removed), 0);
	assert_int_equal(removed, 1);
	q.now = NOW;
	assert_int_equal(search(f, &q), 2);
	assert_int_equal(tb_store_listings_prune(f->s, NOW + 31 * DAY, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(search(f, &q), 0);
	/* A pruned member slot is free again. */
	make(&l, f, 1, 1);
	assert_int_equal(put(f, &l, NOW, &rej), 0);
}

struct seen {
	uint64_t stamps[8];
	uint32_t versions[8];
	size_t n;
};

static int since_cb(void *ctx, const struct tb_listing *l, const uint8_t *obj, size_t len,
		    uint64_t stamp)
{
	struct seen *se = ctx;
	struct tb_listing back;
	assert_int_equal(tb_listing_open(&back, obj, len), 0);
	assert_true(se->n < 8);
	se->stamps[se->n] = stamp;
	se->versions[se->n++] = (uint32_t)l->version;
	return 0;
}

/* Each version stored gets a new stamp; the feed shows the newest once. */
static void test_since(void **state)
{
	struct fx *f = *state;
	struct tb_listing l;
	struct tb_reject rej;
	struct seen se = {0};
	make(&l, f, 1, 1);
	assert_int_equal(put(f, &l, NOW, &rej), 0);
	make(&l, f, 2, 1);
	assert_int_equal(put(f, &l, NOW, &rej), 0);
	assert_int_equal(tb_store_listings_since(f->s, 0, since_cb, &se), 0);
	assert_int_equal(se.n, 2);
	uint64_t last = se.stamps[1];
	make(&l, f, 1, 1);
	l.version = 5;
	assert_int_equal(put(f, &l, NOW, &rej), 0);
	se.n = 0;
	assert_int_equal(tb_store_listings_since(f->s, last, since_cb, &se), 0);
	assert_int_equal(se.n, 1);
	assert_int_equal(se.versions[0], 5);
	assert_true(se.stamps[0] > last);
	se.n = 0;
	assert_int_equal(tb_store_listings_since(f->s, 0, since_cb, &se), 0);
	assert_int_equal(se.n, 2);
	size_t removed;
	assert_int_equal(tb_store_listings_prune(f->s, NOW + 90 * DAY, &removed), 0);
	assert_int_equal(removed, 2);
	se.n = 0;
	assert_int_equal(tb_store_listings_since(f->s, 0, since_cb, &se), 0);
	assert_int_equal(se.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_codec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_left_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_hide_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_since, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
