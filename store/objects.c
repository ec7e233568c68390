/*
 * objects.c: what the stores of signed objects kept beside the logs
 * (listings.c, answers.c) share: the sentence of a refusal, the NFC check
 * of their texts, and counting rows under a prefix for their caps.
 */
#include "store_int.h"
#include "tb_text.h"

#include <stdio.h>

int tb_obj_refuse(struct tb_reject *rej, int err, const uint8_t *log, const char *object,
		  const char *what)
{
	if (rej) {
		memset(rej, 0, sizeof *rej);
		rej->err = err;
		if (log)
			memcpy(rej->log_id, log, TB_KEY_LEN);
		snprintf(rej->msg, sizeof rej->msg, "%s refused: %s (%s)", object, what,
			 tb_strerror(err));
	}
	return err;
}

bool tb_view_is_nfc(struct tb_view v)
{
	char out[TB_TEXT_IN_MAX + 8];
	size_t n;
	if (!v.len)
		return true;
	return !tb_text_nfc(out, sizeof out, &n, (const char *)v.p, v.len) && n == v.len &&
	       !memcmp(out, v.p, n);
}

static int count_cb(void *ctx, struct tb_view k, struct tb_view v)
{
	(void)k;
	(void)v;
	(*(size_t *)ctx)++;
	return 0;
}

size_t tb_txn_count(struct tb_txn *t, enum tb_table tab, const uint8_t *prefix, size_t plen)
{
	size_t n = 0;
	tb_txn_foreach(t, tab, prefix, plen, NULL, 0, count_cb, &n);
	return n;
}
