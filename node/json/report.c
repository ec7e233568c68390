/*
 * report.c: the coordinators' reports (tb_report.h), built once for both
 * `tally report` and GET /api/v1/reports/...: hours exchanged by month and
 * by category for a period, per-member totals with opening and closing
 * balance, inactive members, members near a limit. Each report is a few
 * named tables of rows; a row is written as a JSON object of the shared
 * vocabulary and as a CSV line at the same time, so the two downloads can
 * never disagree. Exchanges that were reversed, and reversals, are left out
 * of the hours. Every table grows only with what the ledger holds, and the
 * CSV text is capped (TB_ETOOBIG past it). Nothing here writes.
 */
#include "tb_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TB_REPORT_CSV_MAX (16u << 20)

struct csv {
	char *p;
	size_t len, cap;
	int err;
};

static void csv_put(struct csv *c, const char *s, size_t n)
{
	if (c->err)
		return;
	if (c->len + n + 1 > TB_REPORT_CSV_MAX) {
		c->err = TB_ETOOBIG;
		return;
	}
	if (c->len + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		while (cap < c->len + n + 1)
			cap *= 2;
		char *np = realloc(c->p, cap);
		if (!np) {
			c->err = TB_ENOMEM;
			return;
		}
		c->p = np;
		c->cap = cap;
	}
	memcpy(c->p + c->len, s, n);
	c->len += n;
	c->p[c->len] = '\0';
}

/* A text cell: quoted when it holds a separator, a quote or a line end;
 * one starting like a formula gets a leading ' (spreadsheets run those). */
static void csv_text(struct csv *c, const char *s)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		csv_put(c, "\"", 1);
	if (strchr("=+-@\t", s[0]) && s[0])
		csv_put(c, "'", 1);
	for (const char *q = s; *q; q++)
		csv_put(c, *q == '"' ? "\"\"" : q, *q == '"' ? 2 : 1);
	if (quote)
		csv_put(c, "\"", 1);
}

enum cell_type { CELL_INT, CELL_TEXT, CELL_DATE, CELL_NULL };

struct cell {
	const char *key;
	enum cell_type type;
	int64_t i;
	const char *s;
};

struct sink {
	struct tb_json *doc, *rows; /* the current table */
	struct csv csv;
	bool many; /* more than one table: CSV rows say which */
	const char *table;
	int err;
};

static void table_begin(struct sink *k, const char *name, const struct cell *cols, size_t n)
{
	k->rows = tb_json_array();
	if (!k->err && !k->rows)
		k->err = TB_ENOMEM;
	if (!k->err)
		k->err = tb_json_set(k->doc, name, k->rows);
	k->table = name;
	if (k->csv.len)
		csv_put(&k->csv, "\r\n", 2);
	if (k->many)
		csv_put(&k->csv, "table,", 6);
	for (size_t i = 0; i < n; i++) {
		csv_put(&k->csv, i ? "," : "", i ? 1 : 0);
		csv_text(&k->csv, cols[i].key);
	}
	csv_put(&k->csv, "\r\n", 2);
}

static void row(struct sink *k, const struct cell *cells, size_t n)
{
	struct tb_json *o = tb_json_object();
	int err = o ? 0 : TB_ENOMEM;
	char buf[32];
	if (k->many) {
		csv_text(&k->csv, k->table);
		csv_put(&k->csv, ",", 1);
	}
	for (size_t i = 0; i < n; i++) {
		const struct cell *c = &cells[i];
		struct tb_json *v = c->type == CELL_INT	   ? tb_json_int(c->i)
				    : c->type == CELL_TEXT ? tb_json_string(c->s)
				    : c->type == CELL_DATE ? tb_json_date((uint64_t)c->i)
							   : tb_json_null();
		if (err)
			tb_json_free(v);
		else
			err = v ? tb_json_set(o, c->key, v) : TB_ENOMEM;
		csv_put(&k->csv, i ? "," : "", i ? 1 : 0);
		if (c->type == CELL_INT) {
			snprintf(buf, sizeof buf, "%lld", (long long)c->i);
			csv_put(&k->csv, buf, strlen(buf));
		} else if (c->type == CELL_TEXT) {
			csv_text(&k->csv, c->s);
		} else if (c->type == CELL_DATE) {
			snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", (long long)(c->i / 10000),
				 (long long)(c->i / 100 % 100), (long long)(c->i % 100));
			csv_put(&k->csv, buf, strlen(buf));
		}
	}
	csv_put(&k->csv, "\r\n", 2);
	if (!err)
		err = tb_json_push(k->rows, o);
	else
		tb_json_free(o);
	if (!k->err)
		k->err = err;
}

/* Days since 1970-01-01 of a yyyymmdd date. */
static int64_t day_number(uint64_t d)
{
	struct tm tm = {.tm_year = (int)(d / 10000) - 1900,
			.tm_mon = (int)(d / 100 % 100) - 1,
			.tm_mday = (int)(d % 100),
			.tm_hour = 12};
	return (int64_t)(timegm(&tm) / 86400);
}

struct bucket {
	char key[TB_CATEGORY_MAX + 1];
	int64_t exchanges, minutes;
};

struct buckets {
	struct bucket *b;
	size_t n, cap;
};

static int bucket_add(struct buckets *bs, const char *key, size_t klen, int64_t minutes)
{
	for (size_t i = 0; i < bs->n; i++)
		if (strlen(bs->b[i].key) == klen && !memcmp(bs->b[i].key, key, klen)) {
			bs->b[i].exchanges++;
			bs->b[i].minutes += minutes;
			return 0;
		}
	if (bs->n == bs->cap) {
		size_t cap = bs->cap ? 2 * bs->cap : 16;
		struct bucket *nb = realloc(bs->b, cap * sizeof *nb);
		if (!nb)
			return TB_ENOMEM;
		bs->b = nb;
		bs->cap = cap;
	}
	struct bucket *b = &bs->b[bs->n++];
	memset(b, 0, sizeof *b);
	memcpy(b->key, key, klen < TB_CATEGORY_MAX ? klen : TB_CATEGORY_MAX);
	b->exchanges = 1;
	b->minutes = minutes;
	return 0;
}

static int bucket_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bucket *)a)->key, ((const struct bucket *)b)->key);
}

struct hours {
	struct tb_store *s;
	const uint8_t *self;
	const struct tb_report_args *a;
	struct buckets months, cats;
	int err;
};

static int hours_one(void *vctx, uint64_t seq, struct tb_view rec)
{
	struct hours *h = vctx;
	struct tb_entry e;
	uint64_t at, rev = 0;
	(void)seq;
	if (tb_entry_decode(&e, rec.p, rec.len) || e.kind != TB_KIND_EXCHANGE)
		return 0;
	const struct tb_exchange *x = &e.body.exchange;
	if (x->date < h->a->from || x->date > h->a->to ||
	    (tb_store_tx(h->s, h->self, x->txid, &at, &rev) == 0 && rev))
		return 0;
	char month[8];
	snprintf(month, sizeof month, "%04u-%02u", (unsigned)(x->date / 10000 % 10000),
		 (unsigned)(x->date / 100 % 100));
	if ((h->err = bucket_add(&h->months, month, strlen(month), (int64_t)x->minutes)) ||
	    (h->err = bucket_add(&h->cats, (const char *)x->category.p, x->category.len,
				 (int64_t)x->minutes)))
		return 1;
	return 0;
}

static void hours_report(struct sink *k, struct tb_store *s, const uint8_t *self,
			 const struct tb_report_args *a)
{
	struct hours h = {.s = s, .self = self, .a = a};
	int err = tb_store_foreach_entry(s, self, 1, hours_one, &h);
	k->err = err < 0 ? err : h.err;
	qsort(h.months.b, h.months.n, sizeof *h.months.b, bucket_cmp);
	qsort(h.cats.b, h.cats.n, sizeof *h.cats.b, bucket_cmp);
	static const struct cell mcols[] = {{"month"}, {"exchanges"}, {"minutes"}};
	static const struct cell ccols[] = {{"category"}, {"exchanges"}, {"minutes"}};
	table_begin(k, "by_month", mcols, 3);
	for (size_t i = 0; i < h.months.n; i++)
		row(k,
		    (struct cell[]){{"month", CELL_TEXT, 0, h.months.b[i].key},
				    {"exchanges", CELL_INT, h.months.b[i].exchanges, NULL},
				    {"minutes", CELL_INT, h.months.b[i].minutes, NULL}},
		    3);
	table_begin(k, "by_category", ccols, 3);
	for (size_t i = 0; i < h.cats.n; i++)
		row(k,
		    (struct cell[]){{"category", CELL_TEXT, 0, h.cats.b[i].key},
				    {"exchanges", CELL_INT, h.cats.b[i].exchanges, NULL},
				    {"minutes", CELL_INT, h.cats.b[i].minutes, NULL}},
		    3);
	free(h.months.b);
	free(h.cats.b);
}

struct per_member {
	struct sink *k;
	struct tb_store *s;
	const uint8_t *self;
	const struct tb_report_args *a;
	/* of the member being read */
	int64_t opening, closing, earned, spent, count;
	uint64_t last; /* day of the newest line */
	int err;
};

static int line_one(void *vctx, const struct tb_history_item *hi)
{
	struct per_member *p = vctx;
	uint64_t day = tb_vocab_entry_day(p->s, p->self, hi->seq);
	p->last = day;
	if (day < p->a->from) {
		p->opening = p->closing = hi->balance;
		return 0;
	}
	if (day > p->a->to)
		return 0;
	p->closing = hi->balance;
	p->count++;
	if (hi->delta > 0)
		p->earned += hi->delta;
	else
		p->spent -= hi->delta;
	return 0;
}

static int member_one(void *vctx, const struct tb_member *m)
{
	struct per_member *p = vctx;
	p->opening = p->closing = p->earned = p->spent = p->count = 0;
	p->last = 0;
	int err = tb_store_foreach_history(p->s, p->self, m->no, line_one, p);
	if (err < 0) {
		p->err = err;
		return 1;
	}
	struct tb_report_args const *a = p->a;
	int64_t floor_room = m->balance - m->floor;
	int64_t ceil_room = m->ceiling ? (int64_t)m->ceiling - m->balance : INT64_MAX;
	int64_t room = floor_room < ceil_room ? floor_room : ceil_room;
	switch (a->kind) {
	case TB_REPORT_MEMBERS:
		if (m->active || p->count || p->closing)
			row(p->k,
			    (struct cell[]){{"name", CELL_TEXT, 0, m->name},
					    {"opening_balance_minutes", CELL_INT, p->opening, NULL},
					    {"earned_minutes", CELL_INT, p->earned, NULL},
					    {"spent_minutes", CELL_INT, p->spent, NULL},
					    {"closing_balance_minutes", CELL_INT, p->closing, NULL},
					    {"exchanges", CELL_INT, p->count, NULL}},
			    6);
		break;
	case TB_REPORT_INACTIVE:
		if (m->active &&
		    (!p->last || day_number(a->today) - day_number(p->last) >= (int64_t)a->days))
			row(p->k,
			    (struct cell[]){{"name", CELL_TEXT, 0, m->name},
					    {"last_exchange", p->last ? CELL_DATE : CELL_NULL,
					     (int64_t)p->last, NULL},
					    {"balance_minutes", CELL_INT, m->balance, NULL}},
			    3);
		break;
	case TB_REPORT_NEAR_LIMIT:
		if (m->active && room <= a->within)
			row(p->k,
			    (struct cell[]){{"name", CELL_TEXT, 0, m->name},
					    {"balance_minutes", CELL_INT, m->balance, NULL},
					    {"debt_limit_minutes", CELL_INT, -m->floor, NULL},
					    {"ceiling_minutes", m->ceiling ? CELL_INT : CELL_NULL,
					     (int64_t)m->ceiling, NULL},
					    {"room_minutes", CELL_INT, room, NULL}},
			    5);
		break;
	case TB_REPORT_HOURS:
		break;
	}
	return p->k->err ? 1 : 0;
}

static const struct cell member_cols[][6] = {
	[TB_REPORT_MEMBERS] = {{"name"},
			       {"opening_balance_minutes"},
			       {"earned_minutes"},
			       {"spent_minutes"},
			       {"closing_balance_minutes"},
			       {"exchanges"}},
	[TB_REPORT_INACTIVE] = {{"name"}, {"last_exchange"}, {"balance_minutes"}},
	[TB_REPORT_NEAR_LIMIT] = {{"name"},
				  {"balance_minutes"},
				  {"debt_limit_minutes"},
				  {"ceiling_minutes"},
				  {"room_minutes"}},
};
static const size_t member_ncols[] = {
	[TB_REPORT_MEMBERS] = 6, [TB_REPORT_INACTIVE] = 3, [TB_REPORT_NEAR_LIMIT] = 5};

void tb_report_defaults(struct tb_report_args *a, uint64_t today)
{
	static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	uint64_t y = today / 10000, m = today / 100 % 100;
	uint64_t last = m >= 1 && m <= 12 ? mdays[m - 1] : 31;
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		last = 29;
	memset(a, 0, sizeof *a);
	a->from = today / 100 * 100 + 1;
	a->to = today / 100 * 100 + last;
	a->today = today;
	a->days = 90;
	a->within = 60;
}

int tb_report_kind(const char *s)
{
	static const char *const names[] = {[TB_REPORT_HOURS] = "hours",
					    [TB_REPORT_MEMBERS] = "members",
					    [TB_REPORT_INACTIVE] = "inactive",
					    [TB_REPORT_NEAR_LIMIT] = "near-limit"};
	for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
		if (!strcmp(s, names[i]))
			return i;
	return TB_EINVAL;
}

static int head(struct sink *k, const struct tb_report_args *a)
{
	if (a->kind == TB_REPORT_HOURS || a->kind == TB_REPORT_MEMBERS)
		return tb_json_set(k->doc, "from", tb_json_date(a->from)) ||
		       tb_json_set(k->doc, "to", tb_json_date(a->to));
	if (a->kind == TB_REPORT_INACTIVE)
		return tb_json_set(k->doc, "as_of", tb_json_date(a->today)) ||
		       tb_json_set(k->doc, "days", tb_json_int((int64_t)a->days));
	return tb_json_set(k->doc, "within_minutes", tb_json_int(a->within));
}

int tb_report(struct tb_store *s, const uint8_t self[TB_KEY_LEN], const struct tb_report_args *a,
	      struct tb_report_out *out)
{
	struct sink k = {.doc = tb_json_object(), .many = a->kind == TB_REPORT_HOURS};
	memset(out, 0, sizeof *out);
	if (!k.doc)
		return TB_ENOMEM;
	k.err = head(&k, a) ? TB_ENOMEM : 0;
	if (!k.err && a->kind == TB_REPORT_HOURS) {
		hours_report(&k, s, self, a);
	} else if (!k.err) {
		struct per_member p = {.k = &k, .s = s, .self = self, .a = a};
		table_begin(&k, "members", member_cols[a->kind], member_ncols[a->kind]);
		int err = tb_store_foreach_member(s, self, member_one, &p);
		if (!k.err)
			k.err = err < 0 ? err : p.err;
	}
	if (!k.err)
		k.err = k.csv.err;
	if (k.err) {
		tb_json_free(k.doc);
		free(k.csv.p);
		return k.err;
	}
	out->json = k.doc;
	out->csv = k.csv.p;
	out->csv_len = k.csv.len;
	return 0;
}

void tb_report_out_free(struct tb_report_out *out)
{
	tb_json_free(out->json);
	free(out->csv);
	memset(out, 0, sizeof *out);
}
