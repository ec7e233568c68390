/*
 * succ.h: what the files of `tally succession` share (cmd_succession.c
 * makes the succession, succ_branch.c reads the fork and the dropped branch).
 */
#ifndef TB_SUCC_H
#define TB_SUCC_H

#include "cli.h"

/* The own log's fork, as this data directory holds it. */
struct tb_succ_fork {
	uint8_t log[TB_KEY_LEN];
	struct tb_head head; /* the branch held here */
	bool found;	     /* a fork proof of the own log is held */
	bool checkpoint;     /* it is a checkpoint proof (cannot travel alone) */
	uint64_t seq;	     /* seq of its records */
	uint8_t hash_a[TB_HASHLEN], hash_b[TB_HASHLEN]; /* of its two parts */
	uint8_t proof[2 + 2 * TB_ENTRY_MAX];
	size_t plen;
};
/* Reads it (with a message and an exit code on failure). */
int tb_succ_fork(struct tb_cli *cli, struct tb_succ_fork *f);

/* Entries of a dropped branch of the own log, from an export file. */
#define TB_SUCC_DROPPED_MAX 100000
struct tb_succ_dropped {
	size_t n;
	struct tb_view rec[TB_SUCC_DROPPED_MAX]; /* malloc'd copies */
	uint64_t seq[TB_SUCC_DROPPED_MAX];
};
/* The export's records of the own log from the first one the held copy
 * does not hold (or past kept_seq) on. */
int tb_succ_dropped_read(struct tb_cli *cli, const char *path, uint64_t kept_seq,
			 struct tb_succ_dropped *d);
void tb_succ_dropped_free(struct tb_succ_dropped *d);
/* Lists them (a JSON array with --json). */
void tb_succ_dropped_print(struct tb_cli *cli, const struct tb_succ_dropped *d);
/* A payment of the own log whose provider's commit is held (12.6). */
bool tb_succ_completed(struct tb_cli *cli, const struct tb_xprepare *p);

#endif
