/*
 * runproc.h: run a program (the tally binary) as a real process with stdin
 * from /dev/null, capturing its stdout and stderr and its exit code. Used by
 * the command-line and integration tests.
 */
#ifndef TB_RUNPROC_H
#define TB_RUNPROC_H

#include <stddef.h>

struct tb_proc_result {
	int code;	 /* exit code, or 128+signal */
	char out[65536]; /* stdout, NUL-terminated (truncated if longer) */
	char err[16384]; /* stderr, NUL-terminated */
};

/* Runs argv (argv[0] is the program path; NULL-terminated). */
int tb_run(struct tb_proc_result *r, const char *const argv[]);
/* Runs tally --data data args... (args NULL-terminated, at most 36): its
 * exit code, or -1 if it could not run or died (code 126 and up). */
int tb_run_tally(struct tb_proc_result *r, const char *data, const char *const *args);
/* Path of the tally binary under test ($TALLY_BIN). */
const char *tb_tally_bin(void);

#endif
