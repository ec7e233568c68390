/*
 * verify.c: `tally verify`, the audit engine over one source with a sink
 * that keeps the first violation. So verify and audit give one input the
 * same verdict, rule, log, seq, item and counts (FORMAT.md 11.1).
 */
#include <string.h>

#include "audit_int.h"

static void keep_first(void *ctx, const struct tb_violation *v)
{
	struct tb_verify_report *rep = ctx;
	if (rep->err)
		return;
	rep->err = v->r.err;
	rep->where = v->r;
	rep->item = v->item;
}

static int verify(const char *dir, tb_export_read_fn rd, void *rctx, const char *tmpdir,
		  struct tb_verify_report *rep)
{
	memset(rep, 0, sizeof *rep);
	struct tb_audit *a;
	int err = tb_audit_new(&a, tmpdir, keep_first, rep);
	if (err)
		return err;
	tb_audit_set_lean(a); /* one source */
	err = dir ? tb_audit_add_dir(a, dir) : tb_audit_add_export_stream(a, rd, rctx);
	struct tb_audit_summary sum;
	memset(&sum, 0, sizeof sum);
	if (!err)
		err = tb_audit_finish(a, &sum);
	tb_audit_free(a);
	rep->logs = sum.logs;
	rep->entries = sum.entries;
	rep->legs_unmatched = sum.legs_unmatched;
	rep->legs_in_flight = sum.legs_in_flight;
	rep->succeeded = sum.succeeded;
	if (err) {
		rep->err = 0;
		return err;
	}
	return rep->err;
}

int tb_verify_dir(const char *dir, const char *tmpdir, struct tb_verify_report *rep)
{
	return verify(dir, NULL, NULL, tmpdir, rep);
}

int tb_verify_export_stream(tb_export_read_fn rd, void *ctx, const char *tmpdir,
			    struct tb_verify_report *rep)
{
	return verify(NULL, rd, ctx, tmpdir, rep);
}

int tb_verify_export(const uint8_t *file, size_t len, const char *tmpdir,
		     struct tb_verify_report *rep)
{
	struct tb_mem_src m = {file, len, 0};
	return verify(NULL, tb_audit_mem_read, &m, tmpdir, rep);
}
