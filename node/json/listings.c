/*
 * listings.c: the listing object of the vocabulary (docs/API.md), printed by
 * `tally listing list --json` and answered by GET /api/v1/listings alike. A
 * listing names its member as name@community, never by any contact detail:
 * answering one goes through the member's own node.
 */
#include "tb_json.h"

#include <string.h>

static void names(struct tb_store *s, const struct tb_listing *l, char who[TB_NAME_MAX + 1],
		  char com[TB_NAME_MAX + 1])
{
	struct tb_member m;
	struct tb_community c;
	if (tb_store_member(s, l->log_id, (uint32_t)l->member, &m) == 0)
		memcpy(who, m.name, sizeof m.name);
	else
		snprintf(who, TB_NAME_MAX + 1, "#%u", (unsigned)l->member);
	if (tb_store_community(s, l->log_id, &c) == 0)
		memcpy(com, c.name, sizeof c.name);
	else
		snprintf(com, TB_NAME_MAX + 1, "unknown");
}

struct tb_json *tb_vocab_listing(struct tb_store *s, const struct tb_listing *l, int hidden)
{
	char who[TB_NAME_MAX + 1], com[TB_NAME_MAX + 1], at[2 * TB_NAME_MAX + 2];
	struct tb_json *o = tb_json_object();
	names(s, l, who, com);
	snprintf(at, sizeof at, "%s@%s", who, com);
	int err =
		tb_json_set(o, "id", tb_json_bytes(l->id, TB_LISTING_ID_LEN)) ||
		tb_json_set(o, "community", tb_json_bytes(l->log_id, TB_KEY_LEN)) ||
		tb_json_set(o, "community_name", tb_json_string(com)) ||
		tb_json_set(o, "member", tb_json_int((int64_t)l->member)) ||
		tb_json_set(o, "name", tb_json_string(who)) ||
		tb_json_set(o, "at", tb_json_string(at)) ||
		tb_json_set(o, "kind",
			    tb_json_string(l->kind == TB_LISTING_OFFER ? "offer" : "request")) ||
		tb_json_set(o, "title", tb_json_stringn((const char *)l->title.p, l->title.len)) ||
		tb_json_set(o, "description",
			    tb_json_stringn((const char *)l->description.p, l->description.len)) ||
		tb_json_set(o, "category",
			    tb_json_stringn((const char *)l->category.p, l->category.len)) ||
		tb_json_set(o, "visibility",
			    tb_json_string(l->visibility == TB_LISTING_FEDERATION ? "federation"
										  : "community")) ||
		tb_json_set(o, "created", tb_json_time(l->created)) ||
		tb_json_set(o, "expires", tb_json_time(l->expires)) ||
		tb_json_set(o, "state",
			    tb_json_string(l->state == TB_LISTING_LIVE ? "live" : "withdrawn")) ||
		tb_json_set(o, "version", tb_json_int((int64_t)l->version)) ||
		tb_json_set(o, "attested", tb_json_bool(l->attested));
	if (!err && hidden >= 0)
		err = tb_json_set(o, "hidden", tb_json_bool(hidden));
	if (err) {
		tb_json_free(o);
		return NULL;
	}
	return o;
}

struct listing_ctx {
	struct tb_store *s;
	struct tb_json *arr;
	size_t max;
	bool more, show_hidden;
	int err;
};

static int one(void *vctx, const struct tb_listing *l, const uint8_t *obj, size_t len,
	       uint64_t hidden)
{
	struct listing_ctx *c = vctx;
	(void)obj;
	(void)len;
	if (tb_json_length(c->arr) >= c->max) {
		c->more = true;
		return 1;
	}
	if (tb_json_push(c->arr, tb_vocab_listing(c->s, l, c->show_hidden ? (int)hidden : -1))) {
		c->err = TB_ENOMEM;
		return 1;
	}
	return 0;
}

struct tb_json *tb_vocab_listings(struct tb_store *s, const struct tb_listing_query *q, size_t max,
				  int *err)
{
	struct listing_ctx c = {s, tb_json_array(), max, false, q->hidden, 0};
	struct tb_json *o = tb_json_object();
	*err = 0;
	if (!c.arr || !o) {
		tb_json_free(c.arr);
		tb_json_free(o);
		return NULL;
	}
	int walk = tb_store_listings_search(s, q, one, &c);
	if (walk < 0 || c.err) {
		*err = walk < 0 ? walk : c.err;
		tb_json_free(c.arr);
		tb_json_free(o);
		return NULL;
	}
	if (tb_json_set(o, "listings", c.arr) || tb_json_set(o, "more", tb_json_bool(c.more))) {
		tb_json_free(o);
		return NULL;
	}
	return o;
}
