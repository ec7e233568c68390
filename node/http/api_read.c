/*
 * api_read.c: the API's reads of the community's own ledger: the community,
 * balances (members, held minutes and clearing accounts), members (list and
 * one). Every object comes from the shared vocabulary (node/json/vocab.c),
 * the same one `tally --json` prints. Nothing here writes.
 */
#include "http_int.h"

#include <string.h>

static const char *query_flag(struct tb_http_req *req, const char *name, bool *on)
{
	char v[8];
	*on = false;
	int qe = tb_http_query_opt(req, NULL, name, v, sizeof v);
	if (qe <= 0)
		return qe ? name : NULL;
	if (!strcmp(v, "true") || !strcmp(v, "1"))
		*on = true;
	else if (strcmp(v, "false") && strcmp(v, "0"))
		return name;
	return NULL;
}

static void community(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	(void)req;
	struct tb_community c;
	int err = tb_store_community(h->host.store, h->host.self, &c);
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_http_json(resp, 200, tb_vocab_community(h->host.self, &c));
}

static void members(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	bool all;
	const char *bad = query_flag(req, "all", &all);
	if (bad) {
		tb_http_error(resp, 400, "EINVAL", "query '%s' is true or false", bad);
		return;
	}
	int err;
	struct tb_json *o = tb_vocab_members(h->host.store, h->host.self, all, &err);
	if (!o) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_http_json(resp, 200, o);
}

static void member(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	int err = tb_store_member_find(h->host.store, h->host.self, req->params[0], &m);
	if (err == TB_ENOTFOUND || err == TB_ENAME) {
		tb_http_error(resp, 404, "EMEMBER", "no member named '%s'", req->params[0]);
		return;
	}
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_http_json(resp, 200, tb_vocab_member(&m));
}

static void balances(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	(void)req;
	int err;
	struct tb_json *o = tb_vocab_balances(h->host.store, h->host.self, &err);
	if (!o) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_http_json(resp, 200, o);
}

int tb_api_read_routes(struct tb_http *h)
{
	const struct tb_route r[] = {
		{"GET", "/api/v1/community", 0, TB_ROLE_VIEWER, community, h},
		{"GET", "/api/v1/balances", 0, TB_ROLE_VIEWER, balances, h},
		{"GET", "/api/v1/members", 0, TB_ROLE_VIEWER, members, h},
		{"GET", "/api/v1/members/*", 0, TB_ROLE_VIEWER, member, h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	return err;
}
