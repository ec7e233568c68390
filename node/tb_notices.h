/*
 * tb_notices.h: what waits for a member (docs/API.md, "Notices"): proposals
 * for them to confirm, their cross-community payments completed or refused
 * and payments to them from other communities, their listings about to
 * expire, and answers to their listings. Computed from the store when
 * asked, never kept: the page and the email digest read the same list.
 */
#ifndef TB_NOTICES_H
#define TB_NOTICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tb_notice_prefs.h"
#include "tb_store.h"

/* The newest notices kept for one member; older ones are counted. */
#define TB_NOTICES_MAX 50
/* How far back (seconds) and how many of the own log's last entries are
 * read for cross-community payments. */
#define TB_NOTICES_AGE_S (30ull * 86400)
#define TB_NOTICES_SCAN 2000
/* A listing is about to expire this long (seconds) before it does. */
#define TB_NOTICES_EXPIRING_S (3ull * 86400)

enum tb_notice_kind {
	TB_NOTICE_PROPOSAL, /* a proposal waits for the member to confirm (text: the
			     * title of a listing of theirs its memo names) */
	TB_NOTICE_ANSWER,   /* a member answered a listing of theirs (text: its title;
			     * id: the listing's id; who: name or name@community) */
	TB_NOTICE_PAID,	    /* their payment to another community completed */
	TB_NOTICE_REFUSED,  /* ... was refused (text: why) */
	TB_NOTICE_RECEIVED, /* a member of another community paid them */
	TB_NOTICE_EXPIRING, /* a listing of theirs expires within 3 days */
};

struct tb_notice {
	uint8_t kind;		 /* enum tb_notice_kind */
	uint64_t time;		 /* unix seconds: when it arose */
	uint64_t until;		 /* a proposal's or listing's expiry (else 0) */
	uint8_t id[TB_TXID_LEN]; /* the txid, or the listing's id */
	uint64_t minutes;
	char who[2 * TB_NAME_MAX + 2];	      /* the other party: name or name@community */
	char text[TB_LISTING_TITLE_MAX + 64]; /* a listing's title, or why refused */
};

struct tb_notices {
	struct tb_notice v[TB_NOTICES_MAX]; /* newest first */
	size_t n;
	size_t dropped; /* older ones left out */
};

/* The notices of the own log's member at time now (unix seconds). */
TB_MUST_CHECK int tb_notices_collect(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
				     uint32_t member, uint64_t now, struct tb_notices *out);
/* The word for a kind ("proposal", "answer", ...). */
const char *tb_notice_kind_name(uint8_t kind);
/* An email address as a member may give one: local@domain in plain ASCII
 * (letters, digits and !#$%&'*+-/=?^_`{|}~. before the @; letters, digits,
 * hyphens and dots after it, with a dot), at most TB_EMAIL_MAX bytes. 0, or
 * TB_EINVAL with why (a sentence) in why. */
int tb_email_check(const char *addr, char *why, size_t cap);

#endif
