/*
 * qr.c: QR codes with libqrencode (the only file that includes its header).
 * The API's image is an SVG of one path, a rectangle per run of dark
 * modules in a row, on a white square: a few kilobytes for a link, drawn
 * crisp at any size. The text is bounded before it is encoded, and the
 * image's size follows from it.
 */
#include "tb_qr.h"
#include "tb_err.h"

#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tb_qr_make(struct tb_qr *q, const char *text)
{
	memset(q, 0, sizeof *q);
	size_t len = strnlen(text, TB_QR_TEXT_MAX + 1);
	if (!len || len > TB_QR_TEXT_MAX)
		return TB_EINVAL;
	QRcode *c = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!c)
		return TB_ENOMEM;
	int n = c->width + 2 * TB_QR_QUIET;
	q->dark = calloc((size_t)n * (size_t)n, 1);
	if (!q->dark) {
		QRcode_free(c);
		return TB_ENOMEM;
	}
	q->size = n;
	for (int y = 0; y < c->width; y++)
		for (int x = 0; x < c->width; x++)
			q->dark[(y + TB_QR_QUIET) * n + x + TB_QR_QUIET] =
				c->data[y * c->width + x] & 1;
	QRcode_free(c);
	return 0;
}

bool tb_qr_is_dark(const struct tb_qr *q, int x, int y)
{
	return x >= 0 && y >= 0 && x < q->size && y < q->size && q->dark[y * q->size + x];
}

void tb_qr_free(struct tb_qr *q)
{
	free(q->dark);
	q->dark = NULL;
	q->size = 0;
}

char *tb_qr_svg(const char *text, size_t *len, int *err)
{
	struct tb_qr q;
	*len = 0;
	if ((*err = tb_qr_make(&q, text)))
		return NULL;
	/* A run is at most "M999 999h999v1h-999z" (21 bytes); at most one per
	 * two modules of a row, plus the header and footer. */
	size_t cap = 400 + (size_t)q.size * (size_t)(q.size / 2 + 1) * 22;
	char *out = malloc(cap);
	if (!out) {
		tb_qr_free(&q);
		*err = TB_ENOMEM;
		return NULL;
	}
	size_t n =
		(size_t)snprintf(out, cap,
				 "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
				 "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
				 "fill=\"#fff\"/><path fill=\"#000\" d=\"",
				 q.size, q.size, q.size, q.size);
	for (int y = 0; y < q.size; y++) {
		for (int x = 0; x < q.size;) {
			if (!tb_qr_is_dark(&q, x, y)) {
				x++;
				continue;
			}
			int run = 0;
			while (tb_qr_is_dark(&q, x + run, y))
				run++;
			n += (size_t)snprintf(out + n, cap - n, "M%d %dh%dv1h-%dz", x, y, run, run);
			x += run;
		}
	}
	n += (size_t)snprintf(out + n, cap - n, "\"/></svg>");
	tb_qr_free(&q);
	*len = n;
	return out;
}
