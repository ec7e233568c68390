/*
 * tb_frame.h: the frame layer of peer connections, in proto/ with the other
 * codecs and apart from the sockets (node/daemon/conn.c), so the daemon, the
 * tests and the fuzz targets split and open frames with the same functions.
 * A frame is a 2-byte big-endian length, then that many bytes: a Noise
 * handshake message during the handshake, afterwards a Noise transport
 * message (ciphertext || 16-byte tag) whose plaintext is one peer message
 * (tb_proto.h).
 */
#ifndef TB_FRAME_H
#define TB_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tb_noise.h"
#include "tb_proto.h"

#define TB_FRAME_MAX 65535 /* ciphertext bytes of one frame */

/*
 * The next frame at the start of buf (len bytes received): 1 with *frame
 * (pointing into buf) and *used (2 + its length) set, 0 if more bytes are
 * needed, TB_ETRUNCATED for a frame no peer may send: length 0, or after the
 * handshake (transport true) shorter than a tag.
 */
TB_MUST_CHECK int tb_frame_next(const uint8_t *buf, size_t len, bool transport,
				struct tb_view *frame, size_t *used);

/*
 * Decrypts a transport frame with rx into plain (TB_FRAME_MAX bytes) and
 * decodes the peer message in it (views into plain). TB_EBADSIG if it does
 * not decrypt (the counter of rx then does not advance), else 0 or the
 * decoder's error.
 */
TB_MUST_CHECK int tb_frame_open(struct tb_noise_cipher *rx, const uint8_t *f, size_t len,
				uint8_t *plain, struct tb_peer_msg *m);

#endif
