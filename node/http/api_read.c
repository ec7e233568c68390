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
	if (tb_http_query(req, name, v, sizeof v))
		return NULL;
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

struct members_ctx {
	struct tb_json *arr;
	bool all;     /* also members who left */
	bool balances; /* also those who left with a balance */
	int64_t sum;
	int err;
};

static int member_one(void *vctx, const struct tb_member *m)
{
	struct members_ctx *l = vctx;
	l->sum += m->balance;
	if (!m->active && !l->all && !(l->balances && (m->balance || m->held)))
		return 0;
	if ((l->err = tb_json_push(l->arr, tb_vocab_member(m))))
		return 1;
	return 0;
}

static void members(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct members_ctx l = {.arr = tb_json_array()};
	const char *bad = query_flag(req, "all", &l.all);
	if (bad) {
		tb_json_free(l.arr);
		tb_http_error(resp, 400, "EINVAL", "query '%s' is true or false", bad);
		return;
	}
	int err = tb_store_foreach_member(h->host.store, h->host.self, member_one, &l);
	if (err || l.err) {
		tb_json_free(l.arr);
		tb_http_fail(resp, l.err ? l.err : err, NULL);
		return;
	}
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "members", l.arr);
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

struct clearing_ctx {
	struct tb_http *h;
	struct tb_json *arr;
	int64_t sum;
	int err;
};

static int clearing_one(void *vctx, const struct tb_clearing *c)
{
	struct clearing_ctx *l = vctx;
	struct tb_community other;
	char name[TB_NAME_MAX + 1];
	if (tb_store_community(l->h->host.store, c->other, &other) == 0) {
		snprintf(name, sizeof name, "%s", other.name);
	} else {
		tb_hex_encode(name, c->other, 4);
		strcat(name, "...");
	}
	l->sum += c->balance;
	if ((l->err = tb_json_push(l->arr, tb_vocab_clearing(c, name))))
		return 1;
	return 0;
}

static void balances(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	(void)req;
	struct members_ctx m = {.arr = tb_json_array(), .balances = true};
	struct clearing_ctx c = {h, tb_json_array(), 0, 0};
	int err = tb_store_foreach_member(h->host.store, h->host.self, member_one, &m);
	if (!err && !m.err)
		err = tb_store_foreach_clearing(h->host.store, h->host.self, clearing_one, &c);
	if (err || m.err || c.err) {
		tb_json_free(m.arr);
		tb_json_free(c.arr);
		tb_http_fail(resp, err ? err : m.err ? m.err : c.err, NULL);
		return;
	}
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "members", m.arr);
	tb_json_set(o, "clearing", c.arr);
	/* Members and clearing accounts together sum to zero. */
	tb_json_set(o, "sum_minutes", tb_json_int(m.sum + c.sum));
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
