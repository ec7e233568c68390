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
 *  - finding 9: prepares over a trust line the provider never granted make
 *    it sign nothing (its log does not grow).
 *
 * Each prints the figures of its attack.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define TALLY_OK(f, i, ...)                                                              \
	do {                                                                             \
		if (TB_FED_TALLY(f, i, __VA_ARGS__))                                     \
			die(f, "tally at %s (line %d): exit %d\n%s%s", (f)->node[i].name, \
			    __LINE__, (f)->res.code, (f)->res.out, (f)->res.err);        \
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
static void xsend(struct tb_fed *f, size_t i, const char *from, const char *to,
		  const char *minutes, struct sent *s)
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
	print_message("send at %s: %s -> %s %s min: exit %d, %s, %ld ms\n", f->node[i].name,
		      from, to, minutes, s->code, s->state, s->ms);
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
				die(f, "%s: an exchange finished otherwise than its provider decided",
				    at);
			const struct tb_xleg *y = find_leg(&l[!side], x->payer, x->txid);
			if (!y || y->prepare_seq != x->prepare_seq ||
			    y->decide_seq != x->decide_seq || y->final_seq != x->final_seq ||
			    y->outcome != x->outcome || y->final_outcome != x->final_outcome)
				die(f, "riverside and hillside disagree on an exchange (prepare seq %llu)",
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
	for (size_t i = 0; i < f->n; i++)
		if (TB_FED_TALLY(f, i, "verify"))
			die(f, "tally verify at %s: exit %d\n%s%s", f->node[i].name, f->res.code,
			    f->res.out, f->res.err);
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
static void test_no_refusal_without_link(void **state)
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
		die(f, "riverside signed %zu refusals for prepares without a trust line; its "
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
	    cmocka_unit_test_setup_teardown(test_no_refusal_without_link, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
