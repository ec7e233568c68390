/*
 * cmd_exchange.c: `tally exchange propose|confirm|reject|pending|record|
 * reverse`. A member-signed exchange is proposed (signed by the provider and
 * kept locally, outside the log), then confirmed (signed by the receiver and
 * appended). A coordinator-attested one is appended at once. A reversal is a
 * new entry with the same consent as the exchange it undoes. The memo text is
 * kept in the local memo table; the log holds only its salted hash.
 */
#include "cli.h"
#include "tb_node.h"
#include "tb_ops.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

struct terms_in {
	const char *provider, *receiver;
	struct tb_cli_terms t;
	char category[TB_CATEGORY_MAX + 1]; /* as recorded (tb_cli_category) */
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
		return tb_cli_fail(TB_EXIT_USAGE,
				   "exchange %s needs --provider, --receiver, --minutes or --hours, and --memo",
				   name);
	return tb_cli_terms_check(&in->t);
}

/* Resolves members, date and limits of typed terms into an exchange body. */
static int build(struct tb_cli *cli, struct terms_in *in, struct tb_exchange *x,
		 struct tb_member *prov, struct tb_member *recv, uint8_t salt[TB_MEMO_SALT_LEN])
{
	int rc;
	if ((rc = tb_cli_member(cli, in->provider, prov)) ||
	    (rc = tb_cli_member(cli, in->receiver, recv)) ||
	    (rc = tb_cli_category(cli, in->t.category, in->category)))
		return rc;
	if (prov->no == recv->no)
		return tb_cli_fail(TB_EXIT_REFUSED,
				   "refused: provider and receiver must be different members (ESELF)");
	struct tb_cli_base b;
	if ((rc = tb_cli_terms_base(&in->t, &b)))
		return rc;
	memset(x, 0, sizeof *x);
	x->date = b.date;
	memcpy(x->txid, b.txid, TB_TXID_LEN);
	memcpy(salt, b.salt, TB_MEMO_SALT_LEN);
	memcpy(x->memo_hash, b.memo_hash, TB_HASHLEN);
	x->provider = prov->no;
	x->receiver = recv->no;
	x->minutes = (uint64_t)in->t.minutes;
	x->category.p = (const uint8_t *)in->category;
	x->category.len = strlen(in->category);
	return 0;
}

static void print_recorded(struct tb_cli *cli, const struct tb_exchange *x,
			   const struct tb_member *prov, const struct tb_member *recv,
			   uint64_t seq)
{
	char txid[2 * TB_TXID_LEN + 1], h[32];
	tb_hex_encode(txid, x->txid, TB_TXID_LEN);
	tb_out_hours(h, sizeof h, (int64_t)x->minutes);
	if (cli->json) {
		printf("{\"txid\":\"%s\",\"seq\":%llu,\"provider\":", txid,
		       (unsigned long long)seq);
		tb_json_str(stdout, prov->name, strlen(prov->name));
		printf(",\"receiver\":");
		tb_json_str(stdout, recv->name, strlen(recv->name));
		printf(",\"minutes\":%llu,\"attested\":%s}\n", (unsigned long long)x->minutes,
		       x->attested ? "true" : "false");
	} else {
		printf("recorded %s: %s helped %s for %s hours (entry %llu%s)\n", txid,
		       prov->name, recv->name, h + 1, (unsigned long long)seq,
		       x->attested ? ", attested by the coordinator" : ", signed by both");
	}
}

/* Appends the exchange with its memo (record) or dropping its pending
 * proposal (confirm, pending not NULL): one transaction, all or nothing. */
static int append_exchange(struct tb_cli *cli, struct tb_exchange *x,
			   const struct tb_member *prov, const struct tb_member *recv,
			   const struct tb_memo *memo, const uint8_t *pending)
{
	struct tb_reject rej;
	struct tb_own_item it = {.kind = TB_KIND_EXCHANGE, .body = x, .memo = memo,
				 .pending_txid = pending};
	int err = tb_store_append_own_batch(cli->store, &cli->node, &it, 1, false, NULL, &rej);
	uint64_t seq = it.seq;
	tb_node_crash_point("exchange-recorded");
	if (err)
		return tb_cli_refused(cli, err, &rej);
	print_recorded(cli, x, prov, recv, seq);
	return TB_EXIT_OK;
}

/* Refuses early, before anyone signs, what the ledger would refuse. */
static int precheck(const struct tb_member *prov, const struct tb_member *recv,
		    int64_t minutes)
{
	char a[32], b[32];
	/* The community account has no limits (FORMAT.md 7.9). */
	if (recv->no != TB_COMMUNITY_ACCOUNT && recv->balance - minutes < recv->floor) {
		tb_out_hours(a, sizeof a, recv->balance - minutes);
		tb_out_hours(b, sizeof b, recv->floor);
		return tb_cli_fail(TB_EXIT_REFUSED,
				   "refused: %s's balance would be %s hours, below the debt limit of %s hours (EFLOOR)",
				   recv->name, a, b);
	}
	if (prov->ceiling && prov->balance + minutes > (int64_t)prov->ceiling) {
		tb_out_hours(a, sizeof a, prov->balance + minutes);
		tb_out_hours(b, sizeof b, (int64_t)prov->ceiling);
		return tb_cli_fail(TB_EXIT_REFUSED,
				   "refused: %s's balance would be %s hours, above the ceiling of %s hours (ECEILING)",
				   prov->name, a, b);
	}
	return 0;
}

int tb_cmd_exchange_propose(struct tb_cli *cli, int argc, char **argv)
{
	struct terms_in in;
	int rc = parse_terms(argc, argv, "propose", &in);
	if (rc || (rc = tb_cli_open(cli, true)))
		return rc;
	if (in.t.attest)
		return tb_cli_fail(TB_EXIT_USAGE, "propose is signed by members; use 'exchange record --attest' to attest");
	struct tb_exchange x;
	struct tb_member prov, recv;
	uint8_t salt[TB_MEMO_SALT_LEN];
	if ((rc = build(cli, &in, &x, &prov, &recv, salt)) ||
	    (rc = precheck(&prov, &recv, in.t.minutes)))
		return rc;
	struct tb_keypair kp;
	if ((rc = tb_cli_member_key(cli, &prov, &kp)))
		return rc;
	struct tb_exchange_terms t;
	tb_exchange_terms_of(&t, cli->self, &x);
	struct tb_proposal p = {0};
	memcpy(p.txid, x.txid, TB_TXID_LEN);
	p.provider = x.provider;
	p.receiver = x.receiver;
	p.minutes = x.minutes;
	p.category = x.category;
	memcpy(p.memo_hash, x.memo_hash, TB_HASHLEN);
	p.date = x.date;
	p.created = (uint64_t)time(NULL);
	uint8_t sig[TB_SIGLEN];
	rc = tb_cli_sign_terms(&tb_def_exchange_terms, &t, TB_CTX_EXCHANGE, &kp, sig);
	tb_keypair_wipe(&kp);
	if (rc)
		return rc;
	p.provider_sig.p = sig;
	p.provider_sig.len = TB_SIGLEN;
	uint8_t buf[TB_ENTRY_MAX];
	size_t len;
	int err = tb_terms_encode(buf, sizeof buf, &len, &tb_def_proposal, &p);
	if (!err)
		err = tb_store_memo_put(cli->store, x.txid, salt, in.t.memo, strlen(in.t.memo));
	if (!err)
		err = tb_store_pending_put(cli->store, x.txid, buf, len);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot keep the proposal: %s", tb_strerror(err));
	char txid[2 * TB_TXID_LEN + 1];
	tb_hex_encode(txid, x.txid, TB_TXID_LEN);
	if (cli->json)
		printf("{\"txid\":\"%s\",\"pending\":true}\n", txid);
	else
		printf("%s\nproposed: %s helped %s; waiting for %s to run 'tally exchange confirm %s'\n",
		       txid, prov.name, recv.name, recv.name, txid);
	return TB_EXIT_OK;
}

static int load_pending(struct tb_cli *cli, const char *hex, uint8_t *buf, size_t cap,
			struct tb_proposal *p)
{
	uint8_t txid[TB_TXID_LEN];
	size_t len;
	if (tb_parse_txid(hex, txid))
		return tb_cli_fail(TB_EXIT_USAGE, "'%s' is not a transaction id (32 hex digits)", hex);
	int err = tb_store_pending_get(cli->store, txid, buf, cap, &len);
	uint64_t seq, rev;
	if (err == TB_ENOTFOUND && tb_store_tx(cli->store, cli->self, txid, &seq, &rev) == 0)
		return tb_cli_fail(TB_EXIT_REFUSED, "refused: %s is already recorded as entry %llu "
				   "(EDUPTX)", hex, (unsigned long long)seq);
	if (err == TB_ENOTFOUND)
		return tb_cli_fail(TB_EXIT_USAGE, "no pending exchange %s", hex);
	if (!err)
		err = tb_msg_decode_exact(buf, len, &tb_def_proposal, p);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the pending exchange: %s",
				   tb_strerror(err));
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
	struct tb_exchange x = {0};
	memcpy(x.txid, p.txid, TB_TXID_LEN);
	x.provider = p.provider;
	x.receiver = p.receiver;
	x.minutes = p.minutes;
	x.category = p.category;
	memcpy(x.memo_hash, p.memo_hash, TB_HASHLEN);
	x.date = p.date;
	x.provider_sig = p.provider_sig;
	struct tb_keypair kp;
	if ((rc = tb_cli_member_key(cli, &recv, &kp)))
		return rc;
	struct tb_exchange_terms t;
	uint8_t sig[TB_SIGLEN];
	tb_exchange_terms_of(&t, cli->self, &x);
	rc = tb_cli_sign_terms(&tb_def_exchange_terms, &t, TB_CTX_EXCHANGE, &kp, sig);
	tb_keypair_wipe(&kp);
	if (rc || (rc = tb_cli_node_key(cli)))
		return rc;
	x.receiver_sig.p = sig;
	x.receiver_sig.len = TB_SIGLEN;
	tb_node_crash_point("exchange-signed");
	return append_exchange(cli, &x, &prov, &recv, NULL, x.txid);
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
		return tb_cli_fail(TB_EXIT_REFUSED, "refused: %s is neither the provider nor the "
				   "receiver of this proposal (ECONSENT)", m.name);
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
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally exchange reject TXID [--as MEMBER]");
	int at = optind;
	int rc = tb_cli_open(cli, true);
	uint8_t buf[TB_ENTRY_MAX];
	struct tb_proposal p;
	if (rc || (rc = load_pending(cli, argv[at], buf, sizeof buf, &p)) ||
	    (rc = reject_consent(cli, as, &p)))
		return rc;
	int err = tb_store_pending_del(cli->store, p.txid);
	if (!err) {
		err = tb_store_memo_erase(cli->store, p.txid);
		if (err == TB_ENOTFOUND)
			err = 0;
	}
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot drop the proposal: %s", tb_strerror(err));
	if (cli->json)
		printf("{\"txid\":\"%s\",\"rejected\":true}\n", argv[at]);
	else
		printf("rejected %s; nothing was recorded\n", argv[at]);
	return TB_EXIT_OK;
}

struct pending_ctx {
	struct tb_cli *cli;
	bool first;
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
	struct tb_member prov = {0}, recv = {0};
	(void)!tb_store_member(pc->cli->store, pc->cli->self, (uint32_t)p.provider, &prov);
	(void)!tb_store_member(pc->cli->store, pc->cli->self, (uint32_t)p.receiver, &recv);
	char txid[2 * TB_TXID_LEN + 1], h[32], d[16], memo[TB_MEMO_MAX + 1] = "";
	tb_hex_encode(txid, p.txid, TB_TXID_LEN);
	tb_out_hours(h, sizeof h, (int64_t)p.minutes);
	tb_out_date(d, sizeof d, p.date);
	(void)!tb_store_memo_get(pc->cli->store, p.txid, memo, sizeof memo);
	if (pc->cli->json) {
		printf("%s{\"txid\":\"%s\",\"provider\":", pc->first ? "" : ",", txid);
		tb_json_str(stdout, prov.name, strlen(prov.name));
		printf(",\"receiver\":");
		tb_json_str(stdout, recv.name, strlen(recv.name));
		printf(",\"minutes\":%llu,\"date\":\"%s\",\"category\":",
		       (unsigned long long)p.minutes, d);
		tb_json_str(stdout, (const char *)p.category.p, p.category.len);
		printf(",\"memo\":");
		tb_json_str(stdout, memo, strlen(memo));
		printf("}");
	} else {
		printf("%s  %s  %-12s -> %-12s %7s  %.*s  %s\n", txid, d, prov.name, recv.name,
		       h + 1, (int)p.category.len, (const char *)p.category.p, memo);
	}
	pc->first = false;
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
	struct pending_ctx pc = {cli, true, 0};
	if (cli->json)
		printf("[");
	int err = tb_store_foreach_pending(cli->store, pending_one, &pc);
	if (cli->json)
		printf("]\n");
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
		return tb_cli_fail(TB_EXIT_USAGE,
				   "record is the coordinator's attestation: add --attest (members sign with 'exchange propose')");
	struct tb_cli_base b;
	if ((rc = tb_cli_open(cli, true)) || (rc = tb_cli_terms_base(&in.t, &b)) ||
	    (rc = tb_cli_node_key(cli)))
		return rc;
	/* The same operation as the API's, so a refusal reads the same. */
	struct tb_ops o = {cli->store, cli->self, cli->data, &cli->node};
	struct tb_op_terms t = {in.provider, in.receiver, in.t.minutes, in.t.memo,
				in.t.category, b.date};
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
	print_recorded(cli, &x, &prov, &recv, seq);
	return TB_EXIT_OK;
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
	uint64_t seq, rev;
	int err = tb_store_tx(cli->store, cli->self, otx, &seq, &rev);
	if (err == TB_ENOTFOUND)
		return tb_cli_fail(TB_EXIT_REFUSED, "refused: no exchange %s in this ledger (ENOTX)",
				   argv[at]);
	uint8_t rec[TB_ENTRY_MAX];
	size_t len;
	struct tb_entry e;
	if (!err)
		err = tb_store_get_entry(cli->store, cli->self, seq, rec, sizeof rec, &len);
	if (!err)
		err = tb_entry_decode(&e, rec, len);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read entry %llu: %s",
				   (unsigned long long)seq, tb_strerror(err));
	if (e.kind != TB_KIND_EXCHANGE)
		return tb_cli_fail(TB_EXIT_REFUSED, "refused: %s is not an exchange (ENOTX)", argv[at]);
	const struct tb_exchange *x = &e.body.exchange;
	if (attest && !x->attested)
		return tb_cli_fail(TB_EXIT_REFUSED,
				   "refused: the exchange was signed by both members, so its reversal must be too; run without --attest (ECONSENT)");
	struct tb_reversal r = {0};
	tb_random(r.txid, TB_TXID_LEN);
	memcpy(r.original, otx, TB_TXID_LEN);
	r.attested = x->attested;
	uint8_t ps[TB_SIGLEN], rs[TB_SIGLEN];
	struct tb_member prov, recv;
	err = tb_store_member(cli->store, cli->self, (uint32_t)x->provider, &prov);
	if (!err)
		err = tb_store_member(cli->store, cli->self, (uint32_t)x->receiver, &recv);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the members: %s", tb_strerror(err));
	if (!x->attested) {
		struct tb_reversal_terms t;
		tb_reversal_terms_of(&t, cli->self, &r);
		struct tb_keypair kp;
		if ((rc = tb_cli_member_key(cli, &prov, &kp)))
			return rc;
		rc = tb_cli_sign_terms(&tb_def_reversal_terms, &t, TB_CTX_REVERSAL, &kp, ps);
		tb_keypair_wipe(&kp);
		if (rc || (rc = tb_cli_member_key(cli, &recv, &kp)))
			return rc;
		rc = tb_cli_sign_terms(&tb_def_reversal_terms, &t, TB_CTX_REVERSAL, &kp, rs);
		tb_keypair_wipe(&kp);
		if (rc)
			return rc;
		r.provider_sig = (struct tb_view){ps, TB_SIGLEN};
		r.receiver_sig = (struct tb_view){rs, TB_SIGLEN};
	}
	if ((rc = tb_cli_node_key(cli)))
		return rc;
	struct tb_reject rej;
	uint64_t rseq;
	err = tb_store_append_own(cli->store, &cli->node, TB_KIND_REVERSAL, &r, &rseq, &rej);
	if (err)
		return tb_cli_refused(cli, err, &rej);
	char txid[2 * TB_TXID_LEN + 1], h[32];
	tb_hex_encode(txid, r.txid, TB_TXID_LEN);
	tb_out_hours(h, sizeof h, (int64_t)x->minutes);
	if (cli->json)
		printf("{\"txid\":\"%s\",\"reverses\":\"%s\",\"seq\":%llu,\"minutes\":%llu}\n", txid,
		       argv[at], (unsigned long long)rseq, (unsigned long long)x->minutes);
	else
		printf("reversed %s with %s (entry %llu): %s hours back from %s to %s\n", argv[at],
		       txid, (unsigned long long)rseq, h + 1, prov.name, recv.name);
	return TB_EXIT_OK;
}
