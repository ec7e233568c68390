/*
 * cmd_category.c: `tally category add|list|remove`, the community's optional
 * fixed list of exchange categories (a local table, store/categories.c).
 * With a list, the exchange commands and imports record only its
 * categories, in its spelling ("Garden" and "garden" are one); without one,
 * a category is free text (the exchange operations resolve a typed one,
 * tb_op_texts).
 */
#include "cli.h"

#include <getopt.h>
#include <string.h>

static int one_arg(int argc, char **argv, const char *name)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, "category", name) != -1 || argc - optind != 1)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally category %s CATEGORY", name);
	return 0;
}

/* --json: what the API's POST and DELETE answer. */
static int print_one(struct tb_cli *cli, const char *name, const char *what, bool done)
{
	int err;
	if (cli->json) {
		struct tb_json *o = tb_vocab_categories(cli->store, name, what, done, &err);
		return tb_cli_print_json(o, err, "the categories");
	}
	if (done)
		printf("category %s %s\n", name, what);
	else
		printf("category %s was already there\n", name);
	return TB_EXIT_OK;
}

int tb_cmd_category_add(struct tb_cli *cli, int argc, char **argv)
{
	char had[TB_CATEGORY_MAX + 1];
	int rc = one_arg(argc, argv, "add");
	if (rc || (rc = tb_cli_open(cli, true)))
		return rc;
	const char *name = argv[optind];
	int err = tb_store_category_add(cli->store, name, strlen(name), had, sizeof had);
	if (err == TB_EEXISTS) {
		/* The same category, whatever the case: nothing to do. */
		return print_one(cli, had, "added", false);
	}
	if (err == TB_ENAME || err == TB_EUTF8 || err == TB_ETOOLONG)
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"'%s' cannot be a category: 1 to %d bytes of UTF-8, no control or "
			"invisible characters, no space at either end",
			name, TB_CATEGORY_MAX);
	if (err == TB_EFULL)
		return tb_cli_fail(TB_EXIT_REFUSED,
				   "refused: the list has %d categories, the most "
				   "it may hold (EFULL)",
				   TB_CATEGORIES_MAX);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot keep the category: %s", tb_strerror(err));
	char nfc[TB_CATEGORY_MAX + 1];
	if (tb_store_category_resolve(cli->store, name, strlen(name), nfc, sizeof nfc))
		snprintf(nfc, sizeof nfc, "%s", name);
	return print_one(cli, nfc, "added", true);
}

int tb_cmd_category_remove(struct tb_cli *cli, int argc, char **argv)
{
	char had[TB_CATEGORY_MAX + 1];
	int rc = one_arg(argc, argv, "remove");
	if (rc || (rc = tb_cli_open(cli, true)))
		return rc;
	const char *name = argv[optind];
	int err = tb_store_category_del(cli->store, name, strlen(name), had, sizeof had);
	if (err == TB_ENOTFOUND)
		return tb_cli_fail(TB_EXIT_REFUSED, "refused: there is no category %s (ENOTFOUND)",
				   name);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot remove the category: %s", tb_strerror(err));
	return print_one(cli, had, "removed", true);
}

static int list_one(void *vctx, const char *name)
{
	++*(size_t *)vctx;
	printf("%s\n", name);
	return 0;
}

int tb_cmd_category_list(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, "category", "list") != -1 || optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally category list");
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	int err;
	if (cli->json) { /* GET /api/v1/categories */
		struct tb_json *o = tb_vocab_categories(cli->store, NULL, NULL, false, &err);
		return tb_cli_print_json(o, err, "the categories");
	}
	size_t n = 0;
	err = tb_store_foreach_category(cli->store, list_one, &n);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the categories: %s", tb_strerror(err));
	if (!n)
		printf("no list of categories: any category may be given ('tally category add "
		       "NAME' starts a list)\n");
	return TB_EXIT_OK;
}
