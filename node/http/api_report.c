/*
 * api_report.c: GET /api/v1/reports/KIND, the reports of `tally report`
 * built by the same code (node/json/report.c): JSON, or with format=csv a
 * CSV download (text/csv with a Content-Disposition file name). Dates are
 * from/to (default: the current month), days for inactive members (default
 * 90), within_minutes for members near a limit (default 60). Nothing here
 * writes.
 */
#include "http_int.h"
#include "tb_ops.h"
#include "tb_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int date_arg(struct tb_http_req *req, const char *name, uint64_t *out)
{
	char v[16];
	int qe = tb_http_query_opt(req, NULL, name, v, sizeof v);
	if (qe <= 0)
		return qe;
	return tb_date_parse(v, out);
}

static int num_arg(struct tb_http_req *req, const char *name, uint64_t max, uint64_t *out)
{
	char v[24], *end;
	int qe = tb_http_query_opt(req, NULL, name, v, sizeof v);
	if (qe <= 0)
		return qe;
	unsigned long long n = strtoull(v, &end, 10);
	if (!v[0] || *end || v[0] == '-' || n > max)
		return TB_EINVAL;
	*out = n;
	return 0;
}

static void report(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	int kind = tb_report_kind(req->params[0]);
	if (kind < 0) {
		tb_http_error(resp, 404, "ENOTFOUND",
			      "no report '%.40s' (hours, members, inactive or near-limit)",
			      req->params[0]);
		return;
	}
	uint64_t within = 60;
	struct tb_report_args a;
	tb_report_defaults(&a, tb_date_today());
	a.kind = (enum tb_report_which)kind;
	char format[8] = "json";
	if (date_arg(req, "from", &a.from) || date_arg(req, "to", &a.to) || a.from > a.to) {
		tb_http_error(resp, 400, "EDATE",
			      "'from' and 'to' are dates (YYYY-MM-DD), 'from' not after 'to'");
		return;
	}
	if (num_arg(req, "days", 100000, &a.days) ||
	    num_arg(req, "within_minutes", 100000000, &within)) {
		tb_http_error(resp, 400, "EINVAL",
			      "'days' is 0 to 100000 and 'within_minutes' 0 to 100000000");
		return;
	}
	a.within = (int64_t)within;
	int qe = tb_http_query_opt(req, NULL, "format", format, sizeof format);
	if (qe < 0 || (qe && strcmp(format, "json") && strcmp(format, "csv"))) {
		tb_http_error(resp, 400, "EINVAL", "'format' is json or csv");
		return;
	}
	struct tb_report_out out;
	int err = tb_report(h->host.store, h->host.self, &a, &out);
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	if (strcmp(format, "csv")) {
		tb_http_json(resp, 200, out.json);
		out.json = NULL;
		tb_report_out_free(&out);
		return;
	}
	resp->status = 200;
	resp->type = "text/csv; charset=utf-8";
	resp->body = out.csv;
	resp->len = out.csv_len;
	snprintf(resp->disposition, sizeof resp->disposition,
		 "attachment; filename=\"tally-%.12s-%llu.csv\"", req->params[0],
		 (unsigned long long)(a.kind == TB_REPORT_HOURS || a.kind == TB_REPORT_MEMBERS
					      ? a.from
					      : a.today));
	out.csv = NULL;
	tb_report_out_free(&out);
}

int tb_api_report_routes(struct tb_http *h)
{
	const struct tb_route r = {"GET", "/api/v1/reports/*", 0, TB_ROLE_VIEWER, report, h};
	return tb_http_route(h, &r);
}
