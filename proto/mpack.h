/*
 * mpack.h: proto-internal msgpack primitives. The reader is the one bounded
 * reader every decoder goes through; the writer wraps msgpack-c's packer
 * (shortest forms) around a capped buffer.
 */
#ifndef TB_MPACK_H
#define TB_MPACK_H

#include "tb_proto.h"

int tb_mp_read_array(struct tb_reader *r, uint32_t *n);
int tb_mp_read_uint(struct tb_reader *r, uint64_t *v);
int tb_mp_read_int(struct tb_reader *r, int64_t *v);
int tb_mp_read_bin(struct tb_reader *r, struct tb_view *v);
int tb_mp_read_str(struct tb_reader *r, struct tb_view *v);

void tb_mp_write_array(struct tb_wbuf *w, uint32_t n);
void tb_mp_write_uint(struct tb_wbuf *w, uint64_t v);
void tb_mp_write_int(struct tb_wbuf *w, int64_t v);
void tb_mp_write_bin(struct tb_wbuf *w, const uint8_t *p, size_t len);
void tb_mp_write_str(struct tb_wbuf *w, const uint8_t *p, size_t len);

/* 0 if p[0..len) is valid UTF-8 without control characters, else TB_EUTF8. */
int tb_utf8_check(const uint8_t *p, size_t len);

#endif
