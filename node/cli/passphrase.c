/*
 * passphrase.c: where a key's passphrase comes from. An explicit
 * --passphrase-file wins; otherwise a terminal prompt (echo off) when stdin is
 * a terminal; otherwise the environment variable (tb_passphrase_read, shared
 * with tallyd). A passphrase is never echoed, logged, cut or left in memory
 * longer than needed by the caller.
 */
#include "cli.h"

#include <string.h>
#include <unistd.h>

/* Says why there is no passphrase (tb_passphrase_read's error). */
static int fail(int err, const char *file, const char *env, const char *what)
{
	if (err == TB_ETOOLONG)
		return tb_cli_fail(TB_EXIT_USAGE, "the passphrase for %s is over %d bytes", what,
				   TB_PASSPHRASE_MAX);
	if (err == TB_EINVAL)
		return tb_cli_fail(TB_EXIT_USAGE,
				   file ? "passphrase file %s is empty or not a file"
					: "the passphrase for %s is empty",
				   file ? file : what);
	if (file)
		return tb_cli_fail(TB_EXIT_USAGE, "cannot read passphrase file %s: %s", file,
				   tb_strerror(err));
	return tb_cli_fail(
		TB_EXIT_USAGE,
		"no passphrase for %s: give --%spassphrase-file FILE, run in a terminal, or set %s",
		what, strcmp(env, "TALLY_PASSPHRASE") ? "member-" : "", env);
}

int tb_passphrase_get(const char *file, const char *env, const char *what, bool confirm, char *out,
		      size_t cap, size_t *len)
{
	TB_ASSERT(cap >= TB_PASSPHRASE_MAX + 1);
	char label[200];
	snprintf(label, sizeof label, "%sassphrase for %s", confirm ? "New p" : "P", what);
	int err = tb_passphrase_read(file, true, label, env, out, len);
	if (err)
		return fail(err, file, env, what);
	if (confirm && !file && isatty(STDIN_FILENO)) {
		char again[TB_PASSPHRASE_MAX + 1];
		size_t alen;
		int rc = 0;
		err = tb_passphrase_read(NULL, true, "Repeat it", NULL, again, &alen);
		if (err || alen != *len || memcmp(again, out, alen))
			rc = tb_cli_fail(TB_EXIT_USAGE, "the passphrases differ");
		tb_wipe(again, sizeof again);
		if (rc)
			tb_wipe(out, cap);
		return rc;
	}
	return 0;
}
