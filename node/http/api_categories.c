/*
 * api_categories.c: the community's optional list of exchange categories
 * through the API (GET, POST /api/v1/categories; DELETE
 * /api/v1/categories/NAME), the same local table as `tally category`
 * (store/categories.c). "Garden" and "garden" are one category; adding one
 * the list has is not an error and answers with the spelling held.
 */
#include "http_int.h"

#include <string.h>

/* The vocabulary's categories object, with the change when category is
 * given. */
static void answer(struct tb_http *h, struct tb_http_resp *resp, int status, const char *category,
		   const char *what, bool done)
{
	int err;
	struct tb_json *o = tb_vocab_categories(h->host.store, category, what, done, &err);
	if (!o) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_http_json(resp, status, o);
}

static void list(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	(void)req;
	answer(ctx, resp, 200, NULL, NULL, false);
}

static void add(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	char name[TB_CATEGORY_MAX * 4 + 1] = "", had[TB_CATEGORY_MAX + 1], msg[TB_JSON_MSG_MAX];
	const struct tb_jfield f[] = {
		{"name", TB_JT_STR, true, 1, TB_CATEGORY_MAX * 4, name, NULL},
	};
	if (tb_json_decode(req->body, req->body_len, f, 1, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	int err = tb_store_category_add(h->host.store, name, strlen(name), had, sizeof had);
	if (err == TB_ENAME || err == TB_EUTF8 || err == TB_ETOOLONG) {
		tb_http_error(resp, 400, "EINVAL",
			      "'%s' cannot be a category: 1 to %d bytes of UTF-8, no control or "
			      "invisible characters, no space at either end",
			      name, TB_CATEGORY_MAX);
		return;
	}
	if (err == TB_EFULL) {
		tb_http_error(resp, 409, "EFULL",
			      "the list has %d categories, the most it may hold",
			      TB_CATEGORIES_MAX);
		return;
	}
	if (err && err != TB_EEXISTS) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	const char *spelling = had;
	if (err != TB_EEXISTS &&
	    tb_store_category_resolve(h->host.store, name, strlen(name), had, sizeof had))
		spelling = name;
	answer(h, resp, err ? 200 : 201, spelling, "added", err == 0);
}

static void del(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	const char *name = req->params[0];
	char had[TB_CATEGORY_MAX + 1];
	int err = tb_store_category_del(h->host.store, name, strlen(name), had, sizeof had);
	if (err == TB_ENOTFOUND) {
		tb_http_error(resp, 404, "ENOTFOUND", "there is no category %s", name);
		return;
	}
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	answer(h, resp, 200, had, "removed", true);
}

int tb_api_category_routes(struct tb_http *h)
{
	const struct tb_route r[] = {
		{"GET", "/api/v1/categories", 0, TB_ROLE_VIEWER, list, h},
		{"POST", "/api/v1/categories", 0, TB_ROLE_ADMIN, add, h},
		{"DELETE", "/api/v1/categories/*", 0, TB_ROLE_ADMIN, del, h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	return err;
}
