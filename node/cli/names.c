/*
 * names.c: members as users name them on the command line: "#7", a name in
 * any case or normal form, the latest member who left under a name, and
 * "did you mean" with the closest names when nothing matches; names typed
 * for new members normalised to NFC (the ledger's name rule then decides:
 * this file never restates it); and columns padded by display width, so
 * "José" and "陈静" line up. An unknown member is a refusal (exit 1,
 * EMEMBER) in every command, as README says.
 */
#include "cli.h"

#include <string.h>

#include "tb_text.h"

#define SUGGEST_MAX 3

struct suggest {
	const char *typed;
	unsigned limit;
	struct {
		char name[TB_NAME_MAX + 1];
		unsigned dist;
	} best[SUGGEST_MAX];
	size_t n;
};

static int suggest_cb(void *ctx, const struct tb_member *m)
{
	struct suggest *sg = ctx;
	unsigned d =
		tb_text_distance(sg->typed, strlen(sg->typed), m->name, strlen(m->name), sg->limit);
	size_t at;

	if (d > sg->limit)
		return 0;
	for (at = sg->n; at > 0 && sg->best[at - 1].dist > d; at--)
		;
	if (at >= SUGGEST_MAX)
		return 0;
	if (sg->n < SUGGEST_MAX)
		sg->n++;
	memmove(&sg->best[at + 1], &sg->best[at], (sg->n - 1 - at) * sizeof sg->best[0]);
	snprintf(sg->best[at].name, sizeof sg->best[at].name, "%s", m->name);
	sg->best[at].dist = d;
	return 0;
}

int tb_cli_member(struct tb_cli *cli, const char *name, struct tb_member *m)
{
	int err = tb_store_member_find(cli->store, cli->self, name, m);
	struct suggest sg = {name, 2, {{"", 0}}, 0};
	char hint[3 * (TB_NAME_MAX + 4) + 32] = "";

	if (err == 0)
		return 0;
	if (err != TB_ENOTFOUND && err != TB_ENAME)
		return tb_cli_fail(TB_EXIT_IO, "cannot read member '%s': %s", name,
				   tb_strerror(err));
	/* A third of the typed length, at least 2, at most 3 edits. */
	sg.limit = (unsigned)(strlen(name) / 3);
	sg.limit = sg.limit < 2 ? 2 : sg.limit > 3 ? 3 : sg.limit;
	if (name[0] != '#' &&
	    tb_store_foreach_member(cli->store, cli->self, suggest_cb, &sg) >= 0 && sg.n) {
		strcat(hint, "; did you mean ");
		for (size_t i = 0; i < sg.n; i++) {
			strcat(hint, i ? (i + 1 == sg.n ? " or " : ", ") : "");
			strcat(hint, sg.best[i].name);
		}
		strcat(hint, "?");
	}
	return tb_cli_fail(TB_EXIT_REFUSED, "refused: no member named '%s' (EMEMBER)%s", name,
			   hint);
}

int tb_cli_name_nfc(const char *in, char out[TB_NAME_MAX + 1], const char *what)
{
	size_t n = 0;
	char buf[4 * TB_NAME_MAX + 1];
	int err = tb_text_nfc(buf, sizeof buf, &n, in, strlen(in));

	if (err == TB_EUTF8)
		return tb_cli_fail(TB_EXIT_USAGE, "%s must be valid UTF-8", what);
	if (err || n == 0 || n > TB_NAME_MAX)
		return tb_cli_fail(TB_EXIT_USAGE, "%s must be 1 to %d bytes long", what,
				   TB_NAME_MAX);
	memcpy(out, buf, n + 1);
	return 0;
}

void tb_cli_pad(FILE *f, const char *s, size_t width)
{
	size_t w = tb_text_width(s, strlen(s));

	fputs(s, f);
	for (; w < width; w++)
		fputc(' ', f);
}
