/*
 * cmd_receipt.c: `tally checkpoint` (sign the log's size and Merkle root
 * now), `tally receipt TXID --out FILE` (one exchange's entry, a signed
 * checkpoint and the inclusion proof) and `tally receipt verify FILE` (checks
 * one offline, with no data directory and no trust in the node).
 */
#include "cli.h"
#include "tb_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int tb_cli_read_small(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	uint8_t *p;
	int err = tb_file_read(path, cap, &p, len);
	if (err == TB_ETOOBIG)
		return tb_cli_fail(TB_EXIT_USAGE, "%s is too large to be what was asked for", path);
	if (err)
		return tb_cli_fail(TB_EXIT_USAGE, "cannot read %s: %s", path, tb_strerror(err));
	memcpy(buf, p, *len);
	free(p);
	return 0;
}

static int print_checkpoint(struct tb_cli *cli, const struct tb_checkpoint *cp)
{
	char id[2 * TB_KEY_LEN + 1], root[2 * TB_HASHLEN + 1];
	tb_hex_encode(id, cp->log_id, TB_KEY_LEN);
	tb_hex_encode(root, cp->root, TB_HASHLEN);
	if (cli->json) { /* as POST /api/v1/checkpoints answers */
		char name[TB_NAME_MAX + 1];
		struct tb_ops o = {cli->store, cli->self, NULL, NULL};
		tb_op_community_name(&o, cp->log_id, name, sizeof name);
		return tb_cli_print_json(tb_vocab_checkpoint(cp, name), 0, "the checkpoint");
	}
	char when[32];
	time_t t = (time_t)cp->timestamp;
	struct tm tm;
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	printf("checkpoint of log %s: %llu entries, Merkle root %s, signed at %s\n", id,
	       (unsigned long long)cp->size, root, when);
	return TB_EXIT_OK;
}

int tb_cmd_checkpoint(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, 0, 'o'}, {0, 0, 0, 0}};
	const char *out = NULL;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, NULL, "checkpoint")) != -1) {
		if (c != 'o')
			return TB_EXIT_USAGE;
		out = optarg;
	}
	if (optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally checkpoint [--out FILE]");
	int rc = tb_cli_open(cli, true);
	if (rc || (rc = tb_cli_node_key(cli)))
		return rc;
	uint8_t buf[TB_CHECKPOINT_MAX];
	size_t len;
	int err = tb_store_checkpoint_make(cli->store, &cli->node, buf, sizeof buf, &len);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot make a checkpoint: %s", tb_strerror(err));
	if (out && (err = tb_file_write(out, buf, len, 0644, 0)))
		return tb_cli_fail(TB_EXIT_IO, "cannot write %s", out);
	struct tb_checkpoint cp;
	err = tb_checkpoint_open(&cp, buf, len);
	TB_ASSERT(err == 0);
	return print_checkpoint(cli, &cp);
}

int tb_cmd_receipt(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, 0, 'o'}, {0, 0, 0, 0}};
	const char *out = NULL;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, NULL, "receipt")) != -1) {
		if (c != 'o')
			return TB_EXIT_USAGE;
		out = optarg;
	}
	if (argc - optind != 1 || !out)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally receipt TXID --out FILE");
	uint8_t txid[TB_TXID_LEN];
	if (tb_parse_txid(argv[optind], txid))
		return tb_cli_fail(TB_EXIT_USAGE, "'%s' is not a transaction id", argv[optind]);
	int rc = tb_cli_open(cli, true);
	if (rc)
		return rc;
	/* The community key is unlocked only when a new checkpoint is needed. */
	struct tb_ops o = {cli->store, cli->self, cli->data, NULL};
	struct tb_reject rej = {0};
	uint8_t *r = malloc(TB_RECEIPT_MAX);
	size_t rlen;
	uint64_t seq;
	if (!r)
		return tb_cli_fail(TB_EXIT_IO, "out of memory");
	int err = tb_op_receipt(&o, txid, r, TB_RECEIPT_MAX, &rlen, &seq, &rej);
	if (err == TB_ENOTFOUND) {
		if ((rc = tb_cli_node_key(cli))) {
			free(r);
			return rc;
		}
		o.node = &cli->node;
		err = tb_op_receipt(&o, txid, r, TB_RECEIPT_MAX, &rlen, &seq, &rej);
	}
	if (err) {
		free(r);
		return tb_cli_refused(cli, err, &rej);
	}
	err = tb_file_write(out, r, rlen, 0644, 0);
	free(r);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot write the receipt: %s", tb_strerror(err));
	if (cli->json) {
		printf("{\"txid\":\"%s\",\"seq\":%llu,\"file\":", argv[optind],
		       (unsigned long long)seq);
		tb_json_str(stdout, out, strlen(out));
		printf("}\n");
	} else
		printf("receipt for %s (entry %llu) written to %s\n", argv[optind],
		       (unsigned long long)seq, out);
	return TB_EXIT_OK;
}

/* What receipt verify checked, as one JSON object. */
static void verified_json(const char *id, const struct tb_receipt_info *info)
{
	const struct tb_entry *e = &info->entry;
	printf("{\"ok\":true,\"log\":\"%s\",\"seq\":%llu,\"kind\":\"%s\",\"checkpoint_size\":%llu",
	       id, (unsigned long long)e->seq, tb_kind_name(e->kind),
	       (unsigned long long)info->checkpoint.size);
	if (e->kind == TB_KIND_EXCHANGE)
		printf(",\"provider\":%llu,\"receiver\":%llu,\"minutes\":%llu,\"date\":%llu,"
		       "\"attested\":%s",
		       (unsigned long long)e->body.exchange.provider,
		       (unsigned long long)e->body.exchange.receiver,
		       (unsigned long long)e->body.exchange.minutes,
		       (unsigned long long)e->body.exchange.date,
		       e->body.exchange.attested ? "true" : "false");
	printf(",\"members_signatures_checked\":false}\n");
}

int tb_cmd_receipt_verify(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"community", required_argument, 0, 'c'},
					     {0, 0, 0, 0}};
	const char *community = NULL;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "receipt", "verify")) != -1) {
		if (c != 'c')
			return TB_EXIT_USAGE;
		community = optarg;
	}
	if (argc - optind != 1)
		return tb_cli_fail(TB_EXIT_USAGE,
				   "usage: tally receipt verify FILE [--community NODE_ID]");
	uint8_t pin[TB_KEY_LEN];
	if (community && tb_hex_decode(pin, TB_KEY_LEN, community))
		return tb_cli_fail(TB_EXIT_USAGE, "--community needs a node id (64 hex digits)");
	uint8_t *buf = malloc(TB_RECEIPT_MAX);
	size_t len;
	if (!buf)
		return tb_cli_fail(TB_EXIT_IO, "out of memory");
	int rc = tb_cli_read_small(argv[optind], buf, TB_RECEIPT_MAX, &len);
	if (rc) {
		free(buf);
		return rc;
	}
	struct tb_receipt_info info;
	int err = tb_receipt_verify(buf, len, community ? pin : NULL, &info);
	char id[2 * TB_KEY_LEN + 1];
	tb_hex_encode(id, info.entry.log_id, TB_KEY_LEN);
	cli->json_report = true;
	if (err) {
		if (cli->json)
			printf("{\"ok\":false,\"error\":\"%s\",\"message\":\"%s\"}\n",
			       tb_errname(err), tb_strerror(err));
		else
			printf("FAILED: %s (%s)\n",
			       err == TB_ELOGID && community
				       ? "the receipt is from another community"
				       : tb_strerror(err),
			       tb_errname(err));
		free(buf);
		return TB_EXIT_REFUSED;
	}
	const struct tb_entry *e = &info.entry;
	if (cli->json) {
		verified_json(id, &info);
	} else {
		printf("ok: entry %llu (%s) is in the log of community %s,\n"
		       "    as of its signed checkpoint of %llu entries",
		       (unsigned long long)e->seq, tb_kind_name(e->kind), id,
		       (unsigned long long)info.checkpoint.size);
		if (!community)
			printf(" (give --community NODE_ID to pin the community)");
		printf("\n");
		if (e->kind == TB_KIND_EXCHANGE) {
			char h[32], d[16];
			tb_out_hours(h, sizeof h, (int64_t)e->body.exchange.minutes);
			tb_out_date(d, sizeof d, e->body.exchange.date);
			printf("    member %llu helped member %llu for %s hours on %s (%s)\n",
			       (unsigned long long)e->body.exchange.provider,
			       (unsigned long long)e->body.exchange.receiver, h + 1, d,
			       e->body.exchange.attested
				       ? "attested by the community"
				       : "the entry holds both members' signatures");
			/* A receipt carries no member keys: only the community's key
			 * and the proof were checked, and the output says so. */
			printf("    the community's key signed it; the members' signatures are not\n"
			       "    checked by a receipt (tally audit of the log checks them)\n");
		}
	}
	free(buf);
	return TB_EXIT_OK;
}
