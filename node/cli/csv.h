/*
 * csv.h: the bounded CSV reader of `tally import` (csv.c).
 */
#ifndef TB_CLI_CSV_H
#define TB_CLI_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <strings.h>

/* Most fields in one record, and bytes of one record's fields. */
#define TB_CSV_FIELDS 32
#define TB_CSV_REC_MAX 8192

struct tb_csv {
	const char *p;
	size_t len, pos;
	unsigned long line; /* line the next record starts on */
};

struct tb_csv_rec {
	char *field[TB_CSV_FIELDS]; /* NUL-terminated, inside buf */
	size_t n;
	unsigned long line; /* the line the record starts on */
	const char *error;  /* a malformed record: why (fields unusable) */
	char buf[TB_CSV_REC_MAX];
	size_t used;
};

void tb_csv_init(struct tb_csv *c, const char *p, size_t len);
/* 1 and the next record in r (check r->error), or 0 at the end. */
int tb_csv_next(struct tb_csv *c, struct tb_csv_rec *r);
/* An empty line. */
bool tb_csv_blank(const struct tb_csv_rec *r);
/* Index of the first header field equal (any ASCII case) to one of names
 * (NULL-terminated), or -1. */
int tb_csv_column(const struct tb_csv_rec *header, const char *const *names);

#endif
