/*
 * api_routes.c: GET /api/v1/routes (docs/API.md, "Routes"), the routes over
 * trust lines by which a member of this community could pay a member of
 * another, and why the nearest others fail: what `tally exchange route`
 * shows, by the same code (tb_op_route) and in the same vocabulary. The
 * trust-line graph is kept between requests and re-read only where a log
 * moved (PROTOCOL.md 12.7). Viewers may ask; nothing is written.
 */
#include "http_int.h"
#include "tb_route.h"

#include <stdlib.h>
#include <string.h>

/* A whole number argument from 1 to max; *v untouched when absent. False
 * when it is present and bad (answered 400). */
static bool count_arg(struct tb_http_req *req, struct tb_http_resp *resp, const char *name,
		      uint64_t max, uint64_t *v)
{
	char s[24], *end;
	int qe = tb_http_query_opt(req, resp, name, s, sizeof s);
	if (qe <= 0)
		return qe == 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end || n < 1 || n > max) {
		tb_http_error(resp, 400, "EINVAL", "%s must be a whole number from 1 to %llu", name,
			      (unsigned long long)max);
		return false;
	}
	*v = n;
	return true;
}

static void routes(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	char to[2 * TB_NAME_MAX + 2 * TB_KEY_LEN + 8];
	uint64_t minutes = 0, hops = 0, k = 0;
	int qe = tb_http_query_opt(req, resp, "to", to, sizeof to);
	if (qe < 0)
		return;
	if (!qe) {
		tb_http_error(resp, 400, "EINVAL", "give the payee as to=NAME@COMMUNITY");
		return;
	}
	if (!count_arg(req, resp, "minutes", TB_MINUTES_MAX, &minutes) ||
	    !count_arg(req, resp, "max_hops", TB_XROUTE_HOPS_MAX, &hops) ||
	    !count_arg(req, resp, "routes", TB_XROUTE_K_MAX, &k))
		return;
	if (!minutes) {
		tb_http_error(resp, 400, "EINVAL", "give the amount as minutes=N (1 to %d)",
			      TB_MINUTES_MAX);
		return;
	}
	if (!h->xgraph && tb_xgraph_new(&h->xgraph)) {
		tb_http_error(resp, 503, "ENOMEM", "out of memory");
		return;
	}
	struct tb_ops o = tb_api_ops(h);
	struct tb_op_routes r;
	struct tb_reject rej = {0};
	int err = tb_op_route(&o, h->xgraph, to, (int64_t)minutes, (unsigned)hops, (unsigned)k, &r,
			      &rej);
	if (err) {
		tb_http_fail(resp, err, &rej);
		return;
	}
	struct tb_json *j = tb_vocab_routes(&r);
	if (!j)
		tb_http_error(resp, 503, "ENOMEM", "out of memory");
	else
		tb_http_json(resp, 200, j);
}

int tb_api_xroute_routes(struct tb_http *h)
{
	const struct tb_route r = {"GET", "/api/v1/routes", 0, TB_ROLE_VIEWER, routes, h};
	return tb_http_route(h, &r);
}
