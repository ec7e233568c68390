/*
 * api_audit.c: POST /api/v1/audit runs the auditor (audit/, the engine of
 * `tally audit`) over every log this node holds, trusting nothing: the
 * store is written out as an export file in memory (capped) and audited
 * from those bytes, so no second handle on the ledger is opened. The answer
 * is kept (in memory, until tallyd stops) for GET /api/v1/audit. The run is
 * synchronous on the node's loop; a ledger too big for the cap is refused
 * with a pointer to the command line. Nothing here writes to the store.
 */
#include "http_int.h"
#include "tb_audit.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TB_AUDIT_EXPORT_MAX (256u << 20) /* bytes of the in-memory export */
#define TB_AUDIT_LISTED 100		 /* violations listed (all are counted) */

struct membuf {
	uint8_t *p;
	size_t len, cap;
};

static int put_mem(void *ctx, const void *p, size_t len)
{
	struct membuf *b = ctx;
	if (len > TB_AUDIT_EXPORT_MAX - b->len)
		return TB_ETOOBIG;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 1u << 16;
		while (cap < b->len + len)
			cap *= 2;
		if (cap > TB_AUDIT_EXPORT_MAX)
			cap = TB_AUDIT_EXPORT_MAX;
		uint8_t *q = realloc(b->p, cap);
		if (!q)
			return TB_ENOMEM;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
	return 0;
}

struct run {
	struct tb_json *list;
	size_t listed;
	int err;
};

static void on_violation(void *ctx, const struct tb_violation *v)
{
	struct run *r = ctx;
	if (r->err || r->listed == TB_AUDIT_LISTED)
		return;
	r->err = tb_json_push(r->list, tb_vocab_violation(&v->r, v->item));
	r->listed++;
}

/* Exports and audits; 0 with the result object in *out, or an error. */
static int audit_all(struct tb_http *h, struct tb_json **out)
{
	struct membuf b = {0};
	uint64_t items, t0 = tb_http_now_ms(h);
	int err = tb_export_write(h->host.store, put_mem, &b, &items);
	struct run r = {tb_json_array(), 0, 0};
	struct tb_audit *a = NULL;
	struct tb_audit_summary s = {0};
	if (!err)
		err = tb_audit_new(&a, getenv("TMPDIR"), on_violation, &r);
	if (!err)
		err = tb_audit_add_export(a, b.p, b.len);
	if (!err)
		err = tb_audit_finish(a, &s);
	tb_audit_free(a);
	free(b.p);
	if (!err)
		err = r.err;
	if (err) {
		tb_json_free(r.list);
		return err;
	}
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "ran", tb_json_time((uint64_t)time(NULL)));
	tb_json_set(o, "took_ms", tb_json_int((int64_t)(tb_http_now_ms(h) - t0)));
	tb_json_set(o, "clean", tb_json_bool(s.violations == 0));
	tb_json_set(o, "summary", tb_vocab_audit_summary(&s));
	tb_json_set(o, "violations", r.list);
	tb_json_set(o, "successions", tb_vocab_successions(&s));
	*out = o;
	return 0;
}

static void audit_run(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	char msg[TB_JSON_MSG_MAX];
	if (tb_json_decode(req->body_len ? req->body : "{}", req->body_len ? req->body_len : 2,
			   NULL, 0, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	struct tb_json *o = NULL;
	int err = audit_all(h, &o);
	if (err == TB_ETOOBIG) {
		tb_http_error(resp, 503, "ETOOBIG",
			      "the ledger is over %u MiB: run 'tally audit' on the data directory",
			      TB_AUDIT_EXPORT_MAX >> 20);
		return;
	}
	if (err) {
		tb_http_error(resp, tb_http_status_for(err), tb_errname(err),
			      "the audit could not finish: %s", tb_strerror(err));
		return;
	}
	size_t len;
	char *text = tb_json_dump(o, &len);
	if (text) {
		free(h->audit_last);
		h->audit_last = text;
		h->audit_len = len;
	}
	tb_http_json(resp, 200, o);
}

static void audit_last(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	(void)req;
	struct tb_http *h = ctx;
	if (!h->audit_last) {
		tb_http_error(resp, 404, "ENOTFOUND",
			      "no audit has run since tallyd started: POST /api/v1/audit");
		return;
	}
	free(resp->body);
	resp->body = malloc(h->audit_len + 1);
	if (!resp->body) {
		tb_http_error(resp, 503, "ENOMEM", "out of memory");
		return;
	}
	memcpy(resp->body, h->audit_last, h->audit_len + 1);
	resp->len = h->audit_len;
	resp->status = 200;
	resp->type = "application/json; charset=utf-8";
}

int tb_api_audit_routes(struct tb_http *h)
{
	const struct tb_route r[] = {
		{"POST", "/api/v1/audit", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR, audit_run, h},
		{"GET", "/api/v1/audit", 0, TB_ROLE_VIEWER, audit_last, h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	return err;
}
