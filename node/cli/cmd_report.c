/*
 * cmd_report.c: the read-only reports: `tally balance`, `tally history` (a
 * member's statement with running balance, or the community's journal) and
 * `tally log` (raw entries decoded field by field from the message tables,
 * so every kind prints without code of its own). Nothing here writes.
 */
#include "cli.h"

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
	bool first;
};

static int bal_one(void *vctx, const struct tb_member *m)
{
	struct bal_ctx *b = vctx;
	b->sum += m->balance;
	if (!m->active && m->balance == 0)
		return 0;
	char h[32];
	tb_out_hours(h, sizeof h, m->balance);
	if (b->cli->json) {
		printf("%s{\"member\":%u,\"name\":", b->first ? "" : ",", m->no);
		tb_json_str(stdout, m->name, strlen(m->name));
		printf(",\"balance_minutes\":%lld,\"active\":%s}", (long long)m->balance,
		       m->active ? "true" : "false");
	} else {
		printf("  %-20s %9s%s\n", m->name, h, m->active ? "" : "  (left)");
	}
	b->first = false;
	return 0;
}

int tb_cmd_balance(struct tb_cli *cli, int argc, char **argv)
{
	int at = no_opts(argc, argv, "balance", 1);
	if (at < 0)
		return TB_EXIT_USAGE;
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	if (at < argc) {
		struct tb_member m;
		if ((rc = tb_cli_member(cli, argv[at], &m)))
			return rc;
		char h[32], f[32];
		tb_out_hours(h, sizeof h, m.balance);
		tb_out_hours(f, sizeof f, m.floor);
		if (cli->json) {
			printf("{\"member\":%u,\"name\":", m.no);
			tb_json_str(stdout, m.name, strlen(m.name));
			printf(",\"balance_minutes\":%lld,\"floor_minutes\":%lld,\"ceiling_minutes\":%llu}\n",
			       (long long)m.balance, (long long)m.floor,
			       (unsigned long long)m.ceiling);
		} else {
			printf("%s: %s hours (debt limit %s)\n", m.name, h, f);
		}
		return TB_EXIT_OK;
	}
	struct tb_community c;
	int err = tb_store_community(cli->store, cli->self, &c);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the community: %s", tb_strerror(err));
	struct bal_ctx b = {cli, 0, true};
	if (cli->json) {
		printf("{\"community\":");
		tb_json_str(stdout, c.name, strlen(c.name));
		printf(",\"members\":[");
	} else {
		printf("%s: balances in hours\n", c.name);
	}
	err = tb_store_foreach_member(cli->store, cli->self, bal_one, &b);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read balances: %s", tb_strerror(err));
	char h[32];
	tb_out_hours(h, sizeof h, (int64_t)c.minutes);
	if (cli->json)
		printf("],\"sum_minutes\":%lld,\"exchanges\":%llu,\"reversals\":%llu,"
		       "\"minutes_exchanged\":%llu}\n",
		       (long long)b.sum, (unsigned long long)c.exchanges,
		       (unsigned long long)c.reversals, (unsigned long long)c.minutes);
	else
		printf("  sum of all balances: %lld minutes; %llu exchanges, %s hours of help\n",
		       (long long)b.sum, (unsigned long long)c.exchanges, h + 1);
	return TB_EXIT_OK;
}

/* The exchange a history line is about (the original, for a reversal). */
struct line {
	uint64_t seq;
	uint64_t timestamp;
	bool reversal;
	struct tb_exchange x; /* views into rec */
	uint8_t rec[TB_ENTRY_MAX];
};

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
	if (e.kind == TB_KIND_EXCHANGE) {
		l->x = e.body.exchange;
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

static void print_line(struct tb_cli *cli, const struct line *l, const char *who,
		       int64_t delta, bool with_balance, int64_t balance, bool first)
{
	struct tb_member prov = {0}, recv = {0};
	(void)!tb_store_member(cli->store, cli->self, (uint32_t)l->x.provider, &prov);
	(void)!tb_store_member(cli->store, cli->self, (uint32_t)l->x.receiver, &recv);
	char memo[TB_MEMO_MAX + 1] = "", d[16], h[32], b[32], txid[2 * TB_TXID_LEN + 1];
	if (tb_store_memo_get(cli->store, l->x.txid, memo, sizeof memo))
		snprintf(memo, sizeof memo, "%s", "(memo not held here)");
	tb_out_date(d, sizeof d, l->x.date);
	tb_out_hours(h, sizeof h, delta);
	tb_out_hours(b, sizeof b, balance);
	tb_hex_encode(txid, l->x.txid, TB_TXID_LEN);
	const char *other = who ? (!strcmp(who, prov.name) ? recv.name : prov.name) : NULL;
	if (cli->json) {
		printf("%s{\"seq\":%llu,\"date\":\"%s\",\"txid\":\"%s\",\"reversal\":%s,"
		       "\"provider\":",
		       first ? "" : ",", (unsigned long long)l->seq, d, txid,
		       l->reversal ? "true" : "false");
		tb_json_str(stdout, prov.name, strlen(prov.name));
		printf(",\"receiver\":");
		tb_json_str(stdout, recv.name, strlen(recv.name));
		if (other) {
			printf(",\"counterparty\":");
			tb_json_str(stdout, other, strlen(other));
		}
		printf(",\"minutes\":%lld", (long long)delta);
		if (with_balance)
			printf(",\"balance_minutes\":%lld", (long long)balance);
		printf(",\"category\":");
		tb_json_str(stdout, (const char *)l->x.category.p, l->x.category.len);
		printf(",\"memo\":");
		tb_json_str(stdout, memo, strlen(memo));
		printf(",\"attested\":%s}", l->x.attested ? "true" : "false");
		return;
	}
	char what[160];
	if (other)
		snprintf(what, sizeof what, "%s %s", delta > 0 ? "from" : "to", other);
	else
		snprintf(what, sizeof what, "%s -> %s", prov.name, recv.name);
	printf("%5llu  %s  %-26s %8s", (unsigned long long)l->seq, d, what, h);
	if (with_balance)
		printf(" %9s", b);
	printf("  %s%.*s%s%s%s\n", l->reversal ? "REVERSAL of " : "", (int)l->x.category.len,
	       (const char *)l->x.category.p, l->x.category.len ? ": " : "", memo,
	       l->x.attested ? " [attested]" : "");
}

struct hist_ctx {
	struct tb_cli *cli;
	const char *name;
	struct line *l;
	bool first;
	int err;
};

static int hist_one(void *vctx, const struct tb_history_item *h)
{
	struct hist_ctx *hc = vctx;
	int err = load_line(hc->cli, h->seq, hc->l);
	if (err)
		return hc->err = err;
	print_line(hc->cli, hc->l, hc->name, h->delta, true, h->balance, hc->first);
	hc->first = false;
	return 0;
}

int tb_cmd_history(struct tb_cli *cli, int argc, char **argv)
{
	int at = no_opts(argc, argv, "history", 1);
	if (at < 0)
		return TB_EXIT_USAGE;
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	struct line *l = malloc(sizeof *l);
	if (!l)
		return tb_cli_fail(TB_EXIT_IO, "out of memory");
	struct hist_ctx hc = {cli, NULL, l, true, 0};
	int err = 0;
	if (cli->json)
		printf("[");
	if (at < argc) {
		struct tb_member m;
		if ((rc = tb_cli_member(cli, argv[at], &m))) {
			free(l);
			return rc;
		}
		hc.name = m.name;
		if (!cli->json)
			printf("Statement of %s (hours)\n%5s  %-10s  %-26s %8s %9s  %s\n", m.name,
			       "entry", "date", "with", "change", "balance", "what");
		err = tb_store_foreach_history(cli->store, cli->self, m.no, hist_one, &hc);
	} else {
		struct tb_head head;
		err = tb_store_head(cli->store, cli->self, &head);
		if (!cli->json)
			printf("%5s  %-10s  %-26s %8s  %s\n", "entry", "date", "exchange",
			       "hours", "what");
		/* The journal: every exchange and reversal, in log order. */
		for (uint64_t s = 1; !err && s <= head.seq; s++) {
			err = load_line(cli, s, l);
			if (err == TB_EKIND) {
				err = 0;
				continue;
			}
			if (err)
				break;
			int64_t d = l->reversal ? -(int64_t)l->x.minutes : (int64_t)l->x.minutes;
			print_line(cli, l, NULL, d, false, 0, hc.first);
			hc.first = false;
		}
	}
	if (cli->json)
		printf("]\n");
	free(l);
	if (err || hc.err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the history: %s",
				   tb_strerror(err ? err : hc.err));
	return TB_EXIT_OK;
}

/* ---- tally log ---- */

static void print_field(struct tb_cli *cli, const struct tb_field *f, const void *body)
{
	const uint8_t *at = (const uint8_t *)body + f->offset;
	const struct tb_view *v = (const struct tb_view *)(const void *)at;
	char hex[2 * TB_SIGLEN + 1];
	switch (f->type) {
	case TB_FT_UINT:
		printf(cli->json ? "%llu" : "%llu", (unsigned long long)*(const uint64_t *)(const void *)at);
		return;
	case TB_FT_INT:
		printf("%lld", (long long)*(const int64_t *)(const void *)at);
		return;
	case TB_FT_FIXED:
		if (cli->json) {
			tb_json_hex(stdout, at, (size_t)f->max);
		} else {
			tb_hex_encode(hex, at, (size_t)f->max < TB_SIGLEN ? (size_t)f->max : TB_SIGLEN);
			printf("%s", hex);
		}
		return;
	case TB_FT_BIN:
		if (cli->json) {
			tb_json_hex(stdout, v->p, v->len);
		} else {
			tb_hex_encode(hex, v->p, v->len < TB_SIGLEN ? v->len : TB_SIGLEN);
			printf("%s", v->len ? hex : "-");
		}
		return;
	case TB_FT_STR:
		tb_json_str(stdout, (const char *)v->p, v->len);
		return;
	}
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
		fprintf(stderr, "tally: entry %llu does not decode: %s\n",
			(unsigned long long)seq, tb_strerror(err));
		return err;
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
	struct tb_cli *cli = lc->cli;
	if (cli->json) {
		printf("%s{\"seq\":%llu,\"timestamp\":%llu,\"kind\":\"%s\",\"hash\":\"%s\",\"prev\":",
		       lc->first ? "" : ",", (unsigned long long)seq,
		       (unsigned long long)e.timestamp, d->name, hh);
		tb_json_hex(stdout, e.prev, TB_HASHLEN);
		printf(",\"bytes\":%zu,\"body\":{", rec.len);
	} else {
		printf("#%llu %s %s hash=%.16s\n", (unsigned long long)seq, when, d->name, hh);
	}
	for (size_t i = 0; i < d->nfields; i++) {
		const struct tb_field *f = &d->fields[i];
		if (cli->json)
			printf("%s\"%s\":", i ? "," : "", f->name);
		else
			printf("    %-13s ", f->name);
		print_field(cli, f, &e.body);
		if (!cli->json)
			printf("\n");
	}
	if (cli->json)
		printf("}}");
	lc->first = false;
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
	if (cli->json)
		printf("[");
	int err = tb_store_foreach_entry(cli->store, cli->self, from, log_one, &lc);
	if (cli->json)
		printf("]\n");
	if (err < 0)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the log: %s", tb_strerror(err));
	return TB_EXIT_OK;
}
