/*
 * testutil.h: helpers shared by the tests: temporary directories that are
 * removed afterwards, deterministic keys from a seed, and running the tally
 * binary, ledger records built and signed as peers and members would, and
 * dumps of a store's whole state. Tests use real LMDB in a temp dir and real
 * libsodium, no mocks.
 */
#ifndef TB_TESTUTIL_H
#define TB_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "tb_crypto.h"
#include "tb_file.h"
#include "tb_audit.h"
#include "tb_store.h"

/* 1 in a build with AddressSanitizer (clang's or gcc's), else 0: there
 * every store and allocation costs several times more, and exhaustive
 * tests check a sample whose cases still reach every code path. */
#if defined(__SANITIZE_ADDRESS__)
#define TB_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TB_TEST_SANITIZED 1
#endif
#endif
#ifndef TB_TEST_SANITIZED
#define TB_TEST_SANITIZED 0
#endif

/* A test executable run as several CTest tests (tests/CMakeLists.txt,
 * TB_TEST_SPLIT_<name>): "--only PATTERN" runs the cmocka tests whose name
 * matches, "--skip PATTERN" the others (cmocka's * and ? patterns). Call
 * first in main; it fails the run on any other arguments. */
void tb_test_select(int argc, char **argv);
/* Creates a fresh directory under $TMPDIR (or /tmp); returns a malloc'd path. */
char *tb_test_tmpdir(const char *tag);
/* The same under $TMPDIR if set, else on tmpfs (/dev/shm) when writable: for
 * stores whose durability the test does not examine. */
char *tb_test_scratchdir(const char *tag);
/* Removes a directory tree (best effort) and frees path. */
void tb_test_rmrf(char *path);
/* Key pair number `n` of a fixed deterministic series. */
void tb_test_keypair(struct tb_keypair *kp, uint32_t n);
/* Reads a whole file into a malloc'd buffer; NULL on error. */
uint8_t *tb_test_read_file(const char *path, size_t *len);
/* Writes a whole file (created or truncated); 0 or -1. */
int tb_test_write_file(const char *path, const void *p, size_t len);

/* ---- ledger records as a peer or a member would make them ---- */

/* A log the test writes: its key and where its chain stands. */
struct tb_test_log {
	struct tb_keypair kp;
	uint64_t seq;		  /* entries sealed so far */
	uint8_t head[TB_HASHLEN]; /* hash of the last one (zeros before) */
	uint64_t timestamp;	  /* of the next entry */
};

/* The log signed by key pair number keyno. */
void tb_test_log_init(struct tb_test_log *l, uint32_t keyno);
/* Seals an entry at any place (seq, prev) with kp, for records that break
 * the chain on purpose. Returns the record's length. */
size_t tb_test_seal_at(uint8_t out[TB_ENTRY_MAX], const struct tb_keypair *kp, uint64_t seq,
		       const uint8_t prev[TB_HASHLEN], uint64_t timestamp, uint64_t kind,
		       const void *body);
/* Seals the next entry of l and advances l. Returns the record's length. */
size_t tb_test_seal(struct tb_test_log *l, uint8_t out[TB_ENTRY_MAX], uint64_t kind,
		    const void *body);
/* Seals the next entry of l without advancing it. */
size_t tb_test_seal_next(const struct tb_test_log *l, uint8_t out[TB_ENTRY_MAX], uint64_t kind,
			 const void *body);
/* Moves l past a record sealed with tb_test_seal_next. */
void tb_test_log_advance(struct tb_test_log *l, const uint8_t *rec, size_t len);

/* Growing list of record copies. */
struct tb_test_recs {
	uint8_t *buf;
	size_t len, cap;
	size_t *off, *rlen;
	struct tb_view *v;
	size_t n, ncap;
};
void tb_test_recs_add(struct tb_test_recs *r, const uint8_t *rec, size_t len);
/* Views of records [from, n): valid until the next add. */
const struct tb_view *tb_test_recs_views(struct tb_test_recs *r, size_t from);
void tb_test_recs_clear(struct tb_test_recs *r);
void tb_test_recs_free(struct tb_test_recs *r);
/* Seals the next entry of l and adds it to r; returns its seq. */
uint64_t tb_test_log_add(struct tb_test_log *l, struct tb_test_recs *r, uint64_t kind,
			 const void *body);

/* Bodies. Name and category views point at the strings given. */
void tb_test_genesis(struct tb_genesis *g, const char *name, int64_t floor, uint64_t ceiling);
void tb_test_join(struct tb_member_join *j, uint32_t no, const char *name,
		  const struct tb_keypair *kp, int64_t floor, uint64_t ceiling);
/* Transaction id number n (distinct n, distinct ids). */
void tb_test_txid(uint8_t txid[TB_TXID_LEN], uint64_t n);

/* An exchange and its signatures (the views point inside: do not copy). */
struct tb_test_exchange {
	struct tb_exchange x;
	uint8_t psig[TB_SIGLEN], rsig[TB_SIGLEN];
};
/* Attested when pk and rk are NULL, else signed by both over the terms of
 * log_id. */
void tb_test_exchange(struct tb_test_exchange *tx, const uint8_t log_id[TB_KEY_LEN], uint64_t txno,
		      uint32_t provider, uint32_t receiver, uint64_t minutes,
		      const struct tb_keypair *pk, const struct tb_keypair *rk);
/* (Re)signs tx's current terms with pk and rk (after a test edited them). */
void tb_test_exchange_sign(struct tb_test_exchange *tx, const uint8_t log_id[TB_KEY_LEN],
			   const struct tb_keypair *pk, const struct tb_keypair *rk);

struct tb_test_reversal {
	struct tb_reversal r;
	uint8_t psig[TB_SIGLEN], rsig[TB_SIGLEN];
};
/* Reverses the exchange with txid number orig_txno; attested when pk and rk
 * are NULL, else signed by the original provider (pk) and receiver (rk). */
void tb_test_reversal(struct tb_test_reversal *tr, const uint8_t log_id[TB_KEY_LEN], uint64_t txno,
		      uint64_t orig_txno, const struct tb_keypair *pk, const struct tb_keypair *rk);

/* ---- cross-community legs ---- */

/* A trust line: this log lets `community` owe it up to limit minutes. */
void tb_test_link(struct tb_link *l, const uint8_t community[TB_KEY_LEN], uint64_t limit);

/* A prepare and its member signature (the views point inside: do not copy). */
struct tb_test_xprepare {
	struct tb_xprepare x;
	uint8_t sig[TB_SIGLEN];
};
/* Member `member` of log_id pays to_name@to_log `minutes`, committable
 * before `expires`; attested when mk is NULL, else signed by mk over the
 * xprepare terms. to_name must outlive tp. */
void tb_test_xprepare(struct tb_test_xprepare *tp, const uint8_t log_id[TB_KEY_LEN], uint64_t txno,
		      uint32_t member, const uint8_t to_log[TB_KEY_LEN], const char *to_name,
		      uint64_t minutes, uint64_t expires, const struct tb_keypair *mk);
/* (Re)signs tp's current terms with mk (after a test edited them). */
void tb_test_xprepare_sign(struct tb_test_xprepare *tp, const uint8_t log_id[TB_KEY_LEN],
			   const struct tb_keypair *mk);
/* The provider's decision on prepare p, entry from_seq of from_log made by
 * the member named from_name: the prepare's terms, the provider's member
 * number (0: none) and the outcome. Views point into p and from_name. */
void tb_test_xdecide(struct tb_xdecide *d, const struct tb_xprepare *p,
		     const uint8_t from_log[TB_KEY_LEN], uint64_t from_seq, const char *from_name,
		     uint32_t member, uint64_t outcome);
/* The payer's final leg of txid after the decision at decide_seq. */
void tb_test_xfinal(struct tb_xfinal *f, const uint8_t txid[TB_TXID_LEN], uint64_t decide_seq,
		    uint64_t outcome);

/*
 * Text of everything a store holds, for before/after comparisons: every
 * table's entry count and digest (white-box, so nothing escapes), then for
 * every log its head, Merkle root, community, members and their statements
 * (through the public API, readable in a failure message). malloc'd.
 */
char *tb_test_store_dump(struct tb_store *s);
/* The same restricted to derived and local tables and the public views. */
char *tb_test_store_dump_derived(struct tb_store *s);

/* The fork proofs a store holds: how many, and the seq and the two records
 * of the last one reported. */
struct tb_test_forks {
	size_t n;
	uint64_t seq;
	uint8_t a[TB_ENTRY_MAX], b[TB_ENTRY_MAX];
	size_t alen, blen;
};
/* Reads them (tb_store_foreach_fork must succeed). malloc'd. */
struct tb_test_forks *tb_test_forks_read(struct tb_store *s);

/* Asserts that the cross-log pass (tb_store_xverify) reports the same
 * violations, in the same order, and the same counts when its steps read
 * 1, 2 or 3 entries each as when they read their default share (which
 * covers a small store in one step). Returns the number of violations. */
size_t tb_test_xverify_steps_agree(struct tb_store *s);

/* RFC 6962 Merkle tree hash of n leaf hashes, as the plain recursion (an
 * independent check of the store's tree). */
void tb_test_mth(uint8_t out[TB_HASHLEN], const uint8_t (*leaves)[TB_HASHLEN], uint64_t n);

#endif
