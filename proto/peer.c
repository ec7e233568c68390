/*
 * peer.c: the envelope of peer messages, [type, body], with bodies from the
 * TB_PEER_MESSAGES table. Decoding is strict and canonical like entries: an
 * unknown type, a wrong field, trailing or non-canonical bytes are refused.
 * It frames nothing and trusts nothing: lengths come from the transport.
 */
#include <stddef.h>

#include "mpack.h"

TB_PEER_MESSAGES(TB__MSGDEF)

const struct tb_msgdef *tb_peer_def(uint64_t type)
{
	switch (type) {
#define TB__PEER_CASE(UP, low, num) \
	case num:                   \
		return &tb_def_##low;
		TB_PEER_MESSAGES(TB__PEER_CASE)
	}
	return NULL;
}

int tb_peer_msg_encode(uint8_t *out, size_t cap, size_t *len, const struct tb_peer_msg *m)
{
	*len = 0;
	const struct tb_msgdef *d = tb_peer_def(m->type);
	if (!d)
		return TB_EKIND;
	struct tb_wbuf w;
	tb_wbuf_init(&w, out, cap);
	tb_mp_write_array(&w, 2);
	tb_mp_write_uint(&w, m->type);
	int err = tb_msg_encode(&w, d, &m->u);
	if (err)
		return err;
	*len = w.len;
	return 0;
}

int tb_peer_msg_decode(struct tb_peer_msg *m, const uint8_t *p, size_t len)
{
	memset(m, 0, sizeof *m);
	if (len > TB_FRAME_PAYLOAD_MAX + 64)
		return TB_ETOOBIG;
	struct tb_reader r;
	tb_reader_init(&r, p, len);
	uint32_t n;
	int err = tb_mp_read_array(&r, &n);
	if (err)
		return err;
	if (n != 2)
		return TB_EARITY;
	if ((err = tb_mp_read_uint(&r, &m->type)))
		return err;
	const struct tb_msgdef *d = tb_peer_def(m->type);
	if (!d)
		return TB_EKIND;
	size_t body = r.off;
	if ((err = tb_msg_decode_exact(p + body, len - body, d, &m->u)))
		return err;
	/* The envelope's own bytes are canonical by the reader's rules. */
	return 0;
}
