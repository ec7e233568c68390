/*
 * agree.c: the check that `tally verify` and `tally audit` agree on a file
 * (agree.h), with both commands run as real processes and their JSON
 * compared field by field; and the same for a node of a test federation,
 * through an export of its ledger.
 */
#include "agree.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "fed.h"
#include "runproc.h"

static json_t *run_json(const char *cmd, const char *path, int *code)
{
	struct tb_proc_result res;
	const char *argv[] = {tb_tally_bin(), cmd, "--json", path, NULL};
	assert_int_equal(tb_run(&res, argv), 0);
	*code = res.code;
	json_error_t e;
	json_t *j = json_loads(res.out, 0, &e);
	if (!j)
		fail_msg("tally %s %s exited %d, not with JSON (%s): %s %s", cmd, path, res.code,
			 e.text, res.out, res.err);
	return j;
}

static long long num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

bool tb_test_verify_agrees(const char *path)
{
	int vcode, acode;
	json_t *v = run_json("verify", path, &vcode);
	json_t *a = run_json("audit", path, &acode);
	bool vok = json_is_true(json_object_get(v, "clean"));
	bool aok = json_is_true(json_object_get(a, "clean"));
	if (vok != aok || vcode != acode)
		fail_msg("%s: verify clean=%d (exit %d), audit clean=%d (exit %d)", path, vok,
			 vcode, aok, acode);
	json_t *vs = json_object_get(v, "summary"), *as = json_object_get(a, "summary");
	static const char *const counts[] = {"logs", "entries", "legs_in_flight", "legs_unmatched",
					     "succeeded"};
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
		if (num(vs, counts[i]) != num(as, counts[i]))
			fail_msg("%s: %s %lld by verify, %lld by audit", path, counts[i],
				 num(vs, counts[i]), num(as, counts[i]));
	if (!vok) {
		json_t *fv = json_object_get(v, "violation");
		json_t *fa = json_array_get(json_object_get(a, "violations"), 0);
		if (!fv || !fa)
			fail_msg("%s: a failure without its violation (verify %p, audit %p)", path,
				 (void *)fv, (void *)fa);
		if (strcmp(str(fv, "code"), str(fa, "code")) ||
		    strcmp(str(fv, "log"), str(fa, "log")) || num(fv, "seq") != num(fa, "seq") ||
		    num(fv, "item") != num(fa, "item"))
			fail_msg(
				"%s: verify says %s at %.16s seq %lld item %lld, audit %s at %.16s "
				"seq %lld item %lld",
				path, str(fv, "code"), str(fv, "log"), num(fv, "seq"),
				num(fv, "item"), str(fa, "code"), str(fa, "log"), num(fa, "seq"),
				num(fa, "item"));
	}
	json_decref(v);
	json_decref(a);
	return vok;
}

bool tb_fed_agrees(struct tb_fed *f, size_t i)
{
	char exp[TB_FED_PATH + 64];
	snprintf(exp, sizeof exp, "%s/agree-%zu.export", f->root, i);
	unlink(exp);
	if (TB_FED_TALLY(f, i, "export", "--out", exp))
		fail_msg("tally export at node %zu: exit %d %s%s", i, f->res.code, f->res.out,
			 f->res.err);
	bool ok = tb_test_verify_agrees(exp);
	unlink(exp);
	if (!f->node[i].pid && tb_test_verify_agrees(f->node[i].data) != ok)
		fail_msg("node %zu: its export and its data directory are judged apart", i);
	return ok;
}
