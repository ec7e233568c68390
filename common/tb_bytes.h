/*
 * tb_bytes.h: byte helpers shared by every layer: big-endian integers (the
 * order of every key and fixed-width field Tally writes), hex, and a read-only
 * view of bytes owned by someone else. Header-only, no dependencies.
 */
#ifndef TB_BYTES_H
#define TB_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Bytes owned by someone else (a read buffer, an LMDB page): copy before the
 * owner lets go of them. */
struct tb_view {
	const uint8_t *p;
	size_t len;
};

static inline void tb_be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint64_t tb_be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline void tb_be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t tb_be32_get(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
	       (uint32_t)p[3];
}

/* Writes 2*len hex digits and a NUL into out (size >= 2*len+1). */
void tb_hex_encode(char *out, const uint8_t *in, size_t len);
/* Decodes exactly outlen bytes from a string of 2*outlen hex digits.
 * Returns 0 or TB_EINVAL. */
int tb_hex_decode(uint8_t *out, size_t outlen, const char *hex);

#endif
