/*
 * clitest.h: the fixture of the tests that drive `tally` as real processes
 * on one data directory: a fresh temporary directory, the data directory and
 * its ledger file, and the last command's output; running a command; and a
 * refusal check that the command failed as expected and left the ledger
 * file byte for byte as it was.
 */
#ifndef TB_CLITEST_H
#define TB_CLITEST_H

#include "runproc.h"

struct tb_clitest {
	char *dir;		   /* the temporary directory (removed at the end) */
	char data[4200];	   /* dir/data: the node's data directory */
	char mdb[4300];		   /* its ledger file */
	struct tb_proc_result res; /* the last command's exit code and output */
};

/* A fixture under a new temporary directory named after tag; sets the
 * passphrases of the community key (TALLY_PASSPHRASE) and of member keys
 * (TALLY_MEMBER_PASSPHRASE) the commands read. Nothing is initialised. */
struct tb_clitest *tb_clitest_new(const char *tag);
/* The community "Riverside" with keyless members alice, bob and José (no
 * key file, so no Argon2id per member). */
void tb_clitest_riverside(struct tb_clitest *f);
/* Removes the directory and frees f. */
void tb_clitest_free(struct tb_clitest *f);

/* Runs tally --data f->data args... (NULL-terminated): its exit code; fails
 * the test if tally could not run or died. */
int tb_clitest_run(struct tb_clitest *f, const char *const *args);
/* The command exits with code, its stderr contains part (unless NULL), its
 * stdout is empty and the ledger file did not change. */
void tb_clitest_refused(struct tb_clitest *f, int code, const char *part, const char *const *args);
/* Fails the test unless the last command's stdout contains s. */
void tb_clitest_out_has(const struct tb_clitest *f, const char *s);

#define T(f, ...) tb_clitest_run(f, (const char *const[]){__VA_ARGS__, NULL})
#define R(f, code, part, ...) \
	tb_clitest_refused(f, code, part, (const char *const[]){__VA_ARGS__, NULL})
#define OUT_HAS(s) tb_clitest_out_has(f, s)

#endif
