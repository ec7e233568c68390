/*
 * commands.c: the table of tally commands (one row each: group, name,
 * handler, usage, one-line help), the --help printer and the shared option
 * parsing. Adding a command is adding a row and its cmd_*.c handler.
 */
#include "cli.h"

#include <getopt.h>
#include <string.h>

const struct tb_cmd tb_commands[] = {
	{NULL, "init", tb_cmd_init,
	 "tally init --name NAME [--debt-limit HOURS] [--ceiling HOURS] [--federation FILE]",
	 "set up a community: its key, its ledger and its genesis entry"},
	{"member", "add", tb_cmd_member_add,
	 "tally member add NAME [--debt-limit HOURS] [--ceiling HOURS] [--pubkey HEX | --keyless]",
	 "register a member (with a new key, the member's own public key, or none)"},
	{"member", "invite", tb_cmd_member_invite,
	 "tally member invite NAME [--valid DURATION] [--host HOST[:PORT]] [--no-qr]",
	 "a one-time link (and its QR code) for a new member to join with their own key "
	 "(valid 7d by default, at most 30d)"},
	{"member", "list", tb_cmd_member_list, "tally member list [--all]",
	 "list members with balances and limits (--all: also those who left)"},
	{"member", "remove", tb_cmd_member_remove,
	 "tally member remove MEMBER [--settle | --keep-balance]",
	 "record that a member left (the history stays); a balance is settled "
	 "to the community account or kept"},
	{"member", "rename", tb_cmd_member_rename, "tally member rename MEMBER NEW-NAME",
	 "change a member's name (the history stays under the member's number)"},
	{"member", "limit", tb_cmd_member_limit,
	 "tally member limit MEMBER [--debt-limit HOURS] [--ceiling HOURS | --no-ceiling]",
	 "change a member's debt limit or credit ceiling"},
	{"member", "reinstate", tb_cmd_member_reinstate,
	 "tally member reinstate MEMBER [--name NEW-NAME]",
	 "bring back a member who left, with the same number and balance"},
	{"member", "rekey", tb_cmd_member_rekey, "tally member rekey NAME",
	 "replace a member's key (lost or compromised)"},
	{"exchange", "propose", tb_cmd_exchange_propose,
	 "tally exchange propose --provider A --receiver B (--minutes N | --hours H) --memo TEXT [--category C] [--date YYYY-MM-DD]",
	 "the provider signs an exchange; it waits for the receiver"},
	{"exchange", "confirm", tb_cmd_exchange_confirm, "tally exchange confirm TXID",
	 "the receiver signs a proposed exchange; it is recorded"},
	{"exchange", "reject", tb_cmd_exchange_reject, "tally exchange reject TXID [--as MEMBER]",
	 "drop a proposed exchange (the provider's, the receiver's or the coordinator's key)"},
	{"exchange", "pending", tb_cmd_exchange_pending, "tally exchange pending",
	 "list proposed exchanges waiting for confirmation"},
	{"exchange", "record", tb_cmd_exchange_record,
	 "tally exchange record --attest --provider A --receiver B (--minutes N | --hours H) --memo TEXT [--category C] [--date YYYY-MM-DD]",
	 "the coordinator records an exchange for members without keys"},
	{"exchange", "reverse", tb_cmd_exchange_reverse, "tally exchange reverse TXID [--attest]",
	 "undo an exchange with the same consent (a new entry; nothing is deleted)"},
	{"exchange", "send", tb_cmd_exchange_send,
	 "tally exchange send --from MEMBER --to NAME@COMMUNITY (--hours H | --minutes N) --memo TEXT [--category C] [--date YYYY-MM-DD] [--attest] [--no-wait] [--timeout SECONDS] [--ttl SECONDS]",
	 "MEMBER (who was helped) pays a member of another community"},
	{"exchange", "status", tb_cmd_exchange_status, "tally exchange status TXID",
	 "where a cross-community exchange stands (held ... completed)"},
	{"exchange", "route", tb_cmd_exchange_route,
	 "tally exchange route --to NAME@COMMUNITY (--hours H | --minutes N) [--max-hops N] [--routes K]",
	 "routes over trust lines to a member of another community, and why others fail"},
	{"link", "add", tb_cmd_link_add,
	 "tally link add COMMUNITY (--limit HOURS | --limit-minutes N)",
	 "trust line: COMMUNITY may owe us up to HOURS (again: new limit)"},
	{"link", "list", tb_cmd_link_list, "tally link list",
	 "trust lines and clearing accounts, both sides"},
	{"community", "list", tb_cmd_community_list, "tally community list",
	 "communities admitted here (their logs are stored and relayed) and those "
	 "admitted by neighbours only"},
	{"community", "admit", tb_cmd_community_admit,
	 "tally community admit (NODE_ID [--name NAME] | NODE_ID=NAME | NAME)... [--vouch]",
	 "store and relay a community's log (--vouch: also the communities it admits)"},
	{"community", "remove", tb_cmd_community_remove, "tally community remove COMMUNITY...",
	 "stop storing and relaying a community's log (what is held stays)"},
	{NULL, "balance", tb_cmd_balance, "tally balance [NAME]",
	 "balances of all members (or one), held minutes and clearing accounts"},
	{NULL, "history", tb_cmd_history, "tally history [NAME] [--limit N] [--before SEQ]",
	 "a member's statement with running balance (or all exchanges; --json pages them by "
	 "--limit and --before as the API does)"},
	{NULL, "report", tb_cmd_report,
	 "tally report hours|members|inactive|near-limit [--from DATE] [--to DATE] [--days N] "
	 "[--within-minutes M]",
	 "reports as CSV (--json: as the API gives them); default period: this month"},
	{NULL, "log", tb_cmd_log, "tally log [--from SEQ] [--limit N]",
	 "the raw signed entries of the community's log, decoded"},
	{NULL, "export", tb_cmd_export, "tally export [--out FILE]",
	 "write every log held as an export file (FORMAT.md)"},
	{NULL, "verify", tb_cmd_verify, "tally verify [DIR | FILE]",
	 "re-check every signature, seq, prev, Merkle root, rule and balance"},
	{NULL, "backup", tb_cmd_backup, "tally backup --out FILE",
	 "write a checked backup (ledger, keys, configuration), also while tallyd runs"},
	{NULL, "restore", tb_cmd_restore,
	 "tally restore FILE [--no-peers] | tally restore --no-peers",
	 "restore a backup into --data DIR; it signs nothing until tallyd synced with peers"},
	{NULL, "reindex", tb_cmd_reindex, "tally reindex",
	 "rebuild balances and indexes from the logs"},
	{"federation", "create", tb_cmd_federation_create, "tally federation create --out FILE",
	 "make a new federation key (the shared secret of peer connections)"},
	{"federation", "join", tb_cmd_federation_join, "tally federation join FILE",
	 "install a federation key in this data directory"},
	{"peer", "add", tb_cmd_peer_add, "tally peer add HOST:PORT [--id NODE_ID]",
	 "add a peer for tallyd to dial (--id pins its identity)"},
	{"peer", "list", tb_cmd_peer_list, "tally peer list",
	 "peers: identity, community, address, connection, last contact, lag per log"},
	{NULL, "logs", tb_cmd_logs, "tally logs", "the logs this node holds, with their heads"},
	{NULL, "forks", tb_cmd_forks, "tally forks", "fork proofs held (logs frozen for forking)"},
	{NULL, "succession", tb_cmd_succession,
	 "tally succession [--keep BRANCH] [--dropped EXPORT_FILE]",
	 "recover a forked community: show the fork, continue in a new log keeping BRANCH, "
	 "list a dropped branch's entries"},
	{NULL, "audit", tb_cmd_audit, "tally audit PATH... [--since CHECKPOINT_FILE] [--threads N]",
	 "check histories (data directories, exports) trusting nothing; every violation"},
	{NULL, "checkpoint", tb_cmd_checkpoint, "tally checkpoint [--out FILE]",
	 "sign the log's size and Merkle root now (auditors keep these)"},
	{NULL, "receipt", tb_cmd_receipt, "tally receipt TXID --out FILE",
	 "write a member's offline proof that the log holds an exchange"},
	{"receipt", "verify", tb_cmd_receipt_verify,
	 "tally receipt verify FILE [--community NODE_ID]",
	 "check a receipt offline: signatures and inclusion proof"},
	{"listing", "add", tb_cmd_listing_add,
	 "tally listing add --member M (--offer | --request) --title TEXT [--description TEXT] [--category C] [--days N] [--federation | --community] [--attest]",
	 "post an offer or a request of a member (signed by the member, or attested), for 1 to 90 days (30); --federation lets every node of the federation find it"},
	{"listing", "list", tb_cmd_listing_list,
	 "tally listing list [--text TEXT] [--category C] [--community NAME] [--member M] [--offers | --requests] [--hidden]",
	 "search the listings this node holds, of every community (expired and withdrawn ones never show)"},
	{"listing", "withdraw", tb_cmd_listing_withdraw, "tally listing withdraw ID [--attest]",
	 "withdraw a listing of this community, everywhere it was gossiped"},
	{"listing", "renew", tb_cmd_listing_renew, "tally listing renew ID [--days N] [--attest]",
	 "make a listing of this community last N days (30) from now"},
	{"listing", "hide", tb_cmd_listing_hide, "tally listing hide COMMUNITY ID",
	 "hide a listing on this node (coordinators; never gossiped)"},
	{"listing", "show", tb_cmd_listing_show, "tally listing show COMMUNITY ID",
	 "show again a listing hidden on this node"},
	{"category", "add", tb_cmd_category_add, "tally category add CATEGORY",
	 "add to the community's list of categories (with a list, exchanges take one of it)"},
	{"category", "list", tb_cmd_category_list, "tally category list",
	 "the community's categories (none: a category is free text)"},
	{"category", "remove", tb_cmd_category_remove, "tally category remove CATEGORY",
	 "take a category off the list (exchanges already recorded keep it)"},
	{"coordinator", "add", tb_cmd_coordinator_add,
	 "tally coordinator add NAME [--role admin|coordinator|viewer] [--password-file FILE]",
	 "let someone log in to tallyd's web console (viewers read; coordinators also record; admins also manage)"},
	{"coordinator", "list", tb_cmd_coordinator_list, "tally coordinator list",
	 "the people who may log in to the web console, with their roles"},
	{"coordinator", "set", tb_cmd_coordinator_set,
	 "tally coordinator set NAME [--role admin|coordinator|viewer] [--password | --password-file FILE]",
	 "change someone's console role or password (their sessions end; the last admin stays one)"},
	{"coordinator", "remove", tb_cmd_coordinator_remove, "tally coordinator remove NAME",
	 "end someone's access to the web console (their sessions end at once)"},
	{"import", "timeoverflow", tb_cmd_import_timeoverflow,
	 "tally import timeoverflow DIR|FILE [--dry-run]",
	 "bring in members and balances from TimeOverflow's CSV users export (balances from one "
	 "source only: a second source's openings add to the first)"},
	{"import", "csv", tb_cmd_import_csv, "tally import csv FILE... [--dry-run]",
	 "bring in members and exchanges from CSV files (README, \"Importing\"; balances from one "
	 "source only)"},
	{"memo", "erase", tb_cmd_memo_erase, "tally memo erase TXID [--yes]",
	 "erase an exchange's memo text (the signed log keeps only its hash)"},
};
const size_t tb_ncommands = sizeof tb_commands / sizeof tb_commands[0];

const struct tb_cmd *tb_cmd_find(const char *group, const char *name)
{
	for (size_t i = 0; i < tb_ncommands; i++) {
		const struct tb_cmd *c = &tb_commands[i];
		if ((group == NULL) != (c->group == NULL))
			continue;
		if (group && strcmp(group, c->group))
			continue;
		if (!strcmp(name, c->name))
			return c;
	}
	return NULL;
}

int tb_cmd_help(const struct tb_cmd *cmd, FILE *f)
{
	fprintf(f,
		"usage: %s\n\n%s.\n\nGlobal options (--data, --json, passphrase files) "
		"work with every command; see 'tally --help'.\n",
		cmd->usage, cmd->help);
	return TB_EXIT_OK;
}

int tb_cli_getopt(int argc, char **argv, const struct option *opts, const char *group,
		  const char *name)
{
	opterr = 0;
	int c = getopt_long(argc, argv, "", opts, NULL);
	if (c == '?' || c == ':') {
		const struct tb_cmd *cmd = tb_cmd_find(group, name);
		const char *bad = argv[optind - 1];
		tb_cli_fail(TB_EXIT_USAGE, "%s: unknown option or missing value: %s", name,
			    bad ? bad : "?");
		if (cmd)
			fprintf(stderr, "usage: %s\n", cmd->usage);
		return -2;
	}
	return c;
}
