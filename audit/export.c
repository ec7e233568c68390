/*
 * export.c: writes every log a store holds as an export file (FORMAT.md):
 * each log's entries in seq order followed by its newest checkpoint, then
 * the fork proofs held, then the END item with the count. It reads the store
 * and hands the bytes to the caller's writer (node/ writes files); it never
 * interprets or filters what it copies.
 */
#include <string.h>

#include "tb_audit.h"

struct export_ctx {
	tb_export_out_fn out;
	void *ctx;
	uint64_t items;
	int err;
};

static int export_entry(void *ctx, uint64_t seq, struct tb_view rec)
{
	(void)seq;
	struct export_ctx *x = ctx;
	uint8_t h[5];
	tb_export_item_header(h, TB_EXPORT_ENTRY, (uint32_t)rec.len);
	int err = x->out(x->ctx, h, sizeof h);
	if (!err)
		err = x->out(x->ctx, rec.p, rec.len);
	if (!err)
		x->items++;
	return err;
}

struct export_logs {
	struct tb_store *s;
	struct export_ctx *x;
};

static int write_item(struct export_ctx *x, enum tb_export_item type, const uint8_t *a, size_t alen,
		      const uint8_t *b, size_t blen)
{
	uint8_t h[5];
	tb_export_item_header(h, type, (uint32_t)(alen + blen));
	int err = x->out(x->ctx, h, sizeof h);
	if (!err)
		err = x->out(x->ctx, a, alen);
	if (!err && blen)
		err = x->out(x->ctx, b, blen);
	if (!err)
		x->items++;
	return err;
}

/* A log's entries, then its newest checkpoint. */
static int export_log(void *ctx, const struct tb_head *h)
{
	struct export_logs *el = ctx;
	int err = tb_store_foreach_entry(el->s, h->log_id, 1, export_entry, el->x);
	uint8_t cp[TB_CHECKPOINT_MAX];
	size_t len;
	if (!err && !tb_store_checkpoint_get(el->s, h->log_id, cp, sizeof cp, &len))
		err = write_item(el->x, TB_EXPORT_CHECKPOINT, cp, len, NULL, 0);
	return err;
}

static int export_fork(void *ctx, const uint8_t log_id[TB_KEY_LEN], uint64_t seq, struct tb_view a,
		       struct tb_view b)
{
	(void)log_id;
	(void)seq;
	uint8_t buf[TB_FORK_ITEM_MAX];
	size_t len;
	int err = tb_fork_item_build(buf, sizeof buf, &len, a, b);
	return err ? err : write_item(ctx, TB_EXPORT_FORK, buf, len, NULL, 0);
}

int tb_export_write(struct tb_store *s, tb_export_out_fn out, void *ctx, uint64_t *items)
{
	struct export_ctx x = {out, ctx, 0, 0};
	uint8_t hdr[9], end[5 + 8];
	tb_export_header(hdr);
	int err = out(ctx, hdr, sizeof hdr);
	struct export_logs el = {s, &x};
	if (!err)
		err = tb_store_foreach_log(s, export_log, &el);
	if (!err)
		err = tb_store_foreach_fork(s, export_fork, &x);
	if (!err) {
		tb_export_item_header(end, TB_EXPORT_END, 8);
		tb_be64_put(end + 5, x.items);
		err = out(ctx, end, sizeof end);
	}
	*items = x.items;
	return err;
}
