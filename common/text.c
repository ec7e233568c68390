/*
 * text.c: the Unicode rules of tb_text.h on top of ICU (normalisation, case
 * folding, uspoof's UTS #39 skeleton, character properties). It is the only
 * file that includes ICU headers, so the ICU version Tally is built with is
 * the one place confusable data comes from. Every length is checked against
 * the fixed buffers before ICU writes into them; ICU's errors become TB_E*
 * codes, and nothing here keeps state between calls (no globals, no caches
 * of our own: ICU caches its data files itself).
 */
#include "tb_text.h"

#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/uspoof.h>
#include <unicode/utf8.h>

#include "tb_err.h"

/* UTF-16 units: NFC and folding can grow text (at most 3x for NFC, folding
 * by a few units per character); the skeleton more, and is checked. */
#define U16_CAP (4 * TB_TEXT_IN_MAX)
/* Code points compared by tb_text_distance. */
#define DIST_MAX 128

static int icu_err(UErrorCode st)
{
	if (st == U_BUFFER_OVERFLOW_ERROR || st == U_STRING_NOT_TERMINATED_WARNING)
		return TB_ETOOLONG;
	if (st == U_INVALID_CHAR_FOUND || st == U_ILLEGAL_CHAR_FOUND ||
	    st == U_TRUNCATED_CHAR_FOUND)
		return TB_EUTF8;
	if (st == U_MEMORY_ALLOCATION_ERROR)
		return TB_ENOMEM;
	return U_SUCCESS(st) ? 0 : TB_EINVAL;
}

static int to16(UChar *out, int32_t *n, const char *in, size_t in_len)
{
	UErrorCode st = U_ZERO_ERROR;

	if (in_len > TB_TEXT_IN_MAX)
		return TB_ETOOLONG;
	u_strFromUTF8(out, U16_CAP, n, in, (int32_t)in_len, &st);
	return icu_err(st);
}

static int to8(char *out, size_t cap, size_t *out_len, const UChar *in, int32_t n)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t len = 0;

	if (cap == 0 || cap > INT32_MAX)
		return TB_EINVAL;
	u_strToUTF8(out, (int32_t)cap - 1, &len, in, n, &st);
	if (icu_err(st) != 0)
		return icu_err(st);
	out[len] = '\0';
	if (out_len)
		*out_len = (size_t)len;
	return 0;
}

/* NFC of in (UTF-16) into out; *n is the result's length. */
static int nfc16(UChar *out, int32_t *n, const UChar *in, int32_t in_n)
{
	UErrorCode st = U_ZERO_ERROR;
	const UNormalizer2 *nfc = unorm2_getNFCInstance(&st);

	if (U_FAILURE(st))
		return icu_err(st);
	*n = unorm2_normalize(nfc, in, in_n, out, U16_CAP, &st);
	return icu_err(st);
}

/* NFC, then the full default case folding, then NFC again (folding can
 * leave text unnormalised). */
static int fold16(UChar *out, int32_t *n, const char *in, size_t in_len)
{
	UChar a[U16_CAP], b[U16_CAP];
	int32_t na = 0, nb = 0;
	UErrorCode st = U_ZERO_ERROR;
	int rc = to16(a, &na, in, in_len);

	if (rc == 0)
		rc = nfc16(b, &nb, a, na);
	if (rc != 0)
		return rc;
	na = u_strFoldCase(a, U16_CAP, b, nb, U_FOLD_CASE_DEFAULT, &st);
	if ((rc = icu_err(st)) != 0)
		return rc;
	return nfc16(out, n, a, na);
}

int tb_text_nfc(char *out, size_t cap, size_t *out_len, const char *in, size_t in_len)
{
	UChar a[U16_CAP], b[U16_CAP];
	int32_t na = 0, nb = 0;
	int rc = to16(a, &na, in, in_len);

	if (rc == 0)
		rc = nfc16(b, &nb, a, na);
	if (rc == 0)
		rc = to8(out, cap, out_len, b, nb);
	return rc;
}

int tb_text_fold(char *out, size_t cap, size_t *out_len, const char *in, size_t in_len)
{
	UChar a[U16_CAP];
	int32_t na = 0;
	int rc = fold16(a, &na, in, in_len);

	return rc != 0 ? rc : to8(out, cap, out_len, a, na);
}

/* fold(skeleton(x)): some skeleton targets are capitals (digit zero maps to
 * "O"), so the result is folded so case cannot split what the skeleton
 * joined. */
static int skeleton_folded(char *out, size_t cap, size_t *out_len, const UChar *in, int32_t n)
{
	UChar a[U16_CAP], b[U16_CAP];
	int32_t na, nb;
	UErrorCode st = U_ZERO_ERROR;
	USpoofChecker *sc = uspoof_open(&st);
	int rc;

	if (U_FAILURE(st))
		return icu_err(st) ? icu_err(st) : TB_ENOMEM;
	nb = uspoof_getSkeleton(sc, 0, in, n, b, U16_CAP, &st);
	uspoof_close(sc);
	if ((rc = icu_err(st)) != 0)
		return rc;
	na = u_strFoldCase(a, U16_CAP, b, nb, U_FOLD_CASE_DEFAULT, &st);
	if ((rc = icu_err(st)) != 0)
		return rc;
	return to8(out, cap, out_len, a, na);
}

int tb_text_key(char *out, size_t cap, size_t *out_len, unsigned which, const char *in,
		size_t in_len)
{
	UChar a[U16_CAP], b[U16_CAP];
	int32_t na = 0, nb = 0;
	int rc;

	if (which == TB_TEXT_KEY_FOLDED) {
		UErrorCode st = U_ZERO_ERROR;
		const UNormalizer2 *cf = unorm2_getNFKCCasefoldInstance(&st);

		if ((rc = icu_err(st)) != 0 || (rc = to16(a, &na, in, in_len)) != 0)
			return rc;
		nb = unorm2_normalize(cf, a, na, b, U16_CAP, &st);
		return (rc = icu_err(st)) != 0 ? rc : skeleton_folded(out, cap, out_len, b, nb);
	}
	if (which != TB_TEXT_KEY_VISUAL)
		return TB_EINVAL;
	rc = to16(a, &na, in, in_len);
	if (rc == 0)
		rc = nfc16(b, &nb, a, na);
	return rc != 0 ? rc : skeleton_folded(out, cap, out_len, b, nb);
}

int tb_text_same_name(const char *a, size_t a_len, const char *b, size_t b_len)
{
	char ka[TB_TEXT_KEYS][TB_TEXT_KEY_MAX], kb[TB_TEXT_KEYS][TB_TEXT_KEY_MAX];
	int rc;

	for (unsigned i = 0; i < TB_TEXT_KEYS; i++) {
		if ((rc = tb_text_key(ka[i], TB_TEXT_KEY_MAX, NULL, i, a, a_len)) != 0 ||
		    (rc = tb_text_key(kb[i], TB_TEXT_KEY_MAX, NULL, i, b, b_len)) != 0)
			return rc;
	}
	for (unsigned i = 0; i < TB_TEXT_KEYS; i++)
		for (unsigned j = 0; j < TB_TEXT_KEYS; j++)
			if (strcmp(ka[i], kb[j]) == 0)
				return 1;
	return 0;
}

/* The flaw of one code point c at index i of the name (not counting the
 * rules about spaces, which need its neighbours). */
static enum tb_text_flaw cp_flaw(UChar32 c, size_t i)
{
	int8_t t = u_charType(c);

	if (t == U_CONTROL_CHAR)
		return TB_TEXT_CONTROL;
	if (t == U_UNASSIGNED || t == U_PRIVATE_USE_CHAR || t == U_SURROGATE)
		return TB_TEXT_UNASSIGNED;
	if (t == U_LINE_SEPARATOR || t == U_PARAGRAPH_SEPARATOR ||
	    (t == U_SPACE_SEPARATOR && c != 0x20))
		return TB_TEXT_SEPARATOR;
	/* Format characters (zero-width joiners, bidi controls, soft hyphen),
	 * every default-ignorable (Hangul fillers, variation selectors), and
	 * the blank braille pattern, which shows as nothing. */
	if (t == U_FORMAT_CHAR || c == 0x2800 ||
	    u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
		return TB_TEXT_INVISIBLE;
	if (i == 0 &&
	    (t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK || t == U_COMBINING_SPACING_MARK))
		return TB_TEXT_LEADING_MARK;
	return TB_TEXT_OK;
}

static int refuse(struct tb_text_verdict *v, enum tb_text_flaw f, UChar32 c, size_t off)
{
	v->flaw = f;
	v->cp = (uint32_t)(c < 0 ? 0 : c);
	v->offset = off;
	return f == TB_TEXT_BAD_UTF8 ? TB_EUTF8 : TB_ENAME;
}

int tb_text_check_name(struct tb_text_verdict *v, const char *in, size_t in_len)
{
	const uint8_t *s = (const uint8_t *)in;
	int32_t i = 0, n;
	UChar32 c = 0, prev = 0;
	size_t k = 0, last = 0;
	UChar u[U16_CAP];
	int32_t nu = 0;
	UErrorCode st = U_ZERO_ERROR;

	memset(v, 0, sizeof(*v));
	if (in_len == 0)
		return refuse(v, TB_TEXT_EMPTY, 0, 0);
	if (in_len > TB_TEXT_IN_MAX)
		return TB_ETOOLONG;
	n = (int32_t)in_len;
	while (i < n) {
		int32_t at = i;
		enum tb_text_flaw f;

		U8_NEXT(s, i, n, c);
		if (c < 0)
			return refuse(v, TB_TEXT_BAD_UTF8, 0, (size_t)at);
		if (c == 0x20 && k == 0)
			return refuse(v, TB_TEXT_EDGE_SPACE, c, (size_t)at);
		if (c == 0x20 && prev == 0x20)
			return refuse(v, TB_TEXT_DOUBLE_SPACE, c, (size_t)at);
		if ((f = cp_flaw(c, k)) != TB_TEXT_OK)
			return refuse(v, f, c, (size_t)at);
		prev = c;
		last = (size_t)at;
		k++;
	}
	if (prev == 0x20)
		return refuse(v, TB_TEXT_EDGE_SPACE, prev, last);
	if (to16(u, &nu, in, in_len) != 0)
		return refuse(v, TB_TEXT_BAD_UTF8, 0, 0);
	if (!unorm2_isNormalized(unorm2_getNFCInstance(&st), u, nu, &st) || U_FAILURE(st))
		return refuse(v, TB_TEXT_NOT_NFC, 0, 0);
	return 0;
}

const char *tb_text_flaw_str(enum tb_text_flaw flaw)
{
	switch (flaw) {
	case TB_TEXT_OK:
		return "acceptable";
	case TB_TEXT_EMPTY:
		return "is empty";
	case TB_TEXT_BAD_UTF8:
		return "is not valid UTF-8";
	case TB_TEXT_NOT_NFC:
		return "is not in Unicode normal form C";
	case TB_TEXT_EDGE_SPACE:
		return "begins or ends with a space";
	case TB_TEXT_DOUBLE_SPACE:
		return "has two spaces in a row";
	case TB_TEXT_CONTROL:
		return "contains a control character";
	case TB_TEXT_INVISIBLE:
		return "contains an invisible character";
	case TB_TEXT_SEPARATOR:
		return "contains a space or separator other than a plain space";
	case TB_TEXT_UNASSIGNED:
		return "contains an unassigned or private-use character";
	case TB_TEXT_LEADING_MARK:
		return "begins with a combining mark";
	}
	return "has an unknown flaw";
}

size_t tb_text_width(const char *in, size_t in_len)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t w = 0;
	int32_t i = 0, n = in_len > INT32_MAX ? INT32_MAX : (int32_t)in_len;

	while (i < n) {
		UChar32 c;
		int8_t t;
		int ea;

		U8_NEXT(s, i, n, c);
		if (c < 0) {
			w++;
			continue;
		}
		t = u_charType(c);
		if (t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK || t == U_FORMAT_CHAR ||
		    t == U_CONTROL_CHAR ||
		    u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
			continue;
		ea = u_getIntPropertyValue(c, UCHAR_EAST_ASIAN_WIDTH);
		w += (ea == U_EA_WIDE || ea == U_EA_FULLWIDTH) ? 2 : 1;
	}
	return w;
}

/* Case-folded code points of in, at most DIST_MAX; -1 if longer or ill-formed
 * (then the bytes are used as code points). */
static int32_t folded_cps(UChar32 out[DIST_MAX], const char *in, size_t in_len)
{
	UChar a[U16_CAP];
	int32_t na = 0, i = 0, k = 0;

	if (fold16(a, &na, in, in_len) != 0) {
		if (in_len > DIST_MAX)
			return -1;
		for (size_t j = 0; j < in_len; j++)
			out[j] = (uint8_t)in[j];
		return (int32_t)in_len;
	}
	while (i < na) {
		if (k == DIST_MAX)
			return -1;
		U16_NEXT(a, i, na, out[k]);
		k++;
	}
	return k;
}

unsigned tb_text_distance(const char *a, size_t a_len, const char *b, size_t b_len, unsigned limit)
{
	UChar32 x[DIST_MAX], y[DIST_MAX];
	unsigned row[DIST_MAX + 1];
	int32_t nx = folded_cps(x, a, a_len), ny = folded_cps(y, b, b_len);

	if (nx < 0 || ny < 0)
		return limit + 1;
	if ((unsigned)(nx > ny ? nx - ny : ny - nx) > limit)
		return limit + 1;
	for (int32_t j = 0; j <= ny; j++)
		row[j] = (unsigned)j;
	for (int32_t i = 1; i <= nx; i++) {
		unsigned diag = row[0], best;

		row[0] = (unsigned)i;
		best = row[0];
		for (int32_t j = 1; j <= ny; j++) {
			unsigned up = row[j];
			unsigned v = diag + (x[i - 1] != y[j - 1]);

			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			diag = up;
			row[j] = v;
			if (v < best)
				best = v;
		}
		if (best > limit)
			return limit + 1;
	}
	return row[ny] > limit ? limit + 1 : row[ny];
}
