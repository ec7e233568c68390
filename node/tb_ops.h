/*
 * tb_ops.h: what the command line and tallyd's API both do to the own
 * ledger: record an attested exchange, propose, confirm, reject and reverse
 * one, add and remove members, set a trust line. One code path each, so a
 * refusal carries one sentence wherever it is shown: every function returns
 * 0 or a TB_E* code with rej->msg saying why (the ledger rule's sentence for
 * a rule, ours for what is checked before the store), and prints nothing.
 *
 * Member keys: an operation that needs a member's signature reads the
 * member's key file (DATA/keys/members/<key>.key) with the passphrase given,
 * signs, and wipes key and passphrase copies.
 */
#ifndef TB_OPS_H
#define TB_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tb_store.h"
#include "tb_text.h"

struct tb_ops {
	struct tb_store *store;
	const uint8_t *self;	       /* the own log id */
	const char *data;	       /* the data directory */
	const struct tb_keypair *node; /* the community key, unlocked */
};

/* The terms of an exchange as given by a person. */
struct tb_op_terms {
	const char *provider, *receiver;
	int64_t minutes;
	const char *memo, *category; /* category may be "" */
	uint64_t date;		     /* yyyymmdd; 0: today */
};

/* A passphrase given for a member's key. */
struct tb_op_pass {
	const char *p;
	size_t len;
};

/* "YYYY-MM-DD" (a calendar date from 1970) into yyyymmdd, else TB_EDATE. */
int tb_date_parse(const char *s, uint64_t *yyyymmdd);
/* Today's date here (local time), as yyyymmdd. */
uint64_t tb_date_today(void);

/* Sets rej (may be NULL) to err with a sentence; returns err. */
int tb_op_refuse(struct tb_reject *rej, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A member by name (any case or form) or #N, else EMEMBER "no member named 'x'". */
int tb_op_member(const struct tb_ops *o, const char *name, struct tb_member *m,
		 struct tb_reject *rej);

/* A member's key file read with pass (for the caller to use and wipe):
 * ECONSENT when the member has no key, EPASSPHRASE when pass is empty or
 * wrong, ENOTFOUND when this node keeps no key file for them. */
TB_MUST_CHECK int tb_op_member_unlock(const struct tb_ops *o, const struct tb_member *m,
				      struct tb_op_pass pass, struct tb_keypair *kp,
				      struct tb_reject *rej);
/* A signature over terms (d their definition, ctx the context). */
TB_MUST_CHECK int tb_op_sign(const struct tb_keypair *kp, const struct tb_msgdef *d,
			     const void *terms, enum tb_sigctx ctx, uint8_t sig[TB_SIGLEN],
			     struct tb_reject *rej);
/* Checks a memo and a category as a person typed them (EUTF8), and puts
 * the category to record in cat: with the community's list, the list's
 * spelling (ECATEGORY when it is not on it), else as typed. */
TB_MUST_CHECK int tb_op_texts(const struct tb_ops *o, const char *memo, const char *category,
			      char cat[TB_CATEGORY_MAX + 1], struct tb_reject *rej);

/* Records an exchange attested by the coordinator (named in the local
 * attested table when not NULL); txid and seq of the new entry. */
TB_MUST_CHECK int tb_op_record(const struct tb_ops *o, const struct tb_op_terms *t,
			       const char *coordinator, uint8_t txid[TB_TXID_LEN], uint64_t *seq,
			       struct tb_reject *rej);
/* The provider signs a proposal, kept in the local pending table. */
TB_MUST_CHECK int tb_op_propose(const struct tb_ops *o, const struct tb_op_terms *t,
				struct tb_op_pass provider, uint8_t txid[TB_TXID_LEN],
				struct tb_reject *rej);
/* The receiver signs a pending proposal; it is recorded. */
TB_MUST_CHECK int tb_op_confirm(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN],
				struct tb_op_pass receiver, uint64_t *seq, struct tb_reject *rej);
/* A pending proposal into p (views into buf, TB_ENTRY_MAX bytes): ENOTFOUND
 * when there is none, EDUPTX when its txid is already recorded. */
TB_MUST_CHECK int tb_op_pending(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN],
				uint8_t *buf, size_t cap, struct tb_proposal *p,
				struct tb_reject *rej);
/* The exchange a txid names in the own log, decoded into e (views into
 * rec, TB_ENTRY_MAX bytes): ENOTX when there is none or it is not one. */
TB_MUST_CHECK int tb_op_exchange(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN],
				 uint8_t *rec, struct tb_entry *e, struct tb_reject *rej);
/* What the node chose for terms a member signs on their own device (the
 * member's browser): fresh in a draft, given back with the signature, and
 * the terms rebuilt from them and what the member entered. */
struct tb_op_fix {
	uint8_t txid[TB_TXID_LEN];
	uint8_t salt[TB_MEMO_SALT_LEN]; /* of the memo hash (FORMAT.md 8) */
	uint64_t expires;		/* a payment's (unix seconds); 0 otherwise */
};
/* Terms (d, ctx) that m signed on their own device, checked with m's key as
 * the ledger holds it now: ECONSENT without a key, EBADSIG. */
TB_MUST_CHECK int tb_op_member_verify(const struct tb_member *m, const struct tb_msgdef *d,
				      const void *terms, enum tb_sigctx ctx,
				      const uint8_t sig[TB_SIGLEN], struct tb_reject *rej);
/* The exchange a provider's device is to sign for t, with the checks of
 * tb_op_propose: fix gets a fresh txid and salt, x the exchange (its
 * category a view into cat). Nothing is kept. */
TB_MUST_CHECK int tb_op_propose_draft(const struct tb_ops *o, const struct tb_op_terms *t,
				      struct tb_op_fix *fix, struct tb_exchange *x,
				      char cat[TB_CATEGORY_MAX + 1], struct tb_reject *rej);
/* The provider's signature made on their device over the terms t and fix
 * make: checked, then kept as tb_op_propose keeps a proposal. EDUPTX when
 * the txid is pending or recorded already. */
TB_MUST_CHECK int tb_op_propose_signed(const struct tb_ops *o, const struct tb_op_terms *t,
				       const struct tb_op_fix *fix, const uint8_t sig[TB_SIGLEN],
				       struct tb_reject *rej);
/* The receiver's signature made on their device over a pending proposal's
 * terms: checked, then recorded as tb_op_confirm records it. */
TB_MUST_CHECK int tb_op_confirm_signed(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN],
				       const uint8_t sig[TB_SIGLEN], uint64_t *seq,
				       struct tb_reject *rej);
/* Drops a pending proposal (and its memo). */
TB_MUST_CHECK int tb_op_reject(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN],
			       struct tb_reject *rej);
/* Reverses an exchange with its consent: attested ones by attestation
 * (attest must be true), member-signed ones with both members' passphrases. */
TB_MUST_CHECK int tb_op_reverse(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN],
				bool attest, struct tb_op_pass provider, struct tb_op_pass receiver,
				uint8_t rtxid[TB_TXID_LEN], uint64_t *seq, struct tb_reject *rej);

/* Adds a member: with pubkey (the member keeps the key), or else a new key
 * whose file the node keeps encrypted with pass. debt_limit and ceiling are
 * minutes (-1: the community's). */
TB_MUST_CHECK int tb_op_member_add(const struct tb_ops *o, const char *name, int64_t debt_limit,
				   int64_t ceiling, const uint8_t *pubkey, struct tb_op_pass pass,
				   struct tb_member *out, struct tb_reject *rej);
/* Invites a new member (FORMAT.md 8.2): a one-time token (64 hex digits)
 * valid for valid_s seconds (1 to TB_INVITE_VALID_MAX), of which the store
 * keeps only the hash. The name is kept in NFC, and refused now (ENAME, or
 * EUTF8, with rej) where the join would refuse it: the name rule, '@', an
 * active member's name or one too like it. EFULL. */
TB_MUST_CHECK int tb_op_invite(const struct tb_ops *o, const char *name, uint64_t valid_s,
			       char token[65], uint64_t *expires, struct tb_reject *rej);
/* Records that a member left. */
TB_MUST_CHECK int tb_op_member_remove(const struct tb_ops *o, const char *name, uint64_t *seq,
				      struct tb_reject *rej);

/* ---- other communities, trust lines, coordinators, receipts (ops_fed.c) ---- */

#define TB_OP_CANDIDATES_MAX 8

/* A community as a person named it. */
struct tb_op_community {
	uint8_t id[TB_KEY_LEN];
	char name[TB_NAME_MAX + 1]; /* genesis name, or "1a2b3c4d..." when not held */
	bool held;		    /* its log (with genesis) is in the store */
	/* When the name is ambiguous (TB_EINVAL): the first candidates, and how many. */
	uint8_t cand[TB_OP_CANDIDATES_MAX][TB_KEY_LEN];
	size_t ncand;
};

/* Display name of a community: its genesis name if held, else "1a2b3c4d...". */
void tb_op_community_name(const struct tb_ops *o, const uint8_t id[TB_KEY_LEN], char *out,
			  size_t cap);
/* Resolves a community: the name of exactly one community admitted here or
 * of this one (the same name by NFC, case and look-alike letters, none
 * preferred for its exact case), else a 64-hex node id (also of a log not
 * held yet), else a unique hex prefix of at least 8 digits of a held or
 * linked log. TB_EINVAL when it names several (out->cand lists them) or cannot be
 * a name, TB_ENOTFOUND when none, else a store error; rej says which. */
TB_MUST_CHECK int tb_op_community(const struct tb_ops *o, const char *arg,
				  struct tb_op_community *out, struct tb_reject *rej);
/* Sets the trust line toward another community: how many minutes it may
 * owe this one (a LINK entry of the own log). ELINK for the own community. */
TB_MUST_CHECK int tb_op_link_add(const struct tb_ops *o, const uint8_t other[TB_KEY_LEN],
				 int64_t limit, uint64_t *seq, struct tb_reject *rej);

/* The smallest console password accepted (bytes). */
#define TB_PASSWORD_MIN 8
/* Adds a console coordinator with an Argon2id hash of the password:
 * TB_EEXISTS when the name is taken, TB_EINVAL for a bad name or role or a
 * password under TB_PASSWORD_MIN bytes. The password is not kept. */
TB_MUST_CHECK int tb_op_coord_add(const struct tb_ops *o, const char *name, int role,
				  const char *pw, size_t pwlen, struct tb_coord *out,
				  struct tb_reject *rej);
/* Changes a coordinator's role (role < 0: kept) and/or password (pw NULL:
 * kept); the node's last admin is never demoted (nor removed, below):
 * TB_EDENIED. */
TB_MUST_CHECK int tb_op_coord_set(const struct tb_ops *o, const char *name, int role,
				  const char *pw, size_t pwlen, struct tb_coord *out,
				  struct tb_reject *rej);
/* Removes one: TB_ENOTFOUND when there is none of that name. */
TB_MUST_CHECK int tb_op_coord_remove(const struct tb_ops *o, const char *name,
				     struct tb_reject *rej);

/* The receipt file of an exchange of the own log (FORMAT.md 4.4), in out
 * (TB_RECEIPT_MAX bytes): the newest checkpoint if it covers the entry, else
 * a new one signed with o->node (when o->node is NULL: TB_ENOTFOUND then).
 * TB_ENOTX when the log has no such txid. */
TB_MUST_CHECK int tb_op_receipt(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN],
				uint8_t *out, size_t cap, size_t *len, uint64_t *seq,
				struct tb_reject *rej);

/* A cross-community exchange as people are shown it, from its legs held. */
struct tb_op_xview {
	struct tb_xleg leg;
	const char *state; /* "held", "committed", "refused", "completed", "released" */
	uint64_t outcome;  /* of the decision (or the final leg) shown */
	bool has_outcome;
	char from[TB_NAME_MAX + 1], to[TB_NAME_MAX + 1];     /* member names, "?" unknown */
	char from_c[TB_NAME_MAX + 1], to_c[TB_NAME_MAX + 1]; /* community names */
};

/* Seconds an offer to another community stands, at most. */
#define TB_OP_TTL_MAX (366ull * 24 * 3600)

/* A payment to a member of another community, as a person gave it. */
struct tb_op_send {
	const char *from; /* the paying member, as tb_op_member takes it */
	const char *to;	  /* the payee as NAME@COMMUNITY (split at the last '@') */
	int64_t minutes;
	const char *memo, *category; /* category may be "" */
	uint64_t date;		     /* yyyymmdd; 0: today */
	bool attest;		     /* attested by a coordinator, else the payer signs */
	uint64_t ttl;		     /* seconds the offer stands: 1 to TB_OP_TTL_MAX */
	const char *coordinator;     /* who attested (kept locally), may be NULL */
};

/* Splits a payee given as NAME@COMMUNITY at the last '@': the name (checked
 * UTF-8, at most TB_NAME_MAX bytes) and a view of the community part;
 * EINVAL with rej otherwise. */
TB_MUST_CHECK int tb_op_split_to(const char *to, char name[TB_NAME_MAX + 1], const char **community,
				 struct tb_reject *rej);

/* Sends across communities: checks what can be checked here (payer,
 * community, trust lines both ways as held here, open exchanges, the
 * payer's floor counting holds), then appends the prepare leg (a hold on
 * the payer) with its memo; tallyd's clearing carries it on. The payer's
 * key is unlocked with payer unless s->attest. v gets the exchange as
 * held now (state "held"). EINVAL for a bad `to` or ttl, ENOTFOUND for an
 * unknown community, ELINK / EOPEN / EFLOOR / EMEMBER / a ledger rule's
 * code when refused; nothing is kept then. */
TB_MUST_CHECK int tb_op_send(const struct tb_ops *o, const struct tb_op_send *s,
			     struct tb_op_pass payer, struct tb_op_xview *v, struct tb_reject *rej);
/* A payment the payer's device is to sign: the checks of tb_op_send; fix
 * gets a fresh txid and salt and expires = now + s->ttl, x the prepare
 * (views into to_name and cat). Nothing is kept. s->attest must be false. */
TB_MUST_CHECK int tb_op_send_draft(const struct tb_ops *o, const struct tb_op_send *s,
				   struct tb_op_fix *fix, struct tb_xprepare *x,
				   char to_name[TB_NAME_MAX + 1], char cat[TB_CATEGORY_MAX + 1],
				   struct tb_reject *rej);
/* The payer's signature made on their device over the xprepare terms s and
 * fix make (fix->expires in the future, at most TB_OP_TTL_MAX ahead, else
 * EINVAL): checked, then sent as tb_op_send sends. */
TB_MUST_CHECK int tb_op_send_signed(const struct tb_ops *o, const struct tb_op_send *s,
				    const struct tb_op_fix *fix, const uint8_t sig[TB_SIGLEN],
				    struct tb_op_xview *v, struct tb_reject *rej);
/* Sets v->state and the outcome from v->leg. */
void tb_op_xview_state(struct tb_op_xview *v);
/* Fills the names from the prepare (or, not held, the decision). */
TB_MUST_CHECK int tb_op_xview_names(const struct tb_ops *o, struct tb_op_xview *v);
/* Finds an exchange by txid (paid by this community, else any held) and
 * fills v: TB_ENOTFOUND when none is held. */
TB_MUST_CHECK int tb_op_xview(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN],
			      struct tb_op_xview *v, struct tb_reject *rej);

/* ---- listings (ops_listing.c, FORMAT.md 16) ---- */

/* Unix seconds as listings see them: the clock, or in tests the number in
 * the file TALLY_TEST_CLOCK names (read each time, so a test moves every
 * node's clock at once). */
uint64_t tb_listing_now(void);

/* One text field of a listing or an answer, as typed, in NFC into out (cap
 * bytes), min..max bytes: ETOOLONG, ERANGE, EUTF8 named ("the title must
 * not hold U+202E (at byte 4)"). */
TB_MUST_CHECK int tb_op_listing_text(const char *in, const char *what, size_t min, size_t max,
				     char *out, size_t cap, struct tb_reject *rej);

/* A listing as a person gives it. */
struct tb_op_listing {
	const char *member;			    /* a name or #N of the own community */
	int kind;				    /* TB_LISTING_OFFER or TB_LISTING_REQUEST */
	const char *title, *description, *category; /* description, category may be "" */
	unsigned days;				    /* 1..90 (0: 30) */
	int visibility;				    /* TB_LISTING_COMMUNITY or _FEDERATION */
	bool attest;				    /* a coordinator posts it, unsigned */
	struct tb_op_pass pass;			    /* else the member's passphrase */
};
/* Posts a new listing of the own community: checks the texts (EUTF8,
 * ETOOLONG), the days (EEXPIRY) and the category (ECATEGORY), signs as
 * the member (or attested) and as the community, stores it. Its id. */
TB_MUST_CHECK int tb_op_listing_add(const struct tb_ops *o, const struct tb_op_listing *l,
				    uint64_t now, uint8_t id[TB_LISTING_ID_LEN],
				    struct tb_reject *rej);
/* A new version of a listing of the own community: withdrawn, or renewed
 * for days (0: 30) from now. Signed again by its member (pass) unless
 * attest. ENOTFOUND when no such listing is held (or it expired). */
TB_MUST_CHECK int tb_op_listing_change(const struct tb_ops *o, const uint8_t id[TB_LISTING_ID_LEN],
				       bool withdraw, unsigned days, bool attest,
				       struct tb_op_pass pass, uint64_t now, uint64_t *version,
				       struct tb_reject *rej);
/* A listing being made: the fields the member signs (l, attested 0 and no
 * member_sig yet; its texts point into the buffers here) and its member.
 * Members who sign on their own device get l's terms from a draft, sign
 * them there, and the node makes the same draft again to check the
 * signature (docs/API.md, "Members' own listings"). */
struct tb_op_listing_draft {
	struct tb_listing l;
	struct tb_member m;
	char title[TB_TEXT_IN_MAX + 8], desc[TB_TEXT_IN_MAX + 8], cat[TB_CATEGORY_MAX + 1];
	uint8_t held[TB_LISTING_MAX]; /* the version a change replaces */
};
/* The first version of a listing as tb_op_listing_add makes it (in->attest
 * and in->pass unused), created at now, with id (NULL: a random one).
 * Nothing is kept. */
TB_MUST_CHECK int tb_op_listing_draft_new(const struct tb_ops *o, const struct tb_op_listing *in,
					  uint64_t now, const uint8_t *id,
					  struct tb_op_listing_draft *d, struct tb_reject *rej);
/* The next version as tb_op_listing_change makes it, created at now.
 * ENOTFOUND when no live listing of the own community has that id. */
TB_MUST_CHECK int tb_op_listing_draft_change(const struct tb_ops *o,
					     const uint8_t id[TB_LISTING_ID_LEN], bool withdraw,
					     unsigned days, uint64_t now,
					     struct tb_op_listing_draft *d, struct tb_reject *rej);
/* Stores d's listing with sig, the member's signature made elsewhere over
 * its terms: ECONSENT unless it verifies with the member's key as the
 * ledger holds it now; then sealed by the community and stored. */
TB_MUST_CHECK int tb_op_listing_put_signed(const struct tb_ops *o, struct tb_op_listing_draft *d,
					   const uint8_t sig[TB_SIGLEN], uint64_t now,
					   struct tb_reject *rej);

/* ---- answers to listings (ops_answer.c, FORMAT.md 17) ---- */

/* An answer being made: the fields the responder signs (a, attested 0 and
 * no member_sig yet; its texts point into the buffers here), its member
 * and the listing answered (its kind, poster and title). */
struct tb_op_answer_draft {
	struct tb_answer a;
	struct tb_member m;
	char name[TB_NAME_MAX + 1], message[TB_TEXT_IN_MAX + 8];
	int kind;	 /* the listing's: TB_LISTING_OFFER or _REQUEST */
	uint32_t poster; /* the listing's member */
	char title[TB_LISTING_TITLE_MAX + 1];
};
/* An answer by member (a name or #N of the own community) to the live
 * listing id of community listing_log held here, with message (may be
 * ""), created at now. ENOTFOUND (no such live listing), EINVAL (the
 * member's own listing), ELEFT, ETOOLONG / EUTF8 (the message). */
TB_MUST_CHECK int tb_op_answer_draft(const struct tb_ops *o, const char *member,
				     const uint8_t listing_log[TB_KEY_LEN],
				     const uint8_t id[TB_LISTING_ID_LEN], const char *message,
				     uint64_t now, struct tb_op_answer_draft *d,
				     struct tb_reject *rej);
/* Stores d's answer with sig, the member's signature made elsewhere (NULL:
 * attested by this node, or signed here with pass when pass.p is set):
 * ECONSENT unless it verifies with the member's key; then the store's
 * checks and caps (tb_store_answer_put). The node delivers it. */
TB_MUST_CHECK int tb_op_answer_put(const struct tb_ops *o, struct tb_op_answer_draft *d,
				   const uint8_t *sig, struct tb_op_pass pass, uint64_t now,
				   struct tb_reject *rej);

#endif
