/*
 * init_build.c: makes a data directory (a new community's, or one restored
 * from a backup) so that no failure leaves half of one. Keys, federation
 * key, peers, configuration and ledger are built in DATA/.init-tmp and moved
 * into place at the end, the ledger last: a directory holds a community
 * exactly when DATA/ledger exists. A mark file, DATA/.init-incomplete, lives
 * from before the first file is made until after the last rename; a later
 * init or restore that finds it (the earlier one was killed) removes what
 * that one made, and only that. An error other than a kill removes what this
 * one made. It never touches a directory that holds any of those files of
 * its own.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "cli.h"
#include "tb_node.h"

#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARK ".init-incomplete"
#define TMP ".init-tmp"

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) && errno != ENOENT ? -1 : 0;
}

int tb_rmrf(const char *path)
{
	struct stat st;
	if (lstat(path, &st))
		return errno == ENOENT ? 0 : tb_errno_code(errno);
	if (!S_ISDIR(st.st_mode))
		return unlink(path) ? tb_errno_code(errno) : 0;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) ? tb_errno_code(errno) : 0;
}

static void at(char *out, size_t cap, const char *dir, const char *name)
{
	snprintf(out, cap, "%.4200s/%.32s", dir, name);
}

static const char *const made[] = {"keys", "federation.key", "peers", "tallyd.conf", "ledger"};
#define NMADE (sizeof made / sizeof made[0])

/* Removes what a killed init or restore left, or refuses a directory
 * holding what they would make. */
static int prepare(struct tb_cli *cli)
{
	char p[4400];
	struct stat st;
	at(p, sizeof p, cli->data, MARK);
	if (stat(p, &st) == 0) {
		for (size_t i = 0; i < NMADE - 1; i++) {
			at(p, sizeof p, cli->data, made[i]);
			int err = tb_rmrf(p);
			if (err)
				return tb_cli_storage_fail(cli, err, p);
		}
		at(p, sizeof p, cli->data, TMP);
		int err = tb_rmrf(p);
		if (err)
			return tb_cli_storage_fail(cli, err, p);
		at(p, sizeof p, cli->data, MARK);
		unlink(p);
		fprintf(stderr,
			"tally: removed what an interrupted 'tally init' or 'tally restore' "
			"left in %s\n",
			cli->data);
		return 0;
	}
	for (size_t i = 0; i < NMADE; i++) {
		at(p, sizeof p, cli->data, made[i]);
		if (lstat(p, &st) == 0)
			return tb_cli_fail(TB_EXIT_USAGE,
					   "%s holds %s but no ledger: move it away first",
					   cli->data, made[i]);
	}
	return 0;
}

static int write_mark(const char *data)
{
	char p[4400];
	at(p, sizeof p, data, MARK);
	return tb_file_write(p, "", 0, 0600, 0);
}

/* Builds keys, federation key and ledger in tmp. */
static int build(struct tb_cli *cli, const char *tmp, const struct tb_keypair *kp, const char *pass,
		 size_t plen, const char *federation, const struct tb_genesis *g)
{
	char p[4400], ledger[4400];
	int err;
	at(p, sizeof p, tmp, "keys/members");
	if ((err = tb_mkdir_p(p, 0700)))
		return tb_cli_storage_fail(cli, err, p);
	at(p, sizeof p, tmp, "keys/node.key");
	if ((err = tb_keyfile_write(p, kp, pass, plen, TB_KDF_INTERACTIVE)))
		return tb_cli_storage_fail(cli, err, p);
	tb_node_crash_point("init-key");
	if (federation && (err = tb_fedkey_install(tmp, federation)))
		return tb_cli_storage_fail(cli, err, tmp);
	at(ledger, sizeof ledger, tmp, "ledger");
	if (mkdir(ledger, 0700))
		return tb_cli_storage_fail(cli, tb_errno_code(errno), ledger);
	struct tb_reject rej;
	if ((err = tb_store_open(&cli->store, ledger, 0)) ||
	    (err = tb_store_set_self(cli->store, kp->pk.b)))
		return tb_cli_storage_fail(cli, err, ledger);
	err = tb_store_append_own(cli->store, kp, TB_KIND_GENESIS, g, NULL, &rej);
	tb_store_free(cli->store);
	cli->store = NULL;
	if (err)
		return tb_cli_refused(cli, err, &rej);
	tb_node_crash_point("init-ledger");
	return 0;
}

int tb_aside_begin(struct tb_cli *cli, struct tb_aside *a)
{
	struct stat st;
	memset(a, 0, sizeof *a);
	a->existed = stat(cli->data, &st) == 0;
	int err = tb_mkdir_p(cli->data, 0700);
	if (err)
		return tb_cli_storage_fail(cli, err, cli->data);
	int rc = prepare(cli);
	if (rc)
		return rc;
	at(a->tmp, sizeof a->tmp, cli->data, TMP);
	if ((err = write_mark(cli->data)))
		return tb_cli_storage_fail(cli, err, cli->data);
	a->begun = true;
	if (mkdir(a->tmp, 0700))
		return tb_cli_storage_fail(cli, tb_errno_code(errno), a->tmp);
	return 0;
}

int tb_aside_commit(struct tb_cli *cli, struct tb_aside *a)
{
	char from[4400], to[4400];
	struct stat st;
	for (size_t i = 0; i < NMADE; i++) {
		at(from, sizeof from, a->tmp, made[i]);
		at(to, sizeof to, cli->data, made[i]);
		if (lstat(from, &st))
			continue;
		if (rename(from, to))
			return tb_cli_storage_fail(cli, tb_errno_code(errno), to);
		a->moved[i] = true;
		if (i == 0)
			tb_node_crash_point("moving-in");
	}
	int err = tb_dir_sync(cli->data);
	return err ? tb_cli_storage_fail(cli, err, cli->data) : 0;
}

void tb_aside_end(struct tb_cli *cli, struct tb_aside *a, int rc)
{
	char p[4400];
	if (!a->begun)
		return;
	for (size_t i = 0; rc && i < NMADE; i++) {
		at(p, sizeof p, cli->data, made[i]);
		if (a->moved[i])
			(void)tb_rmrf(p);
	}
	(void)tb_rmrf(a->tmp);
	at(p, sizeof p, cli->data, MARK);
	unlink(p);
	(void)!tb_dir_sync(cli->data);
	if (rc && !a->existed)
		rmdir(cli->data);
}

int tb_init_build(struct tb_cli *cli, const struct tb_keypair *kp, const char *pass, size_t plen,
		  const char *federation, const struct tb_genesis *g)
{
	struct tb_aside a;
	int rc = tb_aside_begin(cli, &a);
	if (!rc)
		rc = build(cli, a.tmp, kp, pass, plen, federation, g);
	if (!rc)
		rc = tb_aside_commit(cli, &a);
	tb_aside_end(cli, &a, rc);
	return rc;
}
