/*
 * cli.c: the plumbing every tally command shares: exit codes, opening the
 * data directory's store, and unlocking keys. It never decides ledger rules
 * (store/rules.c does) and never prints secrets.
 */
#include "cli.h"
#include "tb_node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tb_cli_exit_for(int err)
{
	switch (err) {
	case TB_OK:
		return TB_EXIT_OK;
	case TB_EGENESIS:
	case TB_EMEMBER:
	case TB_ELEFT:
	case TB_ENAME:
	case TB_EAMOUNT:
	case TB_ESELF:
	case TB_EFLOOR:
	case TB_ECEILING:
	case TB_ECONSENT:
	case TB_EDUPTX:
	case TB_ENOTX:
	case TB_EREVERSED:
	case TB_EFORKED:
	case TB_ECONFLICT:
	case TB_EDATE:
	case TB_EBADSIG:
	case TB_ESEQ:
	case TB_EPREV:
	case TB_EPROOF:
	case TB_ELINK:
	case TB_ETRUST:
	case TB_EEXPIRED:
	case TB_EDECLINED:
	case TB_ERESTORED:
	case TB_ECATEGORY:
		return TB_EXIT_REFUSED;
	case TB_EUSAGE:
	case TB_EINVAL:
	case TB_EPASSPHRASE:
	case TB_ENOTFOUND:
	case TB_EEXISTS:
	case TB_ERANGE:
	case TB_ETOOLONG:
	case TB_EUTF8:
	case TB_EEXPIRY:
		return TB_EXIT_USAGE;
	}
	return TB_EXIT_IO;
}

int tb_cli_storage_fail(struct tb_cli *cli, int err, const char *path)
{
	char why[4600];
	tb_describe_storage(why, sizeof why, err, path, cli->store ? tb_store_need(cli->store) : 0);
	return tb_cli_fail(TB_EXIT_IO, "%s (%s)", why, tb_errname(err));
}

int tb_cli_refused(struct tb_cli *cli, int err, const struct tb_reject *rej)
{
	if (err == TB_EDISKFULL || err == TB_EPERM)
		return tb_cli_storage_fail(cli, err, cli->ledger);
	const char *msg = rej && rej->err ? rej->msg : tb_strerror(err);
	int code = tb_cli_exit_for(err);
	if (code == TB_EXIT_REFUSED)
		return tb_cli_fail(code, "refused: %s (%s)", msg, tb_errname(err));
	return tb_cli_fail(code, "%s (%s)", msg, tb_errname(err));
}

int tb_cli_open(struct tb_cli *cli, bool rw)
{
	struct stat st;
	if (stat(cli->ledger, &st) != 0) {
		if (errno == EACCES)
			return tb_cli_storage_fail(cli, TB_EPERM, cli->ledger);
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"%s is not a Tally data directory (run 'tally init' first, or give --data DIR)",
			cli->data);
	}
	/* A tallyd that runs may be an older version, which still writes the
	 * older layout: converting under it would lose what it writes. */
	uint32_t pid = 0;
	bool daemon = rw && tb_daemon_running(cli->data, &pid);
	int err = tb_store_open(&cli->store, cli->ledger,
				rw ? (daemon ? TB_STORE_NOREBUILD : 0) : TB_STORE_RDONLY);
	if (err == TB_EDISKFULL || err == TB_EPERM)
		return tb_cli_storage_fail(cli, err, cli->ledger);
	if (err == TB_EREINDEX && daemon)
		return tb_cli_fail(
			TB_EXIT_IO,
			"the ledger in %s needs converting to this version's layout while "
			"tallyd (pid %u) runs: if it is starting, wait until it is ready; "
			"else restart it (it converts the ledger as it starts), then try "
			"again (EREINDEX)",
			cli->ledger, (unsigned)pid);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot open the ledger in %s: %s", cli->ledger,
				   tb_strerror(err));
	if ((err = tb_store_self(cli->store, cli->self)))
		return tb_cli_fail(TB_EXIT_IO, "the ledger in %s has no community: %s", cli->ledger,
				   tb_strerror(err));
	return 0;
}

static int unlock(const char *path, const char *file, const char *env, const char *what,
		  struct tb_keypair *kp)
{
	char pass[1024];
	size_t plen;
	int err = tb_passphrase_get(file, env, what, false, pass, sizeof pass, &plen);
	if (err)
		return err;
	err = tb_keyfile_read(path, kp, pass, plen);
	tb_wipe(pass, sizeof pass);
	switch (err) {
	case 0:
		return 0;
	case TB_EPASSPHRASE:
		return tb_cli_fail(TB_EXIT_USAGE, "wrong passphrase for %s (%s)", what, path);
	case TB_ENOTFOUND:
		return tb_cli_fail(TB_EXIT_USAGE, "no key file for %s at %s", what, path);
	case TB_EKEYFILE:
		return tb_cli_fail(TB_EXIT_IO, "the key file %s of %s is damaged", path, what);
	}
	return tb_cli_fail(TB_EXIT_IO, "cannot read %s: %s", path, tb_strerror(err));
}

int tb_cli_node_key(struct tb_cli *cli)
{
	if (cli->node_loaded)
		return 0;
	char path[4300];
	snprintf(path, sizeof path, "%s/keys/node.key", cli->data);
	int rc = unlock(path, cli->pass_file, "TALLY_PASSPHRASE", "the community key", &cli->node);
	if (rc)
		return rc;
	if (memcmp(cli->node.pk.b, cli->self, TB_KEY_LEN)) {
		tb_keypair_wipe(&cli->node);
		return tb_cli_fail(TB_EXIT_IO, "%s is not the key of this community's log", path);
	}
	cli->node_loaded = true;
	return 0;
}

void tb_cli_member_key_path(struct tb_cli *cli, char *out, size_t cap,
			    const uint8_t key[TB_KEY_LEN])
{
	char hex[2 * TB_KEY_LEN + 1];
	tb_hex_encode(hex, key, TB_KEY_LEN);
	snprintf(out, cap, "%s/keys/members/%s.key", cli->data, hex);
}

int tb_cli_member_key(struct tb_cli *cli, const struct tb_member *m, struct tb_keypair *kp)
{
	char path[4400], what[128];
	static const uint8_t none[TB_KEY_LEN];
	if (!memcmp(m->key, none, TB_KEY_LEN))
		return tb_cli_fail(TB_EXIT_REFUSED,
				   "refused: %s has no key and cannot sign; the coordinator "
				   "records their exchanges with --attest (ECONSENT)",
				   m->no == TB_COMMUNITY_ACCOUNT ? "the community account"
								 : m->name);
	char pf[4400];
	tb_cli_member_key_path(cli, path, sizeof path, m->key);
	snprintf(what, sizeof what, "%s's key", m->name);
	return unlock(path, tb_cli_member_pass_file(cli, m->name, m->no, pf, sizeof pf),
		      "TALLY_MEMBER_PASSPHRASE", what, kp);
}

int tb_cli_member_pass(struct tb_cli *cli, const struct tb_member *m, char *out, size_t cap,
		       size_t *len)
{
	char what[128], pf[4400];
	*len = 0;
	snprintf(what, sizeof what, "%s's key", m->name);
	return tb_passphrase_get(tb_cli_member_pass_file(cli, m->name, m->no, pf, sizeof pf),
				 "TALLY_MEMBER_PASSPHRASE", what, false, out, cap, len);
}

const char *tb_cli_member_pass_file(const struct tb_cli *cli, const char *name, uint32_t no,
				    char *buf, size_t cap)
{
	struct stat st;
	if (!cli->member_pass_dir)
		return cli->member_pass_file;
	/* A name that is not a plain file name is looked up by number only. */
	if (strchr(name, '/') == NULL && strcmp(name, ".") && strcmp(name, "..")) {
		snprintf(buf, cap, "%s/%s", cli->member_pass_dir, name);
		if (stat(buf, &st) == 0)
			return buf;
	}
	snprintf(buf, cap, "%s/#%u", cli->member_pass_dir, no);
	return buf;
}

void tb_cli_close(struct tb_cli *cli)
{
	tb_store_free(cli->store);
	cli->store = NULL;
	if (cli->node_loaded)
		tb_keypair_wipe(&cli->node);
	cli->node_loaded = false;
}
