/*
 * conffile.c: tallyd's configuration file, INI read with libinih (the only
 * file that includes ini.h). Every key is the name of a flag of flags.c's
 * table and goes through the same parser (a flag that takes no value takes
 * yes/true/1 or no/false/0), in the top part of the file or a [tallyd]
 * section; # and ; start comments. The first bad line is reported with its
 * number and why; nothing of a bad file is used.
 */
#include "daemon.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>

struct ini_ctx {
	struct tb_daemon_opts *o;
	char why[240];
	size_t keys;
};

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *x = user;
	if (section[0] && strcmp(section, "tallyd")) {
		snprintf(x->why, sizeof x->why, "unknown section [%.40s] (only [tallyd])", section);
		return 0;
	}
	const struct tb_flag *fl = NULL;
	for (size_t i = 0; i < tb_nflags; i++)
		if (!strcmp(tb_flags[i].name, name))
			fl = &tb_flags[i];
	if (!fl) {
		snprintf(x->why, sizeof x->why, "unknown key '%.40s' ('tallyd --help' lists them)",
			 name);
		return 0;
	}
	x->keys++;
	if (!fl->arg) {
		if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0"))
			return 1;
		if (strcmp(value, "yes") && strcmp(value, "true") && strcmp(value, "1")) {
			snprintf(x->why, sizeof x->why, "%s: '%.40s' is not yes or no", name, value);
			return 0;
		}
		value = NULL;
	} else if (!value[0]) {
		snprintf(x->why, sizeof x->why, "%s needs a value (%s)", name, fl->arg);
		return 0;
	}
	int err = fl->apply(x->o, value);
	if (err) {
		snprintf(x->why, sizeof x->why, "%s: '%.80s' is %s%s", name, value ? value : "",
			 err == TB_EINVAL ? "not a valid " : "refused: ",
			 err == TB_EINVAL ? fl->arg : tb_strerror(err));
		return 0;
	}
	return 1;
}

int tb_conf_file(struct tb_daemon_opts *o, const char *path, char *why, size_t cap)
{
	struct ini_ctx x = {.o = o};
	FILE *f = fopen(path, "r");
	if (!f)
		return snprintf(why, cap, "%s: %s", path, strerror(errno)), -1;
	int line = ini_parse_file(f, on_key, &x);
	fclose(f);
	if (line > 0)
		return snprintf(why, cap, "%s line %d: %s", path, line,
				x.why[0] ? x.why : "not NAME = VALUE, a [section] or a comment"),
		       -1;
	if (line < 0)
		return snprintf(why, cap, "%s: cannot read it", path), -1;
	o->file_keys = x.keys;
	return 0;
}
