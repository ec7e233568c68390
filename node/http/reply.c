/*
 * reply.c: what every handler uses to answer: the route table's
 * registration, JSON bodies and errors in the API's one error shape, the
 * HTTP status of each error code, the request counters, the server's log and
 * its clock. It calls nothing else of the server, so every other file of
 * node/http/ may call it.
 */
#include "http_int.h"
#include "tb_node.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
	case TB_EEXPIRY:
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
	case TB_EREINDEX:
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

void tb_http_requests(const struct tb_http *h, uint64_t out[6])
{
	memcpy(out, h->requests, sizeof h->requests);
}
