/*
 * mapped.c: letting go of the pages of a scratch store's map. LMDB reads
 * every page through one shared map of the data file, and each read fault
 * maps its neighbours too (the kernel's fault-around, 16 pages): an audit
 * touching random pages of a large scratch store would keep mapping more of
 * it until it all counted as resident. Dropping the map's page table
 * entries loses nothing (a shared map of a file: what was written is in the
 * file and the kernel's page cache, and the next access maps it again), so
 * an audit that lets go every few hundred entries stays resident in what
 * those entries touch, whatever the size of the history (AUDIT.md, "What
 * the audit costs").
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "store_int.h"

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

void tb_store_let_go(struct tb_store *s)
{
	if (!(s->flags & TB_STORE_SCRATCH))
		return;
	if (!s->map_sought)
		find_map(s);
	if (s->map)
		(void)madvise(s->map, s->map_len, MADV_DONTNEED);
}
