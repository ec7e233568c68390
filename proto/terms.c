/*
 * terms.c: what a member signs (docs/FORMAT.md, member signatures): the
 * terms of an exchange, a reversal or a cross-community prepare, taken from
 * the entry's body and its log, and their canonical encoding. Signers and
 * the ledger rules take them from here, so both sides sign and check the
 * same bytes.
 */
#include <string.h>

#include "mpack.h"
#include "tb_proto.h"

void tb_exchange_terms_of(struct tb_exchange_terms *t, const uint8_t log_id[TB_KEY_LEN],
			  const struct tb_exchange *x)
{
	memset(t, 0, sizeof *t);
	memcpy(t->log_id, log_id, TB_KEY_LEN);
	memcpy(t->txid, x->txid, TB_TXID_LEN);
	t->provider = x->provider;
	t->receiver = x->receiver;
	t->minutes = x->minutes;
	t->category = x->category;
	memcpy(t->memo_hash, x->memo_hash, TB_HASHLEN);
	t->date = x->date;
}

void tb_reversal_terms_of(struct tb_reversal_terms *t, const uint8_t log_id[TB_KEY_LEN],
			  const struct tb_reversal *r)
{
	memset(t, 0, sizeof *t);
	memcpy(t->log_id, log_id, TB_KEY_LEN);
	memcpy(t->txid, r->txid, TB_TXID_LEN);
	memcpy(t->original, r->original, TB_TXID_LEN);
}

void tb_xprepare_terms_of(struct tb_xprepare_terms *t, const uint8_t log_id[TB_KEY_LEN],
			  const struct tb_xprepare *x)
{
	memset(t, 0, sizeof *t);
	memcpy(t->log_id, log_id, TB_KEY_LEN);
	memcpy(t->txid, x->txid, TB_TXID_LEN);
	t->member = x->member;
	memcpy(t->to_log, x->to_log, TB_KEY_LEN);
	t->to_name = x->to_name;
	t->minutes = x->minutes;
	t->category = x->category;
	memcpy(t->memo_hash, x->memo_hash, TB_HASHLEN);
	t->date = x->date;
	t->expires = x->expires;
}

void tb_xdecide_of(struct tb_xdecide *d, const struct tb_xprepare *p,
		   const uint8_t from_log[TB_KEY_LEN], uint64_t from_seq, struct tb_view from_name)
{
	memset(d, 0, sizeof *d);
	memcpy(d->txid, p->txid, TB_TXID_LEN);
	memcpy(d->from_log, from_log, TB_KEY_LEN);
	d->from_seq = from_seq;
	d->from_name = from_name;
	d->to_name = p->to_name;
	d->minutes = p->minutes;
	d->category = p->category;
	memcpy(d->memo_hash, p->memo_hash, TB_HASHLEN);
	d->date = p->date;
	d->expires = p->expires;
}

int tb_terms_encode(uint8_t *out, size_t cap, size_t *len, const struct tb_msgdef *d,
		    const void *terms)
{
	struct tb_wbuf w;
	tb_wbuf_init(&w, out, cap);
	int err = tb_msg_encode(&w, d, terms);
	*len = w.len;
	return err;
}

void tb_succession_terms_of(struct tb_succession_terms *t, const uint8_t log_id[TB_KEY_LEN],
			    const struct tb_succession *s)
{
	memset(t, 0, sizeof *t);
	memcpy(t->log_id, log_id, TB_KEY_LEN);
	memcpy(t->old_log, s->old_log, TB_KEY_LEN);
	t->kept_seq = s->kept_seq;
	memcpy(t->kept_hash, s->kept_hash, TB_HASHLEN);
}
