/*
 * cmd_xexchange.c: `tally exchange send|status`, exchanges with a member of
 * another community. `send` runs on the paying member's node: tb_op_send
 * (the code path of tallyd's POST /api/v1/cross too) checks what it can
 * locally and appends the prepare leg (a hold on the payer); then it watches
 * the store, where tallyd writes the other
 * community's decision and our final leg, until the exchange ends or the
 * wait times out. `status` reports where an exchange stands from the legs
 * held. The command line never talks to the other node itself and never
 * appends a decision or a final leg (that is the clearing step of tallyd).
 */
#include "cli.h"
#include "tb_ops.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

#define TIMEOUT_MAX (24ull * 3600)
#define POLL_NS 5000000L

/* The API's cross-exchange object (GET /api/v1/cross/TXID), by the same
 * code; state as given (send says "pending" when it stopped waiting). */
static int print_json(const struct tb_op_xview *v, const char *state)
{
	struct tb_op_xview shown = *v;
	shown.state = state;
	struct tb_json *o = tb_vocab_cross(&shown);
	int err = o ? tb_json_print(o, stdout) : TB_ENOMEM;
	tb_json_free(o);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot print: %s", tb_strerror(err));
	return 0;
}

/* ---- exchange send ---- */

struct send_in {
	const char *from, *to;
	struct tb_cli_terms t;
	uint64_t timeout, ttl;
	bool no_wait;
};

static int parse_secs(const char *opt, const char *arg, uint64_t max, uint64_t *v)
{
	if (tb_parse_u64(arg, v) || *v > max)
		return tb_cli_fail(TB_EXIT_USAGE,
				   "--%s: '%s' is not a number of seconds (at most %llu)", opt, arg,
				   (unsigned long long)max);
	return 0;
}

static int parse_send(int argc, char **argv, struct send_in *in)
{
	static const struct option opts[] = {{"from", required_argument, 0, 'f'},
					     {"to", required_argument, 0, 't'},
					     TB_CLI_TERMS_OPTIONS,
					     {"no-wait", no_argument, 0, 'n'},
					     {"timeout", required_argument, 0, 'T'},
					     {"ttl", required_argument, 0, 'L'},
					     {0, 0, 0, 0}};
	memset(in, 0, sizeof *in);
	tb_cli_terms_init(&in->t);
	in->timeout = 30;
	in->ttl = 600;
	int c, rc;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "exchange", "send")) != -1) {
		switch (c) {
		case 'f':
			in->from = optarg;
			break;
		case 't':
			in->to = optarg;
			break;
		case 'n':
			in->no_wait = true;
			break;
		case 'T':
			if ((rc = parse_secs("timeout", optarg, TIMEOUT_MAX, &in->timeout)))
				return rc;
			break;
		case 'L':
			if ((rc = parse_secs("ttl", optarg, TB_OP_TTL_MAX, &in->ttl)))
				return rc;
			if (in->ttl == 0)
				return tb_cli_fail(TB_EXIT_USAGE,
						   "--ttl must be at least 1 second");
			break;
		default:
			if ((rc = tb_cli_terms_opt(&in->t, c, optarg)))
				return rc == TB_CLI_NOT_TERMS ? TB_EXIT_USAGE : rc;
		}
	}
	if (optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "exchange send: unexpected argument '%s'",
				   argv[optind]);
	if (!in->from || !in->to || !in->t.memo || in->t.minutes < 0)
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"exchange send needs --from, --to NAME@COMMUNITY, --minutes or --hours, and --memo");
	return tb_cli_terms_check(&in->t);
}

static void sleep_poll(void)
{
	struct timespec ts = {0, POLL_NS};
	nanosleep(&ts, NULL);
}

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for the final leg; 0 when it is held, TB_EXIT_PENDING on timeout. */
static int wait_final(struct tb_cli *cli, const uint8_t txid[TB_TXID_LEN], uint64_t timeout,
		      struct tb_xleg *l)
{
	double end = now_mono() + (double)timeout;
	for (;;) {
		int err = tb_store_xleg(cli->store, cli->self, txid, l);
		if (err)
			return tb_cli_fail(TB_EXIT_IO, "cannot read the exchange's state: %s",
					   tb_strerror(err));
		if (l->final_seq)
			return 0;
		if (now_mono() >= end)
			return TB_EXIT_PENDING;
		sleep_poll();
	}
}

static int report_send(struct tb_cli *cli, struct tb_op_xview *v, bool waited, int wrc)
{
	char txid[2 * TB_TXID_LEN + 1], h[32];
	tb_hex_encode(txid, v->leg.txid, TB_TXID_LEN);
	tb_out_hours(h, sizeof h, (int64_t)v->leg.minutes);
	tb_op_xview_state(v);
	int rc = TB_EXIT_OK;
	const char *state = v->state;
	if (waited && wrc == TB_EXIT_PENDING) {
		state = "pending";
		rc = TB_EXIT_PENDING;
	} else if (waited && v->leg.final_seq && v->leg.final_outcome) {
		rc = TB_EXIT_REFUSED;
	}
	cli->json_report = true;
	if (cli->json) {
		int prc = print_json(v, state);
		return prc ? prc : rc;
	}
	if (!waited) {
		printf("prepared %s: holding %s hours on %s for %s@%s\n", txid, h + 1, v->from,
		       v->to, v->to_c);
	} else if (rc == TB_EXIT_PENDING) {
		printf("pending %s: no answer from %s yet (is tallyd running and connected?); see "
		       "'tally exchange status %s'\n",
		       txid, v->to_c, txid);
	} else if (rc == TB_EXIT_REFUSED) {
		fprintf(stderr, "tally: refused by %s: %s (%s); the hold on %s is released\n",
			v->to_c, tb_xoutcome_text(v->outcome),
			tb_errname(tb_xoutcome_err(v->outcome)), v->from);
		printf("released %s\n", txid);
	} else {
		printf("completed %s: %s paid %s@%s %s hours (entries %llu and %llu here, %llu at "
		       "%s)\n",
		       txid, v->from, v->to, v->to_c, h + 1, (unsigned long long)v->leg.prepare_seq,
		       (unsigned long long)v->leg.final_seq, (unsigned long long)v->leg.decide_seq,
		       v->to_c);
	}
	return rc;
}

/* The refusal of tb_op_send, with the command line's hints. */
static int send_refused(struct tb_cli *cli, int err, const struct tb_reject *rej)
{
	if (err == TB_ENOTFOUND && rej->err == TB_ENOTFOUND)
		return tb_cli_fail(TB_EXIT_USAGE,
				   "%s ('tally community list' shows those admitted and those "
				   "known through neighbours; 'tally community admit' admits one)",
				   rej->msg);
	return tb_cli_refused(cli, err, rej);
}

int tb_cmd_exchange_send(struct tb_cli *cli, int argc, char **argv)
{
	struct send_in in;
	struct tb_cli_base b;
	struct tb_member m;
	int rc = parse_send(argc, argv, &in);
	if (rc || (rc = tb_cli_open(cli, true)) || (rc = tb_cli_terms_base(&in.t, &b)) ||
	    (rc = tb_cli_member(cli, in.from, &m)))
		return rc;
	/* The passphrase first (a prompt takes a while): the offer's lifetime
	 * counts from just before the prepare is signed and recorded. */
	char pass[TB_PASSPHRASE_MAX + 1], from[16];
	size_t plen = 0;
	static const uint8_t none[TB_KEY_LEN];
	if (!in.t.attest && memcmp(m.key, none, TB_KEY_LEN) &&
	    (rc = tb_cli_member_pass(cli, &m, pass, sizeof pass, &plen)))
		return rc;
	if ((rc = tb_cli_node_key(cli))) {
		tb_wipe(pass, sizeof pass);
		return rc;
	}
	snprintf(from, sizeof from, "#%u", m.no);
	struct tb_ops o = {cli->store, cli->self, cli->data, &cli->node};
	struct tb_op_send s = {.from = from,
			       .to = in.to,
			       .minutes = in.t.minutes,
			       .memo = in.t.memo,
			       .category = in.t.category,
			       .date = b.date,
			       .attest = in.t.attest,
			       .ttl = in.ttl};
	struct tb_op_xview v;
	struct tb_reject rej = {0};
	int err = tb_op_send(&o, &s, (struct tb_op_pass){pass, plen}, &v, &rej);
	tb_wipe(pass, sizeof pass);
	if (err)
		return send_refused(cli, err, &rej);
	int wrc = 0;
	if (!in.no_wait && (wrc = wait_final(cli, v.leg.txid, in.timeout, &v.leg)) &&
	    wrc != TB_EXIT_PENDING)
		return wrc;
	return report_send(cli, &v, !in.no_wait, wrc);
}

/* ---- exchange status ---- */

static void fmt_time(char *out, size_t cap, uint64_t t)
{
	time_t ts = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&ts, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, cap, "%llu", (unsigned long long)t);
}

static void print_status(struct tb_cli *cli, const struct tb_op_xview *v)
{
	char txid[2 * TB_TXID_LEN + 1], h[32], exp[40];
	const struct tb_xleg *l = &v->leg;
	tb_hex_encode(txid, l->txid, TB_TXID_LEN);
	tb_out_hours(h, sizeof h, (int64_t)l->minutes);
	fmt_time(exp, sizeof exp, l->expires);
	printf("exchange %s: %s\n", txid, v->state);
	printf("  %s@%s pays %s@%s %s hours\n", v->from, v->from_c, v->to, v->to_c, h + 1);
	if (l->prepare_seq && !l->final_seq)
		printf("  prepare   entry %llu of %s (holds the minutes; the offer expires %s)\n",
		       (unsigned long long)l->prepare_seq, v->from_c, exp);
	else if (l->prepare_seq)
		printf("  prepare   entry %llu of %s\n", (unsigned long long)l->prepare_seq,
		       v->from_c);
	else
		printf("  prepare   not held here\n");
	if (l->decide_seq) {
		char dc[TB_CLI_CNAME_MAX];
		tb_cli_community_name(cli, l->decider, dc, sizeof dc);
		if (l->outcome)
			printf("  decision  entry %llu of %s: refused: %s (%s)\n",
			       (unsigned long long)l->decide_seq, dc, tb_xoutcome_text(l->outcome),
			       tb_errname(tb_xoutcome_err(l->outcome)));
		else
			printf("  decision  entry %llu of %s: committed\n",
			       (unsigned long long)l->decide_seq, dc);
	} else {
		printf("  decision  waiting for %s (expires %s)\n", v->to_c, exp);
	}
	if (l->final_seq)
		printf("  final     entry %llu of %s: %s\n", (unsigned long long)l->final_seq,
		       v->from_c, l->final_outcome ? "hold released" : "paid");
	else if (l->prepare_seq)
		printf("  final     not yet (%s's tallyd appends it once the decision is held)\n",
		       v->from_c);
}

int tb_cmd_exchange_status(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, "exchange", "status") != -1)
		return TB_EXIT_USAGE;
	if (argc - optind != 1)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally exchange status TXID");
	const char *hex = argv[optind];
	uint8_t txid[TB_TXID_LEN];
	if (strlen(hex) != 2 * TB_TXID_LEN || tb_parse_txid(hex, txid))
		return tb_cli_fail(TB_EXIT_USAGE, "'%s' is not a transaction id (32 hex digits)",
				   hex);
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	struct tb_ops o = {cli->store, cli->self, cli->data, NULL};
	struct tb_op_xview v;
	struct tb_reject rej = {0};
	int err = tb_op_xview(&o, txid, &v, &rej);
	if (err == TB_ENOTFOUND)
		return tb_cli_fail(TB_EXIT_USAGE, "%s", rej.msg);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "%s", rej.msg);
	if (cli->json)
		return print_json(&v, v.state);
	print_status(cli, &v);
	return TB_EXIT_OK;
}
