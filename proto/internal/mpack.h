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

/* The table of one message (struct tb_msgdef tb_def_<low>), generated from
 * its TB_FIELDS_<UP> list: used for entry kinds, other and peer messages. */
#include <stddef.h>
#define TB__FIELD_UINT(S, n, a, b) {#n, TB_FT_UINT, offsetof(S, n), a, b},
#define TB__FIELD_INT(S, n, a, b) {#n, TB_FT_INT, offsetof(S, n), a, b},
#define TB__FIELD_FIXED(S, n, a, b) {#n, TB_FT_FIXED, offsetof(S, n), a, b},
#define TB__FIELD_BIN(S, n, a, b) {#n, TB_FT_BIN, offsetof(S, n), a, b},
#define TB__FIELD_STR(S, n, a, b) {#n, TB_FT_STR, offsetof(S, n), a, b},
#define TB__FIELD(S, t, n, a, b) TB__FIELD_##t(S, n, a, b)
#define TB__MSGDEF(UP, low, num)                                                                   \
	static const struct tb_field tb__fields_##low[] = {                                        \
		TB_FIELDS_##UP(TB__FIELD, struct tb_##low)};                                       \
	const struct tb_msgdef tb_def_##low = {                                                    \
		#low, num, tb__fields_##low, sizeof tb__fields_##low / sizeof tb__fields_##low[0], \
		sizeof(struct tb_##low)};

#endif
