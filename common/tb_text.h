/*
 * tb_text.h: Unicode text as people type it, for names that must not be
 * confused: NFC normalisation, case folding, the UTS #39 confusable skeleton,
 * the refusal of characters a reader cannot see (controls, format and other
 * invisible characters, separators other than one plain space, spaces at
 * either end), display width for padding columns, and a distance for "did
 * you mean". Everything works on UTF-8 with explicit lengths; ICU does the
 * Unicode work and is included only by common/text.c.
 */
#ifndef TB_TEXT_H
#define TB_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Longest text (bytes of UTF-8) these functions take; longer is TB_ETOOLONG. */
#define TB_TEXT_IN_MAX 1024
/* A buffer this large always holds a key of an input of up to 64 bytes. */
#define TB_TEXT_KEY_MAX 1024

/* Why a name was refused by tb_text_check_name (reported beside TB_ENAME or
 * TB_EUTF8 so a message can say what is wrong and where). */
enum tb_text_flaw {
	TB_TEXT_OK = 0,
	TB_TEXT_EMPTY,	      /* no characters at all */
	TB_TEXT_BAD_UTF8,     /* not well-formed UTF-8 (TB_EUTF8) */
	TB_TEXT_NOT_NFC,      /* not in Unicode normalisation form C */
	TB_TEXT_EDGE_SPACE,   /* begins or ends with a space */
	TB_TEXT_DOUBLE_SPACE, /* two spaces in a row */
	TB_TEXT_CONTROL,      /* a control character (Cc) */
	TB_TEXT_INVISIBLE,    /* format or default-ignorable (zero-width...) */
	TB_TEXT_SEPARATOR,    /* a space other than U+0020, a line/para separator */
	TB_TEXT_UNASSIGNED,   /* unassigned, private-use or surrogate code point */
	TB_TEXT_LEADING_MARK, /* begins with a combining mark */
};

struct tb_text_verdict {
	enum tb_text_flaw flaw;
	uint32_t cp;   /* the offending code point (0 for EMPTY, NOT_NFC...) */
	size_t offset; /* byte offset of it in the input */
};

/* Short English text of a flaw ("contains an invisible character"). */
const char *tb_text_flaw_str(enum tb_text_flaw flaw);

/* Normalises in to NFC into out (NUL-terminated, *out_len without the NUL).
 * 0, TB_EUTF8 (ill-formed input), TB_ETOOLONG (input or result over cap). */
int tb_text_nfc(char *out, size_t cap, size_t *out_len, const char *in, size_t in_len);

/* 0 if in is acceptable as a name (v->flaw == TB_TEXT_OK), else TB_ENAME
 * (TB_EUTF8 for ill-formed UTF-8) with v saying why and where. The name
 * must already be NFC: callers normalise first with tb_text_nfc. */
int tb_text_check_name(struct tb_text_verdict *v, const char *in, size_t in_len);

/* The comparison keys of a name. Two names are the same name for
 * uniqueness when any key of one equals any key of the other:
 *  - TB_TEXT_KEY_FOLDED: fold(skeleton(NFKC_Casefold(in))), so "alice",
 *    "ALICE", "аlice" with a Cyrillic a, fullwidth "ａｌｉｃｅ", "José" in
 *    either normal form and "0lga"/"Olga" meet;
 *  - TB_TEXT_KEY_VISUAL: fold(skeleton(NFC(in))), the UTS #39 skeleton of
 *    the name as written, so "Ivan" and "lvan" (capital I, small L) meet,
 *    which folding first would have kept apart.
 * skeleton() is ICU's uspoof_getSkeleton (UTS #39 confusables), fold() the
 * full default case folding. Written NUL-terminated to out (may be NULL
 * for out_len). 0, TB_EUTF8, TB_ETOOLONG, TB_ENOMEM, TB_EINVAL. */
enum { TB_TEXT_KEY_FOLDED = 0, TB_TEXT_KEY_VISUAL = 1, TB_TEXT_KEYS = 2 };
int tb_text_key(char *out, size_t cap, size_t *out_len, unsigned which, const char *in,
		size_t in_len);

/* 1 if a and b are the same name by the keys above, 0 if not, or an error. */
int tb_text_same_name(const char *a, size_t a_len, const char *b, size_t b_len);

/* Case-folded NFC of in (for case-insensitive equality of free text such as
 * categories, without the confusable mapping). 0, TB_EUTF8, TB_ETOOLONG. */
int tb_text_fold(char *out, size_t cap, size_t *out_len, const char *in, size_t in_len);

/* Columns a terminal gives the text: East Asian wide and fullwidth are 2,
 * combining marks, format and default-ignorable characters 0, others 1.
 * Ill-formed bytes count 1 each. */
size_t tb_text_width(const char *in, size_t in_len);

/* Edit distance (insertions, deletions, substitutions of code points) between
 * the case-folded forms of a and b, at most limit + 1 (computation stops
 * there). Ill-formed input compares by bytes. */
unsigned tb_text_distance(const char *a, size_t a_len, const char *b, size_t b_len, unsigned limit);

#endif
