/*
 * tb_err.h: the one list of Tally's error codes.
 *
 * Every function that can fail returns int: 0 on success or a negative TB_E*
 * code from TB_ERRNO_MAP below. The same list yields tb_strerror() and
 * tb_errname(), so a code and its text can never drift apart. Add new codes at
 * the end only: the numbers appear in logs and in JSON output.
 */
#ifndef TB_ERR_H
#define TB_ERR_H

#define TB_ERRNO_MAP(X)                                                                       \
	X(NOMEM, "out of memory")                                                             \
	X(INVAL, "invalid argument")                                                          \
	X(IO, "input/output error")                                                           \
	X(TRUNCATED, "input is truncated")                                                    \
	X(TRAILING, "trailing bytes after the end of the message")                            \
	X(TYPE, "field has the wrong type")                                                   \
	X(RANGE, "field value out of range")                                                  \
	X(TOOLONG, "field is too long")                                                       \
	X(TOOBIG, "message is over its size cap")                                             \
	X(NONCANON, "encoding is not canonical")                                              \
	X(VERSION, "unknown version")                                                         \
	X(KIND, "unknown kind")                                                               \
	X(ARITY, "wrong number of fields")                                                    \
	X(UTF8, "text is not valid UTF-8 or contains control characters")                     \
	X(BADSIG, "signature does not verify")                                                \
	X(SEQ, "seq is not the next one of its log")                                          \
	X(PREV, "prev does not match the hash of the previous entry")                         \
	X(PASSPHRASE, "wrong passphrase (or the key file was altered)")                       \
	X(KEYFILE, "malformed key file")                                                      \
	X(NOTFOUND, "not found")                                                              \
	X(EXISTS, "already exists")                                                           \
	X(STORE, "storage error")                                                             \
	X(CORRUPT, "stored data is corrupt")                                                  \
	X(FULL, "capacity reached")                                                           \
	X(GENESIS, "genesis must be the first entry of a log, and only it")                   \
	X(MEMBER, "unknown member")                                                           \
	X(LEFT, "member has left the community")                                              \
	X(NAME, "member name already in use")                                                 \
	X(AMOUNT, "minutes must be a whole number from 1 up")                                 \
	X(SELF, "provider and receiver must be different members")                            \
	X(FLOOR, "exchange would take a member below the debt limit")                         \
	X(CEILING, "exchange would take a member above the credit ceiling")                   \
	X(CONSENT, "missing or invalid member consent")                                       \
	X(DUPTX, "transaction id already used")                                               \
	X(NOTX, "no exchange with that transaction id")                                       \
	X(REVERSED, "exchange was already reversed")                                          \
	X(FORKED, "log is forked; no further entries are accepted")                           \
	X(DATE, "not a valid date")                                                           \
	X(LOGID, "entry belongs to another log")                                              \
	X(PROOF, "proof does not verify")                                                     \
	X(USAGE, "usage error")                                                               \
	X(LINK, "no trust line with that community")                                          \
	X(TRUST, "exchange would exceed the trust limit")                                     \
	X(EXPIRED, "the exchange expired before it was decided")                              \
	X(DECLINED, "the other community refused the exchange")                               \
	X(MIRROR, "clearing balances do not mirror")                                          \
	X(LEG, "a cross-community leg has no matching counterpart")                           \
	X(DISKFULL, "disk full")                                                              \
	X(PERM, "permission denied")                                                          \
	X(LOCKED, "another tallyd is running on this data directory")                         \
	X(RESTORED,                                                                           \
	  "restored from a backup: nothing is signed until tallyd has synced with its peers") \
	X(AUTH, "not logged in, or the session has expired")                                  \
	X(DENIED, "not allowed for this role")                                                \
	X(CSRF, "missing or wrong CSRF token")                                                \
	X(THROTTLED, "too many failed logins; wait before trying again")                      \
	X(CATEGORY, "not one of the community's categories")                                  \
	X(SUCCESSION, "not a valid succession of a forked log")                               \
	X(OPEN, "too many exchanges open toward that community")                              \
	X(NOTADMITTED, "the community is not admitted here")                                  \
	X(ADMIT, "admission refused")                                                         \
	X(CONFLICT, "conflicts with the entry held at that seq")                              \
	X(EXPIRY, "a listing must expire 1 to 90 days after it was made")                     \
	X(REINDEX,                                                                            \
	  "the store's indexes are being rebuilt: start tallyd (or run any tally command "    \
	  "that writes) and try again once it has finished")

enum tb__errno_pos {
	TB__POS_OK = 0,
#define TB__POS(name, text) TB__POS_##name,
	TB_ERRNO_MAP(TB__POS)
#undef TB__POS
		TB__POS_COUNT
};

enum tb_errno {
	TB_OK = 0,
#define TB__ERR(name, text) TB_E##name = -TB__POS_##name,
	TB_ERRNO_MAP(TB__ERR)
#undef TB__ERR
};

/* Text of an error code; never NULL, also for unknown codes. */
const char *tb_strerror(int err);
/* Short symbolic name ("EFLOOR"); never NULL. */
const char *tb_errname(int err);

#if defined(__GNUC__)
#define TB_MUST_CHECK __attribute__((warn_unused_result))
#else
#define TB_MUST_CHECK
#endif

/* Always-on assertion for broken internal invariants (never for input). */
#define TB_ASSERT(cond)                                            \
	do {                                                       \
		if (!(cond))                                       \
			tb_assert_fail(#cond, __FILE__, __LINE__); \
	} while (0)

_Noreturn void tb_assert_fail(const char *expr, const char *file, int line);

#endif
