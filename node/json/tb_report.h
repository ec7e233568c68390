/*
 * tb_report.h: the coordinators' reports, one code path for `tally report`
 * and the API's GET /api/v1/reports/KIND, each as JSON (the shared
 * vocabulary) and as CSV (a header row per table, CRLF line ends):
 * - hours: exchanges and minutes by month and by category, dates of
 *   service from..to (reversed exchanges left out);
 * - members: per member, opening and closing balance around from..to,
 *   minutes earned and spent and lines of the statement in it;
 * - inactive: active members with no statement line in `days` days
 *   up to `today`;
 * - near-limit: active members within `within` minutes of their debt limit
 *   or ceiling.
 */
#ifndef TB_REPORT_H
#define TB_REPORT_H

#include "tb_json.h"

enum tb_report_which {
	TB_REPORT_HOURS,
	TB_REPORT_MEMBERS,
	TB_REPORT_INACTIVE,
	TB_REPORT_NEAR_LIMIT,
};

struct tb_report_args {
	enum tb_report_which kind;
	uint64_t from, to; /* yyyymmdd, inclusive */
	uint64_t today;	   /* yyyymmdd */
	uint64_t days;
	int64_t within;
};

struct tb_report_out {
	struct tb_json *json;
	char *csv; /* NUL-terminated */
	size_t csv_len;
};

/* The defaults: the month of today (its first to its last day), 90 days,
 * 60 minutes; kind is TB_REPORT_HOURS. */
void tb_report_defaults(struct tb_report_args *a, uint64_t today);
/* "hours", "members", "inactive" or "near-limit" into its kind, else TB_EINVAL. */
int tb_report_kind(const char *s);
/* Builds the report; out is freed with tb_report_out_free. */
TB_MUST_CHECK int tb_report(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
			    const struct tb_report_args *a, struct tb_report_out *out);
void tb_report_out_free(struct tb_report_out *out);

#endif
