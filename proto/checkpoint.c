/*
 * checkpoint.c: signed checkpoints, the log owner's statement "my log had
 * this many entries with this Merkle root at this time". The bytes are the
 * canonical checkpoint message followed by a 64-byte signature (context
 * "checkpoint") by the log's key, so anyone holding the log id can check one.
 * It never returns a checkpoint whose signature it did not verify.
 */
#include "mpack.h"

int tb_checkpoint_seal(uint8_t *out, size_t cap, size_t *len, const struct tb_checkpoint *cp,
		       const struct tb_keypair *kp)
{
	*len = 0;
	if (memcmp(cp->log_id, kp->pk.b, TB_KEY_LEN))
		return TB_EINVAL;
	struct tb_wbuf w;
	tb_wbuf_init(&w, out, cap);
	int err = tb_msg_encode(&w, &tb_def_checkpoint, cp);
	if (err)
		return err;
	if (cap - w.len < TB_SIGLEN)
		return TB_ETOOBIG;
	tb_sign(out + w.len, kp, TB_CTX_CHECKPOINT, out, w.len);
	*len = w.len + TB_SIGLEN;
	return 0;
}

int tb_checkpoint_open(struct tb_checkpoint *cp, const uint8_t *p, size_t len)
{
	memset(cp, 0, sizeof *cp);
	if (len > TB_CHECKPOINT_MAX)
		return TB_ETOOBIG;
	if (len <= TB_SIGLEN)
		return TB_ETRUNCATED;
	int err = tb_msg_decode_exact(p, len - TB_SIGLEN, &tb_def_checkpoint, cp);
	if (err)
		return err;
	if (tb_verify(p + len - TB_SIGLEN, cp->log_id, TB_CTX_CHECKPOINT, p, len - TB_SIGLEN))
		return TB_EBADSIG;
	return 0;
}
