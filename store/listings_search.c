/*
 * listings_search.c: finding held listings (FORMAT.md 16.4) by text,
 * category, community, member and kind, for the API, the command line and
 * gossip summaries. A scan of the LISTINGS table: a node keeps at most
 * TB_LISTINGS_PER_COMMUNITY per admitted community, so the scan is bounded.
 * Text matches case-insensitively (ASCII directly, other text through its
 * case-folded NFC). Read-only: it never changes the store.
 */
#include <ctype.h>
#include <stdlib.h>

#include "store_int.h"
#include "tb_text.h"

struct search {
	const struct tb_listing_query *q;
	char text[TB_TEXT_KEY_MAX];
	size_t tlen;
	char cat[TB_TEXT_KEY_MAX];
	size_t clen;
	struct tb_txn *t;
	tb_listing_fn cb;
	void *ctx;
	int err;
};

static bool ascii(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] & 0x80)
			return false;
	return true;
}

static bool has_ascii(const uint8_t *p, size_t n, const char *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++) {
		size_t j = 0;
		while (j < m && tolower(p[i + j]) == (unsigned char)needle[j])
			j++;
		if (j == m)
			return true;
	}
	return false;
}

/* Whether v contains the folded needle, in any case. */
static bool contains(struct tb_view v, const char *needle, size_t m)
{
	char f[TB_TEXT_KEY_MAX * 4];
	size_t n;
	if (ascii(v.p, v.len))
		return has_ascii(v.p, v.len, needle, m);
	if (tb_text_fold(f, sizeof f, &n, (const char *)v.p, v.len))
		return false;
	return has_ascii((const uint8_t *)f, n, needle, m);
}

static bool same_folded(struct tb_view v, const char *folded, size_t m)
{
	char f[TB_TEXT_KEY_MAX];
	size_t n;
	if (ascii(v.p, v.len)) {
		if (v.len != m)
			return false;
		for (size_t i = 0; i < m; i++)
			if (tolower(v.p[i]) != (unsigned char)folded[i])
				return false;
		return true;
	}
	return !tb_text_fold(f, sizeof f, &n, (const char *)v.p, v.len) && n == m &&
	       !memcmp(f, folded, m);
}

static bool matches(const struct search *se, const struct tb_listing *l)
{
	const struct tb_listing_query *q = se->q;
	if (l->expires <= q->now || (l->state != TB_LISTING_LIVE && !q->withdrawn))
		return false;
	if ((q->kind >= 0 && l->kind != (uint64_t)q->kind) || (q->member && l->member != q->member))
		return false;
	if (q->category && !same_folded(l->category, se->cat, se->clen))
		return false;
	return !q->text || contains(l->title, se->text, se->tlen) ||
	       contains(l->description, se->text, se->tlen);
}

static int search_cb(void *ctx, struct tb_view k, struct tb_view v)
{
	struct search *se = ctx;
	struct tb_listing l;
	struct tb_view hv, obj;
	uint64_t stamp;
	if (k.len != 1 + TB_KEY_LEN + TB_LISTING_ID_LEN || tb_listing_held(v, &l, &stamp, &obj))
		return se->err = TB_ECORRUPT;
	if (!matches(se, &l))
		return 0;
	uint8_t h[1 + TB_KEY_LEN + TB_LISTING_ID_LEN];
	memcpy(h, k.p, sizeof h);
	h[0] = 'H';
	bool hidden = tb_txn_get(se->t, TB_T_LISTINGS, h, sizeof h, &hv) == 0;
	if (hidden && !se->q->hidden)
		return 0;
	return se->cb(se->ctx, &l, obj.p, obj.len, hidden ? 1 : 0);
}

static int fold_arg(const char *in, char *out, size_t *len)
{
	int err = tb_text_fold(out, TB_TEXT_KEY_MAX, len, in, strlen(in));
	if (err)
		return err;
	/* Folding may leave upper-case ASCII nowhere, but make sure. */
	for (size_t i = 0; i < *len; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return 0;
}

int tb_store_listings_search(struct tb_store *s, const struct tb_listing_query *q, tb_listing_fn cb,
			     void *ctx)
{
	struct search *se = calloc(1, sizeof *se);
	struct tb_txn t;
	uint8_t prefix[1 + TB_KEY_LEN] = {'L'};
	int err = 0;
	if (!se)
		return TB_ENOMEM;
	se->q = q;
	se->cb = cb;
	se->ctx = ctx;
	se->t = &t;
	if (q->text && (err = fold_arg(q->text, se->text, &se->tlen)))
		goto out;
	if (q->category && (err = fold_arg(q->category, se->cat, &se->clen)))
		goto out;
	if (q->community)
		memcpy(prefix + 1, q->community, TB_KEY_LEN);
	tb_txn_begin(&t, s->db, false);
	err = tb_txn_foreach(&t, TB_T_LISTINGS, prefix, q->community ? sizeof prefix : 1, NULL, 0,
			     search_cb, se);
	tb_txn_abort(&t);
	if (se->err)
		err = se->err;
out:
	free(se);
	return err;
}

int tb_store_listings_stamp(struct tb_store *s, uint64_t *stamp)
{
	struct tb_txn t;
	struct tb_view v;
	uint8_t g = 'G';
	*stamp = 0;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_LISTINGS, &g, 1, &v);
	if (!err && v.len == 8)
		*stamp = tb_be64_get(v.p);
	tb_txn_abort(&t);
	return err == TB_ENOTFOUND ? 0 : err;
}

struct digest {
	struct tb_sha256_ctx h;
	uint64_t count;
};

static int digest_cb(void *ctx, const struct tb_listing *l, const uint8_t *obj, size_t len,
		     uint64_t hidden)
{
	struct digest *d = ctx;
	uint8_t v[4];
	(void)obj;
	(void)len;
	(void)hidden;
	if (l->visibility != TB_LISTING_FEDERATION)
		return 0;
	tb_be32_put(v, (uint32_t)l->version);
	tb_sha256_update(&d->h, l->log_id, TB_KEY_LEN);
	tb_sha256_update(&d->h, l->id, TB_LISTING_ID_LEN);
	tb_sha256_update(&d->h, v, sizeof v);
	d->count++;
	return 0;
}

int tb_store_listings_digest(struct tb_store *s, uint64_t now, uint8_t digest[TB_HASHLEN],
			     uint64_t *count)
{
	struct tb_listing_query q = {.kind = -1, .withdrawn = true, .hidden = true, .now = now};
	struct digest d = {.count = 0};
	tb_sha256_init(&d.h);
	int err = tb_store_listings_search(s, &q, digest_cb, &d);
	tb_sha256_final(&d.h, digest);
	*count = d.count;
	return err;
}
