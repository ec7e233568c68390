/*
 * cli.h: what the `tally` commands share: the invocation (data directory,
 * output mode, passphrase sources), opening the store and keys, exit codes,
 * and the output helpers that give every command both a human and a --json
 * form. Commands are table-driven (commands.c); each lives in a cmd_*.c.
 */
#ifndef TB_CLI_H
#define TB_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "tb_audit.h"
#include "tb_file.h"
#include "tb_json.h"

/* Exit codes (README, "Exit codes"). */
enum tb_exit {
	TB_EXIT_OK = 0,
	TB_EXIT_REFUSED = 1, /* refused by a ledger rule / verification failed */
	TB_EXIT_USAGE = 2,   /* bad flags, bad input from the user */
	TB_EXIT_IO = 3,	     /* storage or I/O error */
	TB_EXIT_PENDING = 4, /* a cross-community exchange has no outcome yet */
};

struct tb_cli {
	const char *prog;
	char data[4096];   /* data directory */
	char ledger[4200]; /* data/ledger, the LMDB environment */
	bool json;
	bool json_report;	      /* stdout holds a whole report even if the command fails */
	const char *pass_file;	      /* --passphrase-file: the community key */
	const char *member_pass_file; /* --member-passphrase-file */
	const char *member_pass_dir;  /* --member-passphrase-dir: DIR/NAME per member */
	struct tb_store *store;
	uint8_t self[TB_KEY_LEN];
	struct tb_keypair node; /* loaded on demand */
	bool node_loaded;
};

struct tb_cmd {
	const char *group; /* "member", or NULL for top-level commands */
	const char *name;
	int (*run)(struct tb_cli *cli, int argc, char **argv);
	const char *usage;
	const char *help;
};

extern const struct tb_cmd tb_commands[];
extern const size_t tb_ncommands;

/* Prints an error "tally: ..." to stderr and returns code. */
int tb_cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Maps a TB_E* error to an exit code. */
int tb_cli_exit_for(int err);
/* Reports a storage error at path ("disk full: ...", "permission denied:
 * ...") and returns TB_EXIT_IO. */
int tb_cli_storage_fail(struct tb_cli *cli, int err, const char *path);
/* Reports a refusal (rule, with its sentence) and returns the exit code. */
int tb_cli_refused(struct tb_cli *cli, int err, const struct tb_reject *rej);

/* Opens the store of an initialised data directory (and reads self). */
int tb_cli_open(struct tb_cli *cli, bool rw);
/* Unlocks the community (node) key. */
int tb_cli_node_key(struct tb_cli *cli);
/* Unlocks a member's key (key files under DATA/keys/members/). */
int tb_cli_member_key(struct tb_cli *cli, const struct tb_member *m, struct tb_keypair *kp);
/* A member's passphrase as the member key sources give it (file, dir,
 * prompt, environment) into out (TB_PASSPHRASE_MAX + 1 bytes at least),
 * for an operation of tb_ops.h to unlock the key with; 0 or an exit code. */
int tb_cli_member_pass(struct tb_cli *cli, const struct tb_member *m, char *out, size_t cap,
		       size_t *len);
/* The passphrase file for member (name, no): DIR/NAME, else DIR/#N, with
 * --member-passphrase-dir; else --member-passphrase-file (may be NULL). */
const char *tb_cli_member_pass_file(const struct tb_cli *cli, const char *name, uint32_t no,
				    char *buf, size_t cap);
/* Path of a member key file for a public key. */
void tb_cli_member_key_path(struct tb_cli *cli, char *out, size_t cap,
			    const uint8_t key[TB_KEY_LEN]);
void tb_cli_close(struct tb_cli *cli);

/* Passphrases: --passphrase-file, else a terminal prompt, else the
 * environment variable. `confirm` asks twice (new keys). */
int tb_passphrase_get(const char *file, const char *env, const char *what, bool confirm, char *out,
		      size_t cap, size_t *len);

/* Parsing user input. */
int tb_parse_hours(const char *s, int64_t *minutes);   /* "1.5", "1:30", "2" */
int tb_parse_minutes(const char *s, int64_t *minutes); /* "90" */
int tb_parse_date(const char *s, uint64_t *yyyymmdd);  /* "2026-11-28" */
uint64_t tb_today(void);
/* Days from 1970-01-01 to a YYYYMMDD date (proleptic Gregorian). */
int64_t tb_days_of(uint64_t yyyymmdd);
/* How far back a date may be without --backdate, in days. */
#define TB_CLI_BACKDATE_DAYS 90
/* A date more than TB_CLI_BACKDATE_DAYS before the day of timestamp. */
bool tb_cli_backdated(uint64_t yyyymmdd, uint64_t timestamp);
int tb_parse_txid(const char *s, uint8_t txid[TB_TXID_LEN]);
int tb_parse_u64(const char *s, uint64_t *v);
/* Finds a member as a user names one ("#7", a name in any case, the latest
 * who left under it), else refuses (EMEMBER, exit 1) suggesting the closest
 * names (names.c). */
int tb_cli_member(struct tb_cli *cli, const char *name, struct tb_member *m);
/* A name typed for a member, normalised to NFC into out (usage error if it
 * is not UTF-8 or not 1..64 bytes); the ledger's name rule decides the rest. */
int tb_cli_name_nfc(const char *in, char out[TB_NAME_MAX + 1], const char *what);
/* Prints s and pads it with spaces to width display columns. */
void tb_cli_pad(FILE *f, const char *s, size_t width);

/* Output. */
void tb_out_hours(char *buf, size_t cap, int64_t minutes); /* "+1:30" */
void tb_out_date(char *buf, size_t cap, uint64_t yyyymmdd);
void tb_json_str(FILE *f, const char *s, size_t len);
/* Prints o (freed) inside a JSON document being printed: no newline. */
void tb_out_json_inner(struct tb_json *o);
/* The violation object (tb_vocab_violation) so: one violation as verify
 * and audit print it. */
void tb_out_violation_json(const struct tb_reject *r, uint64_t item);
void tb_json_hex(FILE *f, const uint8_t *p, size_t len);
/* Prints a vocabulary object (docs/API.md 12) on one line and frees it; a
 * NULL o is the store's err (0: out of memory). TB_EXIT_OK or the failure. */
int tb_cli_print_json(struct tb_json *o, int err, const char *what);

/* Standard handling of --help in a command: prints usage and help. */
int tb_cmd_help(const struct tb_cmd *cmd, FILE *f);
const struct tb_cmd *tb_cmd_find(const char *group, const char *name);

/* Parses a command's options with getopt_long; on error prints usage. */
struct option;
int tb_cli_getopt(int argc, char **argv, const struct option *opts, const char *group,
		  const char *name);

/* Command handlers (commands.c lists them). */
int tb_cmd_init(struct tb_cli *, int, char **);
int tb_cmd_member_add(struct tb_cli *, int, char **);
int tb_cmd_member_list(struct tb_cli *, int, char **);
int tb_cmd_member_remove(struct tb_cli *, int, char **);
int tb_cmd_member_rekey(struct tb_cli *, int, char **);
int tb_cmd_member_invite(struct tb_cli *, int, char **);
int tb_cmd_member_rename(struct tb_cli *, int, char **);
int tb_cmd_import_timeoverflow(struct tb_cli *, int, char **);
int tb_cmd_import_csv(struct tb_cli *, int, char **);
int tb_cmd_member_limit(struct tb_cli *, int, char **);
int tb_cmd_member_reinstate(struct tb_cli *, int, char **);
int tb_cmd_listing_add(struct tb_cli *, int, char **);
int tb_cmd_listing_list(struct tb_cli *, int, char **);
int tb_cmd_listing_withdraw(struct tb_cli *, int, char **);
int tb_cmd_listing_renew(struct tb_cli *, int, char **);
int tb_cmd_listing_hide(struct tb_cli *, int, char **);
int tb_cmd_listing_show(struct tb_cli *, int, char **);
int tb_cmd_exchange_propose(struct tb_cli *, int, char **);
int tb_cmd_exchange_confirm(struct tb_cli *, int, char **);
int tb_cmd_exchange_reject(struct tb_cli *, int, char **);
int tb_cmd_exchange_pending(struct tb_cli *, int, char **);
int tb_cmd_exchange_record(struct tb_cli *, int, char **);
int tb_cmd_exchange_reverse(struct tb_cli *, int, char **);
int tb_cmd_balance(struct tb_cli *, int, char **);
int tb_cmd_history(struct tb_cli *, int, char **);
int tb_cmd_report(struct tb_cli *, int, char **);
int tb_cmd_log(struct tb_cli *, int, char **);
int tb_cmd_export(struct tb_cli *, int, char **);
int tb_cmd_verify(struct tb_cli *, int, char **);
int tb_cmd_reindex(struct tb_cli *, int, char **);
int tb_cmd_backup(struct tb_cli *, int, char **);
int tb_cmd_restore(struct tb_cli *, int, char **);
int tb_cmd_memo_erase(struct tb_cli *, int, char **);

int tb_cmd_federation_create(struct tb_cli *, int, char **);
int tb_cmd_federation_join(struct tb_cli *, int, char **);
int tb_cmd_peer_add(struct tb_cli *, int, char **);
int tb_cmd_peer_list(struct tb_cli *, int, char **);
int tb_cmd_logs(struct tb_cli *, int, char **);
int tb_cmd_forks(struct tb_cli *, int, char **);
int tb_cmd_checkpoint(struct tb_cli *, int, char **);
int tb_cmd_audit(struct tb_cli *, int, char **);
int tb_cmd_receipt(struct tb_cli *, int, char **);
int tb_cmd_receipt_verify(struct tb_cli *, int, char **);
int tb_cmd_link_add(struct tb_cli *, int, char **);
int tb_cmd_link_list(struct tb_cli *, int, char **);
int tb_cmd_community_list(struct tb_cli *, int, char **);
int tb_cmd_community_admit(struct tb_cli *, int, char **);
int tb_cmd_community_remove(struct tb_cli *, int, char **);
int tb_cmd_exchange_send(struct tb_cli *, int, char **);
int tb_cmd_exchange_status(struct tb_cli *, int, char **);
int tb_cmd_exchange_route(struct tb_cli *, int, char **);
int tb_cmd_category_add(struct tb_cli *, int, char **);
int tb_cmd_category_list(struct tb_cli *, int, char **);
int tb_cmd_category_remove(struct tb_cli *, int, char **);
int tb_cmd_coordinator_add(struct tb_cli *, int, char **);
int tb_cmd_coordinator_list(struct tb_cli *, int, char **);
int tb_cmd_coordinator_set(struct tb_cli *, int, char **);
int tb_cmd_coordinator_remove(struct tb_cli *, int, char **);
int tb_cmd_succession(struct tb_cli *, int, char **);
/* Reads a regular file whole into a malloc'd buffer (tb_file_read); NULL
 * with a TB_E* code in *err on failure. */
uint8_t *tb_cli_read_file(const char *path, size_t *len, int *err);
/* Reads at most len bytes into p from the descriptor *(int *)ctx, *got of
 * them (0 at its end): a tb_export_read_fn over an open file. */
int tb_cli_fd_read(void *ctx, uint8_t *p, size_t len, size_t *got);
/* Reads a small file whole (at most cap bytes), with a clear error. */
int tb_cli_read_small(const char *path, uint8_t *buf, size_t cap, size_t *len);
/* Installs a federation key file into the data directory. */
int tb_cli_federation_install(struct tb_cli *cli, const char *file);

/* ---- files of the data directory (init_build.c) ---- */

/* Builds a new community's data directory (keys, federation key if given,
 * ledger with genesis g) so that no failure leaves half of one. */
int tb_init_build(struct tb_cli *cli, const struct tb_keypair *kp, const char *pass, size_t plen,
		  const char *federation, const struct tb_genesis *g);
/* Building a data directory aside: begin (makes DATA, cleans what a killed
 * init or restore left, sets the mark, makes a.tmp), then fill a.tmp, commit
 * (moves what a.tmp holds into DATA, the ledger last), and always end (rc:
 * the outcome; on failure what was moved in is removed). */
struct tb_aside {
	char tmp[4400];
	bool existed, begun;
	bool moved[5];
};
int tb_aside_begin(struct tb_cli *cli, struct tb_aside *a);
int tb_aside_commit(struct tb_cli *cli, struct tb_aside *a);
void tb_aside_end(struct tb_cli *cli, struct tb_aside *a, int rc);
/* rm -rf; 0 if path is gone. */
int tb_rmrf(const char *path);

/* Checks a community or member name typed by a user. */
int tb_cli_check_name(const char *name, const char *what);

/* ---- the terms of an exchange, shared by its commands (terms.c) ---- */

/* Options of the terms, in every exchange command's option table. */
#define TB_CLI_TERMS_OPTIONS                                                                  \
	{"minutes", required_argument, 0, 'm'}, {"hours", required_argument, 0, 'H'},         \
		{"memo", required_argument, 0, 'M'}, {"category", required_argument, 0, 'c'}, \
		{"date", required_argument, 0, 'd'}, {"attest", no_argument, 0, 'a'},         \
	{                                                                                     \
		"backdate", no_argument, 0, 'B'                                               \
	}

/* The terms as typed. */
struct tb_cli_terms {
	const char *memo, *category, *date;
	int64_t minutes; /* -1 until given */
	bool attest;
	bool backdate; /* a --date more than 90 days ago is meant */
};

/* What every exchange body starts from. */
struct tb_cli_base {
	uint64_t date;
	uint8_t txid[TB_TXID_LEN];
	uint8_t salt[TB_MEMO_SALT_LEN];
	uint8_t memo_hash[TB_HASHLEN];
};

/* tb_cli_terms_opt's answer for an option that is not one of the terms. */
#define TB_CLI_NOT_TERMS (-1)

void tb_cli_terms_init(struct tb_cli_terms *t);
/* Takes option c of TB_CLI_TERMS_OPTIONS: 0, an exit code, or TB_CLI_NOT_TERMS. */
int tb_cli_terms_opt(struct tb_cli_terms *t, int c, const char *arg);
/* Once the caller has checked that the amount and the memo were given: the
 * amount's range and the texts. */
int tb_cli_terms_check(const struct tb_cli_terms *t);
/* The date (given or today), a new txid, a memo salt and the memo's hash. */
int tb_cli_terms_base(const struct tb_cli_terms *t, struct tb_cli_base *b);
/* A member's signature over terms (d their definition, ctx the context). */
int tb_cli_sign_terms(const struct tb_msgdef *d, const void *terms, enum tb_sigctx ctx,
		      const struct tb_keypair *kp, uint8_t sig[TB_SIGLEN]);

/* ---- other communities (community.c) ---- */

/* Room for a community's display name: its genesis name, or a short id. */
#define TB_CLI_CNAME_MAX (TB_NAME_MAX + 1)

/* A community as a user named it. */
struct tb_cli_community {
	uint8_t id[TB_KEY_LEN];
	char name[TB_CLI_CNAME_MAX]; /* genesis name, or short hex id if not held */
	bool held;		     /* its log (with genesis) is in the store */
};

/*
 * Resolves a community argument: a genesis name held by exactly one log of
 * the store, else a 64-hex node id (also of a log not held yet), else a
 * unique hex prefix of at least 8 digits of a held log or a linked one.
 * Prints a clear error (candidates, or that the log is not held yet) and
 * returns its exit code when it cannot.
 */
int tb_cli_community(struct tb_cli *cli, const char *arg, struct tb_cli_community *out);
/* Display name of a community: its genesis name if held, else "1a2b3c4d...". */
void tb_cli_community_name(struct tb_cli *cli, const uint8_t id[TB_KEY_LEN], char *out, size_t cap);
/* "1a2b3c4d..." (first 8 hex digits of an id). */
void tb_cli_short_id(char out[12], const uint8_t id[TB_KEY_LEN]);

#endif
