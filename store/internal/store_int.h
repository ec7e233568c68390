/*
 * store_int.h: what the store's files share and nobody else sees: the store
 * struct, the key schema (a table per kind of record, big-endian numbers so
 * keys sort in log order) and the fixed layouts of derived records.
 */
#ifndef TB_STORE_INT_H
#define TB_STORE_INT_H

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "tb_store.h"

struct tb_audit_sink {
	tb_violation_fn fn;
	void *ctx;
};

struct tb_store {
	struct tb_db *db;
	unsigned flags;
	unsigned threads;
	struct tb_verify_pool *pool; /* made on first use */
	struct tb_audit_sink audit;  /* fn set: audit mode */
	tb_progress_fn progress;     /* of a rebuild by the open, or NULL */
	void *progress_ctx;
	void *map; /* a scratch store's map (mapped.c), once sought */
	size_t map_len;
	bool map_sought;
	uint64_t keep; /* resident bytes under which the map is kept, 0 until read */
};

/* A scratch store: the pages of its map this process has mapped are let go
 * (mapped.c) if its resident memory passed 32 MiB; nothing else. */
void tb_store_let_go(struct tb_store *s);
/* Signature jobs handed to the verify pool at once, at least. */
#define TB_SUBMIT_CHUNK 32
/* Makes the store's verify pool for a batch of n records, unless it has
 * one or n is too small to be worth it (then s->pool stays NULL). */
void tb_store_pool_start(struct tb_store *s, size_t n);

/* Layout of the derived tables (META "derived"): a store whose derived
 * tables were written with another is reindexed when opened for writing.
 * 2: clearing accounts count open prepares; XDUE, XDECIDED (and NAMEKEYS,
 * added at the same time). 3: the Merkle nodes are derived ("mtree", levels
 * from TB_MERKLE_KEEP up, keyed by last leaf; "merkle" is dropped); TXIDS
 * values of 8 bytes unless reversed. 4: statement lines are sorted
 * duplicates of a member's key ("statements"; "history" is dropped). */
#define TB_DERIVED_VERSION 4

/* Value of LOGS[log_id]. */
struct tb_logstate {
	uint32_t lognum;
	uint64_t seq;
	uint8_t hash[TB_HASHLEN];
	uint32_t flags;
};
#define TB_LOGSTATE_LEN (4 + 8 + TB_HASHLEN + 4)

void tb_logstate_pack(uint8_t out[TB_LOGSTATE_LEN], const struct tb_logstate *l);
int tb_logstate_unpack(struct tb_logstate *l, struct tb_view v);
/* Reads a log's state; TB_ENOTFOUND if the store has never seen it. */
int tb_logstate_get(struct tb_txn *t, const uint8_t log_id[TB_KEY_LEN], struct tb_logstate *l);

/* Registers a log not held yet (lognum, seq 0); the caller writes LOGS. */
int tb_log_create(struct tb_txn *t, const uint8_t log_id[TB_KEY_LEN], struct tb_logstate *l);

/* The lognum of a log held (TB_ENOTFOUND if none). */
int tb_lognum_of(struct tb_txn *t, const uint8_t log_id[TB_KEY_LEN], uint32_t *lognum);

/*
 * Keys: every table's keys are built by these helpers and nowhere else, so
 * a layout is written once. Keys of per-log tables start with the log's
 * number (4 bytes, big-endian), so one log's records are one range.
 */
#define TB_LOG_PREFIX_LEN 4
static inline void tb_log_prefix(uint8_t k[TB_LOG_PREFIX_LEN], uint32_t lognum)
{
	tb_be32_put(k, lognum);
}

/* ENTRIES: lognum, seq. */
#define TB_ENTRY_KEY_LEN 12
static inline void tb_entry_key(uint8_t k[TB_ENTRY_KEY_LEN], uint32_t lognum, uint64_t seq)
{
	tb_be32_put(k, lognum);
	tb_be64_put(k + 4, seq);
}

/* TXIDS: lognum, transaction id. */
#define TB_TXID_KEY_LEN (4 + TB_TXID_LEN)
static inline void tb_txid_key(uint8_t k[TB_TXID_KEY_LEN], uint32_t lognum, const uint8_t *txid)
{
	tb_be32_put(k, lognum);
	memcpy(k + 4, txid, TB_TXID_LEN);
}

/* TXIDS value: the seq that recorded the transaction id, then the seq of
 * the reversal that undid it, only once one did (8 or 16 bytes). */
#define TB_TXID_VAL_MAX 16
size_t tb_txid_pack(uint8_t v[TB_TXID_VAL_MAX], uint64_t seq, uint64_t reversed_by);
int tb_txid_unpack(struct tb_view v, uint64_t *seq, uint64_t *reversed_by);

/* MEMBERS: lognum, member number. */
#define TB_MEMBER_KEY_LEN 8
static inline void tb_member_key(uint8_t k[TB_MEMBER_KEY_LEN], uint32_t lognum, uint32_t member)
{
	tb_be32_put(k, lognum);
	tb_be32_put(k + 4, member);
}

/* STATEMENTS ("statements"): key lognum, member number (a member key); one
 * sorted duplicate per line: seq, delta, balance after it (big-endian, the
 * seq first, so a member's lines sort in log order). Layout 3's "history"
 * had a row per line: key lognum, member number, seq; value delta, balance. */
#define TB_HISTORY_VAL_LEN 24
#define TB_HISTORY3_KEY_LEN (TB_MEMBER_KEY_LEN + 8)
#define TB_HISTORY3_VAL_LEN 16

/* NAMES: lognum, the exact name (at most TB_NAME_MAX bytes); its length. */
#define TB_NAME_KEY_MAX (4 + TB_NAME_MAX)
static inline size_t tb_name_key(uint8_t k[TB_NAME_KEY_MAX], uint32_t lognum, const void *name,
				 size_t n)
{
	TB_ASSERT(n <= TB_NAME_MAX);
	tb_be32_put(k, lognum);
	memcpy(k + 4, name, n);
	return 4 + n;
}

/* NAMEKEYS: lognum, SHA-256 of one comparison key of a name (tb_text.h). */
#define TB_NAMEKEY_KEY_LEN (4 + TB_HASHLEN)
static inline void tb_namekey_key(uint8_t k[TB_NAMEKEY_KEY_LEN], uint32_t lognum,
				  const uint8_t hash[TB_HASHLEN])
{
	tb_be32_put(k, lognum);
	memcpy(k + 4, hash, TB_HASHLEN);
}

/* CLEARING: lognum, the other community's log id. */
#define TB_CLEARING_KEY_LEN (4 + TB_KEY_LEN)
static inline void tb_clearing_key(uint8_t k[TB_CLEARING_KEY_LEN], uint32_t lognum,
				   const uint8_t other[TB_KEY_LEN])
{
	tb_be32_put(k, lognum);
	memcpy(k + 4, other, TB_KEY_LEN);
}

/* XLEGS and XOPEN: the payer's log id, the transaction id. */
#define TB_XLEG_KEY_LEN (TB_KEY_LEN + TB_TXID_LEN)
static inline void tb_xleg_key(uint8_t k[TB_XLEG_KEY_LEN], const uint8_t payer[TB_KEY_LEN],
			       const uint8_t txid[TB_TXID_LEN])
{
	memcpy(k, payer, TB_KEY_LEN);
	memcpy(k + TB_KEY_LEN, txid, TB_TXID_LEN);
}

/* XDUE: the provider's log id, the payer's, the transaction id, so a
 * provider's work is one prefix and each payer's a run within it. */
#define TB_XDUE_KEY_LEN (2 * TB_KEY_LEN + TB_TXID_LEN)
static inline void tb_xdue_key(uint8_t k[TB_XDUE_KEY_LEN], const uint8_t provider[TB_KEY_LEN],
			       const uint8_t payer[TB_KEY_LEN], const uint8_t txid[TB_TXID_LEN])
{
	memcpy(k, provider, TB_KEY_LEN);
	memcpy(k + TB_KEY_LEN, payer, TB_KEY_LEN);
	memcpy(k + 2 * TB_KEY_LEN, txid, TB_TXID_LEN);
}

/* XDECIDED: the deciding lognum, the prepare's payer log id, its txid. */
#define TB_XDECIDED_KEY_LEN (4 + TB_KEY_LEN + TB_TXID_LEN)
static inline void tb_xdecided_key(uint8_t k[TB_XDECIDED_KEY_LEN], uint32_t lognum,
				   const uint8_t from_log[TB_KEY_LEN],
				   const uint8_t txid[TB_TXID_LEN])
{
	tb_be32_put(k, lognum);
	memcpy(k + 4, from_log, TB_KEY_LEN);
	memcpy(k + 4 + TB_KEY_LEN, txid, TB_TXID_LEN);
}

/* CONTACTS: the member number (the own log's members only). */
#define TB_CONTACT_KEY_LEN 4
static inline void tb_contact_key(uint8_t k[TB_CONTACT_KEY_LEN], uint32_t member)
{
	tb_be32_put(k, member);
}

/* MERKLE: lognum, the subtree's last leaf, its level. Only subtrees of
 * 2^TB_MERKLE_KEEP leaves or more are kept (smaller ones are hashed again
 * from at most 2^TB_MERKLE_KEEP - 1 records when a proof needs them), and
 * keyed by the last leaf, so the nodes an append closes sort after every
 * node of the log already kept: LMDB fills pages written in key order. */
#define TB_MERKLE_KEEP 4
#define TB_MERKLE_KEY_LEN 13
static inline void tb_merkle_key(uint8_t k[TB_MERKLE_KEY_LEN], uint32_t lognum, unsigned level,
				 uint64_t index)
{
	tb_be32_put(k, lognum);
	tb_be64_put(k + 4, ((index + 1) << level) - 1);
	k[12] = (uint8_t)level;
}

/* Derived records. */
#define TB_COMMUNITY_REC_MAX (1 + TB_NAME_MAX + 8 * 6 + 4 * 2)
size_t tb_community_pack(uint8_t *out, const struct tb_community *c);
int tb_community_unpack(struct tb_community *c, struct tb_view v);
int tb_community_get(struct tb_txn *t, uint32_t lognum, struct tb_community *c);
void tb_community_put(struct tb_txn *t, uint32_t lognum, const struct tb_community *c);

#define TB_MEMBER_REC_MAX (TB_KEY_LEN + 8 * 5 + 1 + 1 + TB_NAME_MAX)
size_t tb_member_pack(uint8_t *out, const struct tb_member *m);
int tb_member_unpack(struct tb_member *m, uint32_t no, struct tb_view v);
int tb_member_get(struct tb_txn *t, uint32_t lognum, uint32_t no, struct tb_member *m);
void tb_member_put(struct tb_txn *t, uint32_t lognum, const struct tb_member *m);

/* Reports a violation to an audit sink and clears rej for the next one. */
void tb_audit_report(const struct tb_audit_sink *a, struct tb_reject *rej);

/* Per-batch context the rules fill with member signatures to check. */
struct tb_sigjobs {
	const struct tb_audit_sink *audit; /* audit mode when not NULL */
	const bool *presub;		   /* records whose log signature is queued apart */
	struct tb_verify_job *jobs;
	size_t *owner; /* index of the batch record each job belongs to */
	size_t n;
	size_t cap;
	uint8_t *arena; /* encoded terms the jobs point into */
	size_t arena_len;
	size_t arena_cap;
};

/*
 * Applies the ledger rules for entry e (already decoded, seq and prev
 * checked) of log lognum: refuses what breaks a rule (a negative TB_E* code
 * with rej->msg saying why, naming limits), else updates the derived indexes
 * in t and queues the member signatures to verify in jobs (tagged with
 * `owner`).
 */
int tb_rules_apply(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		   struct tb_sigjobs *jobs, size_t owner, struct tb_reject *rej);

/* rulebase.c: rule helpers rules.c, xrules.c and mrules.c share (REJ-style
 * refusals in rej). They call none of the three. */
int tb_rule_valid_date(uint64_t d);
/* An entry's date may be at most this long after its timestamp's day. */
#define TB_DATE_AHEAD 86400u
uint64_t tb_rule_day_of(uint64_t ts);
/* date is a real date, not after the day after e's timestamp (EDATE). */
int tb_rule_date(const struct tb_entry *e, uint64_t date, struct tb_reject *rej);
/* The key of keyless members: 32 zero bytes. */
bool tb_key_is_none(const uint8_t key[TB_KEY_LEN]);
/* The name that stays reserved for the community account. */
#define TB_ACCOUNT_NAME "community"
/* The community account (member 0), made up when never written yet. */
int tb_rule_account(struct tb_txn *t, uint32_t lognum, uint64_t no, struct tb_member *m);
int tb_key_in_use(struct tb_txn *t, uint32_t lognum, const uint8_t *key, struct tb_member *who);
/* NAMES: exact name of an active member -> number (put or delete). */
void tb_names_exact(struct tb_txn *t, uint32_t lognum, const char *name, uint32_t no, bool put);

int tb_rule_queue_terms(struct tb_sigjobs *jobs, size_t owner, enum tb_sigctx ctx,
			const struct tb_msgdef *d, const void *terms, const uint8_t *k1,
			struct tb_view s1, const uint8_t *k2, struct tb_view s2);
int tb_rule_active_member(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e, uint64_t no,
			  struct tb_member *m, struct tb_reject *rej);
void tb_rule_history_put(struct tb_txn *t, uint32_t lognum, uint32_t member, uint64_t seq,
			 int64_t delta, int64_t balance);
int tb_rule_txid_fresh(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		       const uint8_t *txid, struct tb_reject *rej);
void tb_rule_txid_put(struct tb_txn *t, uint32_t lognum, const uint8_t *txid, uint64_t seq,
		      uint64_t reversed_by);

/* mrules.c: names, member updates, opening balances. */
/* The name rule (FORMAT.md 7.4) for a member numbered self (0: a new one). */
int tb_rule_name(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e, struct tb_view name,
		 uint32_t self, struct tb_reject *rej);
/* NAMEKEYS: both comparison keys of an active member's name (put or delete). */
void tb_name_index(struct tb_txn *t, uint32_t lognum, const char *name, uint32_t no, bool put);
/* The active member whose name is the same name as name (tb_text.h keys). */
int tb_name_lookup(struct tb_txn *t, uint32_t lognum, const char *name, size_t len, uint32_t *no);
int tb_rule_member_update(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
			  struct tb_reject *rej);
int tb_rule_opening(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		    struct tb_reject *rej);

/* succession.c: a new log for a community whose log forked (kind 14). */
int tb_rule_succession(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		       struct tb_reject *rej);
/* The succession that log_id's entry 2 is: 0, or TB_ENOTFOUND when that
 * entry is not held or not a succession. With check, its signatures and
 * rule are checked again (an audit's chain keeps refused entries; fork_seq
 * is then set); without, the entry is trusted (the own log). */
int tb_succession_of(struct tb_txn *t, const uint8_t *log_id, bool check, struct tb_successor *out);
/* Whether new_log validly succeeds old_log (tb_succession_of). */
bool tb_succeeds(struct tb_txn *t, const uint8_t *new_log, const uint8_t *old_log);

/* xrules.c: the cross-community legs (trust lines, prepare, decide, final). */
int tb_rule_admit(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		  struct tb_reject *rej);
int tb_xrule_link(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		  struct tb_reject *rej);
int tb_xrule_prepare(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		     struct tb_sigjobs *jobs, size_t owner, struct tb_reject *rej);
int tb_xrule_decide(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		    struct tb_reject *rej);
int tb_xrule_final(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		   struct tb_reject *rej);

/* Clearing accounts and cross-community legs (xrecords.c). */
int tb_clearing_get(struct tb_txn *t, uint32_t lognum, const uint8_t other[TB_KEY_LEN],
		    struct tb_clearing *c);
void tb_clearing_put(struct tb_txn *t, uint32_t lognum, const struct tb_clearing *c);
int tb_clearing_foreach(struct tb_txn *t, uint32_t lognum, tb_clearing_fn cb, void *ctx);
int tb_xleg_get(struct tb_txn *t, const uint8_t payer[TB_KEY_LEN], const uint8_t txid[TB_TXID_LEN],
		struct tb_xleg *x);
/* Writes x and keeps XOPEN (open while no final leg is held) and XDUE (a
 * held prepare whose provider's decision is not held, nor its final leg) in
 * step. */
void tb_xleg_put(struct tb_txn *t, const struct tb_xleg *x);
/* TB_ENOTFOUND if log lognum decided no prepare (from_log, txid). */
int tb_xdecided_get(struct tb_txn *t, uint32_t lognum, const uint8_t from_log[TB_KEY_LEN],
		    const uint8_t txid[TB_TXID_LEN], struct tb_xdecided *d);
void tb_xdecided_put(struct tb_txn *t, uint32_t lognum, const uint8_t from_log[TB_KEY_LEN],
		     const uint8_t txid[TB_TXID_LEN], const struct tb_xdecided *d);
int tb_xleg_unpack(struct tb_xleg *x, struct tb_view k, struct tb_view v);

/* Writes a memo to the local table inside t (local.c). */
void tb_memo_put_txn(struct tb_txn *t, const struct tb_memo *m);
/* Drops a pending proposal inside t: 0, TB_ENOTFOUND (local.c). */
int tb_pending_del_txn(struct tb_txn *t, const uint8_t txid[TB_TXID_LEN]);
/* Keeps who attested txid inside t: 0, TB_EINVAL for a bad name (coords.c). */
int tb_attested_put_txn(struct tb_txn *t, const uint8_t txid[TB_TXID_LEN], const char *name);

/* ---- signed objects kept beside the logs: listings, answers (objects.c) ---- */
/* Fills rej (when not NULL) with "OBJECT refused: WHAT (error text)" for
 * log; returns err. */
int tb_obj_refuse(struct tb_reject *rej, int err, const uint8_t *log, const char *object,
		  const char *what);
/* Whether a text is in Unicode NFC (an empty one is). */
bool tb_view_is_nfc(struct tb_view v);
/* How many keys of tab start with prefix. */
size_t tb_txn_count(struct tb_txn *t, enum tb_table tab, const uint8_t *prefix, size_t plen);

/* Deletes the key file kept for an own member, if any (devices.c). */
void tb_keyfile_forget_txn(struct tb_txn *t, uint64_t member);

/* Builds, signs and ingests the next own entry inside t (append.c). */
/* 0, or TB_ERESTORED (described in rej) if the store is marked restored. */
int tb_restored_check(struct tb_txn *t, const uint8_t log_id[TB_KEY_LEN], struct tb_reject *rej);
int tb_own_append_txn(struct tb_txn *t, const struct tb_keypair *kp, uint64_t kind,
		      const void *body, uint64_t *seq, struct tb_reject *rej);

/* reindex.c: the rebuild lock, a POSIX lock on DATA/reindex.lock held
 * around deciding on and running a reindex or conversion, so two writable
 * opens (tallyd and a `tally` command) never rebuild at once. *fd is -1
 * for a scratch store (its directory is private). */
int tb_rebuild_lock(struct tb_store *s, int *fd);
void tb_rebuild_unlock(int fd);
/* tb_store_reindex with the rebuild lock held by the caller. */
int tb_store_reindex_locked(struct tb_store *s, struct tb_reject *rej);
/* convert.c: converts a layout-3 store's statement index to layout 4 (the
 * caller holds the rebuild lock); resumes a conversion cut short. */
int tb_store_convert3(struct tb_store *s);

/* Formats minutes as hours for messages: "-10:00", "+1:30". */
void tb_fmt_hours(char *out, size_t cap, int64_t minutes);

/* Sets a rejection: err, where, and a printf-style sentence. */
int tb_reject_set(struct tb_reject *rej, int err, const uint8_t *log_id, uint64_t seq,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Merkle getter over the MERKLE table of one log inside a transaction:
 * subtrees below TB_MERKLE_KEEP (and all, in a read-only store of an older
 * layout that lacks the table) are hashed from the log's records. */
struct tb_merkle_src {
	struct tb_txn *t;
	uint32_t lognum;
};
int tb_merkle_get_db(void *ctx, unsigned level, uint64_t index, uint8_t out[TB_MERKLE_HASH_LEN]);
/* Appends leaf `index` of a log's tree (its record written already in t),
 * writing the nodes it completes from level TB_MERKLE_KEEP up. */
void tb_merkle_store_leaf(struct tb_txn *t, uint32_t lognum, uint64_t index);

/* xverify.c: how many entries a step of the cross-log pass reads (tests
 * give small numbers to cross the steps' boundaries; 0 is taken as 1). */
void tb_xverify_set_chunk(struct tb_xverify *v, size_t chunk);

/* listings.c: a held LISTINGS value (stamp || object) decoded: the
 * listing, its stamp and a view of its object; TB_ECORRUPT if malformed. */
int tb_listing_held(struct tb_view v, struct tb_listing *l, uint64_t *stamp, struct tb_view *obj);
/* listings.c: whether the listing (log, id) held is live at now (not
 * withdrawn, not expired) in t: 0 and its member, TB_ENOTFOUND, or an
 * error. */
int tb_listing_live_txn(struct tb_txn *t, const uint8_t *log, const uint8_t *id, uint64_t now,
			uint32_t *member);

/* invites.c: local tables of one-time tokens (invitations, device links):
 * key the token's SHA-256, value its expiry (u64 BE) then vlen - 8 bytes.
 * tb_tokens_put drops the expired rows first, then refuses (TB_EFULL) when
 * max live rows are there, or group_max live rows whose glen bytes after
 * the expiry equal v's (glen 0: no group). tb_tokens_get copies the value
 * (at most cap bytes) of a live row (TB_ENOTFOUND if none or expired), and
 * with take deletes it in the same transaction. */
int tb_tokens_put(struct tb_store *s, enum tb_table tab, const uint8_t hash[TB_HASHLEN],
		  const uint8_t *v, size_t vlen, uint64_t now, size_t max, size_t glen,
		  size_t group_max);
int tb_tokens_get(struct tb_store *s, enum tb_table tab, const uint8_t hash[TB_HASHLEN],
		  uint64_t now, bool take, uint8_t *out, size_t cap, size_t *len);
int tb_tokens_del(struct tb_store *s, enum tb_table tab, const uint8_t hash[TB_HASHLEN]);

#endif
