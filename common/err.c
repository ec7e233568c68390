/*
 * err.c: texts and names of the TB_E* codes, generated from TB_ERRNO_MAP, and
 * the always-on assertion handler. Never used for bad input: input errors are
 * returned, only broken invariants reach tb_assert_fail().
 */
#include "tb_err.h"

#include <stdio.h>
#include <stdlib.h>

const char *tb_strerror(int err)
{
	switch (err) {
	case TB_OK:
		return "success";
#define TB__STR(name, text) \
	case TB_E##name:    \
		return text;
		TB_ERRNO_MAP(TB__STR)
#undef TB__STR
	}
	return "unknown error";
}

const char *tb_errname(int err)
{
	switch (err) {
	case TB_OK:
		return "OK";
#define TB__NAME(name, text) \
	case TB_E##name:     \
		return "E" #name;
		TB_ERRNO_MAP(TB__NAME)
#undef TB__NAME
	}
	return "EUNKNOWN";
}

void tb_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "tally: internal error: assertion '%s' failed at %s:%d\n", expr, file,
		line);
	abort();
}
