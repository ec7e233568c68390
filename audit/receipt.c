/*
 * receipt.c: receipts, a member's offline proof that the community's log
 * holds an exchange: the entry, a signed checkpoint and the Merkle inclusion
 * proof linking them. Verification needs nothing but the receipt (and, to
 * pin it, the community's node id); it never trusts a field it has not
 * checked against a signature or the proof.
 */
#include <string.h>

#include "tb_audit.h"

int tb_receipt_make(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], uint64_t seq,
		    const uint8_t *checkpoint, size_t cplen, uint8_t *out, size_t cap, size_t *len)
{
	*len = 0;
	struct tb_checkpoint cp;
	int err = tb_checkpoint_open(&cp, checkpoint, cplen);
	if (err)
		return err;
	if (memcmp(cp.log_id, log_id, TB_KEY_LEN) || seq == 0 || seq > cp.size)
		return TB_ERANGE;
	uint8_t rec[TB_ENTRY_MAX];
	size_t rlen, n;
	uint8_t proof[TB_MERKLE_MAX_PROOF][TB_HASHLEN];
	if ((err = tb_store_get_entry(s, log_id, seq, rec, sizeof rec, &rlen)) ||
	    (err = tb_store_inclusion_proof(s, log_id, seq - 1, cp.size, proof, TB_MERKLE_MAX_PROOF,
					    &n)))
		return err;
	struct tb_receipt r = {0};
	r.version = 1;
	r.entry = (struct tb_view){rec, rlen};
	r.checkpoint = (struct tb_view){checkpoint, cplen};
	r.proof = (struct tb_view){&proof[0][0], n * TB_HASHLEN};
	struct tb_wbuf w;
	tb_wbuf_init(&w, out, cap);
	if ((err = tb_msg_encode(&w, &tb_def_receipt, &r)))
		return err;
	*len = w.len;
	return 0;
}

int tb_receipt_verify(const uint8_t *p, size_t len, const uint8_t *community,
		      struct tb_receipt_info *out)
{
	memset(out, 0, sizeof *out);
	if (len > TB_RECEIPT_MAX)
		return TB_ETOOBIG;
	struct tb_receipt r;
	int err = tb_msg_decode_exact(p, len, &tb_def_receipt, &r);
	if (err)
		return err;
	if ((err = tb_entry_decode(&out->entry, r.entry.p, r.entry.len)))
		return err;
	struct tb_verify_job job;
	tb_entry_verify_job(&job, &out->entry);
	if (tb_verify(job.sig, job.pk, job.ctx, job.msg, job.len))
		return TB_EBADSIG;
	if ((err = tb_checkpoint_open(&out->checkpoint, r.checkpoint.p, r.checkpoint.len)))
		return err;
	if (memcmp(out->checkpoint.log_id, out->entry.log_id, TB_KEY_LEN))
		return TB_ELOGID;
	if (community && memcmp(community, out->entry.log_id, TB_KEY_LEN))
		return TB_ELOGID;
	if (r.proof.len % TB_HASHLEN)
		return TB_EPROOF;
	uint8_t leaf[TB_HASHLEN];
	tb_entry_hash(leaf, r.entry.p, r.entry.len);
	/* The proof's hashes are copied: the view need not be aligned. */
	size_t n = r.proof.len / TB_HASHLEN;
	uint8_t proof[TB_MERKLE_MAX_PROOF][TB_HASHLEN];
	if (n > TB_MERKLE_MAX_PROOF)
		return TB_EPROOF;
	memcpy(proof, r.proof.p, r.proof.len);
	if (out->entry.seq > out->checkpoint.size)
		return TB_EPROOF;
	return tb_merkle_verify_inclusion(leaf, out->entry.seq - 1, out->checkpoint.size,
					  (const uint8_t(*)[TB_HASHLEN])proof, n,
					  out->checkpoint.root);
}
