/*
 * tb_proto.h: canonical encodings, the proto module's public header.
 *
 * Entries, entry bodies and every other message are msgpack arrays with the
 * shortest integer, str and bin forms and no floats or maps. Structs, encoders
 * and strict decoders are generated from the lists in tb_messages.h. Decoded
 * STR and BIN fields are views into the input: the input must outlive them.
 */
#ifndef TB_PROTO_H
#define TB_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "../common/tb_bytes.h"
#include "../common/tb_err.h"
#include "tb_crypto.h"
#include "tb_messages.h"

#define TB_ENTRY_VERSION 1
/* Hard cap on one entry record (signed part + signature). */
#define TB_ENTRY_MAX 8192

/* ---- generated structs ---- */

#define TB__DECL_UINT(n, a, b) uint64_t n;
#define TB__DECL_INT(n, a, b) int64_t n;
#define TB__DECL_FIXED(n, a, b) uint8_t n[a];
#define TB__DECL_BIN(n, a, b) struct tb_view n;
#define TB__DECL_STR(n, a, b) struct tb_view n;
#define TB__DECL(S, t, n, a, b) TB__DECL_##t(n, a, b)

#define TB__STRUCT_KIND(UP, low, num)       \
	struct tb_##low {                   \
		TB_FIELDS_##UP(TB__DECL, _) \
	};
TB_ENTRY_KINDS(TB__STRUCT_KIND)
#define TB__STRUCT_MSG(UP, low)             \
	struct tb_##low {                   \
		TB_FIELDS_##UP(TB__DECL, _) \
	};
TB_OTHER_MESSAGES(TB__STRUCT_MSG)

enum tb_kind {
#define TB__KIND_ENUM(UP, low, num) TB_KIND_##UP = num,
	TB_ENTRY_KINDS(TB__KIND_ENUM)
#undef TB__KIND_ENUM
};

enum tb_xoutcome {
#define TB__XO_ENUM(UP, num, text) TB_XO_##UP = num,
	TB_XOUTCOMES(TB__XO_ENUM)
#undef TB__XO_ENUM
};

/* ---- message definitions (the tables behind the generated code) ---- */

enum tb_ftype { TB_FT_UINT, TB_FT_INT, TB_FT_FIXED, TB_FT_BIN, TB_FT_STR };

struct tb_field {
	const char *name;
	enum tb_ftype type;
	uint16_t offset;
	int64_t min; /* value range (UINT, INT) or length range (others) */
	int64_t max;
};

struct tb_msgdef {
	const char *name;
	unsigned kind; /* entry kind number, 0 for other messages */
	const struct tb_field *fields;
	size_t nfields;
	size_t size; /* sizeof the struct */
};

#define TB__DEF_KIND(UP, low, num) extern const struct tb_msgdef tb_def_##low;
TB_ENTRY_KINDS(TB__DEF_KIND)
#undef TB__DEF_KIND
#define TB__DEF_MSG(UP, low) extern const struct tb_msgdef tb_def_##low;
TB_OTHER_MESSAGES(TB__DEF_MSG)
#undef TB__DEF_MSG

/* Definition of an entry kind, or NULL if the kind is unknown. */
const struct tb_msgdef *tb_kind_def(uint64_t kind);

/* ---- bounded output buffer (never reallocates) ---- */

struct tb_wbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
	int err; /* sticky: TB_ETOOBIG once a write did not fit */
};

static inline void tb_wbuf_init(struct tb_wbuf *w, uint8_t *p, size_t cap)
{
	w->p = p;
	w->len = 0;
	w->cap = cap;
	w->err = 0;
}

/* ---- bounded strict reader ---- */

struct tb_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static inline void tb_reader_init(struct tb_reader *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
}

/* Encodes obj as message d (a msgpack array of its fields) into w. */
TB_MUST_CHECK int tb_msg_encode(struct tb_wbuf *w, const struct tb_msgdef *d, const void *obj);
/* Strictly decodes one message d from r into obj (views point into r). */
TB_MUST_CHECK int tb_msg_decode(struct tb_reader *r, const struct tb_msgdef *d, void *obj);
/* Decodes a whole buffer as message d: trailing bytes are TB_ETRAILING, and
 * the bytes must re-encode identically (TB_ENONCANON). */
TB_MUST_CHECK int tb_msg_decode_exact(const uint8_t *p, size_t len, const struct tb_msgdef *d,
				      void *obj);

/* ---- entries ---- */

/*
 * An entry: [version, log_id, seq, prev, timestamp, kind, body] followed by
 * the 64-byte Ed25519 signature of the log key over tag("entry") || those
 * bytes. The record (both parts) is what logs store and peers exchange.
 */
struct tb_entry {
	uint64_t version;
	uint8_t log_id[TB_KEY_LEN];
	uint64_t seq;
	uint8_t prev[TB_HASHLEN];
	uint64_t timestamp; /* unix seconds */
	uint64_t kind;
	union {
#define TB__UNION(UP, low, num) struct tb_##low low;
		TB_ENTRY_KINDS(TB__UNION)
#undef TB__UNION
	} body;
	uint8_t sig[TB_SIGLEN];
	struct tb_view signed_part; /* view into the decoded record */
};

/*
 * Strict decode of a record: the size cap, types, ranges, version, kind, exact
 * field counts, canonical re-encoding, exactly 64 signature bytes after the
 * array. Does not check the signature (see tb_entry_verify_job).
 */
TB_MUST_CHECK int tb_entry_decode(struct tb_entry *e, const uint8_t *rec, size_t len);
/*
 * Encodes e's signed part, signs it with kp (which must be the log's key) and
 * writes the record to out. Sets e->sig; e->signed_part points into out.
 */
TB_MUST_CHECK int tb_entry_seal(uint8_t *out, size_t cap, size_t *len, struct tb_entry *e,
				const struct tb_keypair *kp);
/* Fills a verify job for the entry signature (views stay valid while the
 * record lives). */
void tb_entry_verify_job(struct tb_verify_job *job, const struct tb_entry *e);
/* Hash of a record: RFC 6962 leaf hash of all its bytes (chain and tree). */
void tb_entry_hash(uint8_t out[TB_HASHLEN], const uint8_t *rec, size_t len);
/* Name of a kind ("exchange") or "unknown". */
const char *tb_kind_name(uint64_t kind);

/* 0 if text is what a STR field accepts (valid UTF-8, no control
 * characters), else TB_EUTF8. */
TB_MUST_CHECK int tb_text_check(const char *text, size_t len);

/* The terms members sign for an entry of log_id, from its body (terms.c);
 * views point into the body. */
void tb_exchange_terms_of(struct tb_exchange_terms *t, const uint8_t log_id[TB_KEY_LEN],
			  const struct tb_exchange *x);
void tb_reversal_terms_of(struct tb_reversal_terms *t, const uint8_t log_id[TB_KEY_LEN],
			  const struct tb_reversal *r);
void tb_xprepare_terms_of(struct tb_xprepare_terms *t, const uint8_t log_id[TB_KEY_LEN],
			  const struct tb_xprepare *x);
/* A provider's decision on the prepare at from_seq of from_log: the prepare's
 * terms copied as the decision must repeat them (FORMAT.md 7.8), member and
 * outcome left 0 for the caller. Views point into p and from_name. */
void tb_xdecide_of(struct tb_xdecide *d, const struct tb_xprepare *p,
		   const uint8_t from_log[TB_KEY_LEN], uint64_t from_seq, struct tb_view from_name);
void tb_succession_terms_of(struct tb_succession_terms *t, const uint8_t log_id[TB_KEY_LEN],
			    const struct tb_succession *s);

/* Encodes terms for member signatures; out must hold TB_ENTRY_MAX. */
TB_MUST_CHECK int tb_terms_encode(uint8_t *out, size_t cap, size_t *len, const struct tb_msgdef *d,
				  const void *terms);

/* ---- signed checkpoints ---- */

/* Most bytes of a signed checkpoint (encoded fields + signature). */
#define TB_CHECKPOINT_MAX 160

/* Encodes cp, signs it with kp (the log's key), writes bytes || signature. */
TB_MUST_CHECK int tb_checkpoint_seal(uint8_t *out, size_t cap, size_t *len,
				     const struct tb_checkpoint *cp, const struct tb_keypair *kp);
/* Strictly decodes a signed checkpoint and verifies its signature by its log
 * id: 0, a decoding error, or TB_EBADSIG. */
TB_MUST_CHECK int tb_checkpoint_open(struct tb_checkpoint *cp, const uint8_t *p, size_t len);

/* ---- listings (listing.c, FORMAT.md 16) ---- */

/* Most bytes of a listing object: its fields and the community's signature. */
#define TB_LISTING_MAX 1400
#define TB_LISTING_DAY 86400u
/* A listing expires 1 to 90 days after it was made (created), 30 by default. */
#define TB_LISTING_DAYS_MIN 1
#define TB_LISTING_DAYS_MAX 90
#define TB_LISTING_DAYS_DEFAULT 30

/* What no signature decides: expires - created is 1..90 days (TB_EEXPIRY);
 * a member signature of exactly 64 bytes, or attested and none
 * (TB_ECONSENT); title, description and category pass
 * tb_listing_text_check (TB_EUTF8). */
TB_MUST_CHECK int tb_listing_check(const struct tb_listing *l);
/* 0 if a listing's text is valid UTF-8 without control characters (C0, DEL,
 * C1), bidirectional formatting characters (embeddings and overrides
 * U+202A..U+202E, isolates U+2066..U+2069, marks U+200E, U+200F, U+061C) or
 * line and paragraph separators (U+2028, U+2029); else TB_EUTF8 with *cp the
 * first such code point (0 for ill-formed UTF-8) at byte *at (FORMAT.md
 * 16.2). */
TB_MUST_CHECK int tb_listing_text_check(const uint8_t *p, size_t len, uint32_t *cp, size_t *at);
/* The terms the member signs, from the object (views into it). */
void tb_listing_terms_of(struct tb_listing_terms *t, const struct tb_listing *l);
/* The member's signature (context "listing") over l's terms into sig. */
TB_MUST_CHECK int tb_listing_sign_member(uint8_t sig[TB_SIGLEN], const struct tb_listing *l,
					 const struct tb_keypair *member);
/* 0 when l carries a valid signature of key over its terms, else
 * TB_ECONSENT. Attested listings have none: TB_ECONSENT too. */
TB_MUST_CHECK int tb_listing_verify_member(const struct tb_listing *l,
					   const uint8_t key[TB_KEY_LEN]);
/* Checks l (tb_listing_check), encodes it and signs it with kp, which must
 * be the key of l->log_id (TB_EINVAL): bytes || signature into out. */
TB_MUST_CHECK int tb_listing_seal(uint8_t *out, size_t cap, size_t *len, const struct tb_listing *l,
				  const struct tb_keypair *kp);
/* Strict decode of a listing object (size cap, canonical bytes), then
 * tb_listing_check, then the community's signature by log_id (TB_EBADSIG).
 * Views point into p. Never returns a listing it did not verify. */
TB_MUST_CHECK int tb_listing_open(struct tb_listing *l, const uint8_t *p, size_t len);

/* ---- answers to listings (answer.c, FORMAT.md 17) ---- */

/* Most bytes of an answer object. */
#define TB_ANSWER_MAX 700

/* What no signature decides: a member signature of exactly 64 bytes, or
 * attested and none (TB_ECONSENT); name and message pass
 * tb_listing_text_check (TB_EUTF8). */
TB_MUST_CHECK int tb_answer_check(const struct tb_answer *a);
/* The terms the responder signs, from the object (views into it). */
void tb_answer_terms_of(struct tb_answer_terms *t, const struct tb_answer *a);
/* The responder's signature (context "answer") over a's terms into sig. */
TB_MUST_CHECK int tb_answer_sign_member(uint8_t sig[TB_SIGLEN], const struct tb_answer *a,
					const struct tb_keypair *member);
/* 0 when a carries a valid signature of key over its terms, else
 * TB_ECONSENT (attested answers have none: TB_ECONSENT too). */
TB_MUST_CHECK int tb_answer_verify_member(const struct tb_answer *a, const uint8_t key[TB_KEY_LEN]);
/* Checks a (tb_answer_check) and encodes it into out. */
TB_MUST_CHECK int tb_answer_encode(uint8_t *out, size_t cap, size_t *len,
				   const struct tb_answer *a);
/* Strict decode of an answer object (size cap TB_ETOOBIG, canonical
 * bytes), then tb_answer_check. Views point into p. No signature is
 * checked here: the member's key is the store's to find. */
TB_MUST_CHECK int tb_answer_open(struct tb_answer *a, const uint8_t *p, size_t len);

/* ---- export files ---- */

/*
 * An export file: magic "TALLYEXP" and a version byte, then items each
 * [type u8][length u32 big-endian][bytes], ending with an END item whose
 * bytes are the item count (u64 big-endian). Types: 1 entry record, 2 signed
 * checkpoint, 3 fork proof ([u16 big-endian length of a][a][b]).
 */
#define TB_EXPORT_MAGIC "TALLYEXP"
#define TB_EXPORT_VERSION 1
enum tb_export_item {
	TB_EXPORT_END = 0,
	TB_EXPORT_ENTRY = 1,
	TB_EXPORT_CHECKPOINT = 2,
	TB_EXPORT_FORK = 3,
};

/* Writes the file header into out (9 bytes). */
void tb_export_header(uint8_t out[9]);
/* Writes an item header (5 bytes). */
void tb_export_item_header(uint8_t out[5], enum tb_export_item type, uint32_t len);

struct tb_export_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	uint64_t items;
	int done;
};
/* Checks the header. */
TB_MUST_CHECK int tb_export_open(struct tb_export_reader *r, const uint8_t *p, size_t len);
/*
 * Next item: 1 with *type and *item set, 0 at a valid END (count matches,
 * nothing after it), or a negative error (TB_ETRUNCATED if the file ends
 * before END, TB_ETOOBIG over the entry cap, TB_EKIND unknown type,
 * TB_ETRAILING bytes after END, TB_ECORRUPT count mismatch).
 */
TB_MUST_CHECK int tb_export_next(struct tb_export_reader *r, enum tb_export_item *type,
				 struct tb_view *item);

/* ---- peer messages ---- */

#define TB__STRUCT_PEER(UP, low, num)       \
	struct tb_##low {                   \
		TB_FIELDS_##UP(TB__DECL, _) \
	};
TB_PEER_MESSAGES(TB__STRUCT_PEER)

enum tb_msg_type {
#define TB__PEER_ENUM(UP, low, num) TB_MSG_##UP = num,
	TB_PEER_MESSAGES(TB__PEER_ENUM)
#undef TB__PEER_ENUM
};

#define TB__DEF_PEER(UP, low, num) extern const struct tb_msgdef tb_def_##low;
TB_PEER_MESSAGES(TB__DEF_PEER)
#undef TB__DEF_PEER

/* A peer message: [type, body], the plaintext of one transport frame. */
struct tb_peer_msg {
	uint64_t type;
	union {
#define TB__PEER_UNION(UP, low, num) struct tb_##low low;
		TB_PEER_MESSAGES(TB__PEER_UNION)
#undef TB__PEER_UNION
	} u;
};

/* Definition of a peer message type, or NULL if unknown. */
const struct tb_msgdef *tb_peer_def(uint64_t type);
TB_MUST_CHECK int tb_peer_msg_encode(uint8_t *out, size_t cap, size_t *len,
				     const struct tb_peer_msg *m);
/* Strict: unknown type TB_EKIND, trailing bytes, non-canonical bytes. Views
 * point into p. */
TB_MUST_CHECK int tb_peer_msg_decode(struct tb_peer_msg *m, const uint8_t *p, size_t len);

/* ---- records inside peer messages and export items (items.c) ---- */

/* One HEADS record (TB_HEAD_REC_LEN bytes): views into the payload. */
struct tb_head_rec {
	const uint8_t *log_id; /* TB_KEY_LEN bytes */
	uint64_t seq;
	const uint8_t *hash; /* TB_HASHLEN bytes */
};
/* Records in a HEADS payload into *n: 0, or TB_ETRUNCATED when its length
 * is not a multiple of TB_HEAD_REC_LEN (then *n is 0). */
TB_MUST_CHECK int tb_heads_count(struct tb_view heads, size_t *n);
/* Record i (below the count) of a payload tb_heads_count accepted. */
void tb_heads_get(struct tb_view heads, size_t i, struct tb_head_rec *r);
/* Writes one record (TB_HEAD_REC_LEN bytes) at out. */
void tb_heads_put(uint8_t *out, const uint8_t log_id[TB_KEY_LEN], uint64_t seq,
		  const uint8_t hash[TB_HASHLEN]);

/* ENTRIES records: each [u16 big-endian length][record of that length]. */
struct tb_records_iter {
	struct tb_view v;
	size_t off;
};
void tb_records_begin(struct tb_records_iter *it, struct tb_view records);
/* Next record: 1 with *rec (a view into the payload), 0 at the end, or
 * TB_ETRUNCATED for a length prefix cut short, a length of 0 or over
 * TB_ENTRY_MAX, or a record running past the end (nothing after it is read). */
TB_MUST_CHECK int tb_records_next(struct tb_records_iter *it, struct tb_view *rec);
/* Appends rec with its prefix to buf (*len of cap bytes used): 0, 1 when it
 * does not fit (nothing written), TB_ETOOBIG for an empty record or one over
 * TB_ENTRY_MAX. */
TB_MUST_CHECK int tb_records_add(uint8_t *buf, size_t cap, size_t *len, struct tb_view rec);

/* A fork proof as an export FORK item or a kept proof: [u16 big-endian
 * length of a][a][b]. Splitting checks only the framing (a or b may be
 * empty): 0, or TB_ETRUNCATED when shorter than 2 bytes or than a's length
 * says. Building: 0, or TB_ETOOBIG for a record over TB_ENTRY_MAX or an out
 * of fewer than 2 + a.len + b.len bytes. */
#define TB_FORK_ITEM_MAX (2 + 2 * TB_ENTRY_MAX)
TB_MUST_CHECK int tb_fork_item_split(struct tb_view item, struct tb_view *a, struct tb_view *b);
TB_MUST_CHECK int tb_fork_item_build(uint8_t *out, size_t cap, size_t *len, struct tb_view a,
				     struct tb_view b);

/*
 * Export files (above) read from a stream (a file too big to hold in memory) through
 * a bounded buffer: the bytes come from rd, which reads at most len bytes
 * into p and sets *got (0 at the end of the stream), returning 0 or an
 * error (TB_EIO) that stops the reading and is returned as it is. Each
 * item's bytes are copied into the reader's own buffer (item views die at
 * the next call); the errors and their order are those of tb_export_open and
 * tb_export_next.
 */
typedef int (*tb_export_read_fn)(void *ctx, uint8_t *p, size_t len, size_t *got);
#define TB_EXPORT_STREAM_BUF 65536
struct tb_export_stream {
	tb_export_read_fn rd;
	void *ctx;
	uint8_t buf[TB_EXPORT_STREAM_BUF];
	size_t have, off; /* bytes in buf, and read from it */
	uint8_t item[TB_FORK_ITEM_MAX];
	uint64_t items;
	int done;
};
TB_MUST_CHECK int tb_export_stream_open(struct tb_export_stream *r, tb_export_read_fn rd,
					void *ctx);
TB_MUST_CHECK int tb_export_stream_next(struct tb_export_stream *r, enum tb_export_item *type,
					struct tb_view *item);

#endif
