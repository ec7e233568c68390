/*
 * test_cross.c: credit across communities between real tallyd processes on
 * 127.0.0.1 (tests/util/fed.h), driven through the command line: the happy
 * path both ways; every kind of refusal reaching the sender with no change
 * to either ledger; a node exiting at each crash point of the protocol
 * (TALLYD_CRASH_AT), on either side, and the exchange finishing after its
 * restart; 100 exchanges in both directions at once against trust limits.
 * Besides what the command line says, the books are read straight from each
 * node's ledger (read-only, next to the running daemon): member and clearing
 * balances and holds, and the legs of every exchange, compared between the
 * nodes. On failure the tails of every tallyd.log are printed.
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agree.h"
#include "fed.h"
#include "tb_node.h"

#define RIVER 0 /* community A: riverside (alice, ann) */
#define HILL 1	/* community B: hillside (bob, bea) */
#define LAKE 2	/* community C: lakeside (carl) */
#define WAIT_MS 30000
#define CRASH_MS 20000

static const struct tb_fed_spec specs[] = {
	{"riverside", {"alice", "ann", NULL}},
	{"hillside", {"bob", "bea", NULL}},
	{"lakeside", {"carl", NULL}},
};

struct fx {
	struct tb_fed *f;
};

#define NWORKERS 8
/* Worker processes of the concurrency test still running (0: none). */
static pid_t workers[NWORKERS];

static void kill_workers(void)
{
	for (size_t w = 0; w < NWORKERS; w++) {
		if (!workers[w])
			continue;
		kill(workers[w], SIGKILL);
		while (waitpid(workers[w], NULL, 0) < 0 && errno == EINTR)
			;
		workers[w] = 0;
	}
}

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
	kill_workers();
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

/* ---- failing with every node's log ---- */

static void die(struct tb_fed *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void die(struct tb_fed *f, const char *fmt, ...)
{
	char msg[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < f->n; i++)
		tb_fed_print_tail(f, i, 4000);
	/* cmocka cuts long messages: the whole one goes to stderr too. */
	fprintf(stderr, "FAILED: %s\n", msg);
	fail_msg("%s", msg);
}

#define TALLY_OK(f, i, ...)                                                               \
	do {                                                                              \
		if (TB_FED_TALLY(f, i, __VA_ARGS__))                                      \
			die(f, "tally at %s (line %d): exit %d\n%s%s", (f)->node[i].name, \
			    __LINE__, (f)->res.code, (f)->res.out, (f)->res.err);         \
	} while (0)

static json_t *out_json(struct tb_fed *f, const char *what)
{
	json_error_t e;
	json_t *j = json_loads(f->res.out, 0, &e);
	if (!j)
		die(f, "%s: output is not JSON (%s): %s\n%s", what, e.text, f->res.out, f->res.err);
	return j;
}

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The integer o.k; fails naming what if it is missing. */
static long long jint(struct tb_fed *f, const json_t *o, const char *k, const char *what)
{
	const json_t *v = json_object_get(o, k);
	if (!json_is_integer(v)) {
		char *dump = json_dumps(o, JSON_COMPACT);
		die(f, "%s: no integer \"%s\" in %s", what, k, dump ? dump : "?");
	}
	return json_integer_value(v);
}

/* ---- the books, read from a node's ledger ---- */

struct book {
	size_t n;
	struct tb_member m[TB_FED_MAX_MEMBERS];
	size_t nc;
	struct tb_clearing c[TB_FED_MAX_NODES];
};

static int book_member(void *ctx, const struct tb_member *m)
{
	struct book *b = ctx;
	if (b->n == TB_FED_MAX_MEMBERS)
		return TB_EFULL;
	b->m[b->n++] = *m;
	return 0;
}

static int book_clearing(void *ctx, const struct tb_clearing *c)
{
	struct book *b = ctx;
	if (b->nc == TB_FED_MAX_NODES)
		return TB_EFULL;
	b->c[b->nc++] = *c;
	return 0;
}

static struct tb_store *open_ro(struct tb_fed *f, size_t holder)
{
	char ledger[TB_FED_PATH + 64];
	snprintf(ledger, sizeof ledger, "%s/ledger", f->node[holder].data);
	struct tb_store *s = NULL;
	int err = tb_store_open(&s, ledger, TB_STORE_RDONLY);
	if (err)
		die(f, "cannot open %s: %s", ledger, tb_strerror(err));
	return s;
}

/* Community comm's books as node holder holds them. */
static void read_book(struct tb_fed *f, size_t holder, size_t comm, struct book *b)
{
	memset(b, 0, sizeof *b);
	struct tb_store *s = open_ro(f, holder);
	int err = tb_store_foreach_member(s, f->node[comm].id, book_member, b);
	if (!err)
		err = tb_store_foreach_clearing(s, f->node[comm].id, book_clearing, b);
	tb_store_free(s);
	if (err)
		die(f, "reading %s's books at %s: %s", f->node[comm].name, f->node[holder].name,
		    tb_strerror(err));
}

static const struct tb_member *book_m(struct tb_fed *f, const struct book *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->m[i].name, name))
			return &b->m[i];
	die(f, "no member %s in the books", name);
	return NULL;
}

/* The clearing account toward node other (NULL if none). */
static const struct tb_clearing *book_c(struct tb_fed *f, const struct book *b, size_t other)
{
	for (size_t i = 0; i < b->nc; i++)
		if (!memcmp(b->c[i].other, f->node[other].id, TB_KEY_LEN))
			return &b->c[i];
	return NULL;
}

static int64_t clearing_balance(struct tb_fed *f, const struct book *b, size_t other)
{
	const struct tb_clearing *c = book_c(f, b, other);
	return c ? c->balance : 0;
}

/* Balances and holds of a and b are the same (limits may differ). */
static void books_same(struct tb_fed *f, const struct book *a, const struct book *b,
		       const char *what)
{
	if (a->n != b->n)
		die(f, "%s: %zu members, then %zu", what, a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct tb_member *x = &a->m[i], *y = &b->m[i];
		if (strcmp(x->name, y->name) || x->balance != y->balance || x->held != y->held)
			die(f,
			    "%s: member %s balance %lld held %lld, then %s %lld held "
			    "%lld",
			    what, x->name, (long long)x->balance, (long long)x->held, y->name,
			    (long long)y->balance, (long long)y->held);
	}
	for (size_t j = 0; j < f->n; j++) {
		const struct tb_clearing *x = book_c(f, a, j), *y = book_c(f, b, j);
		int64_t xb = x ? x->balance : 0, yb = y ? y->balance : 0;
		int64_t xh = x ? x->held : 0, yh = y ? y->held : 0;
		if (xb != yb || xh != yh)
			die(f,
			    "%s: clearing for %s balance %lld held %lld, then %lld held "
			    "%lld",
			    what, f->node[j].name, (long long)xb, (long long)xh, (long long)yb,
			    (long long)yh);
	}
}

/* Every community's books at its own node. */
struct snap {
	struct book b[TB_FED_MAX_NODES];
};

static void take_snap(struct tb_fed *f, struct snap *s)
{
	for (size_t i = 0; i < f->n; i++)
		read_book(f, i, i, &s->b[i]);
}

static void snaps_same(struct tb_fed *f, const struct snap *a, const struct snap *b,
		       const char *what)
{
	char w[256];
	for (size_t i = 0; i < f->n; i++) {
		snprintf(w, sizeof w, "%s (%s's books)", what, f->node[i].name);
		books_same(f, &a->b[i], &b->b[i], w);
	}
}

/*
 * Once quiet and converged: each community sums to zero, holds nothing,
 * stays within the limits it set, the other nodes hold the same books for
 * it, and clearing balances mirror between every two communities.
 */
static void check_books(struct tb_fed *f)
{
	struct snap s;
	take_snap(f, &s);
	for (size_t i = 0; i < f->n; i++) {
		const struct book *b = &s.b[i];
		int64_t sum = 0;
		for (size_t k = 0; k < b->n; k++) {
			sum += b->m[k].balance;
			if (b->m[k].held)
				die(f, "%s: member %s still holds %lld minutes", f->node[i].name,
				    b->m[k].name, (long long)b->m[k].held);
		}
		for (size_t k = 0; k < b->nc; k++) {
			const struct tb_clearing *c = &b->c[k];
			char nm[24];
			sum += c->balance;
			if (c->held)
				die(f, "%s: clearing for %s still holds %lld minutes",
				    f->node[i].name, tb_fed_log_name(f, c->other, nm),
				    (long long)c->held);
			if (c->linked && c->balance < -(int64_t)c->limit)
				die(f, "%s: clearing for %s at %lld, beyond its limit %llu",
				    f->node[i].name, tb_fed_log_name(f, c->other, nm),
				    (long long)c->balance, (unsigned long long)c->limit);
		}
		if (sum)
			die(f, "%s's accounts sum to %lld, not 0", f->node[i].name, (long long)sum);
		for (size_t j = 0; j < f->n; j++) {
			if (j == i)
				continue;
			struct book other;
			char w[128];
			read_book(f, j, i, &other);
			snprintf(w, sizeof w, "%s's books at %s and at %s", f->node[i].name,
				 f->node[i].name, f->node[j].name);
			books_same(f, b, &other, w);
			int64_t ij = clearing_balance(f, b, j),
				ji = clearing_balance(f, &s.b[j], i);
			if (ij != -ji)
				die(f,
				    "clearing balances do not mirror: %s for %s %lld, %s "
				    "for %s %lld",
				    f->node[i].name, f->node[j].name, (long long)ij,
				    f->node[j].name, f->node[i].name, (long long)ji);
		}
	}
}

/* What `tally balance --json` says at node i matches the ledger. */
static void check_balance_cli(struct tb_fed *f, size_t i)
{
	char what[64];
	snprintf(what, sizeof what, "balance at %s", f->node[i].name);
	struct book b;
	read_book(f, i, i, &b);
	TALLY_OK(f, i, "--json", "balance");
	json_t *j = out_json(f, what);
	if (jint(f, j, "sum_minutes", what) != 0)
		die(f, "%s: sum_minutes is not 0: %s", what, f->res.out);
	json_t *ms = json_object_get(j, "members");
	if (!json_is_array(ms))
		die(f, "%s: no members: %s", what, f->res.out);
	size_t k;
	json_t *m;
	json_array_foreach(ms, k, m)
	{
		/* The community account (member 0) is not a member record;
		 * sum_minutes above covers it. */
		if (jint(f, m, "number", what) == 0)
			continue;
		const char *name = jstr(m, "name");
		const struct tb_member *bm = book_m(f, &b, name ? name : "?");
		if (jint(f, m, "balance_minutes", what) != bm->balance ||
		    jint(f, m, "held_minutes", what) != bm->held)
			die(f, "%s: member %s differs from the ledger (%lld held %lld): %s", what,
			    name, (long long)bm->balance, (long long)bm->held, f->res.out);
	}
	json_t *cs = json_object_get(j, "clearing");
	if (!json_is_array(cs))
		die(f, "%s: no clearing accounts: %s", what, f->res.out);
	size_t seen = 0;
	json_array_foreach(cs, k, m)
	{
		const char *id = jstr(m, "community");
		uint8_t other[TB_KEY_LEN];
		if (!id || tb_hex_decode(other, sizeof other, id))
			die(f, "%s: a clearing account without a node id: %s", what, f->res.out);
		const struct tb_clearing *c = NULL;
		for (size_t q = 0; q < b.nc; q++)
			if (!memcmp(b.c[q].other, other, TB_KEY_LEN))
				c = &b.c[q];
		if (!c)
			die(f, "%s: clearing account %s not in the ledger: %s", what, id,
			    f->res.out);
		char nm[24];
		const char *cn = jstr(m, "community_name");
		if (!cn || strcmp(cn, tb_fed_log_name(f, other, nm)))
			die(f, "%s: clearing account %s named %s: %s", what, id, cn ? cn : "(none)",
			    f->res.out);
		if (jint(f, m, "balance_minutes", what) != c->balance ||
		    jint(f, m, "held_minutes", what) != c->held ||
		    (c->linked && jint(f, m, "limit_minutes", what) != (long long)c->limit))
			die(f,
			    "%s: clearing for %s differs from the ledger (%lld held %lld "
			    "limit "
			    "%llu): %s",
			    what, cn, (long long)c->balance, (long long)c->held,
			    (unsigned long long)c->limit, f->res.out);
		seen++;
	}
	size_t linked = 0;
	for (size_t q = 0; q < b.nc; q++)
		linked += b.c[q].linked || b.c[q].balance || b.c[q].held;
	if (seen < linked)
		die(f, "%s: %zu clearing accounts listed, the ledger has %zu: %s", what, seen,
		    linked, f->res.out);
	json_decref(j);
}

/* ---- the legs of every exchange ---- */

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

static const char *leg_text(struct tb_fed *f, const struct tb_xleg *x, char *buf, size_t cap)
{
	char tx[2 * TB_TXID_LEN + 1], p[24], q[24];
	tb_hex_encode(tx, x->txid, TB_TXID_LEN);
	/* An outcome is 0 (committed) when its leg is not held: say none. */
	snprintf(buf, cap,
		 "%s %s->%s %llu min: prepare seq %llu, decision seq %llu (%s), final "
		 "seq %llu (%s)",
		 tx, tb_fed_log_name(f, x->payer, p), tb_fed_log_name(f, x->provider, q),
		 (unsigned long long)x->minutes, (unsigned long long)x->prepare_seq,
		 (unsigned long long)x->decide_seq,
		 x->decide_seq ? tb_xoutcome_text(x->outcome) : "none",
		 (unsigned long long)x->final_seq,
		 x->final_seq ? tb_xoutcome_text(x->final_outcome) : "none");
	return buf;
}

/*
 * Every exchange between nodes i and j is finished on both, and both hold
 * the same legs: the payer's final leg as the provider decided. Returns how
 * many there are.
 */
static size_t check_legs_agree(struct tb_fed *f, size_t i, size_t j)
{
	struct legs a = {0}, b = {0};
	read_legs(f, i, &a);
	read_legs(f, j, &b);
	size_t between = 0;
	char t1[320], t2[320];
	const uint8_t *ids[2] = {f->node[i].id, f->node[j].id};
	for (int side = 0; side < 2; side++) {
		const struct legs *l = side ? &b : &a, *o = side ? &a : &b;
		for (size_t k = 0; k < l->n; k++) {
			const struct tb_xleg *x = &l->x[k];
			bool p_in = !memcmp(x->payer, ids[0], TB_KEY_LEN) ||
				    !memcmp(x->payer, ids[1], TB_KEY_LEN);
			bool q_in = !memcmp(x->provider, ids[0], TB_KEY_LEN) ||
				    !memcmp(x->provider, ids[1], TB_KEY_LEN);
			if (!p_in || !q_in)
				continue;
			if (!x->prepare_seq || !x->decide_seq || !x->final_seq)
				die(f, "an exchange unfinished at %s: %s",
				    f->node[side ? j : i].name, leg_text(f, x, t1, sizeof t1));
			if (x->final_outcome != x->outcome)
				die(f, "the final leg contradicts the decision at %s: %s",
				    f->node[side ? j : i].name, leg_text(f, x, t1, sizeof t1));
			const struct tb_xleg *y = find_leg(o, x->payer, x->txid);
			if (!y)
				die(f, "%s holds an exchange %s lacks: %s",
				    f->node[side ? j : i].name, f->node[side ? i : j].name,
				    leg_text(f, x, t1, sizeof t1));
			if (x->prepare_seq != y->prepare_seq || x->decide_seq != y->decide_seq ||
			    x->final_seq != y->final_seq || x->outcome != y->outcome ||
			    x->final_outcome != y->final_outcome || x->minutes != y->minutes ||
			    memcmp(x->provider, y->provider, TB_KEY_LEN))
				die(f,
				    "the ledgers disagree on an exchange:\n %s: %s\n %s: "
				    "%s",
				    f->node[side ? j : i].name, leg_text(f, x, t1, sizeof t1),
				    f->node[side ? i : j].name, leg_text(f, y, t2, sizeof t2));
			between += side == 0;
		}
	}
	free(a.x);
	free(b.x);
	return between;
}

/* ---- sending and waiting ---- */

struct sent {
	int code;
	char txid[2 * TB_TXID_LEN + 1];
	char state[24];
	char reason[160];
	char errcode[32];
	char text[4096]; /* stdout and stderr, for messages */
};

static void parse_sent(const char *out, const char *err, int code, struct sent *s)
{
	memset(s, 0, sizeof *s);
	s->code = code;
	snprintf(s->text, sizeof s->text, "%s%s", out, err);
	json_error_t e;
	json_t *j = json_loads(out, 0, &e);
	if (!j)
		return;
	const char *v;
	if ((v = jstr(j, "txid")))
		snprintf(s->txid, sizeof s->txid, "%s", v);
	if ((v = jstr(j, "state")))
		snprintf(s->state, sizeof s->state, "%s", v);
	const json_t *why = json_object_get(j, "refusal");
	if ((v = jstr(why, "message")))
		snprintf(s->reason, sizeof s->reason, "%s", v);
	const json_t *c = json_object_get(why, "code");
	if (json_is_string(c))
		snprintf(s->errcode, sizeof s->errcode, "%s", json_string_value(c));
	else if (json_is_integer(c))
		snprintf(s->errcode, sizeof s->errcode, "%lld", (long long)json_integer_value(c));
	json_decref(j);
}

/*
 * tally exchange send --attest at node i: from pays to (name@community),
 * the amount as `unit value` (--hours 1.5, --minutes 30), then extra
 * arguments (NULL-terminated; may be NULL).
 */
static void xsend(struct tb_fed *f, size_t i, const char *from, const char *to, const char *unit,
		  const char *value, const char *const *extra, struct sent *s)
{
	const char *args[40];
	size_t n = 0;
	const char *base[] = {"--json", "exchange", "send", "--from", from,   "--to",
			      to,	unit,	    value,  "--memo", "help", "--attest"};
	for (size_t k = 0; k < sizeof base / sizeof *base; k++)
		args[n++] = base[k];
	for (size_t k = 0; extra && extra[k] && n < 39; k++)
		args[n++] = extra[k];
	args[n] = NULL;
	int code = tb_fed_tally(f, i, args);
	parse_sent(f->res.out, f->res.err, code, s);
	print_message("send at %s: %s -> %s %s %s: exit %d %s %s %s\n", f->node[i].name, from, to,
		      unit, value, code, s->txid, s->state, s->reason);
}

static void txid_bytes(struct tb_fed *f, const char *hex, uint8_t out[TB_TXID_LEN])
{
	if (tb_hex_decode(out, TB_TXID_LEN, hex))
		die(f, "not a txid: \"%s\"", hex);
}

/* A sent exchange whose outcome is refused (exit 1) naming why. */
static void expect_refused(struct tb_fed *f, const struct sent *s, const char *reason,
			   const char *code)
{
	if (s->code != 1)
		die(f, "expected a refusal (%s), got exit %d: %s", reason, s->code, s->text);
	if (!strstr(s->reason, reason) && !strstr(s->text, reason))
		die(f, "the refusal does not say \"%s\": %s", reason, s->text);
	if (!strstr(s->text, code))
		die(f, "the refusal does not name %s: %s", code, s->text);
}

/* No clearing account below its floor now; min_seen[i] keeps the lowest
 * balance of node i's clearing accounts. */
static void watch_limits(struct tb_fed *f, int64_t *min_seen)
{
	for (size_t i = 0; i < f->n; i++) {
		struct book b;
		read_book(f, i, i, &b);
		for (size_t k = 0; k < b.nc; k++) {
			const struct tb_clearing *c = &b.c[k];
			if (c->linked && c->balance < -(int64_t)c->limit)
				die(f, "%s: clearing balance %lld beyond the limit %llu",
				    f->node[i].name, (long long)c->balance,
				    (unsigned long long)c->limit);
			if (c->balance < min_seen[i])
				min_seen[i] = c->balance;
		}
	}
}

/* Exchanges (payer node, txid) every node must hold finished. */
struct open_set {
	size_t n;
	const size_t *payer;
	const uint8_t (*txid)[TB_TXID_LEN];
	/* limits watched while waiting: each node's clearing for the other,
	 * never below -limit (0 for none) */
	int64_t min_seen[TB_FED_MAX_NODES];
};

static bool all_final(struct tb_fed *f, void *vctx, char *why, size_t cap, size_t *blame)
{
	struct open_set *o = vctx;
	struct legs l = {0};
	bool ok = true;
	for (size_t i = 0; i < f->n && ok; i++) {
		read_legs(f, i, &l);
		for (size_t k = 0; k < o->n && ok; k++) {
			const struct tb_xleg *x = find_leg(&l, f->node[o->payer[k]].id, o->txid[k]);
			if (!x || !x->final_seq) {
				char tx[2 * TB_TXID_LEN + 1], t[320];
				tb_hex_encode(tx, o->txid[k], TB_TXID_LEN);
				snprintf(why, cap, "%s: exchange %s %s", f->node[i].name, tx,
					 x ? leg_text(f, x, t, sizeof t) : "not held");
				*blame = i;
				ok = false;
			}
		}
	}
	watch_limits(f, o->min_seen);
	free(l.x);
	return ok;
}

static void wait_all_final(struct tb_fed *f, struct open_set *o, unsigned ms)
{
	tb_fed_wait(f, ms, all_final, o, "every exchange finished on every node");
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);
}

static void wait_final(struct tb_fed *f, size_t payer, const char *txid_hex)
{
	uint8_t tx[1][TB_TXID_LEN];
	txid_bytes(f, txid_hex, tx[0]);
	struct open_set o = {1, &payer, (const uint8_t(*)[TB_TXID_LEN])tx, {0}};
	wait_all_final(f, &o, WAIT_MS);
}

struct status_ctx {
	size_t node;
	const char *txid;
	const char *want[3];
	char state[24], reason[160];
};

static bool status_is(struct tb_fed *f, void *vctx, char *why, size_t cap, size_t *blame)
{
	struct status_ctx *c = vctx;
	*blame = c->node;
	int code = TB_FED_TALLY(f, c->node, "--json", "exchange", "status", c->txid);
	struct sent s;
	parse_sent(f->res.out, f->res.err, code, &s);
	snprintf(c->state, sizeof c->state, "%s", s.state);
	snprintf(c->reason, sizeof c->reason, "%s", s.reason);
	for (size_t k = 0; k < 3 && c->want[k]; k++)
		if (!strcmp(s.state, c->want[k]))
			return true;
	snprintf(why, cap, "exchange status %s at %s: exit %d, %s", c->txid, f->node[c->node].name,
		 code, s.text);
	return false;
}

/* Waits until `exchange status` at node i says one of the states; returns
 * the reason it gives (static). */
static const char *wait_status(struct tb_fed *f, size_t i, const char *txid, const char *s1,
			       const char *s2)
{
	static struct status_ctx c;
	memset(&c, 0, sizeof c);
	c.node = i;
	c.txid = txid;
	c.want[0] = s1;
	c.want[1] = s2;
	tb_fed_wait(f, 10000, status_is, &c, "exchange status");
	return c.reason;
}

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

/*
 * Riverside and hillside (and lakeside if n is 3, dialing riverside), every
 * daemon running and every log everywhere; riverside lets hillside owe it
 * lim_ab hours, hillside riverside lim_ba.
 */
static struct tb_fed *pair(struct fx *x, const char *tag, size_t n, const char *lim_ab,
			   const char *lim_ba)
{
	struct tb_fed *f = x->f = tb_fed_new_spec(tag, n, specs);
	/* Both dial: whichever restarts finds the other at once. */
	tb_fed_link(f, RIVER, HILL);
	tb_fed_link(f, HILL, RIVER);
	if (n > 2) {
		tb_fed_link(f, LAKE, RIVER);
		tb_fed_link(f, RIVER, LAKE);
	}
	tb_fed_start_all(f);
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);
	TALLY_OK(f, RIVER, "link", "add", "hillside", "--limit", lim_ab);
	TALLY_OK(f, HILL, "link", "add", "riverside", "--limit", lim_ba);
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);
	return f;
}

static void expect_member(struct tb_fed *f, size_t i, const char *name, int64_t want)
{
	struct book b;
	read_book(f, i, i, &b);
	const struct tb_member *m = book_m(f, &b, name);
	if (m->balance != want)
		die(f, "%s@%s: balance %lld, expected %lld", name, f->node[i].name,
		    (long long)m->balance, (long long)want);
}

static void expect_clearing(struct tb_fed *f, size_t i, size_t other, int64_t want)
{
	struct book b;
	read_book(f, i, i, &b);
	int64_t got = clearing_balance(f, &b, other);
	if (got != want)
		die(f, "%s's clearing for %s: %lld, expected %lld", f->node[i].name,
		    f->node[other].name, (long long)got, (long long)want);
}

/* `link list --json` at i: the entry for other. */
static void check_link_list(struct tb_fed *f, size_t i, size_t other, long long limit,
			    long long their_limit, long long balance, long long exchanges)
{
	char what[64];
	snprintf(what, sizeof what, "link list at %s", f->node[i].name);
	TALLY_OK(f, i, "--json", "link", "list");
	json_t *j = out_json(f, what);
	json_t *links = json_object_get(j, "links");
	if (!json_is_array(links))
		die(f, "%s: no array of links: %s", what, f->res.out);
	size_t k;
	json_t *e, *found = NULL;
	json_array_foreach(links, k, e)
	{
		const char *c = jstr(e, "community_name");
		if (c && !strcmp(c, f->node[other].name))
			found = e;
	}
	if (!found)
		die(f, "%s: no %s: %s", what, f->node[other].name, f->res.out);
	char id[2 * TB_KEY_LEN + 1];
	tb_hex_encode(id, f->node[other].id, TB_KEY_LEN);
	const char *got_id = jstr(found, "community");
	if (!got_id || strcmp(got_id, id) || !json_is_true(json_object_get(found, "linked")) ||
	    jint(f, found, "limit_minutes", what) != limit ||
	    jint(f, found, "their_limit_minutes", what) != their_limit ||
	    jint(f, found, "balance_minutes", what) != balance ||
	    jint(f, found, "mirror_minutes", what) != -balance ||
	    jint(f, found, "held_minutes", what) != 0 ||
	    jint(f, found, "exchanges", what) != exchanges)
		die(f,
		    "%s: expected %s limit %lld, theirs %lld, balance %lld, %lld "
		    "exchanges: %s",
		    what, f->node[other].name, limit, their_limit, balance, exchanges, f->res.out);
	json_decref(j);
}

/* ---- 1. the happy path ---- */

static void test_happy_path(void **state)
{
	struct fx *x = *state;
	struct tb_fed *f = pair(x, "cross-happy", 2, "10", "10");
	const char *wait[] = {"--timeout", "30", NULL};
	struct sent s;

	/* Alice helped Bob: Bob's community pays. */
	xsend(f, HILL, "bob", "alice@riverside", "--hours", "1.5", wait, &s);
	if (s.code || strcmp(s.state, "completed") || strlen(s.txid) != 2 * TB_TXID_LEN)
		die(f, "bob -> alice@riverside: exit %d, state \"%s\": %s", s.code, s.state,
		    s.text);
	char first[2 * TB_TXID_LEN + 1];
	snprintf(first, sizeof first, "%s", s.txid);
	wait_final(f, HILL, s.txid);
	wait_status(f, HILL, s.txid, "completed", NULL);
	wait_status(f, RIVER, s.txid, "completed", NULL);
	expect_member(f, RIVER, "alice", 90);
	expect_member(f, RIVER, "ann", 0);
	expect_clearing(f, RIVER, HILL, -90);
	expect_member(f, HILL, "bob", -90);
	expect_member(f, HILL, "bea", 0);
	expect_clearing(f, HILL, RIVER, 90);
	check_books(f);
	assert_int_equal(check_legs_agree(f, RIVER, HILL), 1);
	check_balance_cli(f, RIVER);
	check_balance_cli(f, HILL);
	check_link_list(f, RIVER, HILL, 600, 600, -90, 1);
	check_link_list(f, HILL, RIVER, 600, 600, 90, 1);
	/* Statements name the remote member and community. */
	TALLY_OK(f, RIVER, "history", "alice");
	if (!strstr(f->res.out, "bob") || !strstr(f->res.out, "hillside"))
		die(f, "alice's statement does not show bob@hillside: %s", f->res.out);

	/* The other way: Bea helped Ann. */
	xsend(f, RIVER, "ann", "bea@hillside", "--minutes", "45", wait, &s);
	if (s.code || strcmp(s.state, "completed"))
		die(f, "ann -> bea@hillside: exit %d, state \"%s\": %s", s.code, s.state, s.text);
	assert_string_not_equal(s.txid, first);
	wait_final(f, RIVER, s.txid);
	wait_status(f, RIVER, s.txid, "completed", NULL);
	wait_status(f, HILL, s.txid, "completed", NULL);
	expect_member(f, RIVER, "ann", -45);
	expect_member(f, RIVER, "alice", 90);
	expect_clearing(f, RIVER, HILL, -45);
	expect_member(f, HILL, "bea", 45);
	expect_member(f, HILL, "bob", -90);
	expect_clearing(f, HILL, RIVER, 45);
	check_books(f);
	assert_int_equal(check_legs_agree(f, RIVER, HILL), 2);
	check_balance_cli(f, RIVER);
	check_balance_cli(f, HILL);
	check_link_list(f, RIVER, HILL, 600, 600, -45, 2);
	verify_all(f);
	tb_fed_stop_all(f);
}

/* ---- 2. refusals ---- */

/* A refused exchange ends on both sides with nothing changed. */
static void settle_refused(struct tb_fed *f, size_t payer, size_t provider, const struct sent *s,
			   const struct snap *before, const char *reason)
{
	if (strlen(s->txid) != 2 * TB_TXID_LEN)
		die(f, "a refused exchange without its txid: %s", s->text);
	wait_final(f, payer, s->txid);
	const char *r = wait_status(f, payer, s->txid, "released", "refused");
	if (!strstr(r, reason))
		die(f, "status at %s gives the reason \"%s\", not \"%s\"", f->node[payer].name, r,
		    reason);
	wait_status(f, provider, s->txid, "released", "refused");
	struct snap after;
	take_snap(f, &after);
	snaps_same(f, before, &after, reason);
	check_books(f);
}

static void test_refusals(void **state)
{
	struct fx *x = *state;
	struct tb_fed *f = pair(x, "cross-refuse", 3, "10", "10");
	/* Lakeside trusts riverside; riverside never linked lakeside. */
	TALLY_OK(f, LAKE, "link", "add", "riverside", "--limit", "10");
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);
	const char *wait[] = {"--timeout", "30", NULL};
	struct snap before;
	struct sent s;
	take_snap(f, &before);

	/* Nobody of that name at riverside. */
	xsend(f, HILL, "bob", "nobody@riverside", "--hours", "1", wait, &s);
	expect_refused(f, &s, "unknown member", "EMEMBER");
	settle_refused(f, HILL, RIVER, &s, &before, "unknown member");

	/* Riverside now lets hillside owe it one hour only. */
	TALLY_OK(f, RIVER, "link", "add", "hillside", "--limit", "1");
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);
	check_link_list(f, RIVER, HILL, 60, 600, 0, 0);
	xsend(f, HILL, "bob", "alice@riverside", "--hours", "2", wait, &s);
	expect_refused(f, &s, "trust limit reached", "ETRUST");
	settle_refused(f, HILL, RIVER, &s, &before, "trust limit reached");

	/* Riverside is down until the prepare has expired. (A ttl of 2 s: with
	 * 1 s, the second may turn between the expiry the command line sets
	 * and the entry's timestamp, and the prepare is refused at home.) */
	tb_fed_stop(f, RIVER);
	const char *nowait[] = {"--ttl", "2", "--no-wait", NULL};
	xsend(f, HILL, "bob", "alice@riverside", "--minutes", "30", nowait, &s);
	if (s.code || strlen(s.txid) != 2 * TB_TXID_LEN)
		die(f, "send --no-wait: exit %d: %s", s.code, s.text);
	tb_fed_sleep_ms(3200);
	tb_fed_start(f, RIVER);
	settle_refused(f, HILL, RIVER, &s, &before, "expired");
	wait_status(f, HILL, s.txid, "released", NULL);

	/* Lakeside's link to riverside is not returned: riverside would never
	 * answer (it signs nothing for a community it does not trust), so the
	 * send is refused at home and nothing is held. */
	uint64_t lseq = tb_fed_own_seq(f, LAKE);
	xsend(f, LAKE, "carl", "alice@riverside", "--hours", "1", wait, &s);
	if (s.code != 1 || !strstr(s.text, "riverside has no trust line with this community") ||
	    !strstr(s.text, "ELINK"))
		die(f,
		    "a send to a community without a trust line back: exit %d (expected 1, "
		    "ELINK): %s",
		    s.code, s.text);
	assert_int_equal(tb_fed_own_seq(f, LAKE), lseq);

	/* Riverside has no link to lakeside: refused at home, nothing appended. */
	uint64_t seq = tb_fed_own_seq(f, RIVER);
	xsend(f, RIVER, "alice", "carl@lakeside", "--minutes", "30", wait, &s);
	if (s.code != 1 || !strstr(s.text, "ELINK"))
		die(f, "a send without our own link: exit %d (expected 1, ELINK): %s", s.code,
		    s.text);
	assert_int_equal(tb_fed_own_seq(f, RIVER), seq);

	struct snap after;
	take_snap(f, &after);
	snaps_same(f, &before, &after, "after every refusal");
	check_books(f);
	assert_int_equal(check_legs_agree(f, RIVER, HILL), 3);
	assert_int_equal(check_legs_agree(f, RIVER, LAKE), 0);
	for (size_t i = 0; i < 3; i++)
		check_balance_cli(f, i);
	verify_all(f);
	tb_fed_stop_all(f);
}

/* ---- 3. a node exits at each crash point ---- */

static const struct {
	const char *point;
	bool payer; /* reached on the payer's node, else the provider's */
} points[] = {
	{"after-prepare", true}, {"before-decision", false}, {"after-decision", false},
	{"before-final", true},	 {"after-final", true},
};

/* One exchange's legs as node i holds them (all zero if none). */
static void leg_at(struct tb_fed *f, size_t i, size_t payer, const uint8_t *txid, struct tb_xleg *x)
{
	struct tb_store *s = open_ro(f, i);
	int err = tb_store_xleg(s, f->node[payer].id, txid, x);
	tb_store_free(s);
	if (err == TB_ENOTFOUND)
		memset(x, 0, sizeof *x);
	else if (err)
		die(f, "reading an exchange at %s: %s", f->node[i].name, tb_strerror(err));
}

/*
 * The node stopped where the point says: the legs it holds durable, and
 * (since legs travel only after the clearing step) the other node holds
 * no leg the crashed node appended.
 */
static void check_crash_state(struct tb_fed *f, size_t p, size_t node, size_t payer,
			      size_t provider, const char *txid_hex)
{
	uint8_t txid[TB_TXID_LEN];
	txid_bytes(f, txid_hex, txid);
	struct tb_xleg at, other;
	leg_at(f, node, payer, txid, &at);
	leg_at(f, node == payer ? provider : payer, payer, txid, &other);
	bool ok;
	switch (p) {
	case 0: /* after-prepare, payer: its prepare only, never sent */
		ok = at.prepare_seq && !at.decide_seq && !other.prepare_seq;
		break;
	case 1: /* before-decision, provider: the prepare, no decision */
		ok = at.prepare_seq && !at.decide_seq && !other.decide_seq;
		break;
	case 2: /* after-decision, provider: the decision, not sent */
		ok = at.decide_seq && !at.final_seq && !other.decide_seq;
		break;
	case 3: /* before-final, payer: the decision, no final leg */
		ok = at.decide_seq && !at.final_seq && !other.final_seq;
		break;
	default: /* after-final, payer: the final leg, not sent */
		ok = at.final_seq && !other.final_seq;
		break;
	}
	if (!ok) {
		char t1[320], t2[320];
		die(f, "after the crash at %s: %s holds %s; %s holds %s\n%s", points[p].point,
		    f->node[node].name, leg_text(f, &at, t1, sizeof t1),
		    f->node[node == payer ? provider : payer].name,
		    leg_text(f, &other, t2, sizeof t2), f->note);
	}
}

static void crash_points(void **state)
{
	struct fx *x = *state;
	struct tb_fed *f = pair(x, "cross-crash", 2, "10", "10");
	/* The expected books: members [node][0..1], clearing [node]. */
	static const char *const names[2][2] = {{"alice", "ann"}, {"bob", "bea"}};
	int64_t bal[2][2] = {{0}}, clear[2] = {0};
	size_t done = 0;
	for (size_t dir = 0; dir < 2; dir++) {
		size_t payer = dir ? RIVER : HILL, provider = dir ? HILL : RIVER;
		for (size_t p = 0; p < sizeof points / sizeof *points; p++) {
			size_t node = points[p].payer ? payer : provider;
			size_t pm = p % 2, qm = (p / 2) % 2;
			unsigned minutes = 10 + 5 * (unsigned)(dir * 5 + p);
			snprintf(f->note, sizeof f->note, "crash point %s on %s (%s pays %s)",
				 points[p].point, f->node[node].name, f->node[payer].name,
				 f->node[provider].name);
			print_message("%s\n", f->note);

			char env[64], to[64], mins[16];
			snprintf(env, sizeof env, "TALLYD_CRASH_AT=%s", points[p].point);
			snprintf(to, sizeof to, "%s@%s", names[provider][qm],
				 f->node[provider].name);
			snprintf(mins, sizeof mins, "%u", minutes);
			const char *envv[] = {env, NULL};
			tb_fed_stop(f, node);
			tb_fed_spawn_env(f, node, NULL, envv);
			tb_fed_wait_up(f, node);

			const char *nowait[] = {"--no-wait", NULL};
			struct sent s;
			xsend(f, payer, names[payer][pm], to, "--minutes", mins, nowait, &s);
			if (s.code || strlen(s.txid) != 2 * TB_TXID_LEN)
				die(f, "send --no-wait: exit %d: %s\n%s", s.code, s.text, f->note);

			int st = tb_fed_wait_exit(f, node, CRASH_MS);
			char b[64];
			if (st == -1)
				die(f, "%s's tallyd did not exit within %d ms\n%s",
				    f->node[node].name, CRASH_MS, f->note);
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 70)
				die(f, "%s's tallyd %s, not with 70\n%s", f->node[node].name,
				    tb_fed_describe_status(st, b), f->note);
			if (!tb_fed_log_has(f, node, "crash point", points[p].point))
				die(f, "%s's log does not name the crash point\n%s",
				    f->node[node].name, f->note);
			check_crash_state(f, p, node, payer, provider, s.txid);

			tb_fed_start(f, node);
			wait_final(f, payer, s.txid);
			wait_status(f, payer, s.txid, "completed", NULL);
			wait_status(f, provider, s.txid, "completed", NULL);
			bal[payer][pm] -= minutes;
			bal[provider][qm] += minutes;
			clear[payer] += minutes;
			clear[provider] -= minutes;
			for (size_t i = 0; i < 2; i++) {
				for (size_t m = 0; m < 2; m++)
					expect_member(f, i, names[i][m], bal[i][m]);
				expect_clearing(f, i, 1 - i, clear[i]);
			}
			check_books(f);
			assert_int_equal(check_legs_agree(f, RIVER, HILL), ++done);
			verify_all(f);
		}
	}
	f->note[0] = '\0';
	check_balance_cli(f, RIVER);
	check_balance_cli(f, HILL);
	tb_fed_stop_all(f);
}

/* ---- 4. 100 exchanges both ways at once ---- */

#define NJOBS 100
#define LIMIT_MIN 300 /* 5 hours each way */

struct job {
	size_t payer, provider;
	const char *from, *to_name;
	unsigned minutes;
	struct sent s;
	uint8_t txid[TB_TXID_LEN];
};

/* Job k: even from hillside (60-90 min), odd from riverside (30-60 min), so
 * that far more flows toward riverside than its limit lets hillside owe. */
static void job_plan(struct job *j, size_t k)
{
	static const char *const names[2][2] = {{"alice", "ann"}, {"bob", "bea"}};
	size_t i = k / 2;
	memset(j, 0, sizeof *j);
	j->payer = k % 2 ? RIVER : HILL;
	j->provider = 1 - j->payer;
	j->from = names[j->payer][i % 2];
	j->to_name = names[j->provider][(i / 2) % 2];
	j->minutes = k % 2 ? 30 + (unsigned)(i * 13 % 31) : 60 + (unsigned)(i * 37 % 31);
}

/* Strips tabs and newlines so one result is one line. */
static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\t' || *s == '\r')
			*s = ' ';
}

/* In a child: runs jobs w, w+NWORKERS... one after another; writes
 * "k<TAB>exit<TAB>stdout<TAB>stderr" lines to out. */
static int worker(struct tb_fed *f, size_t w, const char *out)
{
	FILE *fp = fopen(out, "w");
	struct tb_proc_result *r = malloc(sizeof *r);
	if (!fp || !r)
		return 1;
	for (size_t k = w; k < NJOBS; k += NWORKERS) {
		struct job j;
		job_plan(&j, k);
		char to[64], mins[16], memo[32];
		snprintf(to, sizeof to, "%s@%s", j.to_name, f->node[j.provider].name);
		snprintf(mins, sizeof mins, "%u", j.minutes);
		snprintf(memo, sizeof memo, "job %zu", k);
		const char *argv[] = {tb_tally_bin(),
				      "--data",
				      f->node[j.payer].data,
				      "--json",
				      "exchange",
				      "send",
				      "--from",
				      j.from,
				      "--to",
				      to,
				      "--minutes",
				      mins,
				      "--memo",
				      memo,
				      "--attest",
				      "--no-wait",
				      NULL};
		if (tb_run(r, argv))
			return 1;
		one_line(r->out);
		one_line(r->err);
		fprintf(fp, "%zu\t%d\t%s\t%s\n", k, r->code, r->out, r->err);
	}
	free(r);
	return fclose(fp) ? 1 : 0;
}

/* Runs the jobs in NWORKERS processes, watching the limits meanwhile. */
static void run_workers(struct tb_fed *f, struct job *jobs, int64_t *min_seen, size_t *looks)
{
	pid_t *pids = workers;
	char outs[NWORKERS][TB_FED_PATH + 32];
	for (size_t w = 0; w < NWORKERS; w++) {
		snprintf(outs[w], sizeof outs[w], "%.1000s/worker%zu.txt", f->root, w);
		fflush(NULL);
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0)
			_exit(worker(f, w, outs[w]));
	}
	bool failed = false;
	for (size_t left = NWORKERS; left;) {
		for (size_t w = 0; w < NWORKERS; w++) {
			int st;
			if (!pids[w] || waitpid(pids[w], &st, WNOHANG) != pids[w])
				continue;
			failed |= !WIFEXITED(st) || WEXITSTATUS(st);
			pids[w] = 0;
			left--;
		}
		watch_limits(f, min_seen);
		(*looks)++;
		tb_fed_sleep_ms(20);
	}
	if (failed)
		die(f, "a worker failed to run tally");
	size_t got = 0;
	for (size_t w = 0; w < NWORKERS; w++) {
		size_t len;
		char *text = (char *)tb_test_read_file(outs[w], &len);
		if (!text)
			die(f, "no results from worker %zu", w);
		text = realloc(text, len + 1);
		assert_non_null(text);
		text[len] = '\0';
		for (char *line = text; line && *line;) {
			char *nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			char *f1 = strchr(line, '\t'), *f2 = f1 ? strchr(f1 + 1, '\t') : NULL,
			     *f3 = f2 ? strchr(f2 + 1, '\t') : NULL;
			if (!f3)
				die(f, "bad worker line: %s", line);
			*f1 = *f2 = *f3 = '\0';
			size_t k = (size_t)strtoul(line, NULL, 10);
			assert_true(k < NJOBS);
			parse_sent(f2 + 1, f3 + 1, atoi(f1 + 1), &jobs[k].s);
			got++;
			line = nl ? nl + 1 : NULL;
		}
		free(text);
	}
	assert_int_equal(got, NJOBS);
}

static void test_concurrency(void **state)
{
	struct fx *x = *state;
	struct tb_fed *f = pair(x, "cross-many", 2, "5", "5");
	static struct job jobs[NJOBS];
	for (size_t k = 0; k < NJOBS; k++)
		job_plan(&jobs[k], k);
	uint64_t t0 = tb_fed_now_ms();
	int64_t min_seen[TB_FED_MAX_NODES] = {0};
	size_t looks = 0;
	run_workers(f, jobs, min_seen, &looks);
	uint64_t t1 = tb_fed_now_ms();

	/* Sent (held) or refused at home (a member's floor with holds open). */
	static size_t payer[NJOBS];
	static uint8_t txids[NJOBS][TB_TXID_LEN];
	size_t sent = 0, home_refused = 0;
	for (size_t k = 0; k < NJOBS; k++) {
		struct sent *s = &jobs[k].s;
		if (s->code == 0) {
			if (strlen(s->txid) != 2 * TB_TXID_LEN)
				die(f, "job %zu: no txid: %s", k, s->text);
			txid_bytes(f, s->txid, jobs[k].txid);
			payer[sent] = jobs[k].payer;
			memcpy(txids[sent++], jobs[k].txid, TB_TXID_LEN);
		} else if (s->code == 1) {
			home_refused++;
			print_message("job %zu refused at home: %s\n", k, s->text);
		} else {
			die(f, "job %zu: exit %d: %s", k, s->code, s->text);
		}
	}
	struct open_set o = {sent, payer, (const uint8_t(*)[TB_TXID_LEN])txids, {0}};
	memcpy(o.min_seen, min_seen, sizeof min_seen);
	wait_all_final(f, &o, 90000);
	uint64_t t2 = tb_fed_now_ms();

	/* Count outcomes and recompute the books from the committed ones. */
	struct legs l = {0};
	read_legs(f, RIVER, &l);
	static const char *const names[2][2] = {{"alice", "ann"}, {"bob", "bea"}};
	int64_t bal[2][2] = {{0}}, clear[2] = {0};
	size_t completed = 0, by_outcome[TB_XOUTCOME_MAX + 1] = {0};
	for (size_t k = 0; k < NJOBS; k++) {
		struct job *j = &jobs[k];
		if (j->s.code)
			continue;
		const struct tb_xleg *g = find_leg(&l, f->node[j->payer].id, j->txid);
		assert_non_null(g);
		assert_true(g->final_seq && g->final_outcome == g->outcome);
		assert_int_equal(g->minutes, j->minutes);
		by_outcome[g->outcome]++;
		if (g->outcome)
			continue;
		completed++;
		size_t pm = strcmp(j->from, names[j->payer][0]) ? 1 : 0;
		size_t qm = strcmp(j->to_name, names[j->provider][0]) ? 1 : 0;
		bal[j->payer][pm] -= j->minutes;
		bal[j->provider][qm] += j->minutes;
		clear[j->payer] += j->minutes;
		clear[j->provider] -= j->minutes;
	}
	free(l.x);
	print_message("%d exchanges sent in %llu ms, all finished %llu ms later: %zu completed, "
		      "%zu refused by the trust limit, %zu refused otherwise by the provider, "
		      "%zu refused at home; lowest clearing balances seen in %zu looks: "
		      "riverside %lld, hillside %lld\n",
		      NJOBS, (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1),
		      completed, by_outcome[2], sent - completed - by_outcome[2], home_refused,
		      looks, (long long)o.min_seen[RIVER], (long long)o.min_seen[HILL]);
	for (size_t i = 0; i < 2; i++) {
		for (size_t m = 0; m < 2; m++)
			expect_member(f, i, names[i][m], bal[i][m]);
		expect_clearing(f, i, 1 - i, clear[i]);
		if (clear[i] < -LIMIT_MIN || o.min_seen[i] < -LIMIT_MIN)
			die(f, "%s's clearing went below -%d", f->node[i].name, LIMIT_MIN);
	}
	if (!completed || !by_outcome[2])
		die(f,
		    "expected some exchanges completed and some refused by the trust "
		    "limit: "
		    "%zu completed, %zu refused by the limit",
		    completed, by_outcome[2]);
	check_books(f);
	assert_int_equal(check_legs_agree(f, RIVER, HILL), sent);
	/* The command line agrees, for a sample on both sides. */
	for (size_t k = 0; k < NJOBS; k += 20) {
		if (jobs[k].s.code)
			continue;
		const struct tb_xleg *g = NULL;
		struct legs l2 = {0};
		read_legs(f, HILL, &l2);
		g = find_leg(&l2, f->node[jobs[k].payer].id, jobs[k].txid);
		assert_non_null(g);
		bool ok = g->outcome == 0;
		free(l2.x);
		for (size_t i = 0; i < 2; i++)
			wait_status(f, i, jobs[k].s.txid, ok ? "completed" : "released",
				    ok ? NULL : "refused");
	}
	check_balance_cli(f, RIVER);
	check_balance_cli(f, HILL);
	verify_all(f);
	tb_fed_stop_all(f);
}

/* crash_points runs as a CTest test of its own (test_cross_crash). */
int main(int argc, char **argv)
{
	tb_test_select(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_happy_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_points, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrency, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
