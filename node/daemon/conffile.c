/*
 * conffile.c: tallyd's configuration file, INI read with libinih (the only
 * file that includes ini.h). Every key is the name of a flag of flags.c's
 * table and goes through the same parser (a flag that takes no value takes
 * yes/true/1 or no/false/0), in the top part of the file or a [tallyd]
 * section; # and ; start comments. The first bad line is reported with its
 * number and why; nothing of a bad file is used. The file is read by the
 * bounded reader (tb_file.h): a regular file of at most 64 KiB.
 */
#include "daemon.h"
#include "tb_file.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest configuration file read (the bounded reader's cap). */
#define TB_CONF_MAX (64 * 1024)

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
			snprintf(x->why, sizeof x->why, "%s: '%.40s' is not yes or no", name,
				 value);
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
	uint8_t *buf;
	size_t len;
	int err = tb_file_read(path, TB_CONF_MAX, &buf, &len);
	if (err)
		return snprintf(why, cap, "%s: %s", path,
				err == TB_ETOOBIG ? "over 64 KiB, not a configuration file"
						  : tb_strerror(err)),
		       -1;
	/* The parser stops at a NUL: what follows one would be ignored. */
	if (memchr(buf, 0, len)) {
		free(buf);
		return snprintf(why, cap, "%s: holds a NUL byte, not a text file", path), -1;
	}
	int line = ini_parse_string((const char *)buf, on_key, &x);
	free(buf);
	if (line > 0)
		return snprintf(why, cap, "%s line %d: %s", path, line,
				x.why[0] ? x.why : "not NAME = VALUE, a [section] or a comment"),
		       -1;
	if (line < 0)
		return snprintf(why, cap, "%s: cannot read it", path), -1;
	o->file_keys = x.keys;
	return 0;
}
