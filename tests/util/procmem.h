/*
 * procmem.h: a process's memory as Linux reports it, for the memory
 * benchmarks. From /proc/PID/status: VmRSS (all resident pages, LMDB's
 * mapped file pages among them: the kernel can drop those clean pages at
 * any time), RssAnon (private anonymous pages: heap, stacks, what the
 * process itself allocated; the figure a memory target is about), RssFile,
 * VmHWM (peak VmRSS since the start). From /proc/PID/smaps_rollup (when
 * asked and readable): Pss, Private_Dirty and Anonymous.
 *
 * All sizes in KiB; a field the kernel did not give is -1.
 */
#ifndef TB_PROCMEM_H
#define TB_PROCMEM_H

#include <stdbool.h>
#include <sys/types.h>

struct tb_procmem {
	long rss;	 /* VmRSS */
	long anon;	 /* RssAnon */
	long file;	 /* RssFile */
	long hwm;	 /* VmHWM */
	long pss;	 /* smaps_rollup Pss */
	long priv_dirty; /* smaps_rollup Private_Dirty */
	long anonymous;	 /* smaps_rollup Anonymous */
};

/* Reads pid's status (and smaps_rollup if rollup): 0, or -1 if the process
 * is gone or /proc unreadable (every field -1 then). */
int tb_procmem_read(pid_t pid, bool rollup, struct tb_procmem *out);

/* Peaks of a series of samples: each field the largest seen (-1: none). */
void tb_procmem_peak(struct tb_procmem *peak, const struct tb_procmem *sample);
/* Sets every field to -1 (an empty peak). */
void tb_procmem_clear(struct tb_procmem *m);

#endif
