/*
 * tb_store.h: the ledger store, the store module's public header.
 *
 * A store is one LMDB environment in a data directory holding several logs
 * (the community's own, and later its peers'), each an append-only sequence
 * of signed entries with its RFC 6962 Merkle tree, plus derived indexes
 * (communities, members, balances, statements, transaction ids) that the
 * ledger rules maintain and tb_store_reindex rebuilds from the logs. Nothing
 * here updates or deletes an entry. An append returns success only after its
 * transaction committed with sync on.
 */
#ifndef TB_STORE_H
#define TB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tb_merkle.h"
#include "tb_proto.h"

struct tb_store;

enum {
	TB_STORE_RDONLY = 1,  /* open an existing store read-only */
	TB_STORE_SCRATCH = 2, /* no fsync: throwaway stores of audits only */
	/* Writable, but refuse (TB_EREINDEX) a store whose derived tables need
	 * a rebuild or conversion, rather than run it: a `tally` command while
	 * tallyd runs, which may be an older version still writing the older
	 * layout, or be rebuilding as it starts. */
	TB_STORE_NOREBUILD = 4,
};

/* Largest number of records one tb_store_append call takes. */
#define TB_APPEND_MAX 4096
/* Records one transaction of tb_store_append holds at most: a larger call
 * commits in groups, each checked while the one before is committed. */
#define TB_APPEND_GROUP 1000

TB_MUST_CHECK int tb_store_open(struct tb_store **out, const char *dir, unsigned flags);
/* Progress of a rebuild a writable open runs before it returns (a store of
 * an older layout, or a reindex cut short): entries re-applied of all the
 * logs', after each committed batch (a reindex), or statement lines copied
 * with total 0 (a conversion). tallyd tells systemd it is still starting. */
typedef void (*tb_progress_fn)(void *ctx, uint64_t done, uint64_t total);
TB_MUST_CHECK int tb_store_open_progress(struct tb_store **out, const char *dir, unsigned flags,
					 tb_progress_fn fn, void *ctx);
void tb_store_free(struct tb_store *s);
/* Threads for signature checks (0, the default: one per online CPU). */
void tb_store_set_threads(struct tb_store *s, unsigned n);

/* Why an entry was refused: the code, where, and a sentence for humans. */
struct tb_reject {
	int err;
	uint8_t log_id[TB_KEY_LEN];
	uint64_t seq;
	char msg[256];
};

/* Receives each violation an audit finds (and each leg a clearing step
 * could not record). */
typedef void (*tb_violation_fn)(void *ctx, const struct tb_reject *v);

/*
 * Verifies and appends records (each an entry record as tb_entry_decode
 * takes), which may belong to several logs, in one transaction. Checks, in
 * order: decoding, seq (the next of its log; an identical copy of a stored
 * entry is skipped as already held), prev, ledger rules, then all signatures
 * of the batch on every core. The longest valid prefix is committed; *accepted
 * says how many records that is (skipped duplicates included). Returns 0 if
 * all were accepted, else the error of the first refused record, described in
 * *rej (rej may be NULL).
 */
TB_MUST_CHECK int tb_store_append(struct tb_store *s, const struct tb_view *recs, size_t n,
				  size_t *accepted, struct tb_reject *rej);

/* Where an accepted record went: its log and seq. */
struct tb_placed {
	uint8_t log_id[TB_KEY_LEN];
	uint64_t seq;
};
/* tb_store_append, and placed[i] (placed has room for n) for each accepted
 * record i < *accepted, skipped copies of held entries included; placed may
 * be NULL. A store running an audit places nothing. */
TB_MUST_CHECK int tb_store_append_placed(struct tb_store *s, const struct tb_view *recs, size_t n,
					 size_t *accepted, struct tb_placed *placed,
					 struct tb_reject *rej);

/*
 * Builds, signs with kp (the key of the store's own log) and appends the next
 * entry of the own log, in one transaction with the rules check. kind/body as
 * in struct tb_entry. On success *seq (may be NULL) is the new entry's seq.
 */
TB_MUST_CHECK int tb_store_append_own(struct tb_store *s, const struct tb_keypair *kp,
				      uint64_t kind, const void *body, uint64_t *seq,
				      struct tb_reject *rej);

/* A memo kept in the local table (section "local tables") with an entry. */
struct tb_memo {
	const uint8_t *txid; /* TB_TXID_LEN */
	const uint8_t *salt; /* TB_MEMO_SALT_LEN */
	const char *text;
	size_t len; /* at most TB_MEMO_MAX */
};

/* tb_store_append_own, keeping memo (if not NULL) in the same transaction:
 * both are kept or neither, and a refusal changes nothing. */
TB_MUST_CHECK int tb_store_append_own_memo(struct tb_store *s, const struct tb_keypair *kp,
					   uint64_t kind, const void *body,
					   const struct tb_memo *memo, uint64_t *seq,
					   struct tb_reject *rej);

/* One entry of a batch of own entries, with what the local tables keep
 * beside it (a memo, a member's email address, the coordinator who attested
 * it, the pending proposal it confirms: never in a log). */
#define TB_EMAIL_MAX 254
struct tb_own_item {
	uint64_t kind;
	const void *body;
	const struct tb_memo *memo; /* may be NULL */
	const char *email;	    /* may be NULL: email of member email_member */
	uint32_t email_member;
	uint64_t seq; /* out: the entry's seq */
	/* May be NULL: the pending proposal of this txid is dropped with the
	 * entry; TB_ENOTFOUND (nothing kept) if there is none. */
	const uint8_t *pending_txid;
	/* May be NULL: the coordinator (tb_store_coord_put's name rule) kept
	 * in ATTESTED for attested_txid. */
	const char *attested_by;
	const uint8_t *attested_txid;
};

/*
 * Builds, signs and appends n own entries in ONE transaction, each checked by
 * the rules against the state the ones before it left: all are kept or none
 * (a crash at any point leaves all or none). On a refusal *done is the index
 * of the refused item and rej says why. dry_run checks everything and keeps
 * nothing.
 */
TB_MUST_CHECK int tb_store_append_own_batch(struct tb_store *s, const struct tb_keypair *kp,
					    struct tb_own_item *items, size_t n, bool dry_run,
					    size_t *done, struct tb_reject *rej);
/* A member's email address kept locally (TB_ENOTFOUND if none). */
TB_MUST_CHECK int tb_store_contact(struct tb_store *s, uint32_t member, char *out, size_t cap);

/* The own log's id (set once by tb_store_set_self: TB_EEXISTS after;
 * tb_store_replace_self moves it to the successor log of a succession). */
TB_MUST_CHECK int tb_store_self(struct tb_store *s, uint8_t log_id[TB_KEY_LEN]);
TB_MUST_CHECK int tb_store_set_self(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN]);
TB_MUST_CHECK int tb_store_replace_self(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN]);

struct tb_head {
	uint8_t log_id[TB_KEY_LEN];
	uint64_t seq; /* 0: log known but empty */
	uint8_t hash[TB_HASHLEN];
	uint32_t flags; /* TB_LOG_* */
};
#define TB_LOG_FORKED 1u
#define TB_LOG_BROKEN 2u /* audit: a gap, so no Merkle tree past it */

TB_MUST_CHECK int tb_store_head(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
				struct tb_head *out);
typedef int (*tb_head_fn)(void *ctx, const struct tb_head *h);
int tb_store_foreach_log(struct tb_store *s, tb_head_fn cb, void *ctx);

/* Copies entry seq of a log into buf. */
TB_MUST_CHECK int tb_store_get_entry(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
				     uint64_t seq, uint8_t *buf, size_t cap, size_t *len);
/* Calls cb for each entry of a log from seq `from` on (rec is a view valid
 * only during the call); stops early when cb returns non-zero. */
typedef int (*tb_entry_fn)(void *ctx, uint64_t seq, struct tb_view rec);
int tb_store_foreach_entry(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], uint64_t from,
			   tb_entry_fn cb, void *ctx);

/* Merkle root of the first size entries of a log; and proofs. */
TB_MUST_CHECK int tb_store_root(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], uint64_t size,
				uint8_t root[TB_HASHLEN]);
TB_MUST_CHECK int tb_store_inclusion_proof(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
					   uint64_t index, uint64_t size,
					   uint8_t proof[][TB_HASHLEN], size_t cap, size_t *n);
TB_MUST_CHECK int tb_store_consistency_proof(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
					     uint64_t size1, uint64_t size2,
					     uint8_t proof[][TB_HASHLEN], size_t cap, size_t *n);

/* ---- derived views ---- */

struct tb_community {
	char name[TB_NAME_MAX + 1];
	int64_t floor;
	uint64_t ceiling;
	uint32_t members;   /* ever joined */
	uint32_t active;    /* not left */
	uint64_t exchanges; /* exchanges recorded (reversals not counted) */
	uint64_t reversals;
	uint64_t minutes; /* minutes exchanged, net of reversals */
};

struct tb_member {
	uint32_t no;
	char name[TB_NAME_MAX + 1];
	uint8_t key[TB_KEY_LEN];
	int64_t floor;
	uint64_t ceiling; /* 0: none */
	int64_t balance;  /* minutes */
	int64_t held;	  /* minutes held by open cross-community prepares */
	bool active;
	uint64_t joined_seq;
};

/* One line of a member's statement. */
struct tb_history_item {
	uint64_t seq;
	int64_t delta;	 /* minutes: + earned, - spent */
	int64_t balance; /* after this entry */
};

TB_MUST_CHECK int tb_store_community(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
				     struct tb_community *out);
TB_MUST_CHECK int tb_store_member(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], uint32_t no,
				  struct tb_member *out);
/* Active member by name. */
TB_MUST_CHECK int tb_store_member_by_name(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
					  const char *name, struct tb_member *out);
/* Whether a new member of log_id could take name: the member-join rule's
 * name checks (FORMAT.md 8.1: the name rule, the reserved name, a name too
 * like an active member's) run now, so that what a join would refuse is
 * refused before it is promised (an invitation). 0, or ENAME with rej. */
TB_MUST_CHECK int tb_store_name_usable(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
				       const char *name, struct tb_reject *rej);
/* A member as a user names one: "#7" is member number 7 ("#0" and
 * "community" the community account); a name finds the active member of
 * that name in NFC and any case, else the member who left most recently
 * under it. TB_ENOTFOUND if none, TB_ENAME if the text cannot be a name. */
TB_MUST_CHECK int tb_store_member_find(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
				       const char *what, struct tb_member *out);
typedef int (*tb_member_fn)(void *ctx, const struct tb_member *m);
int tb_store_foreach_member(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], tb_member_fn cb,
			    void *ctx);
typedef int (*tb_history_fn)(void *ctx, const struct tb_history_item *h);
int tb_store_foreach_history(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], uint32_t member,
			     tb_history_fn cb, void *ctx);
/* Seq of the exchange or reversal with txid, and the seq of the reversal that
 * undid it (0 if none). */
TB_MUST_CHECK int tb_store_tx(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
			      const uint8_t txid[TB_TXID_LEN], uint64_t *seq,
			      uint64_t *reversed_by);

/* ---- credit across communities ---- */

/* One clearing account of a log: what it holds toward another community. */
struct tb_clearing {
	uint8_t other[TB_KEY_LEN]; /* the other community's log id */
	bool linked;		   /* this log recorded a trust line to it */
	uint64_t limit;		   /* minutes this community lets the other owe it */
	int64_t balance;	   /* minutes: + this community owes the other, - owed */
	int64_t held;		   /* minutes held by open prepares toward the other */
	uint64_t exchanges;	   /* committed legs (either direction) */
	uint64_t open;		   /* this community's prepares toward the other with no
				    * final leg yet (at most TB_XOPEN_MAX) */
};

/* Most prepares one community may have open (no final leg) toward one
 * other community (FORMAT.md 7.8): bounds what one community can make
 * another hold and decide. */
#define TB_XOPEN_MAX 1000

TB_MUST_CHECK int tb_store_clearing(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
				    const uint8_t other[TB_KEY_LEN], struct tb_clearing *out);
typedef int (*tb_clearing_fn)(void *ctx, const struct tb_clearing *c);
int tb_store_foreach_clearing(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
			      tb_clearing_fn cb, void *ctx);

/* ---- admission (admit.c) ---- */

/* Admitted set caps (PROTOCOL.md, "Admission"). */
#define TB_ADMIT_PER_VOUCHER 256
#define TB_ADMITTED_MAX 4096

/* A log's latest ADMIT of one community. */
struct tb_admit_rec {
	uint8_t id[TB_KEY_LEN];
	char name[TB_NAME_MAX + 1];
	uint8_t status; /* TB_ADMIT_* */
	uint64_t seq;	/* of the ADMIT entry */
};
typedef int (*tb_admit_fn)(void *ctx, const struct tb_admit_rec *a);
/* The ADMIT records of a log in community id order (none if not held). */
int tb_store_foreach_admit(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], tb_admit_fn cb,
			   void *ctx);

/* The key by which two community names are the same name (NFC, case,
 * look-alike letters: tb_text's folded key), or the name itself when it has
 * none that fits. */
#define TB_ADMIT_KEY_MAX 256
void tb_admit_name_key(char out[TB_ADMIT_KEY_MAX], const char *name);

/* One community of a node's admitted set. */
struct tb_admitted_one {
	uint8_t id[TB_KEY_LEN];
	char name[TB_NAME_MAX + 1]; /* as admitted */
	char key[TB_ADMIT_KEY_MAX]; /* tb_admit_name_key of the name */
	uint8_t status;		    /* TB_ADMIT_ADMITTED or TB_ADMIT_VOUCHING */
	bool direct;		    /* admitted by the own log, else vouched */
	uint8_t via[TB_KEY_LEN];    /* the voucher, when not direct */
};
/* The own log plus the admitted communities, sorted by id. */
struct tb_admitted {
	uint8_t self[TB_KEY_LEN];
	struct tb_admitted_one *v;
	size_t n;
	size_t dropped; /* vouched ones left out (caps, same name) */
};
/* Computes the admitted set of this node (its own log's ADMITs, one level of
 * vouching, the caps). 0 or an error; free with tb_admitted_free. */
TB_MUST_CHECK int tb_store_admitted(struct tb_store *s, struct tb_admitted *out);
void tb_admitted_free(struct tb_admitted *a);
const struct tb_admitted_one *tb_admitted_find(const struct tb_admitted *a, const uint8_t *id);
/* Whether the node stores and relays this log (own log or admitted). */
bool tb_admitted_has(const struct tb_admitted *a, const uint8_t *id);

/*
 * Where one cross-community exchange stands, as far as the logs held show:
 * the payer's prepare and final legs, the provider's decision. Keyed by the
 * payer's log id and the txid. A zero seq means that leg is not held.
 */
struct tb_xleg {
	uint8_t payer[TB_KEY_LEN];
	uint8_t txid[TB_TXID_LEN];
	uint64_t prepare_seq;
	uint8_t provider[TB_KEY_LEN]; /* the prepare's to_log */
	uint64_t minutes;
	uint64_t expires;
	uint64_t decide_seq;
	uint8_t decider[TB_KEY_LEN]; /* the log the decision is in */
	uint8_t outcome;	     /* TB_XOUTCOMES */
	uint64_t final_seq;
	uint8_t final_outcome;
};

TB_MUST_CHECK int tb_store_xleg(struct tb_store *s, const uint8_t payer[TB_KEY_LEN],
				const uint8_t txid[TB_TXID_LEN], struct tb_xleg *out);
/* The decision a log recorded on the prepare (from_log, txid). */
struct tb_xdecided {
	uint64_t seq;	   /* of the decision in the deciding log */
	uint64_t from_seq; /* the prepare it names */
	uint64_t minutes;
	uint8_t outcome; /* TB_XOUTCOMES */
};
/* The decision log `decider` holds on the prepare (from_log, txid), whether
 * or not that prepare is held; TB_ENOTFOUND if none. */
TB_MUST_CHECK int tb_store_xdecided(struct tb_store *s, const uint8_t decider[TB_KEY_LEN],
				    const uint8_t from_log[TB_KEY_LEN],
				    const uint8_t txid[TB_TXID_LEN], struct tb_xdecided *out);
typedef int (*tb_xleg_fn)(void *ctx, const struct tb_xleg *x);
/* Every exchange held, or (open_only) those with no final leg yet. */
int tb_store_foreach_xleg(struct tb_store *s, bool open_only, tb_xleg_fn cb, void *ctx);

/* Text of a decision outcome ("trust limit reached"); never NULL. */
const char *tb_xoutcome_text(uint64_t outcome);
/* The TB_E* code of a refusal outcome (TB_ETRUST...), 0 for committed. */
int tb_xoutcome_err(uint64_t outcome);

enum { TB_CLEAR_DECIDE = 1, TB_CLEAR_FINAL = 2 };

/* What one clearing step is asked to do, and what it did. */
struct tb_clear {
	unsigned what; /* TB_CLEAR_DECIDE and/or TB_CLEAR_FINAL */
	uint64_t now;  /* decide by this clock (or time(), if later) */
	size_t max;    /* legs of each kind appended at most */
	/* Told each leg due that could not be recorded, and why (the payer's
	 * log and the prepare's seq); may be NULL. */
	tb_violation_fn skipped;
	void *ctx;
	/* results */
	size_t decided, finished;
	size_t skips;	/* legs due that could not be recorded */
	size_t ignored; /* payers without a trust line whose prepares wait */
	bool more;	/* max was reached: more legs are due */
};

/*
 * The clearing step of the own log (signed with kp), in one transaction:
 * with TB_CLEAR_DECIDE, decides every prepare addressed to this community
 * that has no decision yet, from each community this one has a trust line
 * with (commit, or a refusal naming why: unknown member, trust limit,
 * expired at `now`, ceiling), payer after payer, each against the state the
 * earlier decisions left; prepares of communities without a trust line are
 * left undecided (nothing is signed for them). With TB_CLEAR_FINAL, appends
 * the final leg of every own prepare whose provider's decision is held. Each
 * leg is recorded in a child transaction: one that the rules refuse is
 * undone alone and reported to c->skipped; the others are kept. Idempotent:
 * a leg already recorded is never recorded again. 0 (see the counts in c)
 * or a storage error (then nothing was recorded).
 */
TB_MUST_CHECK int tb_store_clear(struct tb_store *s, const struct tb_keypair *kp,
				 struct tb_clear *c);
/* What is open for the own log: own prepares with no decision held yet
 * (held), prepares to decide (decide), own prepares to finish (final). */
TB_MUST_CHECK int tb_store_clear_due(struct tb_store *s, size_t *held, size_t *decide,
				     size_t *final);

/* Drops and rebuilds every derived index from the logs (full re-verification). */
TB_MUST_CHECK int tb_store_reindex(struct tb_store *s, struct tb_reject *rej);

/* ---- backups (restored.c) ---- */

/* Writes a consistent, compacted copy of the store's LMDB file to fd (a
 * read transaction: writers go on meanwhile). */
TB_MUST_CHECK int tb_store_copy(struct tb_store *s, int fd);
/* 0 and the own log's seq when it was restored if the store is marked
 * restored (it signs nothing: TB_ERESTORED), TB_ENOTFOUND if not. */
TB_MUST_CHECK int tb_store_restored(struct tb_store *s, uint64_t *seq);
/* Sets (at the own log's current head) or lifts the mark. */
TB_MUST_CHECK int tb_store_set_restored(struct tb_store *s, bool on);

/* Durable commits made through this store handle and how long each took
 * (mostly fsync): a histogram with cumulative buckets (le_ns). */
#define TB_STORE_BUCKETS 7
struct tb_store_stats {
	uint64_t commits;
	uint64_t commit_ns;
	uint64_t le_ns[TB_STORE_BUCKETS]; /* bucket bounds */
	uint64_t le[TB_STORE_BUCKETS];	  /* commits that took at most le_ns[i] */
};
void tb_store_stats(struct tb_store *s, struct tb_store_stats *out);

/*
 * Group commit (FORMAT.md 7.13): what this thread writes between
 * tb_store_group_join and tb_store_group_leave (the changes of several
 * requests, joined in turn) goes into one write transaction, each call that
 * writes in a child of it, so one refused change undoes only its own
 * writes. Such a call's success is NOT durable and must not be acknowledged
 * before tb_store_group_commit returns 0: that commit (one durable commit)
 * answers for every change made since the last call; an error means none of
 * them is kept; *committed (committed may be NULL) says whether there was
 * a group to commit. A write of this thread outside a join commits the
 * group first. A scratch or read-only store does not group.
 */
void tb_store_group_join(struct tb_store *s);
void tb_store_group_leave(struct tb_store *s);
TB_MUST_CHECK int tb_store_group_commit(struct tb_store *s, bool *committed);

/* After a write failed with TB_EDISKFULL: about how many bytes it needed. */
uint64_t tb_store_need(struct tb_store *s);

/* Bytes of the map in use. */
TB_MUST_CHECK int tb_store_size(struct tb_store *s, uint64_t *bytes);

/* Where those bytes go: one table's B-tree (its name, depth, records and
 * pages of each kind), for the size breakdown in docs/PERFORMANCE.md. The
 * rest of the map is LMDB's own (meta pages, the table of tables, free
 * pages and their list). */
struct tb_store_table {
	const char *name; /* static */
	unsigned depth;
	uint64_t entries;
	uint64_t branch_pages, leaf_pages, overflow_pages;
	uint64_t dup_pages; /* the statements' per-member sub-trees */
	uint32_t page_size;
};
/* The tables in their fixed order: 0 and *n of them (at most cap). */
TB_MUST_CHECK int tb_store_tables(struct tb_store *s, struct tb_store_table *out, size_t cap,
				  size_t *n);

/* ---- local tables (never in a log) ---- */

#define TB_MEMO_MAX 1024
#define TB_MEMO_SALT_LEN 16

/* memo_hash = SHA-256(salt || text): the log commits to the memo without
 * revealing it; erasing salt and text leaves nothing to guess from. */
void tb_memo_hash(uint8_t out[TB_HASHLEN], const uint8_t salt[TB_MEMO_SALT_LEN], const char *text,
		  size_t len);
TB_MUST_CHECK int tb_store_memo_put(struct tb_store *s, const uint8_t txid[TB_TXID_LEN],
				    const uint8_t salt[TB_MEMO_SALT_LEN], const char *text,
				    size_t len);
/* Copies the memo text (NUL-terminated) into out; TB_ENOTFOUND if erased. */
TB_MUST_CHECK int tb_store_memo_get(struct tb_store *s, const uint8_t txid[TB_TXID_LEN], char *out,
				    size_t cap);
/* The memo's salt (a party checks memo_hash with it); TB_ENOTFOUND if erased. */
TB_MUST_CHECK int tb_store_memo_salt(struct tb_store *s, const uint8_t txid[TB_TXID_LEN],
				     uint8_t salt[TB_MEMO_SALT_LEN]);
TB_MUST_CHECK int tb_store_memo_erase(struct tb_store *s, const uint8_t txid[TB_TXID_LEN]);

/* Pending proposals (encoded struct tb_proposal), keyed by txid. */
TB_MUST_CHECK int tb_store_pending_put(struct tb_store *s, const uint8_t txid[TB_TXID_LEN],
				       const uint8_t *msg, size_t len);
TB_MUST_CHECK int tb_store_pending_get(struct tb_store *s, const uint8_t txid[TB_TXID_LEN],
				       uint8_t *buf, size_t cap, size_t *len);
TB_MUST_CHECK int tb_store_pending_del(struct tb_store *s, const uint8_t txid[TB_TXID_LEN]);
/* A proposal waits at most TB_PENDING_AGE_S after it was made (FORMAT.md
 * 6.3); past it, it is as if rejected. */
#define TB_PENDING_AGE_S (30ull * 86400)
#define TB_PENDING_PER_PROVIDER 50 /* live proposals of one provider */
#define TB_PENDING_MAX 10000	   /* live proposals in all */
bool tb_pending_expired(const struct tb_proposal *p, uint64_t now);
/* Keeps proposal p (and memo, may be NULL, of the same txid) in one
 * transaction at time now (unix seconds), first dropping expired proposals
 * and their memos: TB_EEXISTS when the txid is pending, TB_EFULL when the
 * provider has TB_PENDING_PER_PROVIDER live ones or the table
 * TB_PENDING_MAX. */
TB_MUST_CHECK int tb_store_pending_add(struct tb_store *s, const struct tb_proposal *p,
				       const struct tb_memo *memo, uint64_t now);
typedef int (*tb_pending_fn)(void *ctx, struct tb_view msg);
int tb_store_foreach_pending(struct tb_store *s, tb_pending_fn cb, void *ctx);

/*
 * The people who log in to tallyd's console (coordinators), by name: a role
 * and an Argon2id password hash (crypto/pwhash.c). Local: never in a log.
 */
enum tb_role { TB_ROLE_VIEWER = 1, TB_ROLE_COORDINATOR = 2, TB_ROLE_ADMIN = 3 };

struct tb_coord {
	char name[TB_NAME_MAX + 1];
	uint8_t role;	  /* enum tb_role */
	uint64_t created; /* unix seconds */
	uint8_t pwhash[TB_PWHASH_LEN];
};

/* Adds a coordinator (TB_EEXISTS if the name is taken) or, with replace,
 * adds or replaces one. */
TB_MUST_CHECK int tb_store_coord_put(struct tb_store *s, const struct tb_coord *c, bool replace);
/* TB_ENOTFOUND if no coordinator has that name. */
TB_MUST_CHECK int tb_store_coord_get(struct tb_store *s, const char *name, struct tb_coord *out);
TB_MUST_CHECK int tb_store_coord_del(struct tb_store *s, const char *name);
typedef int (*tb_coord_fn)(void *ctx, const struct tb_coord *c);
/* In name order; a damaged record is TB_ECORRUPT. */
int tb_store_foreach_coord(struct tb_store *s, tb_coord_fn cb, void *ctx);

/* Which coordinator attested an entry of the own log (by its txid). */
TB_MUST_CHECK int tb_store_attested_put(struct tb_store *s, const uint8_t txid[TB_TXID_LEN],
					const char *name);
/* Copies the name (NUL-terminated, cap >= TB_NAME_MAX + 1); TB_ENOTFOUND if
 * no coordinator is on record (recorded by the command line). */
TB_MUST_CHECK int tb_store_attested_get(struct tb_store *s, const uint8_t txid[TB_TXID_LEN],
					char *out, size_t cap);

/*
 * The community's list of categories (local: never in a log, so the ledger
 * rules and an auditor never depend on it). Empty, categories are free text;
 * otherwise an exchange recorded here takes one of the list. Two spellings
 * are one category when their case-folded NFC (tb_text_fold) is equal, so
 * "Garden" and "garden" are the same; the list keeps the spelling it was
 * given (NFC). At most TB_CATEGORIES_MAX of them.
 */
#define TB_CATEGORIES_MAX 200
/* Adds a category (NFC of name, 1..TB_CATEGORY_MAX bytes, a valid name by
 * tb_text_check_name). TB_EEXISTS with the spelling held in had (cap >=
 * TB_CATEGORY_MAX + 1) when the same category is there; TB_ENAME,
 * TB_EUTF8, TB_ETOOLONG for a bad one; TB_EFULL when the list is full. */
TB_MUST_CHECK int tb_store_category_add(struct tb_store *s, const char *name, size_t len, char *had,
					size_t cap);
/* Removes the category name is a spelling of (its spelling into had);
 * TB_ENOTFOUND if none. Exchanges already recorded keep theirs. */
TB_MUST_CHECK int tb_store_category_del(struct tb_store *s, const char *name, size_t len, char *had,
					size_t cap);
typedef int (*tb_category_fn)(void *ctx, const char *name);
/* In the order of their folded form; stops when cb returns non-zero. */
int tb_store_foreach_category(struct tb_store *s, tb_category_fn cb, void *ctx);
/* The category to record for a typed one, into out (cap >= TB_CATEGORY_MAX
 * + 1): "" stays "" (no category); with an empty list the NFC of in; else
 * the list's spelling of it, or TB_ENOTFOUND. TB_EUTF8, TB_ETOOLONG. */
TB_MUST_CHECK int tb_store_category_resolve(struct tb_store *s, const char *in, size_t len,
					    char *out, size_t cap);

/* ---- audit mode ---- */

/*
 * Puts a scratch store in audit mode: instead of refusing the first entry
 * that breaks a rule, appends report every violation to fn and go on. An
 * entry that breaks a ledger rule is kept in its log but has no effect on
 * balances (as an honest node would have refused it); a gap or a wrong prev
 * is reported and the chain goes on from the entry as recorded; a second,
 * different entry at a held seq is reported (a fork only if validly signed)
 * and skipped; an entry with a bad signature is reported and, like one that
 * breaks a rule, has no effect. The violations of one append come in record
 * order, each record's in the order of its checks with the log signature
 * before the rules (FORMAT.md 7.2). Only for stores opened with
 * TB_STORE_SCRATCH.
 */
void tb_store_set_audit(struct tb_store *s, tb_violation_fn fn, void *ctx);
/* An audit's lean scratch store: it keeps no statement lines (the rules
 * never read them; AUDIT.md, "What the audit costs"). Only for stores
 * opened with TB_STORE_SCRATCH. (In audit mode every scratch store lets go,
 * every few hundred entries, of the pages of its map this process has
 * mapped.) */
void tb_store_set_lean(struct tb_store *s);

/* A throwaway store (no fsync) in a fresh directory under tmpdir (NULL:
 * /tmp), for verification and audits; path (cap bytes) receives the
 * directory, which close removes with the store. */
TB_MUST_CHECK int tb_scratch_open(const char *tmpdir, const char *tag, char *path, size_t cap,
				  struct tb_store **scratch);
void tb_scratch_close(struct tb_store *scratch, const char *path);

/*
 * The checks that span two logs, over a store whose logs were all
 * re-applied by the rules (FORMAT.md 11.3): legs answer each other, clearing
 * balances mirror, every community's accounts sum to zero. Each violation
 * goes to fn, in the order 11.3 gives; legs whose counterpart is not held are
 * only counted. 0 or a storage error.
 */
struct tb_xverify_counts {
	uint64_t unmatched; /* legs whose counterpart log or entry is not held */
	uint64_t in_flight; /* committed decisions whose final leg is not held */
};
TB_MUST_CHECK int tb_store_xverify(struct tb_store *s, tb_violation_fn fn, void *ctx,
				   struct tb_xverify_counts *out);
/*
 * The same pass in steps, each one read transaction that reads a few
 * thousand entries and resumes where the last one stopped, so that the
 * caller can let go of the store's mapped pages between steps (the auditor
 * opens its scratch store again) and the pass's memory does not grow with
 * the history. The store must not be written between steps. A step returns
 * 1 (call it again), 0 (done) or a storage error, and the counts so far in
 * out.
 */
struct tb_xverify;
TB_MUST_CHECK int tb_store_xverify_new(struct tb_xverify **out, tb_violation_fn fn, void *ctx);
TB_MUST_CHECK int tb_store_xverify_step(struct tb_store *s, struct tb_xverify *v,
					struct tb_xverify_counts *out);
void tb_store_xverify_free(struct tb_xverify *v);

/* ---- checkpoints ---- */

/* Signs a checkpoint of the own log at its head with kp and keeps it;
 * writes the signed checkpoint to out (TB_CHECKPOINT_MAX bytes). */
TB_MUST_CHECK int tb_store_checkpoint_make(struct tb_store *s, const struct tb_keypair *kp,
					   uint8_t *out, size_t cap, size_t *len);
/*
 * Keeps a signed checkpoint if its signature verifies (else TB_EBADSIG), the
 * store holds its log (at least entry 1; else TB_ENOTFOUND), its root equals
 * the root of our copy of the log at that size when we hold that many
 * entries (one ahead of our entries is kept unchecked), and it is newer
 * (larger, or as large and later) than the one held (one is kept per log).
 * Returns 1 if kept, 0 if not newer, TB_EFORKED if its root contradicts our
 * copy (then it is kept as the log's fork proof, with our record at its
 * size, and the log is frozen), or another error.
 */
TB_MUST_CHECK int tb_store_checkpoint_put(struct tb_store *s, const uint8_t *p, size_t len);
/* The same for n checkpoints in one transaction: results[i] is what
 * tb_store_checkpoint_put would return for cps[i] (two of one log: the later
 * one is compared with the earlier). Returns 0 or a storage error (then none
 * was kept). */
TB_MUST_CHECK int tb_store_checkpoint_put_many(struct tb_store *s, const struct tb_view *cps,
					       size_t n, int *results);
/* The newest checkpoint held for a log. */
TB_MUST_CHECK int tb_store_checkpoint_get(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
					  uint8_t *out, size_t cap, size_t *len);

/* ---- forks ---- */

/*
 * If rec is a validly signed entry that differs from the entry held at its
 * log and seq, keeps both as a self-contained fork proof and marks the log
 * forked (no further entries of it are accepted). Returns 0 if a proof is now
 * held (new or not), TB_ENOTFOUND if rec does not conflict with a held entry,
 * TB_EBADSIG if it is not validly signed, or a decoding error.
 */
TB_MUST_CHECK int tb_store_fork_check(struct tb_store *s, const uint8_t *rec, size_t len);
/* Checks and keeps a fork proof received from elsewhere: two records of one
 * log at one seq, both validly signed, different; or (a starting with byte
 * 0x94) a signed checkpoint of size n and the record at seq n of a history
 * whose root at n differs, checked against the entries held (TB_ETRUNCATED
 * when this store does not hold seq n, so it cannot tell). 1 if it was new,
 * or is a proof of two records that replaced a checkpoint proof held (only
 * two records travel in a succession); 0 if a proof of that log was already
 * held; else an error (TB_EPROOF if it proves nothing). tb_store_fork_check
 * replaces a checkpoint proof the same way. */
TB_MUST_CHECK int tb_store_fork_add(struct tb_store *s, const uint8_t *a, size_t alen,
				    const uint8_t *b, size_t blen);
/* Checks a fork proof as a FORK message or a succession carries it (u16 BE
 * length of a || a || b): two records of one log at one seq, both validly
 * signed, different. 0 with the log and seq, or TB_EPROOF (also for a
 * checkpoint proof, which needs a copy of the log to check), TB_EBADSIG,
 * or a decoding error. Writes nothing. */
TB_MUST_CHECK int tb_fork_proof_check(const uint8_t *p, size_t len, uint8_t log_id[TB_KEY_LEN],
				      uint64_t *seq);
typedef int (*tb_fork_fn)(void *ctx, const uint8_t log_id[TB_KEY_LEN], uint64_t seq,
			  struct tb_view a, struct tb_view b);
int tb_store_foreach_fork(struct tb_store *s, tb_fork_fn cb, void *ctx);
/* Whether the fork proof held of a log is a checkpoint proof: 1 if so, 0 if
 * it is two records, TB_ENOTFOUND if none is held. */
TB_MUST_CHECK int tb_store_fork_by_checkpoint(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN]);
/* The fork proof of one log, copied into buf (2 * TB_ENTRY_MAX bytes);
 * a and b view it. TB_ENOTFOUND if none is held. */
TB_MUST_CHECK int tb_store_fork_get(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
				    uint8_t *buf, size_t cap, struct tb_view *a, struct tb_view *b);

/* ---- successions (FORMAT.md 7.11) ---- */

/* A log that succeeds a forked one: its entry 2 is a valid succession. */
struct tb_successor {
	uint8_t new_log[TB_KEY_LEN];
	uint8_t old_log[TB_KEY_LEN];
	uint64_t kept_seq;
	uint8_t kept_hash[TB_HASHLEN];
	uint64_t fork_seq;  /* seq of the records of its fork proof */
	uint64_t timestamp; /* of the succession entry */
};

/*
 * The logs held that succeed old_log (their entry 2 is a succession naming
 * it, held, so it passed the rules): the first in out, how many in *n (two
 * or more: the old key handed the community over twice, FORMAT.md 11.1).
 * 0, or TB_ENOTFOUND when none.
 */
TB_MUST_CHECK int tb_store_successor(struct tb_store *s, const uint8_t old_log[TB_KEY_LEN],
				     struct tb_successor *out, size_t *n);

/* ---- members' invitations (invites.c, FORMAT.md 8.2): local, expiring ---- */

#define TB_INVITES_MAX 1024		 /* invitations kept at once */
#define TB_INVITE_VALID_MAX (30 * 86400) /* the longest an invitation lasts, seconds */

struct tb_invite {
	char name[TB_NAME_MAX + 1]; /* the name the new member will have */
	uint64_t expires;	    /* unix seconds */
	bool used;		    /* spent: kept TB_INVITE_ANSWER_S for a repeated join */
	uint8_t key[TB_KEY_LEN];    /* used: the key that joined with it */
};
#define TB_INVITE_ANSWER_S 3600

/* Keeps an invitation under the SHA-256 of its token, first dropping the
 * expired ones; TB_EFULL when TB_INVITES_MAX are live, TB_EINVAL for a
 * bad name or expiry. */
TB_MUST_CHECK int tb_store_invite_put(struct tb_store *s, const uint8_t hash[TB_HASHLEN],
				      const struct tb_invite *inv, uint64_t now);
/* The invitation of a token's hash; TB_ENOTFOUND if there is none or it
 * expired at now. */
TB_MUST_CHECK int tb_store_invite_get(struct tb_store *s, const uint8_t hash[TB_HASHLEN],
				      uint64_t now, struct tb_invite *out);
/* Drops it (it was used or revoked); TB_ENOTFOUND if there is none. */
TB_MUST_CHECK int tb_store_invite_del(struct tb_store *s, const uint8_t hash[TB_HASHLEN]);
/* Marks an invitation spent by key: it is then kept (unlisted, unusable
 * by any other key) for TB_INVITE_ANSWER_S at most, so that a join whose
 * answer was lost can be asked again. TB_ENOTFOUND when not held. */
TB_MUST_CHECK int tb_store_invite_spend(struct tb_store *s, const uint8_t hash[TB_HASHLEN],
					const uint8_t key[TB_KEY_LEN], uint64_t now);
/* An invitation still open, with the hash of its token (its id). */
struct tb_invite_open {
	uint8_t hash[TB_HASHLEN];
	struct tb_invite inv;
};
/* The invitations live at now, at most cap of them, in the order of their
 * hashes; *n how many. */
TB_MUST_CHECK int tb_store_invite_list(struct tb_store *s, uint64_t now, struct tb_invite_open *out,
				       size_t cap, size_t *n);

/* ---- members' key files kept for other devices (devices.c, FORMAT.md 8.4) ---- */

#define TB_DEVLINKS_MAX 256	     /* device links live at once */
#define TB_DEVLINKS_PER_MEMBER 3     /* of them for one member */
#define TB_DEVLINK_VALID_S (10 * 60) /* the longest a device link lasts, seconds */

/* Keeps a member's encrypted key file (exactly TB_KEYFILE_LEN bytes, as
 * the member's browser made it), replacing the one kept before. */
TB_MUST_CHECK int tb_store_keyfile_put(struct tb_store *s, uint32_t member, const uint8_t *file,
				       size_t len, uint64_t now);
/* The member's kept key file and when it was stored (either may be NULL);
 * TB_ENOTFOUND if none is kept. */
TB_MUST_CHECK int tb_store_keyfile_get(struct tb_store *s, uint32_t member,
				       uint8_t file[TB_KEYFILE_LEN], uint64_t *stored);
/* Deletes it; TB_ENOTFOUND if none is kept. */
TB_MUST_CHECK int tb_store_keyfile_del(struct tb_store *s, uint32_t member);
/* Keeps a device link of a member under its token's SHA-256 until expires
 * (at most TB_DEVLINK_VALID_S after now); TB_EFULL when TB_DEVLINKS_MAX
 * are live, or TB_DEVLINKS_PER_MEMBER of this member's. */
TB_MUST_CHECK int tb_store_devlink_put(struct tb_store *s, const uint8_t hash[TB_HASHLEN],
				       uint32_t member, uint64_t expires, uint64_t now);
/* The member of a live device link, which is deleted: a link works once.
 * TB_ENOTFOUND if there is none, it was used, or it expired. */
TB_MUST_CHECK int tb_store_devlink_take(struct tb_store *s, const uint8_t hash[TB_HASHLEN],
					uint64_t now, uint32_t *member);

/* ---- listings: offers and requests (listings.c, FORMAT.md 16) ---- */

/* Most listings a node keeps in all, of one community (live and
 * withdrawn), and of one member; a new listing over any cap is refused with
 * TB_EFULL. */
#define TB_LISTINGS_MAX 20000
#define TB_LISTINGS_PER_COMMUNITY 1000
#define TB_LISTINGS_PER_MEMBER 20
/* How far in the future a listing's `created` may be (clock skew between
 * nodes): later is refused with TB_EEXPIRY, so that no listing outlives
 * now + 90 days + this. */
#define TB_LISTING_SKEW_S 3600

/*
 * Takes a listing object (tb_listing_open's bytes) at time now (unix
 * seconds): 0 stored, 1 when a version as new or newer is held (nothing
 * changes), or a refusal: a decoding error, TB_EBADSIG (community key),
 * TB_EEXPIRY (expires at or before now, or created after now +
 * TB_LISTING_SKEW_S, too), TB_ENONCANON (text not NFC),
 * TB_ENOTFOUND (community log not held), TB_EMEMBER, TB_ELEFT,
 * TB_ECONSENT (the member's signature), TB_EFULL (caps). rej (may be NULL)
 * gets a sentence naming the problem.
 */
TB_MUST_CHECK int tb_store_listing_put(struct tb_store *s, const uint8_t *obj, size_t len,
				       uint64_t now, struct tb_reject *rej);
/* Hears each listing of a batch the store refused: its index and why. */
typedef void (*tb_listing_refused_fn)(void *ctx, size_t i, const struct tb_reject *rej);
/*
 * Takes n listing objects as tb_store_listing_put would, in one write
 * transaction (one durable commit, none when nothing is new): res[i] gets
 * what tb_store_listing_put returns for objs[i], and an object sees those
 * before it (two versions of one id, the caps). Every signature is checked
 * before the transaction opens. refused (may be NULL) hears each refusal.
 * Returns 0, or a storage error: then nothing is stored and each res[i]
 * that was 0 holds it.
 */
TB_MUST_CHECK int tb_store_listings_put_many(struct tb_store *s, const struct tb_view *objs,
					     size_t n, uint64_t now, int *res,
					     tb_listing_refused_fn refused, void *ctx);
/* The held object of a listing into out (TB_LISTING_MAX bytes). */
TB_MUST_CHECK int tb_store_listing_get(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
				       const uint8_t id[TB_LISTING_ID_LEN], uint8_t *out,
				       size_t *len);
/* Deletes every listing expired at now (tombstones too); *removed (may be
 * NULL) counts them. */
TB_MUST_CHECK int tb_store_listings_prune(struct tb_store *s, uint64_t now, size_t *removed);
/* Hides (or shows again) a listing on this node only; never gossiped. */
TB_MUST_CHECK int tb_store_listing_hide(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
					const uint8_t id[TB_LISTING_ID_LEN], bool hide);

/* What a search asks: every set field must match. */
struct tb_listing_query {
	const char *text;	  /* in the title or description, any case; NULL: any */
	const char *category;	  /* equal in any case; NULL: any */
	const uint8_t *community; /* its log id; NULL: any */
	int kind;		  /* TB_LISTING_OFFER or _REQUEST, -1: either */
	uint32_t member;	  /* 0: any (with community) */
	bool withdrawn;		  /* also tombstones (gossip summaries) */
	bool hidden;		  /* also listings hidden here */
	uint64_t now;		  /* expired ones (expires <= now) never match */
};
/* A listing found: its decoded fields (views into obj, valid during the
 * call), its bytes, and for a search whether it is hidden here (1 or 0),
 * for tb_store_listings_since its stamp. Non-zero stops. */
typedef int (*tb_listing_fn)(void *ctx, const struct tb_listing *l, const uint8_t *obj, size_t len,
			     uint64_t info);
/* Calls cb for each held listing that q matches, by community then id:
 * 0, an error, or the non-zero value cb stopped with. */
TB_MUST_CHECK int tb_store_listings_search(struct tb_store *s, const struct tb_listing_query *q,
					   tb_listing_fn cb, void *ctx);
/* The last stamp given (0: none yet), to see cheaply whether listings
 * changed. */
TB_MUST_CHECK int tb_store_listings_stamp(struct tb_store *s, uint64_t *stamp);
/* SHA-256 over log_id || id || version (u32 BE) of every federation-visible
 * listing not expired at now (tombstones too), in (log_id, id) order, and
 * their count: what two nodes compare before gossiping (PROTOCOL.md 7c). */
TB_MUST_CHECK int tb_store_listings_digest(struct tb_store *s, uint64_t now,
					   uint8_t digest[TB_HASHLEN], uint64_t *count);
/* Each version stored after stamp `after`, in the order stored (pruned ones
 * are gone): how tallyd finds what to gossip. Same returns as the search. */
TB_MUST_CHECK int tb_store_listings_since(struct tb_store *s, uint64_t after, tb_listing_fn cb,
					  void *ctx);

/* ---- answers to listings (answers.c, FORMAT.md 17.3) ---- */

/* Most answers a node keeps in all, to one listing, by one member and from
 * one community (a peer's share); a new answer over any cap is refused
 * with TB_EFULL. */
#define TB_ANSWERS_MAX 5000
#define TB_ANSWERS_PER_LISTING 50
#define TB_ANSWERS_PER_MEMBER 20
#define TB_ANSWERS_PER_COMMUNITY 500

/*
 * Takes an answer object (tb_answer_open's bytes) at time now: 0 stored, 1
 * when the same responder's answer to that listing made at the same time or
 * later is held (nothing changes), or a refusal: a decoding error,
 * TB_ETOOBIG, TB_EUTF8, TB_ENONCANON (text not NFC), TB_EEXPIRY (created in
 * the future), TB_ENOTFOUND (no live listing with that id held here),
 * TB_EINVAL (the listing's own poster), TB_EMEMBER (no such member, or
 * another name), TB_ELEFT, TB_ECONSENT (the member's signature), TB_EFULL
 * (caps). A newer answer of the same responder to the same listing replaces
 * the older. rej (may be NULL) gets a sentence naming the problem.
 */
TB_MUST_CHECK int tb_store_answer_put(struct tb_store *s, const uint8_t *obj, size_t len,
				      uint64_t now, struct tb_reject *rej);
/* An answer held: its decoded fields (views into obj, valid during the
 * call), its bytes and its stamp. Non-zero stops. */
typedef int (*tb_answer_fn)(void *ctx, const struct tb_answer *a, const uint8_t *obj, size_t len,
			    uint64_t stamp);
/* Each answer held to a listing of listing_log (to the one listing id, or
 * to any when id is NULL), by listing then responder. */
TB_MUST_CHECK int tb_store_answers_of(struct tb_store *s, const uint8_t listing_log[TB_KEY_LEN],
				      const uint8_t *id, tb_answer_fn cb, void *ctx);
/* Each answer stored after stamp `after`, in the order stored: how tallyd
 * finds what to deliver. */
TB_MUST_CHECK int tb_store_answers_since(struct tb_store *s, uint64_t after, tb_answer_fn cb,
					 void *ctx);
/* The last stamp given (0: none yet). */
TB_MUST_CHECK int tb_store_answers_stamp(struct tb_store *s, uint64_t *stamp);
/* Deletes every answer whose listing is no longer live here at now
 * (expired, withdrawn, or gone); *removed (may be NULL) counts them. */
TB_MUST_CHECK int tb_store_answers_prune(struct tb_store *s, uint64_t now, size_t *removed);

#endif
