/*
 * mapped.c: letting go of the pages of a scratch store's map. LMDB reads
 * every page through one shared map of the data file, and each read fault
 * maps its neighbours too (the kernel's fault-around, 16 pages): an audit
 * touching random pages of a large scratch store would keep mapping more of
 * it until it all counted as resident. Dropping the map's page table
 * entries loses nothing (a shared map of a file: what was written is in the
 * file and the kernel's page cache, and the next access maps it again), so
 * an audit that lets go after each transaction of a few hundred entries,
 * once past a budget, stays resident in that budget and what one
 * transaction touches, whatever the size of the history (AUDIT.md, "What
 * the audit costs").
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"
#include "tb_testhooks.h"

/* The shared map of the data file at offset 0, from /proc/self/maps. */
static void find_map(struct tb_store *s)
{
	struct stat st;
	int fd = tb_db_fd(s->db);
	s->map_sought = true;
	if (fd < 0 || fstat(fd, &st))
		return;
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return;
	char line[4608];
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi, ino;
		unsigned long long off;
		char perms[5];
		if (sscanf(line, "%lx-%lx %4s %llx %*x:%*x %lu", &lo, &hi, perms, &off, &ino) !=
			    5 ||
		    ino != (unsigned long)st.st_ino || off != 0 || perms[3] != 's' ||
		    !strstr(line, "/data.mdb"))
			continue;
		s->map = (void *)lo;
		s->map_len = hi - lo;
		break;
	}
	fclose(f);
}

/*
 * Resident memory under which the map is kept: letting go costs faults on
 * the pages touched next (the B-trees' roots and branches are touched by
 * every entry), dear on a virtual machine, so a scratch store that fits
 * keeps its pages. The peak is then at most this plus what one transaction
 * of the audit touches. Tests set it (TALLY_AUDIT_KEEP_MIB; 0: let go
 * every time) to see what a transaction touches at a small size.
 */
#define KEEP_RESIDENT_MIB 32

static uint64_t keep_resident(void)
{
	const char *v = tb_test_env("TALLY_AUDIT_KEEP_MIB");
	unsigned long mib = KEEP_RESIDENT_MIB;
	if (v && sscanf(v, "%lu", &mib) != 1)
		mib = KEEP_RESIDENT_MIB;
	return ((uint64_t)mib << 20) + 1; /* 0 is "not read yet" */
}

/* This process's resident memory in bytes (/proc/self/statm), or
 * UINT64_MAX if unknown. */
static uint64_t resident(void)
{
	char buf[128];
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return UINT64_MAX;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	unsigned long long size, res;
	long page = sysconf(_SC_PAGESIZE);
	if (n <= 0 || page <= 0)
		return UINT64_MAX;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &res) != 2)
		return UINT64_MAX;
	return (uint64_t)res * (uint64_t)page;
}

void tb_store_let_go(struct tb_store *s)
{
	if (!(s->flags & TB_STORE_SCRATCH))
		return;
	if (!s->keep)
		s->keep = keep_resident();
	if (resident() < s->keep)
		return;
	if (!s->map_sought)
		find_map(s);
	if (s->map)
		(void)madvise(s->map, s->map_len, MADV_DONTNEED);
}
