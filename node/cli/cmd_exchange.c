/*
 * cmd_exchange.c: `tally exchange propose|confirm|reject|pending|record|
 * reverse`. A member-signed exchange is proposed (signed by the provider and
 * kept locally, outside the log), then confirmed (signed by the receiver and
 * appended). A coordinator-attested one is appended at once. A reversal is a
 * new entry with the same consent as the exchange it undoes. The memo text is
 * kept in the local memo table; the log holds only its salted hash. Each
 * command reads what the person typed (members, passphrases from the
 * member key sources) and calls the operation tallyd's API calls too
 * (node/ops.c), so a refusal reads the same in both.
 */
#include "cli.h"
#include "tb_ops.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

struct terms_in {
	const char *provider, *receiver;
	struct tb_cli_terms t;
};

static int parse_terms(int argc, char **argv, const char *name, struct terms_in *in)
{
	static const struct option opts[] = {{"provider", required_argument, 0, 'p'},
					     {"receiver", required_argument, 0, 'r'},
					     TB_CLI_TERMS_OPTIONS,
					     {0, 0, 0, 0}};
	memset(in, 0, sizeof *in);
	tb_cli_terms_init(&in->t);
	int c, rc;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "exchange", name)) != -1) {
		if (c == 'p')
			in->provider = optarg;
		else if (c == 'r')
			in->receiver = optarg;
		else if ((rc = tb_cli_terms_opt(&in->t, c, optarg)))
			return rc == TB_CLI_NOT_TERMS ? TB_EXIT_USAGE : rc;
	}
	if (optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "exchange %s: unexpected argument '%s'", name,
				   argv[optind]);
	if (!in->provider || !in->receiver || !in->t.memo || in->t.minutes < 0)
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"exchange %s needs --provider, --receiver, --minutes or --hours, and --memo",
			name);
	return tb_cli_terms_check(&in->t);
}

/* --json: what POST /api/v1/exchanges (and .../confirm) answers. */
static int print_recorded(struct tb_cli *cli, const struct tb_exchange *x,
			  const struct tb_member *prov, const struct tb_member *recv, uint64_t seq)
{
	if (cli->json)
		return tb_cli_print_json(tb_vocab_txid_seq(x->txid, seq), 0, "the exchange");
	char txid[2 * TB_TXID_LEN + 1], h[32];
	tb_hex_encode(txid, x->txid, TB_TXID_LEN);
	tb_out_hours(h, sizeof h, (int64_t)x->minutes);
	printf("recorded %s: %s helped %s for %s hours (entry %llu%s)\n", txid, prov->name,
	       recv->name, h + 1, (unsigned long long)seq,
	       x->attested ? ", attested by the coordinator" : ", signed by both");
	return TB_EXIT_OK;
}

static struct tb_ops ops_of(struct tb_cli *cli)
{
	return (struct tb_ops){cli->store, cli->self, cli->data, &cli->node};
}

/* A member's passphrase for an operation to sign with (none for a member
 * without a key: the operation refuses that, ECONSENT). */
static int member_pass(struct tb_cli *cli, const struct tb_member *m, char *pass, size_t cap,
		       struct tb_op_pass *out)
{
	static const uint8_t none[TB_KEY_LEN];
	*out = (struct tb_op_pass){pass, 0};
	if (!memcmp(m->key, none, TB_KEY_LEN))
		return 0;
	return tb_cli_member_pass(cli, m, pass, cap, &out->len);
}

/* "#N" for a member found by tb_cli_member, for the operations to take. */
static void member_ref(char out[16], const struct tb_member *m)
{
	snprintf(out, 16, "#%u", m->no);
}

int tb_cmd_exchange_propose(struct tb_cli *cli, int argc, char **argv)
{
	struct terms_in in;
	int rc = parse_terms(argc, argv, "propose", &in);
	if (rc || (rc = tb_cli_open(cli, true)))
		return rc;
	if (in.t.attest)
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"propose is signed by members; use 'exchange record --attest' to attest");
	struct tb_member prov, recv;
	struct tb_cli_base b;
	if ((rc = tb_cli_member(cli, in.provider, &prov)) ||
	    (rc = tb_cli_member(cli, in.receiver, &recv)) || (rc = tb_cli_terms_base(&in.t, &b)))
		return rc;
	char pass[TB_PASSPHRASE_MAX + 1], pr[16], rr[16];
	struct tb_op_pass pp;
	if ((rc = member_pass(cli, &prov, pass, sizeof pass, &pp)))
		return rc;
	member_ref(pr, &prov);
	member_ref(rr, &recv);
	struct tb_ops o = ops_of(cli);
	struct tb_op_terms t = {pr, rr, in.t.minutes, in.t.memo, in.t.category, b.date};
	struct tb_reject rej = {0};
	uint8_t txid[TB_TXID_LEN];
	int err = tb_op_propose(&o, &t, pp, txid, &rej);
	tb_wipe(pass, sizeof pass);
	if (err)
		return tb_cli_refused(cli, err, &rej);
	char hex[2 * TB_TXID_LEN + 1];
	tb_hex_encode(hex, txid, TB_TXID_LEN);
	if (cli->json) /* as POST /api/v1/exchanges without attest */
		return tb_cli_print_json(tb_vocab_proposed(txid), 0, "the proposal");
	printf("%s\nproposed: %s helped %s; waiting for %s to run 'tally exchange confirm %s'\n",
	       hex, prov.name, recv.name, recv.name, hex);
	return TB_EXIT_OK;
}

/* The pending proposal a typed txid names, into p (views into buf). */
static int load_pending(struct tb_cli *cli, const char *hex, uint8_t *buf, size_t cap,
			struct tb_proposal *p)
{
	uint8_t txid[TB_TXID_LEN];
	if (tb_parse_txid(hex, txid))
		return tb_cli_fail(TB_EXIT_USAGE, "'%s' is not a transaction id (32 hex digits)",
				   hex);
	struct tb_ops o = ops_of(cli);
	struct tb_reject rej = {0};
	int err = tb_op_pending(&o, txid, buf, cap, p, &rej);
	if (err == TB_ENOTFOUND)
		return tb_cli_fail(TB_EXIT_USAGE, "%s", rej.msg);
	if (err == TB_EDUPTX)
		return tb_cli_refused(cli, err, &rej);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "%s", rej.msg);
	return 0;
}

static int txid_arg(int argc, char **argv, const char *name, const struct option *opts,
		    bool *attest)
{
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "exchange", name)) != -1) {
		if (c != 'a' || !attest)
			return -1;
		*attest = true;
	}
	if (argc - optind != 1) {
		tb_cli_fail(TB_EXIT_USAGE, "usage: tally exchange %s TXID", name);
		return -1;
	}
	return optind;
}

int tb_cmd_exchange_confirm(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	int at = txid_arg(argc, argv, "confirm", opts, NULL);
	if (at < 0)
		return TB_EXIT_USAGE;
	int rc = tb_cli_open(cli, true);
	uint8_t buf[TB_ENTRY_MAX];
	struct tb_proposal p;
	if (rc || (rc = load_pending(cli, argv[at], buf, sizeof buf, &p)))
		return rc;
	struct tb_member prov, recv;
	int err = tb_store_member(cli->store, cli->self, (uint32_t)p.provider, &prov);
	if (!err)
		err = tb_store_member(cli->store, cli->self, (uint32_t)p.receiver, &recv);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the members: %s", tb_strerror(err));
	struct tb_exchange x = {.minutes = p.minutes};
	memcpy(x.txid, p.txid, TB_TXID_LEN);
	char pass[TB_PASSPHRASE_MAX + 1];
	struct tb_op_pass rp;
	if ((rc = member_pass(cli, &recv, pass, sizeof pass, &rp)) || (rc = tb_cli_node_key(cli))) {
		tb_wipe(pass, sizeof pass);
		return rc;
	}
	struct tb_ops o = ops_of(cli);
	struct tb_reject rej = {0};
	uint64_t seq;
	err = tb_op_confirm(&o, x.txid, rp, &seq, &rej);
	tb_wipe(pass, sizeof pass);
	if (err)
		return tb_cli_refused(cli, err, &rej);
	return print_recorded(cli, &x, &prov, &recv, seq);
}

/* Who may drop a proposal: its provider or its receiver (with their key),
 * else the coordinator (with the community key). */
static int reject_consent(struct tb_cli *cli, const char *as, const struct tb_proposal *p)
{
	struct tb_member m;
	struct tb_keypair kp;
	int rc;
	if (!as)
		return tb_cli_node_key(cli);
	if ((rc = tb_cli_member(cli, as, &m)))
		return rc;
	if (m.no != p->provider && m.no != p->receiver)
		return tb_cli_fail(TB_EXIT_REFUSED,
				   "refused: %s is neither the provider nor the "
				   "receiver of this proposal (ECONSENT)",
				   m.name);
	if ((rc = tb_cli_member_key(cli, &m, &kp)))
		return rc;
	tb_keypair_wipe(&kp);
	return 0;
}

int tb_cmd_exchange_reject(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"as", required_argument, 0, 's'}, {0, 0, 0, 0}};
	const char *as = NULL;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "exchange", "reject")) != -1) {
		if (c != 's')
			return TB_EXIT_USAGE;
		as = optarg;
	}
	if (argc - optind != 1)
		return tb_cli_fail(TB_EXIT_USAGE,
				   "usage: tally exchange reject TXID [--as MEMBER]");
	int at = optind;
	int rc = tb_cli_open(cli, true);
	uint8_t buf[TB_ENTRY_MAX];
	struct tb_proposal p;
	if (rc || (rc = load_pending(cli, argv[at], buf, sizeof buf, &p)) ||
	    (rc = reject_consent(cli, as, &p)))
		return rc;
	struct tb_ops o = ops_of(cli);
	struct tb_reject rej = {0};
	int err = tb_op_reject(&o, p.txid, &rej);
	if (err)
		return tb_cli_refused(cli, err, &rej);
	if (cli->json) /* as POST /api/v1/exchanges/TXID/reject */
		return tb_cli_print_json(tb_vocab_rejected(p.txid), 0, "the rejection");
	printf("rejected %s; nothing was recorded\n", argv[at]);
	return TB_EXIT_OK;
}

struct pending_ctx {
	struct tb_cli *cli;
	int err;
};

static int pending_one(void *vctx, struct tb_view msg)
{
	struct pending_ctx *pc = vctx;
	struct tb_proposal p;
	/* msg dies with the callback; the views of p are only used inside it. */
	int err = tb_msg_decode_exact(msg.p, msg.len, &tb_def_proposal, &p);
	if (err)
		return pc->err = err;
	if (tb_pending_expired(&p, (uint64_t)time(NULL)))
		return 0;
	struct tb_member prov = {0}, recv = {0};
	(void)!tb_store_member(pc->cli->store, pc->cli->self, (uint32_t)p.provider, &prov);
	(void)!tb_store_member(pc->cli->store, pc->cli->self, (uint32_t)p.receiver, &recv);
	char txid[2 * TB_TXID_LEN + 1], h[32], d[16], memo[TB_MEMO_MAX + 1] = "";
	tb_hex_encode(txid, p.txid, TB_TXID_LEN);
	tb_out_hours(h, sizeof h, (int64_t)p.minutes);
	tb_out_date(d, sizeof d, p.date);
	(void)!tb_store_memo_get(pc->cli->store, p.txid, memo, sizeof memo);
	printf("%s  %s  %-12s -> %-12s %7s  %.*s  %s\n", txid, d, prov.name, recv.name, h + 1,
	       (int)p.category.len, (const char *)p.category.p, memo);
	return 0;
}

int tb_cmd_exchange_pending(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, "exchange", "pending") != -1 || optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally exchange pending");
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	int err;
	if (cli->json) { /* GET /api/v1/exchanges/pending */
		struct tb_json *o = tb_vocab_pending(cli->store, cli->self, &err);
		return tb_cli_print_json(o, err, "the pending exchanges");
	}
	struct pending_ctx pc = {cli, 0};
	err = tb_store_foreach_pending(cli->store, pending_one, &pc);
	if (err || pc.err)
		return tb_cli_fail(TB_EXIT_IO, "cannot list pending exchanges: %s",
				   tb_strerror(err ? err : pc.err));
	return TB_EXIT_OK;
}

int tb_cmd_exchange_record(struct tb_cli *cli, int argc, char **argv)
{
	struct terms_in in;
	int rc = parse_terms(argc, argv, "record", &in);
	if (rc)
		return rc;
	if (!in.t.attest)
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"record is the coordinator's attestation: add --attest (members sign with 'exchange propose')");
	struct tb_cli_base b;
	if ((rc = tb_cli_open(cli, true)) || (rc = tb_cli_terms_base(&in.t, &b)) ||
	    (rc = tb_cli_node_key(cli)))
		return rc;
	/* The same operation as the API's, so a refusal reads the same. */
	struct tb_ops o = {cli->store, cli->self, cli->data, &cli->node};
	struct tb_op_terms t = {in.provider, in.receiver,   in.t.minutes,
				in.t.memo,   in.t.category, b.date};
	struct tb_exchange x = {.minutes = (uint64_t)in.t.minutes, .attested = 1};
	struct tb_member prov, recv;
	struct tb_reject rej = {0};
	uint64_t seq;
	int err = tb_op_record(&o, &t, NULL, x.txid, &seq, &rej);
	if (err)
		return tb_cli_refused(cli, err, &rej);
	if (tb_store_member_find(cli->store, cli->self, in.provider, &prov) ||
	    tb_store_member_find(cli->store, cli->self, in.receiver, &recv))
		return tb_cli_fail(TB_EXIT_IO, "recorded, but the members cannot be read back");
	return print_recorded(cli, &x, &prov, &recv, seq);
}

int tb_cmd_exchange_reverse(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"attest", no_argument, 0, 'a'}, {0, 0, 0, 0}};
	bool attest = false;
	int at = txid_arg(argc, argv, "reverse", opts, &attest);
	if (at < 0)
		return TB_EXIT_USAGE;
	uint8_t otx[TB_TXID_LEN];
	if (tb_parse_txid(argv[at], otx))
		return tb_cli_fail(TB_EXIT_USAGE, "'%s' is not a transaction id (32 hex digits)",
				   argv[at]);
	int rc = tb_cli_open(cli, true);
	if (rc)
		return rc;
	/* The members first: their passphrases unlock the keys that consent. */
	struct tb_ops o = ops_of(cli);
	struct tb_reject rej = {0};
	uint8_t rec[TB_ENTRY_MAX];
	struct tb_entry e;
	int err = tb_op_exchange(&o, otx, rec, &e, &rej);
	if (err)
		return tb_cli_refused(cli, err, &rej);
	const struct tb_exchange *x = &e.body.exchange;
	struct tb_member prov, recv;
	err = tb_store_member(cli->store, cli->self, (uint32_t)x->provider, &prov);
	if (!err)
		err = tb_store_member(cli->store, cli->self, (uint32_t)x->receiver, &recv);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the members: %s", tb_strerror(err));
	char ppass[TB_PASSPHRASE_MAX + 1], rpass[TB_PASSPHRASE_MAX + 1];
	struct tb_op_pass pp = {ppass, 0}, rp = {rpass, 0};
	if ((!x->attested && !attest &&
	     ((rc = member_pass(cli, &prov, ppass, sizeof ppass, &pp)) ||
	      (rc = member_pass(cli, &recv, rpass, sizeof rpass, &rp)))) ||
	    (!rc && (rc = tb_cli_node_key(cli)))) {
		tb_wipe(ppass, sizeof ppass);
		tb_wipe(rpass, sizeof rpass);
		return rc;
	}
	uint8_t rtxid[TB_TXID_LEN];
	uint64_t rseq;
	int64_t minutes = (int64_t)x->minutes;
	err = tb_op_reverse(&o, otx, attest, pp, rp, rtxid, &rseq, &rej);
	tb_wipe(ppass, sizeof ppass);
	tb_wipe(rpass, sizeof rpass);
	if (err)
		return tb_cli_refused(cli, err, &rej);
	char txid[2 * TB_TXID_LEN + 1], h[32];
	tb_hex_encode(txid, rtxid, TB_TXID_LEN);
	tb_out_hours(h, sizeof h, minutes);
	if (cli->json) /* as POST /api/v1/exchanges/TXID/reverse */
		return tb_cli_print_json(tb_vocab_txid_seq(rtxid, rseq), 0, "the reversal");
	printf("reversed %s with %s (entry %llu): %s hours back from %s to %s\n", argv[at], txid,
	       (unsigned long long)rseq, h + 1, prov.name, recv.name);
	return TB_EXIT_OK;
}
