/*
 * tb_json.h: JSON for the command line's --json and tallyd's HTTP API, the
 * only module that sees jansson (json.c). Two halves:
 *
 *  - values: build an object or array and print it. Setters take ownership
 *    of the value given (also on failure), so a tree is freed once, from its
 *    root. Integers are int64_t and stay exact.
 *  - decoding: tb_json_decode reads a request body against a table of fields
 *    (name, type, bounds, where to copy it) and refuses, with a sentence
 *    naming the field, malformed JSON, duplicate or unknown keys, wrong
 *    types, values out of bounds and text that is not clean UTF-8.
 *
 * The vocabulary (docs/API.md, "Vocabulary"): which objects exist and how
 * their fields are named is vocab.c's, so the CLI and the API print the same
 * objects.
 */
#ifndef TB_JSON_H
#define TB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tb_audit.h"
#include "tb_store.h"
#include "tb_text.h"

struct tb_json;

struct tb_json *tb_json_object(void);
struct tb_json *tb_json_array(void);
struct tb_json *tb_json_string(const char *s); /* NULL if s is not UTF-8 */
struct tb_json *tb_json_stringn(const char *s, size_t len);
/* A QR code of text as an SVG document, set as o's "qr_svg" (false when it
 * could not be made). */
bool tb_json_qr_set(struct tb_json *o, const char *text);
struct tb_json *tb_json_int(int64_t v);
struct tb_json *tb_json_bool(bool v);
struct tb_json *tb_json_null(void);
/* Lower-case hex of len bytes. */
struct tb_json *tb_json_bytes(const uint8_t *p, size_t len);
/* A date of service (yyyymmdd) as "YYYY-MM-DD". */
struct tb_json *tb_json_date(uint64_t yyyymmdd);
/* A moment (unix seconds) as "YYYY-MM-DDTHH:MM:SSZ"; 0 is null. */
struct tb_json *tb_json_time(uint64_t unix_seconds);

/* Sets obj[key] = v, taking v (a NULL v is TB_ENOMEM). */
int tb_json_set(struct tb_json *obj, const char *key, struct tb_json *v);
/* Appends v to arr, taking v. */
int tb_json_push(struct tb_json *arr, struct tb_json *v);
size_t tb_json_length(const struct tb_json *arr);
void tb_json_free(struct tb_json *v);

/* Compact text with a final newline, malloc'd (NUL-terminated); NULL if out
 * of memory. */
char *tb_json_dump(const struct tb_json *v, size_t *len);
/* Prints compact text and a newline; 0 or TB_EIO. */
int tb_json_print(const struct tb_json *v, FILE *f);

/* Whether text is exactly one JSON document (an object or an array, with
 * nothing but white space after it). */
bool tb_json_document(const char *text, size_t len);

/* ---- decoding request bodies ---- */

enum tb_jtype { TB_JT_STR, TB_JT_INT, TB_JT_BOOL };

struct tb_jfield {
	const char *key;
	enum tb_jtype type;
	bool required;
	int64_t min, max; /* INT: bounds; STR: length in bytes */
	void *out;	  /* STR: char[max + 1]; INT: int64_t; BOOL: bool */
	bool *present;	  /* may be NULL */
};

/* Room for a sentence explaining why a body was refused. */
#define TB_JSON_MSG_MAX 160

/*
 * Decodes a JSON object of at most len bytes into the fields. Returns 0, or
 * TB_EINVAL with msg saying what is wrong ("field 'minutes' must be an
 * integer"). Strings must be valid UTF-8 without control characters (NUL
 * included); fields absent and not required are left as they were.
 */
TB_MUST_CHECK int tb_json_decode(const char *body, size_t len, const struct tb_jfield *fields,
				 size_t nfields, char msg[TB_JSON_MSG_MAX]);

/* ---- the vocabulary (vocab.c) ---- */

/* "viewer", "coordinator", "admin" (enum tb_role); "?" otherwise. */
const char *tb_role_name(int role);
/* enum tb_role of a name, or -1. */
int tb_role_parse(const char *s);

/* {"name","role","created"} */
struct tb_json *tb_vocab_coordinator(const struct tb_coord *c);
/* {"id","name","debt_limit_minutes","ceiling_minutes","members",...} */
struct tb_json *tb_vocab_community(const uint8_t id[TB_KEY_LEN], const struct tb_community *c);
/* {"number","name","key","debt_limit_minutes","ceiling_minutes",
 *  "balance_minutes","held_minutes","active","joined_seq"} */
struct tb_json *tb_vocab_member(const struct tb_member *m);
/* {"community","community_name","linked","limit_minutes","balance_minutes",
 *  "held_minutes","exchanges"}: a clearing account toward another community. */
struct tb_json *tb_vocab_clearing(const struct tb_clearing *c, const char *other_name);
/* A trust line (docs/API.md 6): the clearing account toward another
 * community beside mirror, that community's account toward us (NULL when
 * its log is not held). */
struct tb_json *tb_vocab_link(const struct tb_clearing *c, const char *other_name,
			      const struct tb_clearing *mirror);
/* {"log","community_name","own","seq","head","forked"}: a log held. */
struct tb_json *tb_vocab_log(const struct tb_head *h, const char *community_name, bool own);
/* {"log","community_name","seq","entry_a","entry_b"}: a fork proof. */
struct tb_json *tb_vocab_fork(const uint8_t log_id[TB_KEY_LEN], const char *community_name,
			      uint64_t seq, struct tb_view a, struct tb_view b);
/* {"log","community_name","size","root","time"}: a signed checkpoint. */
struct tb_json *tb_vocab_checkpoint(const struct tb_checkpoint *cp, const char *community_name);
struct tb_op_xview;
/* A cross-community exchange (docs/API.md 6): {"txid","state","payer",
 * "payee","payer_community","payee_community","minutes","expires",
 * "prepare_seq","decide_seq","final_seq","refusal"}. */
struct tb_json *tb_vocab_cross(const struct tb_op_xview *v);
/* Routes to a member of another community (routes.c, docs/API.md "Routes";
 * GET /api/v1/routes, `tally --json exchange route`): {"payee",
 * "payee_community","minutes","max_hops","routes","refused","reason"}. */
struct tb_op_routes;
struct tb_json *tb_vocab_routes(const struct tb_op_routes *r);
/* An exchange or reversal entry of the own log (docs/API.md section 5);
 * NULL for another kind or out of memory. */
struct tb_json *tb_vocab_exchange(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
				  const struct tb_entry *e);
/* The exchange an entry is about: itself, or the one a reversal undoes
 * (decoded into orig from rec); TB_EKIND for other kinds. */
int tb_vocab_exchange_of(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
			 const struct tb_entry *e, uint8_t rec[TB_ENTRY_MAX], struct tb_entry *orig,
			 const struct tb_exchange **x);
/* A pending proposal. */
struct tb_json *tb_vocab_proposal(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
				  const struct tb_proposal *p);
/* A line of member's statement: kind "exchange", "reversal", "cross" (a
 * leg with another community; the counterparty is name@community) or
 * "opening" (an imported opening balance, with the community account). */
struct tb_json *tb_vocab_statement_line(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
					uint32_t member, const struct tb_history_item *h);
/* Which exchanges a list holds (GET /api/v1/exchanges): member 0 is any;
 * from and to are days (yyyymmdd, 0: open-ended); before a seq (0: none);
 * limit 1 to TB_VOCAB_LIST_MAX. */
#define TB_VOCAB_LIST_DEFAULT 100
#define TB_VOCAB_LIST_MAX 1000
struct tb_vocab_filter {
	uint32_t member;
	bool by_category;
	char folded[TB_TEXT_KEY_MAX]; /* the category, case-folded NFC */
	uint64_t from, to, before, limit;
};
/* Sets the category filter; TB_EINVAL if it is not valid UTF-8. */
int tb_vocab_filter_category(struct tb_vocab_filter *f, const char *category);
/* {"exchanges": [exchange...], "next_before": SEQ or null}: the newest
 * matching exchanges and reversals, newest first; NULL with *err set. */
struct tb_json *tb_vocab_exchanges(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
				   const struct tb_vocab_filter *f, int *err);
/* One signed entry of a log, decoded from the message tables (entry.c,
 * `tally --json log`): {"seq","kind","recorded","hash","prev","bytes",
 * "body":{the kind's fields}}; rec is its record. NULL if out of memory
 * or the kind is unknown. */
struct tb_json *tb_vocab_entry(const struct tb_entry *e, struct tb_view rec);
/* A member's statement (GET /api/v1/members/NAME/statement, `tally --json
 * history NAME`): {"member", "opening_balance_minutes",
 * "closing_balance_minutes", "lines": [statement line...]} for the days
 * from..to (0: open-ended); NULL with *err set when the store cannot be
 * read. */
struct tb_json *tb_vocab_statement(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
				   const struct tb_member *m, uint64_t from, uint64_t to, int *err);
/* The balances (docs/API.md 4, GET /api/v1/balances, `tally --json
 * balance`): {"members": [member...], "clearing": [clearing...],
 * "sum_minutes"}; the community account first, then active members and
 * those who left holding a balance.
 * NULL with *err set when the store cannot be read. */
struct tb_json *tb_vocab_balances(struct tb_store *s, const uint8_t self[TB_KEY_LEN], int *err);
/* The lists (lists.c), each {KEY: [...]}, or NULL with *err set when the
 * store cannot be read: {"members"} (active members; all: also those who
 * left), {"pending"} proposals, {"links"} (trust lines), {"logs"} held,
 * {"forks"} (fork proofs), {"checkpoints"} (the newest of each log) and
 * {"coordinators"} of the console. */
struct tb_json *tb_vocab_members(struct tb_store *s, const uint8_t self[TB_KEY_LEN], bool all,
				 int *err);
struct tb_json *tb_vocab_pending(struct tb_store *s, const uint8_t self[TB_KEY_LEN], int *err);
struct tb_json *tb_vocab_links(struct tb_store *s, const uint8_t self[TB_KEY_LEN], int *err);
struct tb_json *tb_vocab_logs(struct tb_store *s, const uint8_t self[TB_KEY_LEN], int *err);
struct tb_json *tb_vocab_forks(struct tb_store *s, const uint8_t self[TB_KEY_LEN], int *err);
struct tb_json *tb_vocab_checkpoints(struct tb_store *s, const uint8_t self[TB_KEY_LEN], int *err);
struct tb_json *tb_vocab_coordinators(struct tb_store *s, int *err);
/* {"categories": [...]} (GET /api/v1/categories, `tally category list`);
 * with a category, {"category", what: done, "categories"}: what adding
 * ("added") or removing ("removed") one answers. */
struct tb_json *tb_vocab_categories(struct tb_store *s, const char *category, const char *what,
				    bool done, int *err);
/* The day an entry of the own log counts on: an exchange's date of service,
 * any other entry's (a reversal's too) the UTC day it was recorded; 0 when
 * it cannot be read. */
uint64_t tb_vocab_entry_day(struct tb_store *s, const uint8_t self[TB_KEY_LEN], uint64_t seq);
/* A peer (docs/API.md 7, GET /api/v1/peers, `tally --json peer list`):
 * {"address","id","community_name","connected","outbound","last_contact",
 * "bytes_in","bytes_out","logs"}, taking logs (an array of peer logs). id
 * and name may be NULL (not heard from yet); the bytes count only while
 * connected. */
struct tb_vocab_peer_in {
	const char *addr;
	const uint8_t *id;
	const char *name;
	bool connected, outbound;
	uint64_t last_contact; /* unix seconds, 0: unknown */
	uint64_t bytes_in, bytes_out;
};
struct tb_json *tb_vocab_peer(const struct tb_vocab_peer_in *p, struct tb_json *logs);
/* {"log","community_name","peer_seq","our_seq","lag"}: what a peer holds
 * of a log held here (community_name NULL when unknown). */
struct tb_json *tb_vocab_peer_log(const uint8_t log_id[TB_KEY_LEN], const char *community_name,
				  uint64_t peer_seq, uint64_t our_seq);
/* `tally --json community list`: {"community","community_name","status"
 * ("admitted", "vouching", "vouched" or "known"),"held" (its log is held
 * here),"admitted_by" (the admitting community's name, null for none)}. */
struct tb_json *tb_vocab_known_community(const uint8_t id[TB_KEY_LEN], const char *name,
					 const char *status, bool held, const char *admitted_by);
/* `tally --json community admit|remove`: {"community","community_name",
 * "status","seq"} of an ADMIT entry. */
struct tb_json *tb_vocab_admitted(const uint8_t id[TB_KEY_LEN], const char *name,
				  const char *status, uint64_t seq);
/* A rule broken in a log (verify, audit, POST /api/v1/audit): {"log",
 * "seq","item" (the item of an export, 0 for none),"code","message"}. */
struct tb_json *tb_vocab_violation(const struct tb_reject *r, uint64_t item);
/* An audit's counts (FORMAT.md 11.1): {"logs","entries","members",
 * "exchanges","reversals","minutes","forks","checkpoints","violations",
 * "legs_unmatched","legs_in_flight","succeeded"}; the successions told
 * (the first TB_AUDIT_STORIES): [{"old_log","fork_seq","new_log",
 * "kept_seq","kept"}]; and `tally --json verify`'s answer: {"clean",
 * "summary":{"logs","entries","legs_unmatched","legs_in_flight",
 * "succeeded"}} with "violation" when not clean. */
struct tb_json *tb_vocab_audit_summary(const struct tb_audit_summary *s);
struct tb_json *tb_vocab_successions(const struct tb_audit_summary *s);
struct tb_json *tb_vocab_verify(const struct tb_verify_report *r);
/* What a write answers: {"txid","seq"} (an exchange recorded, confirmed
 * or reversed: the new entry), {"txid","pending":true} (a proposal),
 * {"txid","rejected":true}, {"community","community_name","limit_minutes",
 * "seq"} (a trust line set) and {"seq","member"} (a member changed: the
 * entry, and the member object after it). */
struct tb_json *tb_vocab_txid_seq(const uint8_t txid[TB_TXID_LEN], uint64_t seq);
struct tb_json *tb_vocab_proposed(const uint8_t txid[TB_TXID_LEN]);
struct tb_json *tb_vocab_rejected(const uint8_t txid[TB_TXID_LEN]);
struct tb_json *tb_vocab_link_added(const uint8_t id[TB_KEY_LEN], const char *name, int64_t limit,
				    uint64_t seq);
struct tb_json *tb_vocab_member_change(uint64_t seq, const struct tb_member *m);
/* An error object: {"error":{"code":"EFLOOR","message":"..."}}. */
struct tb_json *tb_vocab_error(const char *code, const char *message);
/* One listing (listings.c): id, community, member's name and
 * "name@community", kind, texts, visibility, times, state, version, signed
 * or attested, and hidden when hidden is 0 or 1 (-1: not shown). */
struct tb_json *tb_vocab_listing(struct tb_store *s, const struct tb_listing *l, int hidden);
/* {"listings": [...], "more": bool}: what q matches, at most max of them. */
struct tb_json *tb_vocab_listings(struct tb_store *s, const struct tb_listing_query *q, size_t max,
				  int *err);

#endif
