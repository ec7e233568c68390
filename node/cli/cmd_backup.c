/*
 * cmd_backup.c: `tally backup` and `tally restore`. A backup is taken while
 * tallyd runs (LMDB's consistent copy) and checked after writing. A restore
 * checks the whole file first, builds the data directory aside and moves it
 * into place, and marks the ledger restored: it then signs nothing until
 * tallyd has taken back from its peers the entries of its own log signed
 * after the backup, which is what keeps a restore from forking the
 * community. `--no-peers` skips (or lifts) the mark, after a warning, for a
 * community whose log no other node holds.
 */
#include "cli.h"
#include "tb_node.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int tb_cmd_backup(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, 0, 'o'}, {0, 0, 0, 0}};
	const char *out = NULL;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, NULL, "backup")) != -1) {
		if (c != 'o')
			return TB_EXIT_USAGE;
		out = optarg;
	}
	if (!out || optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally backup --out FILE");
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	struct tb_head h = {0};
	(void)!tb_store_head(cli->store, cli->self, &h);
	struct tb_backup_info info;
	int err = tb_backup_write(cli->data, cli->store, out, &info);
	if (err)
		return tb_cli_storage_fail(cli, err, out);
	if (cli->json) {
		printf("{\"backup\":");
		tb_json_str(stdout, out, strlen(out));
		printf(",\"files\":%llu,\"bytes\":%llu,\"own_seq\":%llu,\"checked\":true}\n",
		       (unsigned long long)info.files, (unsigned long long)info.bytes,
		       (unsigned long long)h.seq);
	} else {
		printf("backup written to %s and checked: %llu files, %llu bytes, own log at "
		       "entry %llu\n",
		       out, (unsigned long long)info.files, (unsigned long long)info.bytes,
		       (unsigned long long)h.seq);
	}
	return TB_EXIT_OK;
}

static const char no_peers_warning[] =
	"tally: warning: --no-peers: entries of this community's log signed after the backup "
	"and held by any other node will fork the community when they meet this node's new "
	"entries; use it only if no other node holds this community's log\n";

/* `tally restore --no-peers` on a restored directory: lifts the mark. */
static int lift(struct tb_cli *cli)
{
	int rc = tb_cli_open(cli, true);
	if (rc)
		return rc;
	uint64_t seq;
	int err = tb_store_restored(cli->store, &seq);
	if (err == TB_ENOTFOUND)
		return tb_cli_fail(TB_EXIT_USAGE, "%s is not waiting for a restore to sync",
				   cli->data);
	if (err || (err = tb_store_set_restored(cli->store, false)))
		return tb_cli_refused(cli, err, NULL);
	fputs(no_peers_warning, stderr);
	if (cli->json)
		printf("{\"restored\":true,\"synced\":false,\"signing\":true}\n");
	else
		printf("restore confirmed without peers: this node signs again\n");
	return TB_EXIT_OK;
}

static int extract(struct tb_cli *cli, const char *file, const char *tmp, bool no_peers,
		   struct tb_backup_info *info, uint64_t *seq)
{
	int err = tb_backup_extract(file, tmp, info);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot restore %s: %s", file, tb_strerror(err));
	char ledger[4500];
	snprintf(ledger, sizeof ledger, "%s/ledger", tmp);
	struct tb_head h = {0};
	if ((err = tb_store_open(&cli->store, ledger, 0)) ||
	    (err = tb_store_self(cli->store, cli->self)) ||
	    (err = tb_store_head(cli->store, cli->self, &h)) ||
	    (err = tb_store_set_restored(cli->store, !no_peers))) {
		tb_store_free(cli->store);
		cli->store = NULL;
		return tb_cli_fail(TB_EXIT_IO, "the ledger in %s cannot be opened: %s", file,
				   tb_strerror(err));
	}
	tb_store_free(cli->store);
	cli->store = NULL;
	*seq = h.seq;
	tb_node_crash_point("restore-extracted");
	return 0;
}

int tb_cmd_restore(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"no-peers", no_argument, 0, 'n'}, {0, 0, 0, 0}};
	bool no_peers = false;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, NULL, "restore")) != -1) {
		if (c != 'n')
			return TB_EXIT_USAGE;
		no_peers = true;
	}
	if (argc - optind > 1 || (argc == optind && !no_peers))
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally restore FILE [--no-peers] "
						  "(or tally restore --no-peers)");
	if (argc == optind)
		return lift(cli);
	const char *file = argv[optind];
	struct stat st;
	if (stat(cli->ledger, &st) == 0)
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"%s already holds a ledger: restore into a new or empty directory "
			"(--data DIR), or move that one away first",
			cli->data);
	uint32_t pid;
	if (tb_daemon_running(cli->data, &pid))
		return tb_cli_fail(TB_EXIT_USAGE, "tallyd (pid %u) is running on %s: stop it first",
				   pid, cli->data);
	struct tb_backup_info info;
	int err = tb_backup_check(file, &info);
	if (err == TB_ENOTFOUND)
		return tb_cli_fail(TB_EXIT_USAGE, "no backup file at %s", file);
	if (err)
		return tb_cli_fail(TB_EXIT_USAGE, "%s is not a complete Tally backup: %s (%s)",
				   file, tb_strerror(err), tb_errname(err));
	struct tb_aside a;
	uint64_t seq = 0;
	int rc = tb_aside_begin(cli, &a);
	if (!rc)
		rc = extract(cli, file, a.tmp, no_peers, &info, &seq);
	if (!rc)
		rc = tb_aside_commit(cli, &a);
	tb_aside_end(cli, &a, rc);
	if (rc)
		return rc;
	if (no_peers)
		fputs(no_peers_warning, stderr);
	if (cli->json) {
		printf("{\"restored\":true,\"data\":");
		tb_json_str(stdout, cli->data, strlen(cli->data));
		printf(",\"own_seq\":%llu,\"files\":%llu,\"signing\":%s}\n",
		       (unsigned long long)seq, (unsigned long long)info.files,
		       no_peers ? "true" : "false");
	} else if (no_peers) {
		printf("restored %s (own log at entry %llu); it signs again at once\n", cli->data,
		       (unsigned long long)seq);
	} else {
		printf("restored %s (own log at entry %llu).\n"
		       "It signs nothing until tallyd has synced with its peers and taken back the\n"
		       "entries of this community's log they hold: start tallyd now. If no other\n"
		       "node holds this log, confirm with 'tally restore --no-peers'.\n",
		       cli->data, (unsigned long long)seq);
	}
	return TB_EXIT_OK;
}
