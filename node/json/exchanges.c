/*
 * exchanges.c: the list of the community's exchanges and reversals
 * (docs/API.md 5): newest first, filtered by member, category and period,
 * at most `limit` of them, paged back by seq. GET /api/v1/exchanges answers
 * with it and `tally --json history` prints it, built by this one walk.
 * Nothing here writes.
 */
#include "tb_json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct list {
	struct tb_store *s;
	const uint8_t *self;
	const struct tb_vocab_filter *f;
	struct tb_json **ring; /* the newest `limit` matches, oldest overwritten */
	uint64_t *seqs;	       /* their seqs */
	size_t n, next;
	int err;
};

int tb_vocab_filter_category(struct tb_vocab_filter *f, const char *category)
{
	f->by_category = true;
	return tb_text_fold(f->folded, sizeof f->folded, NULL, category, strlen(category))
		       ? TB_EINVAL
		       : 0;
}

/* Filters on the exchange itself (a reversal: on the one it undoes). */
static bool wanted(const struct tb_vocab_filter *f, const struct tb_entry *e,
		   const struct tb_exchange *x)
{
	if (f->member && x->provider != f->member && x->receiver != f->member)
		return false;
	/* "Garden" is "garden" (FORMAT.md 8.1). */
	char folded[TB_TEXT_KEY_MAX];
	if (f->by_category && (tb_text_fold(folded, sizeof folded, NULL,
					    (const char *)x->category.p, x->category.len) ||
			       strcmp(folded, f->folded)))
		return false;
	uint64_t day = e->kind == TB_KIND_EXCHANGE ? x->date : 0;
	if (!day) {
		/* A reversal counts on the day it was recorded. */
		time_t t = (time_t)e->timestamp;
		struct tm tm;
		gmtime_r(&t, &tm);
		day = (uint64_t)(tm.tm_year + 1900) * 10000 + (uint64_t)(tm.tm_mon + 1) * 100 +
		      (uint64_t)tm.tm_mday;
	}
	return (!f->from || day >= f->from) && (!f->to || day <= f->to);
}

static int list_one(void *vctx, uint64_t seq, struct tb_view rec)
{
	struct list *l = vctx;
	struct tb_entry e, orig;
	const struct tb_exchange *x;
	uint8_t obuf[TB_ENTRY_MAX];
	if (l->f->before && seq >= l->f->before)
		return 1;
	if (tb_entry_decode(&e, rec.p, rec.len) ||
	    tb_vocab_exchange_of(l->s, l->self, &e, obuf, &orig, &x) || !wanted(l->f, &e, x))
		return 0;
	struct tb_json *o = tb_vocab_exchange(l->s, l->self, &e);
	if (!o) {
		l->err = TB_ENOMEM;
		return 1;
	}
	tb_json_free(l->ring[l->next]);
	l->ring[l->next] = o;
	l->seqs[l->next] = seq;
	l->next = (l->next + 1) % l->f->limit;
	if (l->n < l->f->limit)
		l->n++;
	return 0;
}

struct tb_json *tb_vocab_exchanges(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
				   const struct tb_vocab_filter *f, int *err)
{
	TB_ASSERT(f->limit >= 1 && f->limit <= TB_VOCAB_LIST_MAX);
	struct list l = {
		s, self, f, calloc(f->limit, sizeof *l.ring), calloc(f->limit, sizeof *l.seqs),
		0, 0,	 0};
	int e = l.ring && l.seqs ? tb_store_foreach_entry(s, self, 1, list_one, &l) : TB_ENOMEM;
	if (e == 1)
		e = 0;
	e = e ? e : l.err;
	struct tb_json *arr = tb_json_array();
	uint64_t first_seq = 0;
	/* Newest first: walk the ring backwards from the last one kept. */
	for (size_t i = 0; i < l.n; i++) {
		size_t k = (l.next + f->limit - 1 - i) % f->limit;
		first_seq = l.seqs[k];
		if (!e)
			e = tb_json_push(arr, l.ring[k]);
		else
			tb_json_free(l.ring[k]);
		l.ring[k] = NULL;
	}
	free(l.ring);
	free(l.seqs);
	struct tb_json *o = e ? NULL : tb_json_object();
	if (!e) {
		/* Each set takes its value, also when it fails. */
		e = tb_json_set(o, "exchanges", arr);
		arr = NULL;
		e |= tb_json_set(o, "next_before",
				 l.n == f->limit && first_seq > 1 ? tb_json_int((int64_t)first_seq)
								  : tb_json_null());
	}
	tb_json_free(arr);
	if (e) {
		tb_json_free(o);
		o = NULL;
	}
	*err = e;
	return o;
}
