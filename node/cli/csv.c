/*
 * csv.c: a bounded reader of CSV files as spreadsheets and Rails' CSV
 * library write them (RFC 4180: comma separated, fields optionally in double
 * quotes with "" for a quote, quoted fields may hold commas and line breaks,
 * CRLF or LF line ends, an optional UTF-8 byte order mark). Every record is
 * capped in fields and bytes; a malformed record is reported with the line
 * it starts on and the reading goes on at the next line, so an import can
 * name every bad line at once. It never allocates per record.
 */
#include "csv.h"

#include <string.h>

void tb_csv_init(struct tb_csv *c, const char *p, size_t len)
{
	memset(c, 0, sizeof *c);
	c->p = p;
	c->len = len;
	c->line = 1;
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		c->pos = 3;
}

/* Skips to the start of the next line (after a bad record). */
static void skip_line(struct tb_csv *c)
{
	while (c->pos < c->len && c->p[c->pos] != '\n')
		c->pos++;
	if (c->pos < c->len) {
		c->pos++;
		c->line++;
	}
}

static int bad(struct tb_csv *c, struct tb_csv_rec *r, const char *why)
{
	r->error = why;
	skip_line(c);
	return 1;
}

/* Appends byte ch to the record's current field. */
static int put(struct tb_csv_rec *r, char ch)
{
	if (r->used + 1 >= sizeof r->buf)
		return -1;
	r->buf[r->used++] = ch;
	return 0;
}

/* Ends the current field (NUL-terminated in buf). */
static int end_field(struct tb_csv_rec *r, size_t start)
{
	if (r->n == TB_CSV_FIELDS || put(r, '\0'))
		return -1;
	r->field[r->n++] = r->buf + start;
	return 0;
}

int tb_csv_next(struct tb_csv *c, struct tb_csv_rec *r)
{
	size_t start = 0;
	bool quoted = false, was_quoted = false;

	r->n = 0;
	r->used = 0;
	r->error = NULL;
	r->line = c->line;
	if (c->pos >= c->len)
		return 0;
	for (;;) {
		if (c->pos >= c->len) {
			if (quoted)
				return bad(c, r, "a quoted field is not closed");
			if (end_field(r, start))
				return bad(c, r, "too many fields or too long a line");
			return 1;
		}
		char ch = c->p[c->pos++];
		if (ch == '\0')
			return bad(c, r, "a NUL byte");
		if (quoted) {
			if (ch == '"' && c->pos < c->len && c->p[c->pos] == '"') {
				c->pos++;
			} else if (ch == '"') {
				quoted = false;
				continue;
			}
			if (ch == '\n')
				c->line++;
			if (put(r, ch))
				return bad(c, r, "too long a line");
			continue;
		}
		if (ch == ',' || ch == '\n' ||
		    (ch == '\r' && c->pos < c->len && c->p[c->pos] == '\n')) {
			if (end_field(r, start))
				return bad(c, r, "too many fields or too long a line");
			start = r->used;
			was_quoted = false;
			if (ch == ',')
				continue;
			if (ch == '\r')
				c->pos++;
			c->line++;
			return 1;
		}
		if (ch == '"') {
			if (r->used != start || was_quoted)
				return bad(c, r, "a quote inside an unquoted field");
			quoted = was_quoted = true;
			continue;
		}
		if (was_quoted)
			return bad(c, r, "text after a closing quote");
		if (put(r, ch))
			return bad(c, r, "too long a line");
	}
}

bool tb_csv_blank(const struct tb_csv_rec *r)
{
	return r->n == 1 && r->field[0][0] == '\0';
}

int tb_csv_column(const struct tb_csv_rec *header, const char *const *names)
{
	for (size_t i = 0; i < header->n; i++)
		for (const char *const *n = names; *n; n++)
			if (!strcasecmp(header->field[i], *n))
				return (int)i;
	return -1;
}
