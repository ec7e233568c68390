/*
 * cmd_report.c: the read-only reports: `tally balance`, `tally history` (a
 * member's statement with running balance, or the community's journal) and
 * `tally log` (raw entries decoded field by field from the message tables,
 * so every kind prints without code of its own). Balances include what is
 * held for cross-community exchanges in flight and the clearing accounts;
 * statements name the remote member of a cross-community exchange as
 * name@community. Nothing here writes.
 */
#include "cli.h"
#include "tb_ops.h"
#include "tb_report.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int no_opts(int argc, char **argv, const char *name, int max_args)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, NULL, name) != -1)
		return -1;
	if (argc - optind > max_args) {
		tb_cli_fail(TB_EXIT_USAGE, "%s: too many arguments", name);
		return -1;
	}
	return optind;
}

struct bal_ctx {
	struct tb_cli *cli;
	int64_t sum;
	bool any_held;
	bool skip_account; /* the community account was listed already */
	int err;
};

static int held_one(void *vctx, const struct tb_member *m)
{
	struct bal_ctx *b = vctx;
	if (m->held)
		b->any_held = true;
	return 0;
}

static int bal_one(void *vctx, const struct tb_member *m)
{
	struct bal_ctx *b = vctx;
	if (m->no == TB_COMMUNITY_ACCOUNT && b->skip_account)
		return 0;
	b->sum += m->balance;
	if (!m->active && m->balance == 0 && m->held == 0)
		return 0;
	char h[32], hd[32];
	tb_out_hours(h, sizeof h, m->balance);
	tb_out_hours(hd, sizeof hd, m->held);
	printf("  ");
	tb_cli_pad(stdout, m->name, 20);
	if (b->any_held)
		printf(" %9s %9s%s\n", h, m->held ? hd + 1 : "", m->active ? "" : "  (left)");
	else
		printf(" %9s%s\n", h, m->active ? "" : "  (left)");
	return 0;
}

static int count_one(void *vctx, const struct tb_clearing *c)
{
	(void)c;
	++*(size_t *)vctx;
	return 0;
}

/* The clearing accounts: what this community owes (+) or is owed (-) by
 * each other community. Members and clearing accounts sum to zero. */
static int clear_one(void *vctx, const struct tb_clearing *c)
{
	struct bal_ctx *b = vctx;
	struct tb_cli *cli = b->cli;
	char name[TB_CLI_CNAME_MAX], h[32], hd[32], lim[32];
	tb_cli_community_name(cli, c->other, name, sizeof name);
	b->sum += c->balance;
	tb_out_hours(h, sizeof h, c->balance);
	tb_out_hours(hd, sizeof hd, c->held);
	tb_out_hours(lim, sizeof lim, (int64_t)c->limit);
	printf("  ");
	tb_cli_pad(stdout, name, 20);
	printf(" %9s %9s  %s%s%s\n", h, c->held ? hd + 1 : "",
	       c->linked ? "may owe us up to " : "no trust line", c->linked ? lim + 1 : "",
	       c->balance > 0	? " (we owe them)"
	       : c->balance < 0 ? " (they owe us)"
				: "");
	return 0;
}

static int balance_one(struct tb_cli *cli, const char *name)
{
	struct tb_member m;
	int rc = tb_cli_member(cli, name, &m);
	if (rc)
		return rc;
	char h[32], f[32], hd[32];
	tb_out_hours(h, sizeof h, m.balance);
	tb_out_hours(f, sizeof f, m.floor);
	tb_out_hours(hd, sizeof hd, m.held);
	if (cli->json) {
		/* The API's member object (GET /api/v1/members/NAME). */
		return tb_cli_print_json(tb_vocab_member(&m), 0, "the member");
	} else if (m.held) {
		printf("%s: %s hours (debt limit %s; %s hours held for exchanges in flight)\n",
		       m.name, h, f, hd + 1);
	} else {
		printf("%s: %s hours (debt limit %s)\n", m.name, h, f);
	}
	return TB_EXIT_OK;
}

int tb_cmd_balance(struct tb_cli *cli, int argc, char **argv)
{
	int at = no_opts(argc, argv, "balance", 1);
	if (at < 0)
		return TB_EXIT_USAGE;
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	if (at < argc)
		return balance_one(cli, argv[at]);
	int err;
	if (cli->json) {
		/* The API's object (GET /api/v1/balances), by the same code. */
		struct tb_json *o = tb_vocab_balances(cli->store, cli->self, &err);
		return tb_cli_print_json(o, err, "balances");
	}
	struct tb_community c;
	err = tb_store_community(cli->store, cli->self, &c);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the community: %s", tb_strerror(err));
	struct bal_ctx b = {.cli = cli};
	err = tb_store_foreach_member(cli->store, cli->self, held_one, &b);
	printf("%s: balances in hours\n", c.name);
	if (b.any_held)
		printf("  %-20s %9s %9s\n", "member", "balance", "held");
	/* The community account comes first, also before it ever moved (the
	 * store lists it once it holds a record of it). */
	struct tb_member acct;
	if (!err &&
	    (err = tb_store_member(cli->store, cli->self, TB_COMMUNITY_ACCOUNT, &acct)) == 0 &&
	    acct.balance == 0 && (err = bal_one(&b, &acct)) == 0)
		b.skip_account = true;
	if (!err)
		err = tb_store_foreach_member(cli->store, cli->self, bal_one, &b);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read balances: %s", tb_strerror(err));
	int64_t members = b.sum;
	size_t n = 0;
	err = tb_store_foreach_clearing(cli->store, cli->self, count_one, &n);
	if (!err && n)
		printf("clearing accounts (+ we owe them, - they owe us):\n");
	if (!err)
		err = tb_store_foreach_clearing(cli->store, cli->self, clear_one, &b);
	if (err && err != TB_ENOTFOUND)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the clearing accounts: %s",
				   tb_strerror(err));
	char h[32], s[32];
	tb_out_hours(h, sizeof h, (int64_t)c.minutes);
	tb_out_hours(s, sizeof s, b.sum);
	char ms[32];
	tb_out_hours(ms, sizeof ms, members);
	printf("  %llu local exchanges, %s hours of help; members' balances sum to %s\n"
	       "sum of all accounts: %s\n",
	       (unsigned long long)c.exchanges, h + 1, members ? ms : ms + 1, b.sum ? s : s + 1);
	return TB_EXIT_OK;
}

/*
 * The exchange a history line is about (the original, for a reversal). For a
 * leg of a cross-community exchange (kind "cross"), x holds the terms (from
 * the prepare, or the decision) and one side is the remote member: the
 * payer's final leg shows "paid alice@riverside", the provider's decision
 * "from bob@hillside".
 */
struct line {
	uint64_t seq;
	uint64_t timestamp;
	bool reversal;
	bool cross;
	bool local_provides; /* cross: the local member is the provider */
	char remote[TB_NAME_MAX + 2 + TB_CLI_CNAME_MAX]; /* cross: name@community */
	struct tb_exchange x;				 /* views into rec (or prep) */
	uint8_t rec[TB_ENTRY_MAX];
	uint8_t prep[TB_ENTRY_MAX];
};

static void remote_of(struct tb_cli *cli, struct line *l, struct tb_view name,
		      const uint8_t log[TB_KEY_LEN])
{
	char c[TB_CLI_CNAME_MAX];
	tb_cli_community_name(cli, log, c, sizeof c);
	snprintf(l->remote, sizeof l->remote, "%.*s@%s", (int)name.len, (const char *)name.p, c);
}

/* A cross leg that moved minutes: the decision (provider side) or the final
 * leg (payer side); TB_EKIND for a refusal, which changes no balance. */
static int load_cross(struct tb_cli *cli, const struct tb_entry *e, struct line *l)
{
	memset(&l->x, 0, sizeof l->x);
	l->cross = true;
	if (e->kind == TB_KIND_XDECIDE) {
		const struct tb_xdecide *d = &e->body.xdecide;
		if (d->outcome)
			return TB_EKIND;
		l->local_provides = true;
		memcpy(l->x.txid, d->txid, TB_TXID_LEN);
		l->x.provider = d->member;
		l->x.minutes = d->minutes;
		l->x.category = d->category;
		l->x.date = d->date;
		remote_of(cli, l, d->from_name, d->from_log);
		return 0;
	}
	const struct tb_xfinal *f = &e->body.xfinal;
	if (f->outcome)
		return TB_EKIND;
	struct tb_xleg leg;
	struct tb_entry p;
	size_t len;
	int err = tb_store_xleg(cli->store, cli->self, f->txid, &leg);
	if (!err && !leg.prepare_seq)
		err = TB_ECORRUPT;
	if (!err)
		err = tb_store_get_entry(cli->store, cli->self, leg.prepare_seq, l->prep,
					 sizeof l->prep, &len);
	if (!err)
		err = tb_entry_decode(&p, l->prep, len);
	if (!err && p.kind != TB_KIND_XPREPARE)
		err = TB_ECORRUPT;
	if (err)
		return err;
	const struct tb_xprepare *x = &p.body.xprepare;
	l->local_provides = false;
	memcpy(l->x.txid, x->txid, TB_TXID_LEN);
	l->x.receiver = x->member;
	l->x.minutes = x->minutes;
	l->x.category = x->category;
	l->x.date = x->date;
	l->x.attested = x->attested;
	remote_of(cli, l, x->to_name, x->to_log);
	return 0;
}

static int load_line(struct tb_cli *cli, uint64_t seq, struct line *l)
{
	size_t len;
	struct tb_entry e;
	int err = tb_store_get_entry(cli->store, cli->self, seq, l->rec, sizeof l->rec, &len);
	if (!err)
		err = tb_entry_decode(&e, l->rec, len);
	if (err)
		return err;
	l->seq = seq;
	l->timestamp = e.timestamp;
	l->reversal = e.kind == TB_KIND_REVERSAL;
	l->cross = false;
	if (e.kind == TB_KIND_EXCHANGE) {
		l->x = e.body.exchange;
		return 0;
	}
	if (e.kind == TB_KIND_XDECIDE || e.kind == TB_KIND_XFINAL)
		return load_cross(cli, &e, l);
	if (e.kind == TB_KIND_OPENING) {
		/* Shown as an attested exchange with the community account. */
		const struct tb_opening *o = &e.body.opening;
		memset(&l->x, 0, sizeof l->x);
		memcpy(l->x.txid, o->txid, TB_TXID_LEN);
		l->x.provider = o->minutes > 0 ? o->member : TB_COMMUNITY_ACCOUNT;
		l->x.receiver = o->minutes > 0 ? TB_COMMUNITY_ACCOUNT : o->member;
		l->x.minutes = (uint64_t)(o->minutes > 0 ? o->minutes : -o->minutes);
		l->x.category = (struct tb_view){(const uint8_t *)"opening balance", 15};
		l->x.date = o->date;
		l->x.attested = 1;
		return 0;
	}
	if (!l->reversal)
		return TB_EKIND;
	uint64_t oseq, rev;
	uint8_t otx[TB_TXID_LEN];
	memcpy(otx, e.body.reversal.original, TB_TXID_LEN);
	if ((err = tb_store_tx(cli->store, cli->self, otx, &oseq, &rev)) ||
	    (err = tb_store_get_entry(cli->store, cli->self, oseq, l->rec, sizeof l->rec, &len)) ||
	    (err = tb_entry_decode(&e, l->rec, len)))
		return err;
	if (e.kind != TB_KIND_EXCHANGE)
		return TB_ECORRUPT;
	l->x = e.body.exchange;
	return 0;
}

static void print_line(struct tb_cli *cli, const struct line *l, const char *who, int64_t delta,
		       bool with_balance, int64_t balance)
{
	struct tb_member prov = {0}, recv = {0};
	(void)!tb_store_member(cli->store, cli->self, (uint32_t)l->x.provider, &prov);
	(void)!tb_store_member(cli->store, cli->self, (uint32_t)l->x.receiver, &recv);
	bool backdated = tb_cli_backdated(l->x.date, l->timestamp);
	const char *pname = prov.name, *rname = recv.name;
	if (l->cross) {
		if (l->local_provides)
			rname = l->remote;
		else
			pname = l->remote;
	}
	char memo[TB_MEMO_MAX + 1] = "", d[16], h[32], b[32];
	if (tb_store_memo_get(cli->store, l->x.txid, memo, sizeof memo))
		snprintf(memo, sizeof memo, "%s", "(memo not held here)");
	tb_out_date(d, sizeof d, l->x.date);
	tb_out_hours(h, sizeof h, delta);
	tb_out_hours(b, sizeof b, balance);
	const char *other = who ? (!strcmp(who, pname) ? rname : pname) : NULL;
	if (l->cross)
		other = who ? l->remote : NULL;
	char what[300];
	if (l->cross && other)
		snprintf(what, sizeof what, "%s %s", l->local_provides ? "from" : "paid", other);
	else if (other)
		snprintf(what, sizeof what, "%s %s", delta > 0 ? "from" : "to", other);
	else
		snprintf(what, sizeof what, "%s -> %s", pname, rname);
	printf("%5llu  %s  ", (unsigned long long)l->seq, d);
	tb_cli_pad(stdout, what, 26);
	printf(" %8s", h);
	if (with_balance)
		printf(" %9s", b);
	printf("  %s%.*s%s%s%s%s\n", l->reversal ? "REVERSAL of " : "", (int)l->x.category.len,
	       (const char *)l->x.category.p, l->x.category.len ? ": " : "", memo,
	       l->x.attested ? " [attested]" : "", backdated ? " [backdated]" : "");
}

struct hist_ctx {
	struct tb_cli *cli;
	const char *name;
	struct line *l;
	int err;
};

static int hist_one(void *vctx, const struct tb_history_item *h)
{
	struct hist_ctx *hc = vctx;
	int err = load_line(hc->cli, h->seq, hc->l);
	if (err)
		return hc->err = err;
	print_line(hc->cli, hc->l, hc->name, h->delta, true, h->balance);
	return 0;
}

/* --json: the API's objects, by the same code: a member's statement (GET
 * /api/v1/members/NAME/statement) or the exchanges (GET
 * /api/v1/exchanges, newest first, paged by --limit and --before). */
static int history_json(struct tb_cli *cli, const char *name, struct tb_vocab_filter *f)
{
	int err;
	struct tb_json *o;
	if (name) {
		struct tb_member m;
		int rc = tb_cli_member(cli, name, &m);
		if (rc)
			return rc;
		o = tb_vocab_statement(cli->store, cli->self, &m, 0, 0, &err);
	} else {
		o = tb_vocab_exchanges(cli->store, cli->self, f, &err);
	}
	return tb_cli_print_json(o, err, "the history");
}

static int history_opts(struct tb_cli *cli, int argc, char **argv, struct tb_vocab_filter *f)
{
	static const struct option opts[] = {{"limit", required_argument, 0, 'l'},
					     {"before", required_argument, 0, 'b'},
					     {0, 0, 0, 0}};
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, NULL, "history")) != -1) {
		if (c != 'l' && c != 'b')
			return -1;
		if (!cli->json) {
			tb_cli_fail(TB_EXIT_USAGE, "history: --%s pages the JSON list (--json)",
				    c == 'l' ? "limit" : "before");
			return -1;
		}
		if (tb_parse_u64(optarg, c == 'l' ? &f->limit : &f->before) ||
		    (c == 'l' && (!f->limit || f->limit > TB_VOCAB_LIST_MAX))) {
			tb_cli_fail(TB_EXIT_USAGE, "history: --limit is 1 to %d, --before a seq",
				    TB_VOCAB_LIST_MAX);
			return -1;
		}
	}
	if (argc - optind > 1) {
		tb_cli_fail(TB_EXIT_USAGE, "history: too many arguments");
		return -1;
	}
	return optind;
}

int tb_cmd_history(struct tb_cli *cli, int argc, char **argv)
{
	struct tb_vocab_filter f = {.limit = TB_VOCAB_LIST_DEFAULT};
	int at = history_opts(cli, argc, argv, &f);
	if (at < 0)
		return TB_EXIT_USAGE;
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	if (cli->json)
		return history_json(cli, at < argc ? argv[at] : NULL, &f);
	struct line *l = malloc(sizeof *l);
	if (!l)
		return tb_cli_fail(TB_EXIT_IO, "out of memory");
	struct hist_ctx hc = {cli, NULL, l, 0};
	int err = 0;
	struct tb_member m;
	if (at < argc && (rc = tb_cli_member(cli, argv[at], &m))) {
		free(l);
		return rc;
	}
	if (at < argc) {
		hc.name = m.name;
		printf("Statement of %s (hours)\n%5s  %-10s  %-26s %8s %9s  %s\n", m.name, "entry",
		       "date", "with", "change", "balance", "what");
		err = tb_store_foreach_history(cli->store, cli->self, m.no, hist_one, &hc);
	} else {
		struct tb_head head;
		err = tb_store_head(cli->store, cli->self, &head);
		printf("%5s  %-10s  %-26s %8s  %s\n", "entry", "date", "exchange", "hours", "what");
		/* The journal: every exchange, reversal and cross-community leg
		 * that moved minutes, in log order. */
		for (uint64_t s = 1; !err && s <= head.seq; s++) {
			err = load_line(cli, s, l);
			if (err == TB_EKIND) {
				err = 0;
				continue;
			}
			if (err)
				break;
			int64_t d = l->reversal ? -(int64_t)l->x.minutes : (int64_t)l->x.minutes;
			print_line(cli, l, NULL, d, false, 0);
		}
	}
	free(l);
	if (err || hc.err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the history: %s",
				   tb_strerror(err ? err : hc.err));
	return TB_EXIT_OK;
}

/* ---- tally log ---- */

static void print_field(const struct tb_field *f, const void *body)
{
	const uint8_t *at = (const uint8_t *)body + f->offset;
	const struct tb_view *v = (const struct tb_view *)(const void *)at;
	char hex[2 * TB_SIGLEN + 1];
	switch (f->type) {
	case TB_FT_UINT:
		printf("%llu", (unsigned long long)*(const uint64_t *)(const void *)at);
		return;
	case TB_FT_INT:
		printf("%lld", (long long)*(const int64_t *)(const void *)at);
		return;
	case TB_FT_FIXED:
		tb_hex_encode(hex, at, (size_t)f->max < TB_SIGLEN ? (size_t)f->max : TB_SIGLEN);
		printf("%s", hex);
		return;
	case TB_FT_BIN:
		tb_hex_encode(hex, v->p, v->len < TB_SIGLEN ? v->len : TB_SIGLEN);
		printf("%s", v->len ? hex : "-");
		return;
	case TB_FT_STR:
		tb_json_str(stdout, (const char *)v->p, v->len);
		return;
	}
}

/* One entry object (node/json/entry.c), after a comma unless first. */
static int print_entry_json(const struct tb_entry *e, struct tb_view rec, bool first)
{
	struct tb_json *o = tb_vocab_entry(e, rec);
	size_t len;
	char *text = o ? tb_json_dump(o, &len) : NULL;
	tb_json_free(o);
	if (!text)
		return TB_ENOMEM;
	/* Without the dump's final newline: the entries make one document. */
	printf("%s%.*s", first ? "" : ",", (int)(len - 1), text);
	free(text);
	return 0;
}

struct log_ctx {
	struct tb_cli *cli;
	uint64_t left;
	bool first;
};

static int log_one(void *vctx, uint64_t seq, struct tb_view rec)
{
	struct log_ctx *lc = vctx;
	if (!lc->left)
		return 1;
	lc->left--;
	struct tb_entry e;
	int err = tb_entry_decode(&e, rec.p, rec.len);
	if (err) {
		fprintf(stderr, "tally: entry %llu does not decode: %s\n", (unsigned long long)seq,
			tb_strerror(err));
		return err;
	}
	struct tb_cli *cli = lc->cli;
	if (cli->json) {
		if ((err = print_entry_json(&e, rec, lc->first)))
			return err;
		lc->first = false;
		return 0;
	}
	const struct tb_msgdef *d = tb_kind_def(e.kind);
	uint8_t hash[TB_HASHLEN];
	char hh[2 * TB_HASHLEN + 1], when[32];
	tb_entry_hash(hash, rec.p, rec.len);
	tb_hex_encode(hh, hash, TB_HASHLEN);
	time_t ts = (time_t)e.timestamp;
	struct tm tm;
	gmtime_r(&ts, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("#%llu %s %s hash=%.16s\n", (unsigned long long)seq, when, d->name, hh);
	for (size_t i = 0; i < d->nfields; i++) {
		printf("    %-13s ", d->fields[i].name);
		print_field(&d->fields[i], &e.body);
		printf("\n");
	}
	return 0;
}

int tb_cmd_log(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"from", required_argument, 0, 'f'},
					     {"limit", required_argument, 0, 'l'},
					     {0, 0, 0, 0}};
	uint64_t from = 1, limit = UINT64_MAX;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, NULL, "log")) != -1) {
		uint64_t *dst = c == 'f' ? &from : c == 'l' ? &limit : NULL;
		if (!dst)
			return TB_EXIT_USAGE;
		if (tb_parse_u64(optarg, dst))
			return tb_cli_fail(TB_EXIT_USAGE, "--%s needs a whole number",
					   c == 'f' ? "from" : "limit");
	}
	if (optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "log: unexpected argument '%s'", argv[optind]);
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	struct log_ctx lc = {cli, limit, true};
	if (cli->json) /* an object holding one array, as the API's lists */
		printf("{\"entries\":[");
	int err = tb_store_foreach_entry(cli->store, cli->self, from, log_one, &lc);
	if (cli->json)
		printf("]}\n");
	if (err < 0)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the log: %s", tb_strerror(err));
	return TB_EXIT_OK;
}

/* tally report KIND: the API's reports (node/json/report.c), CSV on stdout,
 * or the same report as JSON with --json. */
int tb_cmd_report(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
					     {"to", required_argument, NULL, 't'},
					     {"days", required_argument, NULL, 'd'},
					     {"within-minutes", required_argument, NULL, 'w'},
					     {0, 0, 0, 0}};
	uint64_t today = tb_date_today();
	struct tb_report_args a;
	tb_report_defaults(&a, today);
	char *end;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, NULL, "report")) != -1) {
		if (c == 'f' || c == 't') {
			if (tb_date_parse(optarg, c == 'f' ? &a.from : &a.to))
				return tb_cli_fail(TB_EXIT_USAGE,
						   "--%s is a date (YYYY-MM-DD), not '%s'",
						   c == 'f' ? "from" : "to", optarg);
		} else if (c == 'd' || c == 'w') {
			unsigned long long n = strtoull(optarg, &end, 10);
			if (!optarg[0] || *end || optarg[0] == '-' || n > 100000000ull ||
			    (c == 'd' && n > 100000))
				return tb_cli_fail(TB_EXIT_USAGE, "--%s: '%s' is out of range",
						   c == 'd' ? "days" : "within-minutes", optarg);
			if (c == 'd')
				a.days = n;
			else
				a.within = (int64_t)n;
		} else {
			return TB_EXIT_USAGE;
		}
	}
	int kind = argc - optind == 1 ? tb_report_kind(argv[optind]) : TB_EINVAL;
	if (kind < 0)
		return tb_cli_fail(TB_EXIT_USAGE,
				   "report: say which: hours, members, inactive or near-limit");
	if (a.from > a.to)
		return tb_cli_fail(TB_EXIT_USAGE, "report: --from is after --to");
	a.kind = (enum tb_report_which)kind;
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	struct tb_report_out out;
	int err = tb_report(cli->store, cli->self, &a, &out);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot build the report: %s", tb_strerror(err));
	if (cli->json) {
		err = tb_json_print(out.json, stdout);
		putchar('\n');
	} else {
		err = fwrite(out.csv, 1, out.csv_len, stdout) == out.csv_len ? 0 : TB_EIO;
	}
	tb_report_out_free(&out);
	return err ? tb_cli_fail(TB_EXIT_IO, "cannot write the report") : TB_EXIT_OK;
}
