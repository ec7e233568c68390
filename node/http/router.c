/*
 * router.c: from a request to a handler. Finds the route (method and path
 * pattern), answers 404/405 itself, and before any handler runs checks what
 * every route declares: a live session unless the route is public, the
 * least role, and on a state-changing request the session's CSRF token in
 * the X-CSRF-Token header. Every state-changing request is logged with the
 * coordinator's name and the status. Paths outside /api/ are the console's
 * static files. Also the response helpers every handler uses.
 */
#include "http_int.h"
#include "tb_node.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void tb_http_log(struct tb_http *h, int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (h->host.log)
		h->host.log(h->host.ctx, level, line);
}

uint64_t tb_http_now_ms(struct tb_http *h)
{
	/* Not uv_now: the loop's cached time lags behind a slow request (a
	 * password hash), and deadlines counted from it would end early. */
	(void)h;
	return uv_hrtime() / 1000000u;
}

const struct tb_http_host *tb_http_host(const struct tb_http *h)
{
	return &h->host;
}

int tb_http_route(struct tb_http *h, const struct tb_route *r)
{
	if (h->nroutes == TB_HTTP_ROUTES_MAX)
		return TB_EFULL;
	h->routes[h->nroutes++] = *r;
	return 0;
}

void tb_http_json(struct tb_http_resp *resp, int status, struct tb_json *v)
{
	free(resp->body);
	resp->body = v ? tb_json_dump(v, &resp->len) : NULL;
	tb_json_free(v);
	if (!resp->body) {
		static const char oom[] =
			"{\"error\":{\"code\":\"ENOMEM\",\"message\":\"out of memory\"}}\n";
		resp->body = malloc(sizeof oom);
		resp->len = resp->body ? sizeof oom - 1 : 0;
		if (resp->body)
			memcpy(resp->body, oom, sizeof oom);
		status = 503;
	}
	resp->status = status;
	resp->type = "application/json; charset=utf-8";
}

void tb_http_error(struct tb_http_resp *resp, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	tb_http_json(resp, status, tb_vocab_error(code, msg));
}

int tb_http_status_for(int err)
{
	switch (err) {
	case TB_EINVAL:
	case TB_ETYPE:
	case TB_ERANGE:
	case TB_ETOOLONG:
	case TB_EUTF8:
	case TB_EUSAGE:
	case TB_EDATE:
	case TB_EPASSPHRASE:
		return 400;
	case TB_ENOTFOUND:
		return 404;
	case TB_ETOOBIG:
		return 413;
	case TB_EAUTH:
		return 401;
	case TB_EDENIED:
	case TB_ECSRF:
		return 403;
	case TB_ETHROTTLED:
		return 429;
	case TB_ENOMEM:
	case TB_EIO:
	case TB_ESTORE:
	case TB_ECORRUPT:
	case TB_EFULL:
	case TB_EDISKFULL:
	case TB_EPERM:
	case TB_ELOCKED:
	case TB_ERESTORED:
		return 503;
	}
	/* Everything else is a ledger rule's refusal (EFLOOR, EMEMBER, ...). */
	return 409;
}

void tb_http_fail(struct tb_http_resp *resp, int err, const struct tb_reject *rej)
{
	const char *msg = rej && rej->err ? rej->msg : tb_strerror(err);
	tb_http_error(resp, tb_http_status_for(err), tb_errname(err), "%s", msg);
}

/* Matches a path against a pattern, decoding the '*' segments. */
static int match(const char *pattern, const char *path, struct tb_http_req *req)
{
	size_t np = 0;
	while (*pattern && *path) {
		if (*pattern != '/' || *path != '/')
			return 0;
		pattern++, path++;
		size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");
		if (pl == 1 && *pattern == '*') {
			if (!sl || np == TB_HTTP_PARAMS_MAX ||
			    tb_http_unescape(path, sl, req->params[np], TB_HTTP_PARAM_MAX + 1))
				return 0;
			np++;
		} else if (pl != sl || memcmp(pattern, path, pl)) {
			return 0;
		}
		pattern += pl, path += sl;
	}
	if (*pattern || *path)
		return 0;
	req->nparams = np;
	return 1;
}

static bool authorize(struct tb_http *h, const struct tb_route *rt, struct tb_http_req *req,
		      struct tb_http_resp *resp)
{
	const char *token = tb_http_cookie(req, "tally_session");
	struct tb_session *s = token ? tb_session_find(h, token) : NULL;
	if (s) {
		/* The coordinator may have been removed or given another role. */
		struct tb_coord co;
		int err = tb_store_coord_get(h->host.store, s->who.name, &co);
		if (err == TB_ENOTFOUND) {
			tb_session_end(s);
			s = NULL;
		} else if (err) {
			tb_http_fail(resp, err, NULL);
			return false;
		} else {
			s->who.role = co.role;
		}
	}
	req->session = s;
	if (s)
		req->who = s->who;
	if (rt->flags & TB_ROUTE_PUBLIC)
		return true;
	if (!s) {
		tb_http_error(resp, 401, "EAUTH", "%s",
			      token ? "the session has expired: log in again"
				    : "not logged in: POST /api/v1/session first");
		return false;
	}
	if (s->who.role < rt->role) {
		tb_http_error(resp, 403, "EDENIED", "%s has the role %s; this needs the role %s",
			      s->who.name, tb_role_name(s->who.role), tb_role_name(rt->role));
		return false;
	}
	if (rt->flags & TB_ROUTE_WRITE) {
		const char *csrf = tb_http_header(req, "X-CSRF-Token");
		if (!csrf || strlen(csrf) != 64 || tb_memcmp_ct(csrf, s->csrf, 64)) {
			tb_http_error(
				resp, 403, "ECSRF",
				"missing or wrong X-CSRF-Token header (it comes with the session)");
			return false;
		}
	}
	return true;
}

static void not_found(struct tb_http_req *req, struct tb_http_resp *resp)
{
	char shown[80];
	snprintf(shown, sizeof shown, "%.60s", req->path);
	for (char *c = shown; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	tb_http_error(resp, 404, "ENOTFOUND", "no such resource: %s", shown);
}

/* A route outside /api/ (the node's /healthz and /metrics) for this path. */
static bool routed_outside_api(struct tb_http *h, struct tb_http_req *req)
{
	for (size_t i = 0; i < h->nroutes; i++)
		if (strncmp(h->routes[i].pattern, "/api/", 5) &&
		    match(h->routes[i].pattern, req->path, req))
			return true;
	return false;
}

static void dispatch(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp)
{
	resp->fd = -1;
	if (strncmp(req->path, "/api/", 5) && !routed_outside_api(h, req)) {
		tb_http_static(h, req, resp);
		return;
	}
	const struct tb_route *rt = NULL;
	char allow[32] = "";
	for (size_t i = 0; i < h->nroutes && !rt; i++) {
		if (!match(h->routes[i].pattern, req->path, req))
			continue;
		if (!strcmp(h->routes[i].method, req->method) ||
		    (!strcmp(req->method, "HEAD") && !strcmp(h->routes[i].method, "GET")))
			rt = &h->routes[i];
		else if (strlen(allow) + strlen(h->routes[i].method) + 3 < sizeof allow)
			snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
				 allow[0] ? ", " : "", h->routes[i].method);
	}
	if (!rt && allow[0]) {
		tb_http_error(resp, 405, "EMETHOD", "%s is not allowed here (allowed: %s)",
			      req->method, allow);
		snprintf(resp->allow, sizeof resp->allow, "%s", allow);
		return;
	}
	if (!rt) {
		not_found(req, resp);
		return;
	}
	if (authorize(h, rt, req, resp))
		rt->fn(req, resp, rt->ctx);
	/* State changes are logged, refused ones too. */
	if (rt->flags & TB_ROUTE_WRITE)
		tb_http_log(h, 2, "http: %s %s %s from %s: %d",
			    req->who.name[0] ? req->who.name : "-", req->method, req->path,
			    req->client, resp->status);
}

void tb_http_dispatch(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp)
{
	dispatch(h, req, resp);
	int cls = resp->status / 100;
	h->requests[cls >= 1 && cls <= 5 ? cls : 0]++;
}

void tb_http_requests(const struct tb_http *h, uint64_t out[6])
{
	memcpy(out, h->requests, sizeof h->requests);
}

int tb_http_parse_addr(struct tb_http_conf *conf, const char *arg)
{
	if (!strcmp(arg, "off")) {
		conf->host[0] = '\0';
		conf->port = 0;
		return 0;
	}
	return tb_addr_parse(arg, conf->host, sizeof conf->host, &conf->port);
}

void tb_http_default_root(char *out, size_t cap)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			char cand[4200];
			snprintf(cand, sizeof cand, "%s/../share/tally/web/index.html", exe);
			if (!access(cand, R_OK)) {
				snprintf(out, cap, "%s/../share/tally/web", exe);
				return;
			}
		}
	}
#ifdef TB_SOURCE_WEB
	if (!access(TB_SOURCE_WEB "/index.html", R_OK)) {
		snprintf(out, cap, "%s", TB_SOURCE_WEB);
		return;
	}
#endif
	snprintf(out, cap, "/usr/share/tally/web");
}

int tb_http_start(struct tb_http **out, const struct tb_http_host *host,
		  const struct tb_http_conf *conf, char *why, size_t cap)
{
	*out = NULL;
	struct tb_http *h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(why, cap, "out of memory");
		return TB_ENOMEM;
	}
	h->host = *host;
	h->conf = *conf;
	const char *life = getenv("TALLYD_SESSION_SECONDS");
	h->session_life_s = life && atoi(life) > 0 ? (uint64_t)atoi(life) : TB_SESSION_LIFE_S;
	h->session_idle_s =
		h->session_life_s < TB_SESSION_IDLE_S ? h->session_life_s : TB_SESSION_IDLE_S;
	if (!conf->web_root[0] || !realpath(conf->web_root, h->web_real))
		h->web_real[0] = '\0';
	int err = tb_api_session_routes(h);
	if (!err)
		err = tb_api_read_routes(h);
	if (!err)
		err = tb_api_ledger_routes(h);
	if (!err)
		err = tb_api_report_routes(h);
	if (!err)
		err = tb_api_write_routes(h);
	if (!err)
		err = tb_api_events_routes(h);
	if (!err)
		err = tb_api_category_routes(h);
	if (!err)
		err = tb_api_fed_routes(h);
	if (!err)
		err = tb_api_audit_routes(h);
	if (err) {
		snprintf(why, cap, "too many HTTP routes");
		free(h);
		return err;
	}
	if ((err = tb_http_listen(h, why, cap))) {
		free(h);
		return err;
	}
	*out = h;
	return 0;
}
