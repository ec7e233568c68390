/*
 * out.c: output helpers: error messages on stderr (tb_cli_fail), hours as
 * H:MM with a sign, dates, and JSON strings (escaped so that any member name
 * or memo prints as valid JSON).
 */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void tb_out_hours(char *buf, size_t cap, int64_t minutes)
{
	uint64_t a = minutes < 0 ? (uint64_t)0 - (uint64_t)minutes : (uint64_t)minutes;
	snprintf(buf, cap, "%s%llu:%02llu",
		 minutes < 0   ? "-"
		 : minutes > 0 ? "+"
			       : " ",
		 (unsigned long long)(a / 60), (unsigned long long)(a % 60));
}

void tb_out_date(char *buf, size_t cap, uint64_t d)
{
	snprintf(buf, cap, "%04llu-%02llu-%02llu", (unsigned long long)(d / 10000),
		 (unsigned long long)(d / 100 % 100), (unsigned long long)(d % 100));
}

void tb_json_str(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void tb_json_hex(FILE *f, const uint8_t *p, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%02x", p[i]);
	fputc('"', f);
}

void tb_out_json_inner(struct tb_json *o)
{
	size_t len;
	char *text = o ? tb_json_dump(o, &len) : NULL;
	tb_json_free(o);
	/* Inside a document being printed: without the dump's newline. */
	if (text)
		printf("%.*s", (int)(len - 1), text);
	else
		printf("null");
	free(text);
}

void tb_out_violation_json(const struct tb_reject *r, uint64_t item)
{
	tb_out_json_inner(tb_vocab_violation(r, item));
}

int tb_cli_print_json(struct tb_json *o, int err, const char *what)
{
	if (!o)
		return tb_cli_fail(TB_EXIT_IO, "cannot read %s: %s", what,
				   tb_strerror(err ? err : TB_ENOMEM));
	err = tb_json_print(o, stdout);
	tb_json_free(o);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot print: %s", tb_strerror(err));
	return TB_EXIT_OK;
}

int tb_cli_fail(int code, const char *fmt, ...)
{
	va_list ap;
	fputs("tally: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}
