/*
 * procmem.c: see procmem.h.
 */
#include "procmem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tb_procmem_clear(struct tb_procmem *m)
{
	m->rss = m->anon = m->file = m->hwm = -1;
	m->pss = m->priv_dirty = m->anonymous = -1;
}

/* "Name:   123 kB" lines of a /proc file into the fields named. */
struct field {
	const char *name;
	long *v;
};

static int read_fields(const char *path, const struct field *fs, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[256];
	while (fgets(line, sizeof line, f)) {
		for (size_t i = 0; i < n; i++) {
			size_t len = strlen(fs[i].name);
			if (!strncmp(line, fs[i].name, len) && line[len] == ':') {
				*fs[i].v = strtol(line + len + 1, NULL, 10);
				break;
			}
		}
	}
	fclose(f);
	return 0;
}

int tb_procmem_read(pid_t pid, bool rollup, struct tb_procmem *out)
{
	char path[64];
	tb_procmem_clear(out);
	if (pid <= 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	const struct field st[] = {
		{"VmRSS", &out->rss},
		{"RssAnon", &out->anon},
		{"RssFile", &out->file},
		{"VmHWM", &out->hwm},
	};
	if (read_fields(path, st, sizeof st / sizeof *st) || out->rss < 0) {
		tb_procmem_clear(out);
		return -1;
	}
	if (rollup) {
		snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
		const struct field sr[] = {
			{"Pss", &out->pss},
			{"Private_Dirty", &out->priv_dirty},
			{"Anonymous", &out->anonymous},
		};
		(void)read_fields(path, sr, sizeof sr / sizeof *sr);
	}
	return 0;
}

static void peak1(long *p, long v)
{
	if (v > *p)
		*p = v;
}

void tb_procmem_peak(struct tb_procmem *peak, const struct tb_procmem *s)
{
	peak1(&peak->rss, s->rss);
	peak1(&peak->anon, s->anon);
	peak1(&peak->file, s->file);
	peak1(&peak->hwm, s->hwm);
	peak1(&peak->pss, s->pss);
	peak1(&peak->priv_dirty, s->priv_dirty);
	peak1(&peak->anonymous, s->anonymous);
}
