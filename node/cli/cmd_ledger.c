/*
 * cmd_ledger.c: whole-ledger commands: `tally export` (every log held, in
 * the export format of FORMAT.md), `tally verify` (re-checks a data
 * directory or an export from scratch, trusting nothing stored), `tally
 * reindex` (rebuilds derived indexes from the logs) and `tally memo erase`.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct export_fill {
	struct tb_store *store;
	uint64_t *items;
};

static int put_fd(void *ctx, const void *p, size_t len)
{
	return tb_fd_write_all(*(const int *)ctx, p, len);
}

static int fill_export(void *ctx, int fd)
{
	struct export_fill *x = ctx;
	return tb_export_write(x->store, put_fd, &fd, x->items);
}

int tb_cmd_export(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, 0, 'o'}, {0, 0, 0, 0}};
	const char *out = NULL;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, NULL, "export")) != -1) {
		if (c != 'o')
			return TB_EXIT_USAGE;
		out = optarg;
	}
	if (optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "export: unexpected argument '%s'", argv[optind]);
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	if (!out && isatty(STDOUT_FILENO))
		return tb_cli_fail(TB_EXIT_USAGE,
				   "export writes binary data: give --out FILE or redirect");
	uint64_t items = 0;
	struct export_fill x = {cli->store, &items};
	int err = out ? tb_file_write_with(out, 0644, 0, fill_export, &x)
		      : fill_export(&x, STDOUT_FILENO);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "export failed: %s", tb_strerror(err));
	if (out) {
		if (cli->json) {
			printf("{\"file\":");
			tb_json_str(stdout, out, strlen(out));
			printf(",\"items\":%llu}\n", (unsigned long long)items);
		} else
			printf("exported %llu items (entries, checkpoints, fork proofs) to %s\n",
			       (unsigned long long)items, out);
	}
	return TB_EXIT_OK;
}

uint8_t *tb_cli_read_file(const char *path, size_t *len, int *err)
{
	uint8_t *p;
	/* An export is read whole; nothing smaller than memory bounds it. */
	*err = tb_file_read(path, SIZE_MAX / 2, &p, len);
	return *err ? NULL : p;
}

int tb_cli_fd_read(void *ctx, uint8_t *p, size_t len, size_t *got)
{
	for (;;) {
		ssize_t r = read(*(const int *)ctx, p, len);
		if (r >= 0) {
			*got = (size_t)r;
			return 0;
		}
		if (errno != EINTR)
			return TB_EIO;
	}
}

int tb_cmd_verify(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, NULL, "verify") != -1 || argc - optind > 1)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally verify [DIR | FILE]");
	char target[4200];
	const char *what = optind < argc ? argv[optind] : cli->data;
	struct stat st;
	if (stat(what, &st))
		return tb_cli_fail(TB_EXIT_USAGE, "cannot read %s: %s", what, strerror(errno));
	struct tb_verify_report rep;
	int err;
	const char *tmp = getenv("TMPDIR");
	if (S_ISDIR(st.st_mode)) {
		/* A data directory, or a ledger directory itself. */
		snprintf(target, sizeof target, "%s/ledger", what);
		if (stat(target, &st) || !S_ISDIR(st.st_mode))
			snprintf(target, sizeof target, "%s", what);
		snprintf(target + strlen(target), sizeof target - strlen(target), "%s", "");
		char mdb[4300];
		snprintf(mdb, sizeof mdb, "%s/data.mdb", target);
		if (stat(mdb, &st))
			return tb_cli_fail(TB_EXIT_USAGE, "%s holds no Tally ledger", what);
		err = tb_verify_dir(target, tmp, &rep);
	} else {
		/* An export of any size is read as a stream. */
		int fd;
		uint64_t size;
		if ((err = tb_file_open_read(what, UINT64_MAX, &fd, &size)))
			return tb_cli_fail(TB_EXIT_IO, "cannot read %s: %s", what,
					   tb_strerror(err));
		err = tb_verify_export_stream(tb_cli_fd_read, &fd, tmp, &rep);
		close(fd);
	}
	if (err && !rep.err)
		return tb_cli_fail(TB_EXIT_IO, "the verification could not finish: %s",
				   tb_strerror(err));
	char id[2 * TB_KEY_LEN + 1];
	tb_hex_encode(id, rep.where.log_id, TB_KEY_LEN);
	cli->json_report = true;
	if (cli->json) {
		tb_out_json_inner(tb_vocab_verify(&rep));
		printf("\n");
	} else if (!err) {
		printf("ok: %llu logs, %llu entries: signatures, chains, Merkle trees, rules and balances all check\n",
		       (unsigned long long)rep.logs, (unsigned long long)rep.entries);
		if (rep.legs_in_flight || rep.legs_unmatched)
			printf("cross-community: %llu exchanges in flight, %llu legs whose other "
			       "community's log is not held\n",
			       (unsigned long long)rep.legs_in_flight,
			       (unsigned long long)rep.legs_unmatched);
		if (rep.succeeded)
			printf("forks: %llu forked logs whose community continues in a successor log "
			       "(valid successions; `tally audit` tells the story)\n",
			       (unsigned long long)rep.succeeded);
	} else {
		printf("FAILED: log %s seq %llu", id, (unsigned long long)rep.where.seq);
		if (rep.item)
			printf(" (item %llu)", (unsigned long long)rep.item);
		printf(": %s (%s)\n", rep.where.msg, tb_errname(err));
	}
	if (!err)
		return TB_EXIT_OK;
	switch (err) {
	case TB_ENOMEM:
	case TB_EIO:
	case TB_ESTORE:
	case TB_EFULL:
		return TB_EXIT_IO;
	}
	return TB_EXIT_REFUSED;
}

int tb_cmd_reindex(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, NULL, "reindex") != -1 || optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally reindex");
	int rc = tb_cli_open(cli, true);
	if (rc)
		return rc;
	struct tb_reject rej;
	int err = tb_store_reindex(cli->store, &rej);
	if (err)
		return tb_cli_refused(cli, err, &rej);
	struct tb_head h;
	err = tb_store_head(cli->store, cli->self, &h);
	if (cli->json)
		printf("{\"reindexed\":true,\"entries\":%llu}\n", (unsigned long long)h.seq);
	else
		printf("reindexed: balances and indexes rebuilt from %llu entries\n",
		       (unsigned long long)h.seq);
	return TB_EXIT_OK;
}

int tb_cmd_memo_erase(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"yes", no_argument, 0, 'y'}, {0, 0, 0, 0}};
	bool yes = false;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "memo", "erase")) != -1) {
		if (c != 'y')
			return TB_EXIT_USAGE;
		yes = true;
	}
	if (argc - optind != 1)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally memo erase TXID [--yes]");
	uint8_t txid[TB_TXID_LEN];
	if (tb_parse_txid(argv[optind], txid))
		return tb_cli_fail(TB_EXIT_USAGE, "'%s' is not a transaction id", argv[optind]);
	int rc = tb_cli_open(cli, true);
	char memo[TB_MEMO_MAX + 1];
	if (rc)
		return rc;
	if (tb_store_memo_get(cli->store, txid, memo, sizeof memo))
		return tb_cli_fail(TB_EXIT_USAGE, "no memo held for %s", argv[optind]);
	/* Erasing cannot be undone: the coordinator's key, and a yes. */
	if ((rc = tb_cli_node_key(cli)))
		return rc;
	if (!yes) {
		char line[8];
		if (!isatty(0) || !isatty(2))
			return tb_cli_fail(TB_EXIT_USAGE,
					   "erasing a memo cannot be undone: give --yes");
		fprintf(stderr, "Erase the memo \"%s\" of %s for good? (y/N) ", memo, argv[optind]);
		if (!fgets(line, sizeof line, stdin) || (line[0] != 'y' && line[0] != 'Y'))
			return tb_cli_fail(TB_EXIT_USAGE, "nothing erased");
	}
	int err = tb_store_memo_erase(cli->store, txid);
	if (err == TB_ENOTFOUND)
		return tb_cli_fail(TB_EXIT_USAGE, "no memo held for %s", argv[optind]);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot erase: %s", tb_strerror(err));
	if (cli->json)
		printf("{\"txid\":\"%s\",\"erased\":true}\n", argv[optind]);
	else
		printf("memo of %s erased; the signed log keeps only its salted hash\n",
		       argv[optind]);
	return TB_EXIT_OK;
}
