/*
 * tb_notice_prefs.h: what a member chose about their notices, kept at this
 * node only (a local table, never in a log, never gossiped; FORMAT.md 8.3):
 * until when they have seen their notices, whether they get an email
 * digest (none, daily, weekly) and at which address, and when the last one
 * was sent. Keyed by the member's number in the own log.
 */
#ifndef TB_NOTICE_PREFS_H
#define TB_NOTICE_PREFS_H

#include <stdint.h>

#include "tb_err.h"

struct tb_store;

#define TB_EMAIL_MAX 254 /* an address (RFC 5321's path limit) */
/* Rows kept: one per member who changed a setting. */
#define TB_NOTICE_PREFS_MAX 100000

enum tb_digest_freq { TB_DIGEST_NONE = 0, TB_DIGEST_DAILY = 1, TB_DIGEST_WEEKLY = 2 };

struct tb_notice_prefs {
	uint8_t digest;		      /* enum tb_digest_freq */
	uint64_t seen;		      /* unix seconds: notices up to this are seen */
	uint64_t sent;		      /* unix seconds of the last digest sent (0: none) */
	char email[TB_EMAIL_MAX + 1]; /* "" when none */
};

/* A member's settings; all zero (no digest, nothing seen) when none are
 * kept. */
TB_MUST_CHECK int tb_store_notice_prefs(struct tb_store *s, uint32_t member,
					struct tb_notice_prefs *out);
/* Keeps them: TB_EINVAL for a bad digest value or an address over
 * TB_EMAIL_MAX, TB_EFULL when a new row would pass TB_NOTICE_PREFS_MAX. */
TB_MUST_CHECK int tb_store_notice_prefs_put(struct tb_store *s, uint32_t member,
					    const struct tb_notice_prefs *p);
/* Each member with a digest chosen (daily or weekly), by number; non-zero
 * from cb stops. */
typedef int (*tb_notice_prefs_fn)(void *ctx, uint32_t member, const struct tb_notice_prefs *p);
TB_MUST_CHECK int tb_store_foreach_digest(struct tb_store *s, tb_notice_prefs_fn cb, void *ctx);

#endif
