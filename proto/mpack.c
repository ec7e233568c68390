/*
 * mpack.c: the bounded, strict msgpack reader and the msgpack-c backed writer.
 *
 * The reader accepts only the subset Tally uses (positive and negative ints,
 * bin, str, array) and only in the shortest form, checks every length against
 * the bytes that remain before touching them, and never allocates. It must
 * never read past r->len or trust a length it has not checked. The writer
 * never grows its buffer: a write that does not fit sets a sticky TB_ETOOBIG.
 */
#include "mpack.h"

#include <msgpack.h>

static int need(const struct tb_reader *r, size_t n)
{
	return r->len - r->off >= n ? 0 : TB_ETRUNCATED;
}

static uint64_t be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Reads a big-endian length/value of n bytes after the type byte. */
static int read_be(struct tb_reader *r, unsigned n, uint64_t *v)
{
	int err = need(r, 1 + n);
	if (err)
		return err;
	*v = be(r->p + r->off + 1, n);
	r->off += 1 + n;
	return 0;
}

int tb_mp_read_array(struct tb_reader *r, uint32_t *n)
{
	int err = need(r, 1);
	if (err)
		return err;
	uint8_t t = r->p[r->off];
	uint64_t v;
	if (t >= 0x90 && t <= 0x9f) {
		v = t & 0x0f;
		r->off++;
	} else if (t == 0xdc) {
		if ((err = read_be(r, 2, &v)))
			return err;
		if (v < 16)
			return TB_ENONCANON;
	} else if (t == 0xdd) {
		if ((err = read_be(r, 4, &v)))
			return err;
		if (v < 65536)
			return TB_ENONCANON;
	} else {
		return TB_ETYPE;
	}
	/* Every element takes at least one byte. */
	if (v > r->len - r->off)
		return TB_ETRUNCATED;
	*n = (uint32_t)v;
	return 0;
}

int tb_mp_read_uint(struct tb_reader *r, uint64_t *v)
{
	int err = need(r, 1);
	if (err)
		return err;
	uint8_t t = r->p[r->off];
	if (t <= 0x7f) {
		*v = t;
		r->off++;
		return 0;
	}
	static const uint64_t least[4] = {0x80, 0x100, 0x10000, 0x100000000ull};
	unsigned i;
	switch (t) {
	case 0xcc:
		i = 0;
		break;
	case 0xcd:
		i = 1;
		break;
	case 0xce:
		i = 2;
		break;
	case 0xcf:
		i = 3;
		break;
	default:
		return TB_ETYPE;
	}
	uint64_t x;
	if ((err = read_be(r, 1u << i, &x)))
		return err;
	if (x < least[i])
		return TB_ENONCANON;
	*v = x;
	return 0;
}

int tb_mp_read_int(struct tb_reader *r, int64_t *v)
{
	int err = need(r, 1);
	if (err)
		return err;
	uint8_t t = r->p[r->off];
	if (t <= 0x7f || (t >= 0xcc && t <= 0xcf)) {
		uint64_t u;
		if ((err = tb_mp_read_uint(r, &u)))
			return err;
		if (u > INT64_MAX)
			return TB_ERANGE;
		*v = (int64_t)u;
		return 0;
	}
	if (t >= 0xe0) {
		*v = (int8_t)t;
		r->off++;
		return 0;
	}
	/* Negative values only: non-negative ones have unsigned forms. */
	static const int64_t most[4] = {-33, -129, -32769, -2147483649ll};
	unsigned i;
	switch (t) {
	case 0xd0:
		i = 0;
		break;
	case 0xd1:
		i = 1;
		break;
	case 0xd2:
		i = 2;
		break;
	case 0xd3:
		i = 3;
		break;
	default:
		return TB_ETYPE;
	}
	uint64_t x;
	unsigned bytes = 1u << i;
	if ((err = read_be(r, bytes, &x)))
		return err;
	int64_t s;
	if (bytes == 8) {
		s = (int64_t)x;
	} else {
		uint64_t sign = 1ull << (bytes * 8 - 1);
		s = (int64_t)(x ^ sign) - (int64_t)sign;
	}
	if (s > most[i])
		return TB_ENONCANON;
	*v = s;
	return 0;
}

static int read_bytes(struct tb_reader *r, struct tb_view *v, int is_str)
{
	int err = need(r, 1);
	if (err)
		return err;
	uint8_t t = r->p[r->off];
	uint64_t n;
	if (is_str && t >= 0xa0 && t <= 0xbf) {
		n = t & 0x1f;
		r->off++;
	} else if (t == (is_str ? 0xd9 : 0xc4)) {
		if ((err = read_be(r, 1, &n)))
			return err;
		if (is_str && n < 32)
			return TB_ENONCANON;
	} else if (t == (is_str ? 0xda : 0xc5)) {
		if ((err = read_be(r, 2, &n)))
			return err;
		if (n < 256)
			return TB_ENONCANON;
	} else if (t == (is_str ? 0xdb : 0xc6)) {
		if ((err = read_be(r, 4, &n)))
			return err;
		if (n < 65536)
			return TB_ENONCANON;
	} else {
		return TB_ETYPE;
	}
	if (n > r->len - r->off)
		return TB_ETRUNCATED;
	v->p = r->p + r->off;
	v->len = (size_t)n;
	r->off += (size_t)n;
	return 0;
}

int tb_mp_read_bin(struct tb_reader *r, struct tb_view *v)
{
	return read_bytes(r, v, 0);
}

int tb_mp_read_str(struct tb_reader *r, struct tb_view *v)
{
	return read_bytes(r, v, 1);
}

int tb_utf8_check(const uint8_t *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t c = p[i];
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return TB_EUTF8;
			i++;
			continue;
		}
		unsigned n;
		uint32_t cp;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return TB_EUTF8;
		}
		if (len - i <= n)
			return TB_EUTF8;
		for (unsigned k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return TB_EUTF8;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates, beyond U+10FFFF, C1 controls. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || (cp >= 0x80 && cp <= 0x9f))
			return TB_EUTF8;
		i += n + 1;
	}
	return 0;
}

/* ---- writer ---- */

static int wbuf_write(void *data, const char *buf, size_t len)
{
	struct tb_wbuf *w = data;
	if (w->err)
		return -1;
	if (len > w->cap - w->len) {
		w->err = TB_ETOOBIG;
		return -1;
	}
	memcpy(w->p + w->len, buf, len);
	w->len += len;
	return 0;
}

#define TB__PACKER(w)      \
	msgpack_packer pk; \
	msgpack_packer_init(&pk, (w), wbuf_write)

void tb_mp_write_array(struct tb_wbuf *w, uint32_t n)
{
	TB__PACKER(w);
	(void)msgpack_pack_array(&pk, n);
}

void tb_mp_write_uint(struct tb_wbuf *w, uint64_t v)
{
	TB__PACKER(w);
	(void)msgpack_pack_uint64(&pk, v);
}

void tb_mp_write_int(struct tb_wbuf *w, int64_t v)
{
	TB__PACKER(w);
	(void)msgpack_pack_int64(&pk, v);
}

void tb_mp_write_bin(struct tb_wbuf *w, const uint8_t *p, size_t len)
{
	TB__PACKER(w);
	if (msgpack_pack_bin(&pk, len) == 0 && len)
		(void)msgpack_pack_bin_body(&pk, p, len);
}

void tb_mp_write_str(struct tb_wbuf *w, const uint8_t *p, size_t len)
{
	TB__PACKER(w);
	if (msgpack_pack_str(&pk, len) == 0 && len)
		(void)msgpack_pack_str_body(&pk, p, len);
}
