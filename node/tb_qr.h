/*
 * tb_qr.h: QR codes of links (invitations, device links, proposals), for
 * the command line's terminal and the API's SVG images. node/qr.c is the
 * only file that includes libqrencode's header.
 */
#ifndef TB_QR_H
#define TB_QR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TB_QR_TEXT_MAX 512 /* bytes of text a code is made of */
#define TB_QR_QUIET 2	   /* modules of light border around a code */

/* A code's modules, the quiet border included: size x size. */
struct tb_qr {
	int size;
	uint8_t *dark; /* size * size, 1 for a dark module */
};

/* Makes the code of text (error correction M, 8-bit mode). 0, TB_EINVAL
 * for an empty text or one over TB_QR_TEXT_MAX, TB_ENOMEM. */
int tb_qr_make(struct tb_qr *q, const char *text);
bool tb_qr_is_dark(const struct tb_qr *q, int x, int y);
void tb_qr_free(struct tb_qr *q);
/* The code of text as an SVG image, malloc'd and NUL-terminated, its
 * length in *len; NULL on failure (as tb_qr_make, in *err). */
char *tb_qr_svg(const char *text, size_t *len, int *err);

#endif
