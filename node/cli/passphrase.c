/*
 * passphrase.c: where a key's passphrase comes from. An explicit
 * --passphrase-file wins; otherwise a terminal prompt (echo off) when stdin is
 * a terminal; otherwise the environment variable. A passphrase is never
 * echoed, logged or left in memory longer than needed by the caller.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static int read_file(const char *path, char *out, size_t cap, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return tb_cli_fail(TB_EXIT_USAGE, "cannot read passphrase file %s: %s",
				   path, strerror(errno));
	size_t n = fread(out, 1, cap, f);
	int bad = ferror(f) || n == cap;
	fclose(f);
	if (bad)
		return tb_cli_fail(TB_EXIT_USAGE,
				   "passphrase file %s is unreadable or over %zu bytes",
				   path, cap - 1);
	/* One trailing newline is not part of the passphrase. */
	if (n && out[n - 1] == '\n')
		n--;
	if (n && out[n - 1] == '\r')
		n--;
	out[n] = '\0';
	*len = n;
	return 0;
}

static int prompt(const char *label, char *out, size_t cap, size_t *len)
{
	struct termios old, quiet;
	fprintf(stderr, "%s: ", label);
	fflush(stderr);
	int have = tcgetattr(STDIN_FILENO, &old) == 0;
	if (have) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char *r = fgets(out, (int)cap, stdin);
	if (have)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	if (!r)
		return tb_cli_fail(TB_EXIT_USAGE, "no passphrase given");
	size_t n = strlen(out);
	if (n && out[n - 1] == '\n')
		out[--n] = '\0';
	*len = n;
	return 0;
}

int tb_passphrase_get(const char *file, const char *env, const char *what,
		      bool confirm, char *out, size_t cap, size_t *len)
{
	int rc;
	if (file) {
		rc = read_file(file, out, cap, len);
	} else if (isatty(STDIN_FILENO)) {
		char label[200];
		snprintf(label, sizeof label, "%sassphrase for %s",
			 confirm ? "New p" : "P", what);
		rc = prompt(label, out, cap, len);
		if (!rc && confirm) {
			char again[1024];
			size_t alen;
			rc = prompt("Repeat it", again, sizeof again, &alen);
			if (!rc && (alen != *len || memcmp(again, out, alen)))
				rc = tb_cli_fail(TB_EXIT_USAGE, "the passphrases differ");
			tb_wipe(again, sizeof again);
		}
	} else if (getenv(env)) {
		const char *v = getenv(env);
		size_t n = strlen(v);
		if (n >= cap)
			return tb_cli_fail(TB_EXIT_USAGE, "%s is too long", env);
		memcpy(out, v, n + 1);
		*len = n;
		rc = 0;
	} else {
		return tb_cli_fail(TB_EXIT_USAGE,
				   "no passphrase for %s: give --%spassphrase-file FILE, run in a terminal, or set %s",
				   what, strcmp(env, "TALLY_PASSPHRASE") ? "member-" : "",
				   env);
	}
	if (!rc && *len == 0)
		rc = tb_cli_fail(TB_EXIT_USAGE, "the passphrase for %s is empty", what);
	return rc;
}
