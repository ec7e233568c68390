/*
 * entry.c: the entry envelope [version, log_id, seq, prev, timestamp, kind,
 * body] + signature. Decoding is strict (size cap first, then every field,
 * then a canonical re-encoding); sealing encodes, signs and appends the
 * signature. Nothing here judges ledger rules or verifies signatures: that is
 * store/rules.c and the batch verifier.
 */
#include "mpack.h"

#define TB_ENVELOPE_FIELDS 7

static void encode_signed_part(struct tb_wbuf *w, const struct tb_entry *e,
			       const struct tb_msgdef *d)
{
	tb_mp_write_array(w, TB_ENVELOPE_FIELDS);
	tb_mp_write_uint(w, e->version);
	tb_mp_write_bin(w, e->log_id, TB_KEY_LEN);
	tb_mp_write_uint(w, e->seq);
	tb_mp_write_bin(w, e->prev, TB_HASHLEN);
	tb_mp_write_uint(w, e->timestamp);
	tb_mp_write_uint(w, e->kind);
	int err = tb_msg_encode(w, d, &e->body);
	TB_ASSERT(err == 0 || err == w->err);
}

static int read_fixed(struct tb_reader *r, uint8_t *out, size_t n)
{
	struct tb_view v;
	int err = tb_mp_read_bin(r, &v);
	if (err)
		return err;
	if (v.len != n)
		return v.len > n ? TB_ETOOLONG : TB_ETRUNCATED;
	memcpy(out, v.p, n);
	return 0;
}

int tb_entry_decode(struct tb_entry *e, const uint8_t *rec, size_t len)
{
	memset(e, 0, sizeof *e);
	if (len > TB_ENTRY_MAX)
		return TB_ETOOBIG;
	struct tb_reader r;
	tb_reader_init(&r, rec, len);
	uint32_t n;
	int err;
	if ((err = tb_mp_read_array(&r, &n)))
		return err;
	if (n != TB_ENVELOPE_FIELDS)
		return TB_EARITY;
	if ((err = tb_mp_read_uint(&r, &e->version)))
		return err;
	if (e->version != TB_ENTRY_VERSION)
		return TB_EVERSION;
	if ((err = read_fixed(&r, e->log_id, TB_KEY_LEN)) || (err = tb_mp_read_uint(&r, &e->seq)) ||
	    (err = read_fixed(&r, e->prev, TB_HASHLEN)) ||
	    (err = tb_mp_read_uint(&r, &e->timestamp)) || (err = tb_mp_read_uint(&r, &e->kind)))
		return err;
	if (e->seq == 0 || e->seq > INT64_MAX || e->timestamp > UINT32_MAX * 4ull)
		return TB_ERANGE;
	const struct tb_msgdef *d = tb_kind_def(e->kind);
	if (!d)
		return TB_EKIND;
	if ((err = tb_msg_decode(&r, d, &e->body)))
		return err;
	size_t signed_len = r.off;
	if (len - signed_len < TB_SIGLEN)
		return TB_ETRUNCATED;
	if (len - signed_len > TB_SIGLEN)
		return TB_ETRAILING;
	memcpy(e->sig, rec + signed_len, TB_SIGLEN);
	e->signed_part.p = rec;
	e->signed_part.len = signed_len;

	uint8_t again[TB_ENTRY_MAX];
	struct tb_wbuf w;
	tb_wbuf_init(&w, again, sizeof again);
	encode_signed_part(&w, e, d);
	if (w.err || w.len != signed_len || memcmp(again, rec, signed_len))
		return TB_ENONCANON;
	return 0;
}

int tb_entry_seal(uint8_t *out, size_t cap, size_t *len, struct tb_entry *e,
		  const struct tb_keypair *kp)
{
	*len = 0;
	const struct tb_msgdef *d = tb_kind_def(e->kind);
	if (!d)
		return TB_EKIND;
	if (cap > TB_ENTRY_MAX)
		cap = TB_ENTRY_MAX;
	struct tb_wbuf w;
	tb_wbuf_init(&w, out, cap);
	encode_signed_part(&w, e, d);
	if (w.err)
		return w.err;
	if (cap - w.len < TB_SIGLEN)
		return TB_ETOOBIG;
	tb_sign(e->sig, kp, TB_CTX_ENTRY, out, w.len);
	memcpy(out + w.len, e->sig, TB_SIGLEN);
	e->signed_part.p = out;
	e->signed_part.len = w.len;
	*len = w.len + TB_SIGLEN;
	return 0;
}

void tb_entry_verify_job(struct tb_verify_job *job, const struct tb_entry *e)
{
	job->sig = e->sig;
	job->pk = e->log_id;
	job->msg = e->signed_part.p;
	job->len = e->signed_part.len;
	job->ctx = TB_CTX_ENTRY;
	job->result = 0;
}

void tb_entry_hash(uint8_t out[TB_HASHLEN], const uint8_t *rec, size_t len)
{
	tb_leaf_hash(out, rec, len);
}
