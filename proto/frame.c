/*
 * frame.c: splitting received bytes into frames and opening transport frames
 * (tb_frame.h). Every length is checked before use; nothing is trusted.
 */
#include "tb_frame.h"

#include <string.h>

int tb_frame_next(const uint8_t *buf, size_t len, bool transport, struct tb_view *frame,
		  size_t *used)
{
	frame->p = NULL;
	frame->len = 0;
	*used = 0;
	if (len < 2)
		return 0;
	size_t n = (size_t)buf[0] << 8 | buf[1];
	if (n == 0 || (transport && n < TB_NOISE_TAG_LEN))
		return TB_ETRUNCATED;
	if (len - 2 < n)
		return 0;
	frame->p = buf + 2;
	frame->len = n;
	*used = 2 + n;
	return 1;
}

int tb_frame_open(struct tb_noise_cipher *rx, const uint8_t *f, size_t len, uint8_t *plain,
		  struct tb_peer_msg *m)
{
	size_t plen;
	memset(m, 0, sizeof *m);
	if (tb_noise_decrypt(rx, f, len, plain, TB_FRAME_MAX, &plen))
		return TB_EBADSIG;
	/* The decoder checks no signature: TB_EBADSIG is decryption only. */
	return tb_peer_msg_decode(m, plain, plen);
}
