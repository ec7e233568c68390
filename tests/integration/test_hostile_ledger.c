/*
 * test_hostile_ledger.c: the clearing attacks of issue 11, each made by a
 * dishonest community (tests/util/rogue.h) that holds the federation key and
 * is admitted by two honest communities, riverside and hillside, run by real
 * tallyd processes on 127.0.0.1. The rogue writes its own log as it likes
 * and serves it to the honest daemons over the peer protocol; each test then
 * asserts the honest outcome: honest exchanges complete within their usual
 * time, both sides agree on every leg, no honest hold stays, the honest logs
 * hold nothing the rogue made them sign, and `tally verify` passes.
 *
 *  - finding 1: a prepare to riverside whose txid is already in riverside's
 *    log is decided (or refused) once, and stops nothing;
 *  - finding 2: the rogue's refusal of a prepare addressed to hillside does
 *    not count: the exchange commits at both sides;
 *  - finding 3: 4,100 prepares that nobody will ever answer, in a log that
 *    sorts before every honest one, delay no honest exchange;
 *  - finding 9: prepares over a trust line the provider never granted make
 *    it sign nothing (its log does not grow);
 *  - the cap of open prepares per counterpart (EOPEN): the rogue's 1001st
 *    open prepare toward riverside is refused by the honest nodes, so it
 *    can make riverside decide at most 1000 at a time.
 *
 * Each prints the figures of its attack.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"
#include "fed.h"
#include "rogue.h"
#include "tb_node.h"

#define RIVER 0 /* riverside: alice, ann */
#define HILL 1	/* hillside: bob, bea */
#define WAIT_MS 60000
/* How long an honest exchange may take (its usual time is well under a
 * second; `exchange send` waits for it). */
#define SEND_TIMEOUT "30"
#define ROGUE_KEY 7100
#define ROGUE_NAME "Rogue"

static const struct tb_fed_spec specs[] = {
	{"riverside", {"alice", "ann", NULL}},
	{"hillside", {"bob", "bea", NULL}},
};

static uint8_t psk[32];

struct fx {
	struct tb_fed *f;
	struct tb_rogue r;
	bool rogue;
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
	if (x->rogue)
		tb_rogue_free(&x->r);
	free(x);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tb_fed_kill_all();
	return 0;
}

/* ---- failing with every node's log ---- */

static void die(struct tb_fed *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void die(struct tb_fed *f, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < f->n; i++)
		tb_fed_print_tail(f, i, 4000);
	fprintf(stderr, "FAILED: %s\n", msg);
	fail_msg("%s", msg);
}

#define TALLY_OK(f, i, ...)                                                               \
	do {                                                                              \
		if (TB_FED_TALLY(f, i, __VA_ARGS__))                                      \
			die(f, "tally at %s (line %d): exit %d\n%s%s", (f)->node[i].name, \
			    __LINE__, (f)->res.code, (f)->res.out, (f)->res.err);         \
	} while (0)

/* ---- the federation ---- */

/*
 * Riverside and hillside, dialling each other, with trust lines of 10 hours
 * both ways; both admit the rogue (key pair keyno, named ROGUE_NAME), whose
 * log holds its genesis and mallory's join. Every daemon runs.
 */
static struct tb_fed *fed_with_rogue(struct fx *x, const char *tag, uint32_t keyno)
{
	struct tb_fed *f = x->f = tb_fed_new_spec(tag, 2, specs);
	assert_int_equal(tb_fedkey_read(f->fedkey, psk), 0);
	tb_rogue_init(&x->r, keyno, ROGUE_NAME);
	x->rogue = true;
	tb_fed_admit(f, RIVER, tb_rogue_id(&x->r), ROGUE_NAME);
	tb_fed_admit(f, HILL, tb_rogue_id(&x->r), ROGUE_NAME);
	tb_fed_link(f, RIVER, HILL);
	tb_fed_link(f, HILL, RIVER);
	tb_fed_start_all(f);
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);
	TALLY_OK(f, RIVER, "link", "add", "hillside", "--limit", "10");
	TALLY_OK(f, HILL, "link", "add", "riverside", "--limit", "10");
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);
	return f;
}

static struct tb_store *open_ro(struct tb_fed *f, size_t i)
{
	char ledger[TB_FED_PATH + 64];
	snprintf(ledger, sizeof ledger, "%s/ledger", f->node[i].data);
	struct tb_store *s = NULL;
	int err = tb_store_open(&s, ledger, TB_STORE_RDONLY);
	if (err)
		die(f, "cannot open %s: %s", ledger, tb_strerror(err));
	return s;
}

/* ---- honest exchanges ---- */

struct sent {
	int code;
	long ms;
	char txid[2 * TB_TXID_LEN + 1];
	char state[24];
	char text[2048];
};

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : "";
}

/* tally exchange send --attest at node i: from pays `minutes` to `to`
 * (name@community), waiting for the outcome. */
static void xsend(struct tb_fed *f, size_t i, const char *from, const char *to, const char *minutes,
		  struct sent *s)
{
	memset(s, 0, sizeof *s);
	uint64_t t0 = tb_fed_now_ms();
	s->code = TB_FED_TALLY(f, i, "--json", "exchange", "send", "--from", from, "--to", to,
			       "--minutes", minutes, "--memo", "help", "--attest", "--timeout",
			       SEND_TIMEOUT);
	s->ms = (long)(tb_fed_now_ms() - t0);
	snprintf(s->text, sizeof s->text, "%.1000s%.1000s", f->res.out, f->res.err);
	json_t *j = json_loads(f->res.out, 0, NULL);
	if (j) {
		snprintf(s->txid, sizeof s->txid, "%s", jstr(j, "txid"));
		snprintf(s->state, sizeof s->state, "%s", jstr(j, "state"));
		json_decref(j);
	}
	print_message("send at %s: %s -> %s %s min: exit %d, %s, %ld ms\n", f->node[i].name, from,
		      to, minutes, s->code, s->state, s->ms);
}

/* An honest exchange that must complete: returns the ms it took. */
static long xsend_completed(struct tb_fed *f, size_t i, const char *from, const char *to,
			    const char *minutes, uint8_t txid[TB_TXID_LEN])
{
	struct sent s;
	xsend(f, i, from, to, minutes, &s);
	if (s.code || strcmp(s.state, "completed"))
		die(f, "%s -> %s at %s: exit %d, state \"%s\" after %ld ms: %s", from, to,
		    f->node[i].name, s.code, s.state, s.ms, s.text);
	if (txid && tb_hex_decode(txid, TB_TXID_LEN, s.txid))
		die(f, "not a txid: \"%s\"", s.txid);
	return s.ms;
}

/* ---- the books ---- */

struct legs {
	size_t n, cap;
	struct tb_xleg *x;
};

static int legs_cb(void *ctx, const struct tb_xleg *x)
{
	struct legs *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->x = realloc(l->x, l->cap * sizeof *l->x);
		assert_non_null(l->x);
	}
	l->x[l->n++] = *x;
	return 0;
}

static void read_legs(struct tb_fed *f, size_t i, struct legs *l)
{
	l->n = 0;
	struct tb_store *s = open_ro(f, i);
	int err = tb_store_foreach_xleg(s, false, legs_cb, l);
	tb_store_free(s);
	if (err)
		die(f, "reading the legs at %s: %s", f->node[i].name, tb_strerror(err));
}

static const struct tb_xleg *find_leg(const struct legs *l, const uint8_t *payer,
				      const uint8_t *txid)
{
	for (size_t i = 0; i < l->n; i++)
		if (!memcmp(l->x[i].payer, payer, TB_KEY_LEN) &&
		    !memcmp(l->x[i].txid, txid, TB_TXID_LEN))
			return &l->x[i];
	return NULL;
}

static bool is_honest(struct tb_fed *f, const uint8_t *id)
{
	return !memcmp(id, f->node[RIVER].id, TB_KEY_LEN) ||
	       !memcmp(id, f->node[HILL].id, TB_KEY_LEN);
}

/*
 * Every exchange between the honest communities is finished at both, as
 * the provider decided, and both hold the same legs; none of them holds an
 * open prepare of its own (no honest hold stays). Returns how many
 * exchanges between them there are.
 */
static size_t check_honest_legs(struct tb_fed *f)
{
	struct legs l[2] = {{0}, {0}};
	read_legs(f, RIVER, &l[0]);
	read_legs(f, HILL, &l[1]);
	size_t between = 0;
	for (int side = 0; side < 2; side++) {
		const char *at = f->node[side ? HILL : RIVER].name;
		for (size_t k = 0; k < l[side].n; k++) {
			const struct tb_xleg *x = &l[side].x[k];
			if (is_honest(f, x->payer) && !x->final_seq)
				die(f, "%s holds an honest exchange unfinished (prepare seq %llu)",
				    at, (unsigned long long)x->prepare_seq);
			if (!is_honest(f, x->payer) || !is_honest(f, x->provider))
				continue;
			if (x->final_outcome != x->outcome ||
			    memcmp(x->decider, x->provider, TB_KEY_LEN))
				die(f,
				    "%s: an exchange finished otherwise than its provider decided",
				    at);
			const struct tb_xleg *y = find_leg(&l[!side], x->payer, x->txid);
			if (!y || y->prepare_seq != x->prepare_seq ||
			    y->decide_seq != x->decide_seq || y->final_seq != x->final_seq ||
			    y->outcome != x->outcome || y->final_outcome != x->final_outcome)
				die(f,
				    "riverside and hillside disagree on an exchange (prepare seq %llu)",
				    (unsigned long long)x->prepare_seq);
			between += side == 0;
		}
	}
	free(l[0].x);
	free(l[1].x);
	return between;
}

/* tally verify passes at every honest node (both logs and the rogue's). */
static void verify_all(struct tb_fed *f)
{
	for (size_t i = 0; i < f->n; i++) {
		if (TB_FED_TALLY(f, i, "verify"))
			die(f, "tally verify at %s: exit %d\n%s%s", f->node[i].name, f->res.code,
			    f->res.out, f->res.err);
		if (!tb_fed_agrees(f, i))
			die(f, "the export of %s is not clean", f->node[i].name);
	}
}

static int collect_cb(void *ctx, uint64_t seq, struct tb_view rec)
{
	(void)seq;
	tb_test_recs_add(ctx, rec.p, rec.len);
	return 0;
}

/* The honest logs alone, as node i holds them, copied into a scratch store,
 * pass every check of the auditor (tb_verify_dir, what tally verify runs):
 * for a test whose rogue log is itself a violation. */
static void verify_honest(struct tb_fed *f, size_t i)
{
	char *dir = tb_test_scratchdir("hostile-honest");
	struct tb_store *out = NULL, *in = open_ro(f, i);
	assert_int_equal(tb_store_open(&out, dir, 0), 0);
	for (size_t k = 0; k < 2; k++) {
		struct tb_test_recs r = {0};
		assert_int_equal(tb_store_foreach_entry(in, f->node[k].id, 1, collect_cb, &r), 0);
		const struct tb_view *v = tb_test_recs_views(&r, 0);
		for (size_t done = 0; done < r.n;) {
			size_t n = r.n - done < TB_APPEND_MAX ? r.n - done : TB_APPEND_MAX, acc = 0;
			struct tb_reject rej;
			int err = tb_store_append(out, v + done, n, &acc, &rej);
			if (err)
				die(f, "copying %s's log: %s (%s)", f->node[k].name, rej.msg,
				    tb_errname(err));
			done += n;
		}
		tb_test_recs_free(&r);
	}
	tb_store_free(in);
	tb_store_free(out);
	struct tb_verify_report rep;
	int err = tb_verify_dir(dir, NULL, &rep);
	if (err || rep.logs != 2)
		die(f, "the honest logs as %s holds them: %s at seq %llu: %s (%llu logs)",
		    f->node[i].name, tb_errname(err), (unsigned long long)rep.where.seq,
		    rep.where.msg, (unsigned long long)rep.logs);
	tb_test_rmrf(dir);
}

/* Decisions in log `decider` (as node i holds it) on prepares of payer. */
struct count_ctx {
	const uint8_t *payer;
	size_t n;
};

static int count_decisions_cb(void *ctx, uint64_t seq, struct tb_view rec)
{
	(void)seq;
	struct count_ctx *c = ctx;
	struct tb_entry e;
	assert_int_equal(tb_entry_decode(&e, rec.p, rec.len), 0);
	if (e.kind == TB_KIND_XDECIDE && !memcmp(e.body.xdecide.from_log, c->payer, TB_KEY_LEN))
		c->n++;
	return 0;
}

static size_t count_decisions(struct tb_fed *f, size_t i, const uint8_t *decider,
			      const uint8_t *payer)
{
	struct count_ctx c = {payer, 0};
	struct tb_store *s = open_ro(f, i);
	int err = tb_store_foreach_entry(s, decider, 1, count_decisions_cb, &c);
	tb_store_free(s);
	if (err)
		die(f, "reading a log at %s: %s", f->node[i].name, tb_strerror(err));
	return c.n;
}

/* Node i's clearing account of community `of` toward `other`. */
static struct tb_clearing clearing(struct tb_fed *f, size_t i, const uint8_t *of,
				   const uint8_t *other)
{
	struct tb_clearing c;
	struct tb_store *s = open_ro(f, i);
	int err = tb_store_clearing(s, of, other, &c);
	tb_store_free(s);
	if (err)
		die(f, "clearing account at %s: %s", f->node[i].name, tb_strerror(err));
	return c;
}

/* The rogue's log is served to node i and that node's community lets the
 * rogue owe it 10 hours (the rogue lets it owe 10 hours too). */
static void link_rogue(struct fx *x, size_t i)
{
	struct tb_fed *f = x->f;
	char hex[2 * TB_KEY_LEN + 1];
	tb_hex_encode(hex, tb_rogue_id(&x->r), TB_KEY_LEN);
	TALLY_OK(f, i, "link", "add", hex, "--limit", "10");
}

/* Node i's leg of the exchange (payer, txid), waiting until it is
 * finished there. */
struct final_ctx {
	size_t node;
	const uint8_t *payer, *txid;
	struct tb_xleg leg;
};

static bool has_final(struct tb_fed *f, void *vctx, char *why, size_t cap, size_t *blame)
{
	struct final_ctx *c = vctx;
	*blame = c->node;
	struct tb_store *s = open_ro(f, c->node);
	int err = tb_store_xleg(s, c->payer, c->txid, &c->leg);
	tb_store_free(s);
	if (!err && c->leg.final_seq)
		return true;
	snprintf(why, cap, "%s: the exchange is %s", f->node[c->node].name,
		 err ? "not held" : "not finished");
	return false;
}

static struct tb_xleg wait_final(struct tb_fed *f, size_t i, const uint8_t *payer,
				 const uint8_t *txid)
{
	struct final_ctx c = {i, payer, txid, {{0}}};
	tb_fed_wait(f, WAIT_MS, has_final, &c, "the exchange finished");
	return c.leg;
}

/* ---- finding 1: a reused txid ---- */

#define FRESH_PREPARES 3

/*
 * Alice of riverside pays bob of hillside: txid T is in riverside's log.
 * The rogue then writes a prepare to ann@riverside with txid T, and fresh
 * ones after it. Before, riverside's decision on it failed the txid rule
 * and aborted every clearing step: no decision or final leg of anyone was
 * recorded again. Now riverside decides it at most once, decides the
 * others, and honest exchanges both ways complete as usual, also after a
 * restart of riverside.
 */
static void test_reused_txid(void **state)
{
	struct fx *x = *state;
	struct tb_fed *f = fed_with_rogue(x, "hostile-f1", ROGUE_KEY + 1);
	struct tb_rogue *r = &x->r;
	tb_rogue_link(r, f->node[RIVER].id, 600);
	tb_rogue_serve(r, f, RIVER, psk, 0);
	link_rogue(x, RIVER);
	uint8_t t[TB_TXID_LEN];
	xsend_completed(f, RIVER, "alice", "bob@hillside", "20", t);
	tb_rogue_prepare(r, f->node[RIVER].id, "ann", 10, 3600, t);
	for (int k = 0; k < FRESH_PREPARES; k++)
		tb_rogue_prepare(r, f->node[RIVER].id, "ann", 10, 3600, NULL);
	tb_rogue_serve(r, f, RIVER, psk, 0);

	long ms1 = xsend_completed(f, HILL, "bob", "alice@riverside", "30", NULL);
	long ms2 = xsend_completed(f, RIVER, "ann", "bea@hillside", "15", NULL);
	tb_fed_stop(f, RIVER);
	tb_fed_start(f, RIVER);
	long ms3 = xsend_completed(f, HILL, "bea", "ann@riverside", "5", NULL);
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);

	size_t decided = count_decisions(f, RIVER, f->node[RIVER].id, tb_rogue_id(r));
	struct tb_xdecided d;
	struct tb_store *s = open_ro(f, RIVER);
	int err = tb_store_xdecided(s, f->node[RIVER].id, tb_rogue_id(r), t, &d);
	tb_store_free(s);
	print_message("finding 1: the reused txid %s at riverside; %zu decisions on the "
		      "rogue's %d prepares; honest exchanges after it took %ld, %ld and "
		      "(after a restart) %ld ms\n",
		      err ? "not decided" : tb_xoutcome_text(d.outcome), decided,
		      FRESH_PREPARES + 1, ms1, ms2, ms3);
	if (decided < FRESH_PREPARES || decided > FRESH_PREPARES + 1)
		die(f, "riverside made %zu decisions on the rogue's %d prepares", decided,
		    FRESH_PREPARES + 1);
	assert_int_equal(check_honest_legs(f), 4);
	verify_all(f);
	tb_fed_stop_all(f);
}

/* ---- finding 2: a third community's decision ---- */

/*
 * Hillside is down; ann of riverside pays bob@hillside. The rogue writes a
 * refusal of that prepare in its own log and serves it to riverside.
 * Before, riverside took it as the decision and released the hold, while
 * hillside committed once up. Now riverside waits for hillside's own
 * decision: the exchange commits at both.
 */
static void test_long_third_party(void **state)
{
	struct fx *x = *state;
	struct tb_fed *f = fed_with_rogue(x, "hostile-f2", ROGUE_KEY + 2);
	struct tb_rogue *r = &x->r;
	tb_fed_stop(f, HILL);
	struct sent sn;
	uint64_t t0 = tb_fed_now_ms();
	int code = TB_FED_TALLY(f, RIVER, "--json", "exchange", "send", "--from", "ann", "--to",
				"bob@hillside", "--minutes", "40", "--memo", "help", "--attest",
				"--no-wait");
	json_t *j = json_loads(f->res.out, 0, NULL);
	if (code || !j)
		die(f, "ann -> bob@hillside: exit %d: %s%s", code, f->res.out, f->res.err);
	snprintf(sn.txid, sizeof sn.txid, "%s", jstr(j, "txid"));
	json_decref(j);
	uint8_t t[TB_TXID_LEN];
	assert_int_equal(tb_hex_decode(t, TB_TXID_LEN, sn.txid), 0);

	/* The rogue reads the prepare and refuses it in its own log. */
	struct tb_xleg leg;
	struct tb_store *s = open_ro(f, RIVER);
	assert_int_equal(tb_store_xleg(s, f->node[RIVER].id, t, &leg), 0);
	tb_store_free(s);
	uint8_t buf[TB_ENTRY_MAX];
	struct tb_entry e;
	tb_rogue_read_entry(f, RIVER, f->node[RIVER].id, leg.prepare_seq, &e, buf);
	assert_int_equal(e.kind, TB_KIND_XPREPARE);
	tb_rogue_decide(r, &e.body.xprepare, f->node[RIVER].id, leg.prepare_seq, "ann",
			TB_XO_UNKNOWN_MEMBER);
	tb_rogue_serve(r, f, RIVER, psk, 0);
	/* Riverside's clearing steps after it held the refusal finish nothing. */
	tb_fed_sleep_ms(2000);
	s = open_ro(f, RIVER);
	assert_int_equal(tb_store_xleg(s, f->node[RIVER].id, t, &leg), 0);
	tb_store_free(s);
	if (leg.final_seq)
		die(f, "riverside finished the exchange on the rogue's refusal (%s)",
		    tb_xoutcome_text(leg.final_outcome));

	tb_fed_start(f, HILL);
	leg = wait_final(f, RIVER, f->node[RIVER].id, t);
	long ms = (long)(tb_fed_now_ms() - t0);
	struct tb_xleg hleg = wait_final(f, HILL, f->node[RIVER].id, t);
	print_message("finding 2: the rogue's refusal ignored; riverside finished %s on "
		      "hillside's decision (%s there), %ld ms after sending (hillside "
		      "was down for most of it)\n",
		      tb_xoutcome_text(leg.final_outcome), tb_xoutcome_text(hleg.outcome), ms);
	if (leg.final_outcome != TB_XO_COMMITTED || hleg.outcome != TB_XO_COMMITTED ||
	    memcmp(leg.decider, f->node[HILL].id, TB_KEY_LEN))
		die(f, "the exchange did not commit at both sides: riverside %s, hillside %s",
		    tb_xoutcome_text(leg.final_outcome), tb_xoutcome_text(hleg.outcome));
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);
	assert_int_equal(check_honest_legs(f), 1);
	struct tb_clearing c = clearing(f, RIVER, f->node[RIVER].id, f->node[HILL].id);
	struct tb_clearing ch = clearing(f, HILL, f->node[HILL].id, f->node[RIVER].id);
	assert_int_equal(c.held, 0);
	assert_int_equal(c.balance, 40);
	assert_int_equal(ch.balance, -40);
	/* The rogue's refusal is a violation of its own log only. */
	char rid[2 * TB_KEY_LEN + 1];
	tb_hex_encode(rid, tb_rogue_id(r), TB_KEY_LEN);
	if (TB_FED_TALLY(f, RIVER, "--json", "verify") != 1 || !strstr(f->res.out, "ELEG") ||
	    !strstr(f->res.out, rid))
		die(f, "tally verify at riverside: exit %d, expected the rogue's ELEG: %s%s",
		    f->res.code, f->res.out, f->res.err);
	if (tb_fed_agrees(f, RIVER))
		die(f, "riverside's export passes with the rogue's ELEG in it");
	verify_honest(f, RIVER);
	verify_honest(f, HILL);
	tb_fed_stop_all(f);
}

/* ---- finding 3: never-answered prepares ---- */

#define PHANTOMS 5
#define PHANTOM_KEY 7400
#define PER_PHANTOM 820 /* 4,100 in all, under the cap of 1000 each */

/*
 * The rogue's log sorts before both honest logs. It holds 4,100 prepares
 * to five communities nobody runs, valid and never answered. Before, the
 * clearing step read the first 4,096 open exchanges of all logs held, so
 * no honest exchange was ever reached again. Now honest exchanges both
 * ways complete in their usual time, and the honest logs hold nothing but
 * their legs.
 */
static void test_long_flood(void **state)
{
	struct fx *x = *state;
	struct tb_fed *f = x->f = tb_fed_new_spec("hostile-f3", 2, specs);
	const uint8_t ids[2][TB_KEY_LEN];
	memcpy((void *)ids[0], f->node[RIVER].id, TB_KEY_LEN);
	memcpy((void *)ids[1], f->node[HILL].id, TB_KEY_LEN);
	uint32_t keyno = tb_rogue_keyno_below(ids, 2, ROGUE_KEY + 3);
	tb_fed_free(f);
	x->f = NULL;
	f = fed_with_rogue(x, "hostile-f3", keyno);
	struct tb_rogue *r = &x->r;
	for (uint32_t p = 0; p < PHANTOMS; p++) {
		struct tb_keypair kp;
		tb_test_keypair(&kp, PHANTOM_KEY + p);
		tb_rogue_link(r, kp.pk.b, 60000);
		for (int k = 0; k < PER_PHANTOM; k++)
			tb_rogue_prepare(r, kp.pk.b, "nobody", 1, 86400, NULL);
		tb_keypair_wipe(&kp);
	}
	uint64_t river0 = tb_fed_own_seq(f, RIVER), hill0 = tb_fed_own_seq(f, HILL);
	uint64_t t0 = tb_fed_now_ms();
	tb_rogue_serve(r, f, RIVER, psk, 0);
	tb_rogue_serve(r, f, HILL, psk, 0);
	long serve_ms = (long)(tb_fed_now_ms() - t0);

	long ms1 = xsend_completed(f, HILL, "bob", "alice@riverside", "30", NULL);
	long ms2 = xsend_completed(f, RIVER, "ann", "bea@hillside", "15", NULL);
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);
	uint64_t river1 = tb_fed_own_seq(f, RIVER), hill1 = tb_fed_own_seq(f, HILL);
	print_message("finding 3: %d never-answered prepares (served in %ld ms to both); "
		      "honest exchanges then took %ld and %ld ms; riverside's log grew by "
		      "%llu, hillside's by %llu\n",
		      PHANTOMS * PER_PHANTOM, serve_ms, ms1, ms2,
		      (unsigned long long)(river1 - river0), (unsigned long long)(hill1 - hill0));
	/* Each honest log: a prepare and a final leg as payer, a decision as
	 * provider. */
	if (river1 != river0 + 3 || hill1 != hill0 + 3)
		die(f, "the honest logs grew by %llu and %llu entries, not 3 each",
		    (unsigned long long)(river1 - river0), (unsigned long long)(hill1 - hill0));
	assert_int_equal(check_honest_legs(f), 2);
	verify_all(f);
	tb_fed_stop_all(f);
}

/* ---- the cap of open prepares per counterpart ---- */

/*
 * Riverside lets the rogue owe it 10 hours; the rogue writes TB_XOPEN_MAX
 * prepares of a minute to alice@riverside, never finishes any, and then
 * one more. Riverside refuses that one (EOPEN, the connection closed) and
 * holds the rogue's log without it; it decided each of the others once (10
 * hours committed, the rest refused at the trust limit), and an honest
 * exchange still completes.
 */
static void test_long_open_cap(void **state)
{
	struct fx *x = *state;
	struct tb_fed *f = fed_with_rogue(x, "hostile-open", ROGUE_KEY + 4);
	struct tb_rogue *r = &x->r;
	tb_rogue_link(r, f->node[RIVER].id, 60000);
	tb_rogue_serve(r, f, RIVER, psk, 0);
	link_rogue(x, RIVER);
	for (int k = 0; k < TB_XOPEN_MAX; k++)
		tb_rogue_prepare(r, f->node[RIVER].id, "alice", 1, 86400, NULL);
	uint64_t capped = tb_rogue_seq(r);
	tb_rogue_prepare(r, f->node[RIVER].id, "alice", 1, 86400, NULL);
	uint64_t river0 = tb_fed_own_seq(f, RIVER);

	struct tb_fake p;
	tb_rogue_connect(r, &p, f->node[RIVER].port, psk);
	size_t sent = tb_rogue_send(r, &p, 0, r->recs.n);
	bool closed = tb_fake_closed_within(&p, WAIT_MS);
	tb_fake_close(&p);
	if (!closed)
		die(f, "riverside kept the connection that sent the 1001st open prepare");
	tb_fed_wait_log_line(f, RIVER, "refused entry", "EOPEN", WAIT_MS);
	tb_fed_wait_log_seq(f, RIVER, tb_rogue_id(r), capped, WAIT_MS);
	/* Every open prepare decided once. */
	uint64_t t0 = tb_fed_now_ms();
	while (count_decisions(f, RIVER, f->node[RIVER].id, tb_rogue_id(r)) < TB_XOPEN_MAX &&
	       tb_fed_now_ms() - t0 < WAIT_MS)
		tb_fed_sleep_ms(100);
	long ms = xsend_completed(f, HILL, "bob", "alice@riverside", "30", NULL);
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);

	struct tb_fed_heads hs;
	tb_fed_heads(f, RIVER, &hs);
	const struct tb_head *h = tb_fed_find(&hs, tb_rogue_id(r));
	size_t decided = count_decisions(f, RIVER, f->node[RIVER].id, tb_rogue_id(r));
	uint64_t river1 = tb_fed_own_seq(f, RIVER);
	struct tb_clearing c = clearing(f, RIVER, f->node[RIVER].id, tb_rogue_id(r));
	print_message("open cap: %zu records sent; riverside holds the rogue's log up to "
		      "seq %llu (%d prepares open), made %zu decisions on them (%lld minutes "
		      "committed), its log grew by %llu; an honest exchange took %ld ms\n",
		      sent, (unsigned long long)(h ? h->seq : 0), TB_XOPEN_MAX, decided,
		      (long long)-c.balance, (unsigned long long)(river1 - river0), ms);
	if (!h || h->seq != capped)
		die(f, "riverside holds the rogue's log up to seq %llu, not %llu",
		    (unsigned long long)(h ? h->seq : 0), (unsigned long long)capped);
	if (decided != TB_XOPEN_MAX)
		die(f, "riverside made %zu decisions on %d open prepares", decided, TB_XOPEN_MAX);
	if (river1 != river0 + TB_XOPEN_MAX + 1 || c.balance < -600)
		die(f,
		    "riverside's log grew by %llu (expected %d), its clearing toward "
		    "the rogue is %lld (limit -600)",
		    (unsigned long long)(river1 - river0), TB_XOPEN_MAX + 1, (long long)c.balance);
	assert_int_equal(check_honest_legs(f), 1);
	verify_all(f);
	tb_fed_stop_all(f);
}

/* ---- finding 9: no refusals without a trust line ---- */

#define UNLINKED_PREPARES 500

/*
 * The rogue has a trust line toward riverside, riverside none toward it;
 * the rogue writes UNLINKED_PREPARES prepares to alice@riverside. Before,
 * riverside signed and kept a refusal ("link missing") for each, for ever.
 * Now it signs nothing for them: its log grows only by the legs of an
 * honest exchange made afterwards (so a clearing step ran after it held the
 * prepares), which completes as usual.
 */
static void test_long_no_refusal(void **state)
{
	struct fx *x = *state;
	struct tb_fed *f = fed_with_rogue(x, "hostile-f9", ROGUE_KEY);
	struct tb_rogue *r = &x->r;
	tb_rogue_link(r, f->node[RIVER].id, 600);
	for (int k = 0; k < UNLINKED_PREPARES; k++)
		tb_rogue_prepare(r, f->node[RIVER].id, "alice", 10, 3600, NULL);
	uint64_t river0 = tb_fed_own_seq(f, RIVER);
	tb_rogue_serve(r, f, RIVER, psk, 0);

	/* Bob pays alice: riverside decides it (one entry of its own log). */
	long ms = xsend_completed(f, HILL, "bob", "alice@riverside", "30", NULL);
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);
	uint64_t river1 = tb_fed_own_seq(f, RIVER);
	size_t refusals = count_decisions(f, RIVER, f->node[RIVER].id, tb_rogue_id(r));
	print_message("finding 9: %d prepares without a trust line: riverside signed %zu "
		      "refusals, its log grew by %llu (the honest decision), the honest "
		      "exchange took %ld ms\n",
		      UNLINKED_PREPARES, refusals, (unsigned long long)(river1 - river0), ms);
	if (refusals || river1 != river0 + 1)
		die(f,
		    "riverside signed %zu refusals for prepares without a trust line; its "
		    "log grew by %llu, expected 1",
		    refusals, (unsigned long long)(river1 - river0));
	assert_int_equal(check_honest_legs(f), 1);
	verify_all(f);
	tb_fed_stop_all(f);
}

int main(int argc, char **argv)
{
	tb_test_select(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reused_txid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_third_party, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_no_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_open_cap, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
