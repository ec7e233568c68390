/*
 * mkcorpus_repl.c: the seed corpus of fuzz_repl (mkcorpus's "repl"): an
 * honest exchange in both directions, then the attacks of a dishonest
 * community, one seed each: a reused transaction id, a decision written by
 * a third community, a flood of prepares (some expired), a fork and its
 * proof, a checkpoint flood (some contradicting the log), the log of a
 * community nobody admitted, and malformed or out-of-order messages. The
 * input format is fuzz_repl.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

void mkcorpus_repl(const char *root);

enum { HILL = 0, LAKE = 1, OUTSIDER = 2, OWN = 3 }; /* h bits 0-1 */
enum { OP_RAW = 0xf0, OP_FORK = 0xf1, OP_CHECKPOINT = 0xf2, OP_RESEND = 0xf3, OP_CLOSE = 0xf4 };
#define IN_2H (86400 + 7200) /* an `expires` two hours after the input's clock */

struct seed {
	uint8_t b[65536];
	size_t n;
};

static struct tb_keypair g_comm[4], g_member[4];

static void emit(const char *root, const char *name, const struct seed *s)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/repl/%s", root, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(s->b, 1, s->n, f) != s->n || fclose(f) != 0) {
		fprintf(stderr, "mkcorpus: cannot write %s\n", path);
		exit(1);
	}
}

static void raw_op(struct seed *s, uint8_t h, uint8_t op, const uint8_t *p, size_t len)
{
	if (s->n + 4 + len > sizeof s->b) {
		fprintf(stderr, "mkcorpus: repl seed too large\n");
		exit(1);
	}
	s->b[s->n] = h;
	s->b[s->n + 1] = op;
	s->b[s->n + 2] = (uint8_t)(len >> 8);
	s->b[s->n + 3] = (uint8_t)len;
	if (len)
		memcpy(s->b + s->n + 4, p, len);
	s->n += 4 + len;
}

static void entry(struct seed *s, uint8_t h, uint64_t kind, const void *obj)
{
	uint8_t body[TB_ENTRY_MAX];
	size_t len;
	if (tb_terms_encode(body, sizeof body, &len, tb_kind_def(kind), obj)) {
		fprintf(stderr, "mkcorpus: repl body of kind %llu\n", (unsigned long long)kind);
		exit(1);
	}
	raw_op(s, h, (uint8_t)kind, body, len);
}

static void msg(struct seed *s, const struct tb_peer_msg *m)
{
	static uint8_t buf[TB_FRAME_PAYLOAD_MAX + 64];
	size_t len;
	if (tb_peer_msg_encode(buf, sizeof buf, &len, m)) {
		fprintf(stderr, "mkcorpus: repl message\n");
		exit(1);
	}
	raw_op(s, 0, OP_RAW, buf, len);
}

static struct tb_view cstr(const char *str)
{
	return (struct tb_view){(const uint8_t *)str, strlen(str)};
}

static const char *const g_cname[] = {"Riverside", "Hillside", "Lakeside", "Outsider"};

/* Community c (1..3, h bits) with members alice, bob, carol and a trust
 * line to Riverside: entries 1 to 5. */
static void community(struct seed *s, uint8_t h, int c)
{
	static const char *const names[] = {"", "alice", "bob", "carol"};
	struct tb_genesis gen = {.name = cstr(g_cname[c]), .floor = -600};
	entry(s, h, TB_KIND_GENESIS, &gen);
	for (uint32_t m = 1; m <= 3; m++) {
		struct tb_member_join j;
		memset(&j, 0, sizeof j);
		j.member = m;
		j.name = cstr(names[m]);
		memcpy(j.key, g_member[m].pk.b, TB_KEY_LEN);
		j.floor = -600;
		entry(s, h, TB_KIND_MEMBER_JOIN, &j);
	}
	struct tb_link l = {.limit = 600};
	memcpy(l.community, g_comm[0].pk.b, TB_KEY_LEN);
	entry(s, h, TB_KIND_LINK, &l);
}

static void prepare(struct seed *s, uint8_t h, uint8_t txno, uint32_t member, uint64_t minutes,
		    uint64_t expires)
{
	struct tb_xprepare x;
	memset(&x, 0, sizeof x);
	x.txid[0] = txno;
	x.txid[15] = h & 3;
	x.member = member;
	memcpy(x.to_log, g_comm[0].pk.b, TB_KEY_LEN);
	x.to_name = cstr("alice");
	x.minutes = minutes;
	x.date = 20240102;
	x.expires = expires;
	x.attested = 1;
	entry(s, h, TB_KIND_XPREPARE, &x);
}

/* A decision on the own log's prepare at seq (txid txno, minutes). */
static void decide(struct seed *s, uint8_t h, uint8_t txno, uint64_t seq, uint64_t minutes,
		   uint64_t outcome)
{
	struct tb_xdecide d;
	memset(&d, 0, sizeof d);
	d.txid[0] = txno;
	memcpy(d.from_log, g_comm[0].pk.b, TB_KEY_LEN);
	d.from_seq = seq;
	d.from_name = cstr("alice");
	d.member = outcome ? 0 : 1;
	d.to_name = cstr("alice");
	d.minutes = minutes;
	d.date = 20240102;
	d.expires = 86400 + 3600; /* fuzz_repl's own prepares: an hour after its clock */
	d.outcome = outcome;
	entry(s, h, TB_KIND_XDECIDE, &d);
}

static void checkpoint(struct seed *s, uint8_t h, uint8_t size, uint8_t wrong, uint8_t ts)
{
	uint8_t b[3] = {size, wrong, ts};
	raw_op(s, h, OP_CHECKPOINT, b, sizeof b);
}

static void start(struct seed *s, uint8_t flags)
{
	s->n = 0;
	s->b[s->n++] = flags;
}

static void honest(const char *root, struct seed *s)
{
	start(s, 0);
	community(s, HILL, 1);
	prepare(s, HILL, 1, 2, 40, IN_2H);
	decide(s, HILL | 0x80, 0xa1, 9, 30, 0);
	community(s, LAKE, 2);
	prepare(s, LAKE | 0x20, 1, 3, 15, IN_2H);
	decide(s, LAKE | 0x80, 0xa2, 10, 20, 2);
	checkpoint(s, HILL, 6, 0, 1);
	uint8_t again[2] = {0, 7};
	raw_op(s, HILL, OP_RESEND, again, sizeof again);
	emit(root, "honest", s);
	s->b[0] = 1; /* the input's own opening */
	struct tb_peer_msg m = {.type = TB_MSG_SYNC};
	m.u.sync.logs = 0;
	size_t at = s->n;
	msg(s, &m);
	/* SYNC first: move it to the front. */
	uint8_t tmp[256];
	size_t len = s->n - at;
	memcpy(tmp, s->b + at, len);
	memmove(s->b + 1 + len, s->b + 1, at - 1);
	memcpy(s->b + 1, tmp, len);
	emit(root, "honest-own-sync", s);
}

static void attacks(const char *root, struct seed *s)
{
	/* A prepare reusing a txid of the own log, then an honest one. */
	start(s, 0);
	community(s, HILL, 1);
	prepare(s, HILL, 0xa1, 2, 10, IN_2H);
	prepare(s, HILL | 0x80, 2, 2, 10, IN_2H);
	emit(root, "reused-txid", s);

	/* Lakeside decides the prepare addressed to Hillside. */
	start(s, 0);
	community(s, LAKE, 2);
	decide(s, LAKE | 0x80, 0xa1, 9, 30, 2);
	community(s, HILL, 1);
	decide(s, HILL | 0x80, 0xa1, 9, 30, 0);
	emit(root, "third-party-decision", s);

	/* Forty prepares, every fourth already expired. */
	start(s, 0);
	community(s, HILL, 1);
	for (uint8_t i = 0; i < 40; i++)
		prepare(s, HILL, (uint8_t)(0x10 + i), 1 + i % 3, 5 + (i % 4) * 5,
			i % 4 ? IN_2H : 3600);
	emit(root, "prepare-flood", s);

	/* Two entries at one seq, the fork proof, and more after it. */
	start(s, 0);
	community(s, HILL, 1);
	prepare(s, HILL | 0x80, 1, 2, 10, IN_2H);
	prepare(s, HILL | 0x04 | 0x80, 2, 2, 11, IN_2H);
	raw_op(s, HILL, OP_FORK, NULL, 0);
	raw_op(s, HILL, OP_FORK, NULL, 0);
	prepare(s, HILL | 0x80, 3, 2, 12, IN_2H);
	raw_op(s, 0, OP_CLOSE, NULL, 0);
	prepare(s, HILL | 0x80, 4, 2, 13, IN_2H);
	emit(root, "fork", s);

	/* Checkpoints: a flood, some with a wrong root, some of a log not
	 * admitted. */
	start(s, 0);
	community(s, HILL | 0x80, 1);
	community(s, OUTSIDER | 0x80, 3);
	for (uint8_t i = 0; i < 24; i++)
		checkpoint(s, i % 3 ? HILL : OUTSIDER, i, i % 5 == 0, i);
	emit(root, "checkpoint-flood", s);

	/* The log of a community nobody admitted, its fork, a stolen own key. */
	start(s, 0);
	community(s, OUTSIDER, 3);
	prepare(s, OUTSIDER | 0x80, 1, 2, 10, IN_2H);
	prepare(s, OUTSIDER | 0x04 | 0x80, 2, 2, 10, IN_2H);
	raw_op(s, OUTSIDER, OP_FORK, NULL, 0);
	struct tb_member_left left = {.member = 3};
	entry(s, OWN | 0x0c | 0x80, TB_KIND_MEMBER_LEFT, &left);
	emit(root, "not-admitted", s);
}

/* Messages out of order or malformed. */
static void messages(const char *root, struct seed *s)
{
	start(s, 1);
	struct tb_peer_msg m = {.type = TB_MSG_HEADS};
	uint8_t heads[3 * TB_HEAD_REC_LEN];
	memset(heads, 0, sizeof heads);
	for (int i = 0; i < 3; i++) {
		memcpy(heads + i * TB_HEAD_REC_LEN, g_comm[2 - i].pk.b, TB_KEY_LEN);
		heads[i * TB_HEAD_REC_LEN + TB_KEY_LEN + 7] = (uint8_t)(9 - i);
	}
	m.u.heads.heads = (struct tb_view){heads, sizeof heads};
	msg(s, &m); /* before SYNC: closes */
	struct tb_peer_msg sy = {.type = TB_MSG_SYNC};
	sy.u.sync.logs = 3;
	msg(s, &sy);
	msg(s, &m);
	msg(s, &sy); /* twice */
	struct tb_peer_msg p = {.type = TB_MSG_PING};
	p.u.ping.nonce = 7;
	msg(s, &p);
	struct tb_peer_msg r = {.type = TB_MSG_REFUSED};
	r.u.refused.code = -59;
	memcpy(r.u.refused.log_id, g_comm[1].pk.b, TB_KEY_LEN);
	r.u.refused.reason = cstr("no");
	msg(s, &r);
	uint8_t junk[] = {0x93, 0x01, 0x02, 0x03};
	raw_op(s, 0, OP_RAW, junk, sizeof junk);
	community(s, HILL | 0x80, 1);
	struct tb_peer_msg bye = {.type = TB_MSG_BYE};
	bye.u.bye.reason = cstr("bye");
	msg(s, &bye);
	prepare(s, HILL | 0x80, 1, 2, 10, IN_2H);
	emit(root, "messages", s);
}

void mkcorpus_repl(const char *root)
{
	static struct seed s;
	for (int i = 0; i < 4; i++) {
		fuzz_keypair(&g_comm[i], FUZZ_LOG_SEED + i);
		fuzz_keypair(&g_member[i], FUZZ_MEMBER_SEED + i);
	}
	honest(root, &s);
	attacks(root, &s);
	messages(root, &s);
}
