/*
 * tb_messages.h: the one definition of every message Tally encodes.
 *
 * Each TB_FIELDS_* list names a message's fields in wire order; the struct
 * that holds it, its encoder, its strict decoder and its printers are all
 * generated from the list (tb_proto.h and message.c), so nothing is copied by
 * hand per message. Field kinds:
 *   UINT  unsigned integer in [a, b]           -> uint64_t
 *   INT   signed integer in [a, b]             -> int64_t
 *   FIXED bin of exactly a bytes               -> uint8_t[a]
 *   BIN   bin of a..b bytes                    -> struct tb_view (into the input)
 *   STR   UTF-8 str of a..b bytes, no controls -> struct tb_view (into the input)
 * Wire order and numbers are frozen once released: FORMAT.md documents them.
 */
#ifndef TB_MESSAGES_H
#define TB_MESSAGES_H

#define TB_NAME_MAX 64
#define TB_CATEGORY_MAX 32
#define TB_TXID_LEN 16
#define TB_KEY_LEN 32
#define TB_HASHLEN 32
#define TB_SIGLEN 64
/* Largest amount of one exchange: 1,000 hours. */
#define TB_MINUTES_MAX 60000
/* Largest debt limit or ceiling: 1,000,000 hours. */
#define TB_LIMIT_MAX 60000000
#define TB_MEMBER_MAX 4294967295u
/* Member number of the community's own account (FORMAT.md 7.9). */
#define TB_COMMUNITY_ACCOUNT 0
/* Largest opening balance, either sign: 100,000 hours. */
#define TB_OPENING_MAX 6000000

/* kind 1: the first entry of every community log. */
#define TB_FIELDS_GENESIS(F, S)            \
	F(S, STR, name, 1, TB_NAME_MAX)    \
	F(S, INT, floor, -TB_LIMIT_MAX, 0) \
	F(S, UINT, ceiling, 0, TB_LIMIT_MAX)

/* kind 2: a member joins with a number, a name, a key and limits. */
#define TB_FIELDS_MEMBER_JOIN(F, S)              \
	F(S, UINT, member, 1, TB_MEMBER_MAX)     \
	F(S, STR, name, 1, TB_NAME_MAX)          \
	F(S, FIXED, key, TB_KEY_LEN, TB_KEY_LEN) \
	F(S, INT, floor, -TB_LIMIT_MAX, 0)       \
	F(S, UINT, ceiling, 0, TB_LIMIT_MAX)

/* kind 3: a member's key is replaced (lost device, new key). */
#define TB_FIELDS_MEMBER_KEY(F, S)           \
	F(S, UINT, member, 1, TB_MEMBER_MAX) \
	F(S, FIXED, key, TB_KEY_LEN, TB_KEY_LEN)

/* kind 4: a member leaves; the history stays. */
#define TB_FIELDS_MEMBER_LEFT(F, S) F(S, UINT, member, 1, TB_MEMBER_MAX)

/*
 * The fields an exchange, its signed terms and a pending proposal share, in
 * this order, defined once so the three cannot drift apart; low is the
 * smallest member number a party may have (0, the community account, only
 * in a recorded exchange, which is then attested).
 */
#define TB_FIELDS_EXCHANGE_SHARED(F, S, low)           \
	F(S, FIXED, txid, TB_TXID_LEN, TB_TXID_LEN)    \
	F(S, UINT, provider, low, TB_MEMBER_MAX)       \
	F(S, UINT, receiver, low, TB_MEMBER_MAX)       \
	F(S, UINT, minutes, 1, TB_MINUTES_MAX)         \
	F(S, STR, category, 0, TB_CATEGORY_MAX)        \
	F(S, FIXED, memo_hash, TB_HASHLEN, TB_HASHLEN) \
	F(S, UINT, date, 19700101, 99991231)

/* kind 5: provider helped receiver for minutes. Member 0 is the community
 * account (TB_COMMUNITY_ACCOUNT): its exchanges are attested. */
#define TB_FIELDS_EXCHANGE(F, S)              \
	TB_FIELDS_EXCHANGE_SHARED(F, S, 0)    \
	F(S, UINT, attested, 0, 1)            \
	F(S, BIN, provider_sig, 0, TB_SIGLEN) \
	F(S, BIN, receiver_sig, 0, TB_SIGLEN)

/* kind 6: an earlier exchange is undone by consent (never deleted). */
#define TB_FIELDS_REVERSAL(F, S)                        \
	F(S, FIXED, txid, TB_TXID_LEN, TB_TXID_LEN)     \
	F(S, FIXED, original, TB_TXID_LEN, TB_TXID_LEN) \
	F(S, UINT, attested, 0, 1)                      \
	F(S, BIN, provider_sig, 0, TB_SIGLEN)           \
	F(S, BIN, receiver_sig, 0, TB_SIGLEN)

/*
 * Credit across communities (FORMAT.md, "Cross-community legs"). The payer's
 * community holds, the provider's decides, the payer's finishes; each leg is
 * an entry of its own community's log, so the logs themselves carry the
 * protocol and are its proof.
 */

/* kind 7: this community lets `community` owe it up to `limit` minutes. */
#define TB_FIELDS_LINK(F, S)                           \
	F(S, FIXED, community, TB_KEY_LEN, TB_KEY_LEN) \
	F(S, UINT, limit, 0, TB_LIMIT_MAX)

/* kind 8, payer's log: member (who was helped) pays to_name@to_log; the
 * minutes are held until the final leg. Consent as for an exchange: the
 * member's signature over the xprepare terms, or the coordinator's
 * attestation. The provider may commit only before `expires` (unix time). */
#define TB_FIELDS_XPREPARE(F, S)                       \
	F(S, FIXED, txid, TB_TXID_LEN, TB_TXID_LEN)    \
	F(S, UINT, member, 1, TB_MEMBER_MAX)           \
	F(S, FIXED, to_log, TB_KEY_LEN, TB_KEY_LEN)    \
	F(S, STR, to_name, 1, TB_NAME_MAX)             \
	F(S, UINT, minutes, 1, TB_MINUTES_MAX)         \
	F(S, STR, category, 0, TB_CATEGORY_MAX)        \
	F(S, FIXED, memo_hash, TB_HASHLEN, TB_HASHLEN) \
	F(S, UINT, date, 19700101, 99991231)           \
	F(S, UINT, expires, 1, UINT32_MAX * 4ull)      \
	F(S, UINT, attested, 0, 1)                     \
	F(S, BIN, member_sig, 0, TB_SIGLEN)

/* kind 9, provider's log: the decision on the prepare at from_log/from_seq.
 * outcome 0 credits member (the provider) and debits the clearing account
 * of from_log; any other outcome is a refusal (TB_XOUTCOMES) and changes no
 * balance. member is 0 when no active member had the name. */
#define TB_FIELDS_XDECIDE(F, S)                        \
	F(S, FIXED, txid, TB_TXID_LEN, TB_TXID_LEN)    \
	F(S, FIXED, from_log, TB_KEY_LEN, TB_KEY_LEN)  \
	F(S, UINT, from_seq, 2, INT64_MAX)             \
	F(S, STR, from_name, 1, TB_NAME_MAX)           \
	F(S, UINT, member, 0, TB_MEMBER_MAX)           \
	F(S, STR, to_name, 1, TB_NAME_MAX)             \
	F(S, UINT, minutes, 1, TB_MINUTES_MAX)         \
	F(S, STR, category, 0, TB_CATEGORY_MAX)        \
	F(S, FIXED, memo_hash, TB_HASHLEN, TB_HASHLEN) \
	F(S, UINT, date, 19700101, 99991231)           \
	F(S, UINT, expires, 1, UINT32_MAX * 4ull)      \
	F(S, UINT, outcome, 0, TB_XOUTCOME_MAX)

/* kind 10, payer's log: ends the hold of txid as the provider's decision at
 * decide_seq of the prepare's to_log says: outcome 0 moves the minutes from
 * the member to the clearing account of to_log, any other releases them. */
#define TB_FIELDS_XFINAL(F, S)                      \
	F(S, FIXED, txid, TB_TXID_LEN, TB_TXID_LEN) \
	F(S, UINT, decide_seq, 2, INT64_MAX)        \
	F(S, UINT, outcome, 0, TB_XOUTCOME_MAX)

/* Outcomes of a decision: O(UPPER, number, text). Numbers are frozen. */
#define TB_XOUTCOMES(O)                          \
	O(COMMITTED, 0, "committed")             \
	O(UNKNOWN_MEMBER, 1, "unknown member")   \
	O(TRUST_LIMIT, 2, "trust limit reached") \
	O(EXPIRED, 3, "expired")                 \
	O(LINK_MISSING, 4, "link missing")       \
	O(CEILING, 5, "the provider's credit ceiling reached")
#define TB_XOUTCOME_MAX 5

/* Entry kinds: K(UPPER, lower, number). Numbers are frozen. */
#define TB_ENTRY_KINDS(K)                   \
	K(GENESIS, genesis, 1)              \
	K(MEMBER_JOIN, member_join, 2)      \
	K(MEMBER_KEY, member_key, 3)        \
	K(MEMBER_LEFT, member_left, 4)      \
	K(EXCHANGE, exchange, 5)            \
	K(REVERSAL, reversal, 6)            \
	K(LINK, link, 7)                    \
	K(XPREPARE, xprepare, 8)            \
	K(XDECIDE, xdecide, 9)              \
	K(XFINAL, xfinal, 10)               \
	K(ADMIT, admit, 11)                 \
	K(MEMBER_UPDATE, member_update, 12) \
	K(OPENING, opening, 13)             \
	K(SUCCESSION, succession, 14)

/*
 * kind 11: this community's decision about another community's log: status
 * TB_ADMIT_REMOVED (0) stops holding and relaying it, TB_ADMIT_ADMITTED (1)
 * admits it under `name` (its genesis name), TB_ADMIT_VOUCHING (2) admits
 * it and also the communities it admits in its own log (one level, never
 * further). The latest ADMIT of a community in a log is its status there.
 */
#define TB_ADMIT_REMOVED 0
#define TB_ADMIT_ADMITTED 1
#define TB_ADMIT_VOUCHING 2
#define TB_FIELDS_ADMIT(F, S)                          \
	F(S, FIXED, community, TB_KEY_LEN, TB_KEY_LEN) \
	F(S, STR, name, 1, TB_NAME_MAX)                \
	F(S, UINT, status, 0, TB_ADMIT_VOUCHING)

/* kind 12: a member's name and limits from now on; reinstate = 1 brings
 * back a member who left (and only then). Recorded by the coordinator. */
#define TB_FIELDS_MEMBER_UPDATE(F, S)        \
	F(S, UINT, member, 1, TB_MEMBER_MAX) \
	F(S, STR, name, 1, TB_NAME_MAX)      \
	F(S, INT, floor, -TB_LIMIT_MAX, 0)   \
	F(S, UINT, ceiling, 0, TB_LIMIT_MAX) \
	F(S, UINT, reinstate, 0, 1)

/* kind 13: an opening balance brought from another system (an import),
 * attested: minutes (either sign) move from the community account to the
 * member. txid makes a repeated import a duplicate (EDUPTX). */
#define TB_FIELDS_OPENING(F, S)                             \
	F(S, FIXED, txid, TB_TXID_LEN, TB_TXID_LEN)         \
	F(S, UINT, member, 1, TB_MEMBER_MAX)                \
	F(S, INT, minutes, -TB_OPENING_MAX, TB_OPENING_MAX) \
	F(S, UINT, date, 19700101, 99991231)

/* Largest fork proof a succession carries: two records of 3000 bytes each,
 * far above the largest entry Tally writes (FORMAT.md 3.2). */
#define TB_SUCCESSION_PROOF_MAX 6002

/* kind 14, entry 2 of a new log: the community continues here after its
 * old log forked. The old key signs (context "succession") that this log
 * succeeds it, keeping its first kept_seq entries, the history that ends
 * with the entry of hash kept_hash; fork_proof (as a FORK message's a/b:
 * u16 BE length of a || a || b) shows the old log forked. */
#define TB_FIELDS_SUCCESSION(F, S)                        \
	F(S, FIXED, old_log, TB_KEY_LEN, TB_KEY_LEN)      \
	F(S, UINT, kept_seq, 1, INT64_MAX)                \
	F(S, FIXED, kept_hash, TB_HASHLEN, TB_HASHLEN)    \
	F(S, BIN, fork_proof, 2, TB_SUCCESSION_PROOF_MAX) \
	F(S, FIXED, old_sig, TB_SIGLEN, TB_SIGLEN)

/* What the old community key signs to hand over (context "succession"). */
#define TB_FIELDS_SUCCESSION_TERMS(F, S)             \
	F(S, FIXED, log_id, TB_KEY_LEN, TB_KEY_LEN)  \
	F(S, FIXED, old_log, TB_KEY_LEN, TB_KEY_LEN) \
	F(S, UINT, kept_seq, 1, INT64_MAX)           \
	F(S, FIXED, kept_hash, TB_HASHLEN, TB_HASHLEN)

/* What both members sign to consent to an exchange (context "exchange"). */
#define TB_FIELDS_EXCHANGE_TERMS(F, S)              \
	F(S, FIXED, log_id, TB_KEY_LEN, TB_KEY_LEN) \
	TB_FIELDS_EXCHANGE_SHARED(F, S, 1)

/* What both members sign to consent to a reversal (context "reversal"). */
#define TB_FIELDS_REVERSAL_TERMS(F, S)              \
	F(S, FIXED, log_id, TB_KEY_LEN, TB_KEY_LEN) \
	F(S, FIXED, txid, TB_TXID_LEN, TB_TXID_LEN) \
	F(S, FIXED, original, TB_TXID_LEN, TB_TXID_LEN)

/* What the paying member signs to consent to a prepare (context "xprepare"). */
#define TB_FIELDS_XPREPARE_TERMS(F, S)                 \
	F(S, FIXED, log_id, TB_KEY_LEN, TB_KEY_LEN)    \
	F(S, FIXED, txid, TB_TXID_LEN, TB_TXID_LEN)    \
	F(S, UINT, member, 1, TB_MEMBER_MAX)           \
	F(S, FIXED, to_log, TB_KEY_LEN, TB_KEY_LEN)    \
	F(S, STR, to_name, 1, TB_NAME_MAX)             \
	F(S, UINT, minutes, 1, TB_MINUTES_MAX)         \
	F(S, STR, category, 0, TB_CATEGORY_MAX)        \
	F(S, FIXED, memo_hash, TB_HASHLEN, TB_HASHLEN) \
	F(S, UINT, date, 19700101, 99991231)           \
	F(S, UINT, expires, 1, UINT32_MAX * 4ull)

/* What a member signs to sign in to a node's API (context "signin"): the
 * node's log, the member and the key the node holds as theirs, the node's
 * one-time challenge and the host the browser talks to. Never stored. */
#define TB_FIELDS_SIGNIN_TERMS(F, S)                   \
	F(S, FIXED, log_id, TB_KEY_LEN, TB_KEY_LEN)    \
	F(S, UINT, member, 1, TB_MEMBER_MAX)           \
	F(S, FIXED, key, TB_KEY_LEN, TB_KEY_LEN)       \
	F(S, FIXED, challenge, TB_HASHLEN, TB_HASHLEN) \
	F(S, STR, host, 1, 255)

/* A pending proposal kept locally until the receiver confirms (not in any log). */
#define TB_FIELDS_PROPOSAL(F, S)           \
	TB_FIELDS_EXCHANGE_SHARED(F, S, 1) \
	F(S, UINT, created, 0, UINT32_MAX) \
	F(S, BIN, provider_sig, TB_SIGLEN, TB_SIGLEN)

/*
 * A checkpoint: the log's owner signs (context "checkpoint") that its log
 * had `size` entries with Merkle root `root` at `timestamp`. The signed
 * checkpoint is these bytes followed by the 64-byte signature.
 */
#define TB_FIELDS_CHECKPOINT(F, S)                  \
	F(S, FIXED, log_id, TB_KEY_LEN, TB_KEY_LEN) \
	F(S, UINT, size, 1, INT64_MAX)              \
	F(S, FIXED, root, TB_HASHLEN, TB_HASHLEN)   \
	F(S, UINT, timestamp, 0, UINT32_MAX * 4ull)

/* A receipt: one entry, a signed checkpoint covering it, and the inclusion
 * proof of the entry (leaf seq - 1) in the checkpoint's tree. */
#define TB_FIELDS_RECEIPT(F, S)       \
	F(S, UINT, version, 1, 1)     \
	F(S, BIN, entry, 1, 8192)     \
	F(S, BIN, checkpoint, 1, 256) \
	F(S, BIN, proof, 0, 128 * TB_HASHLEN)

/*
 * Listings: members' offers and requests (FORMAT.md 16). Not entries: a
 * listing is a standalone object the community signs, replaced by a newer
 * version and deleted everywhere at its expiry, so withdrawals and expiry
 * never grow what nodes keep. The fields the member signs (context
 * "listing") and the object share, in this order.
 */
#define TB_LISTING_ID_LEN 16
#define TB_LISTING_TITLE_MAX 80
#define TB_LISTING_TEXT_MAX 1000
#define TB_LISTING_VERSION_MAX 4294967295u
/* kind: an offer or a request; visibility: this node only, or the federation;
 * state: live, or withdrawn (a tombstone kept until its expiry). */
#define TB_LISTING_OFFER 0
#define TB_LISTING_REQUEST 1
#define TB_LISTING_COMMUNITY 0
#define TB_LISTING_FEDERATION 1
#define TB_LISTING_LIVE 0
#define TB_LISTING_WITHDRAWN 1
#define TB_FIELDS_LISTING_SHARED(F, S)                                      \
	F(S, FIXED, log_id, TB_KEY_LEN, TB_KEY_LEN)                         \
	F(S, FIXED, id, TB_LISTING_ID_LEN, TB_LISTING_ID_LEN)               \
	F(S, UINT, version, 1, TB_LISTING_VERSION_MAX)                      \
	F(S, UINT, member, 1, TB_MEMBER_MAX)                                \
	F(S, UINT, kind, TB_LISTING_OFFER, TB_LISTING_REQUEST)              \
	F(S, STR, title, 1, TB_LISTING_TITLE_MAX)                           \
	F(S, STR, description, 0, TB_LISTING_TEXT_MAX)                      \
	F(S, STR, category, 0, TB_CATEGORY_MAX)                             \
	F(S, UINT, visibility, TB_LISTING_COMMUNITY, TB_LISTING_FEDERATION) \
	F(S, UINT, created, 0, UINT32_MAX * 4ull)                           \
	F(S, UINT, expires, 1, UINT32_MAX * 4ull)                           \
	F(S, UINT, state, TB_LISTING_LIVE, TB_LISTING_WITHDRAWN)

/* What the member signs (context "listing"). */
#define TB_FIELDS_LISTING_TERMS(F, S) TB_FIELDS_LISTING_SHARED(F, S)

/* The listing object: the terms, then the member's signature (64 bytes) or
 * attested = 1 and no signature; the community's log key signs these bytes
 * (context "listed"), its 64-byte signature following them. */
#define TB_FIELDS_LISTING(F, S)        \
	TB_FIELDS_LISTING_SHARED(F, S) \
	F(S, UINT, attested, 0, 1)     \
	F(S, BIN, member_sig, 0, TB_SIGLEN)

/*
 * Answers to listings (FORMAT.md 17): a member says "I answer listing ID of
 * COMMUNITY", with a short message, to the listing's poster. Not entries and
 * not gossiped: kept by the poster's community node (and the responder's,
 * until the listing goes). The fields the member signs (context "answer")
 * and the object share, in this order.
 */
#define TB_ANSWER_TEXT_MAX 280
#define TB_FIELDS_ANSWER_SHARED(F, S)                                 \
	F(S, FIXED, listing_log, TB_KEY_LEN, TB_KEY_LEN)              \
	F(S, FIXED, listing_id, TB_LISTING_ID_LEN, TB_LISTING_ID_LEN) \
	F(S, FIXED, from_log, TB_KEY_LEN, TB_KEY_LEN)                 \
	F(S, UINT, member, 1, TB_MEMBER_MAX)                          \
	F(S, STR, name, 1, TB_NAME_MAX)                               \
	F(S, STR, message, 0, TB_ANSWER_TEXT_MAX)                     \
	F(S, UINT, created, 0, UINT32_MAX * 4ull)

/* What the responder signs (context "answer"). */
#define TB_FIELDS_ANSWER_TERMS(F, S) TB_FIELDS_ANSWER_SHARED(F, S)

/* The answer object: the terms, then the member's signature (64 bytes) or
 * attested = 1 and none (the responder's community node vouches: it sends
 * the answer on its own authenticated connection, PROTOCOL.md 7d). */
#define TB_FIELDS_ANSWER(F, S)        \
	TB_FIELDS_ANSWER_SHARED(F, S) \
	F(S, UINT, attested, 0, 1)    \
	F(S, BIN, member_sig, 0, TB_SIGLEN)

/* Other messages: M(UPPER, lower). */
#define TB_OTHER_MESSAGES(M)                  \
	M(EXCHANGE_TERMS, exchange_terms)     \
	M(REVERSAL_TERMS, reversal_terms)     \
	M(XPREPARE_TERMS, xprepare_terms)     \
	M(PROPOSAL, proposal)                 \
	M(CHECKPOINT, checkpoint)             \
	M(RECEIPT, receipt)                   \
	M(SUCCESSION_TERMS, succession_terms) \
	M(LISTING_TERMS, listing_terms)       \
	M(LISTING, listing)                   \
	M(SIGNIN_TERMS, signin_terms)         \
	M(ANSWER_TERMS, answer_terms)         \
	M(ANSWER, answer)

/* ---- peer messages (PROTOCOL.md): P(UPPER, lower, type number) ---- */

/* 2: LISTINGS and LISTINGS_SYNC (types 11, 12), which a version 1 node
 * closes the connection on; 3: ANSWERS (type 13), which a version 2 node
 * closes on. HELLO requires the same version both sides. */
#define TB_PROTO_VERSION 3
/* One HEADS record: log id, seq (u64 big-endian), head hash. */
#define TB_HEAD_REC_LEN (TB_KEY_LEN + 8 + TB_HASHLEN)
/* Most payload bytes of one frame's message. */
#define TB_FRAME_PAYLOAD_MAX 65000

/* First message after the handshake: who I am, proven over the handshake hash. */
#define TB_FIELDS_HELLO(F, S)                        \
	F(S, UINT, version, 1, 65535)                \
	F(S, FIXED, node_id, TB_KEY_LEN, TB_KEY_LEN) \
	F(S, FIXED, sig, TB_SIGLEN, TB_SIGLEN)       \
	F(S, STR, name, 0, TB_NAME_MAX)

/* A digest of all heads I hold: equal digests mean nothing to send. */
#define TB_FIELDS_SYNC(F, S)                        \
	F(S, FIXED, digest, TB_HASHLEN, TB_HASHLEN) \
	F(S, UINT, logs, 0, UINT32_MAX)

/* Some of my heads: packed TB_HEAD_REC_LEN records. */
#define TB_FIELDS_HEADS(F, S) F(S, BIN, heads, 0, TB_FRAME_PAYLOAD_MAX - 16)

/* Entry records, each prefixed by its length (u16 big-endian). */
#define TB_FIELDS_ENTRIES(F, S) F(S, BIN, records, 0, TB_FRAME_PAYLOAD_MAX - 16)

/* A fork proof: two records of one log at one seq, both validly signed. */
#define TB_FIELDS_FORK(F, S)  \
	F(S, BIN, a, 1, 8192) \
	F(S, BIN, b, 1, 8192)

#define TB_FIELDS_PING(F, S) F(S, UINT, nonce, 0, UINT64_MAX / 2)
#define TB_FIELDS_PONG(F, S) F(S, UINT, nonce, 0, UINT64_MAX / 2)

/* A signed checkpoint of some log (TB_FIELDS_CHECKPOINT + signature). */
#define TB_FIELDS_CHECKPOINT_MSG(F, S) F(S, BIN, checkpoint, 1, 160)

/* A refusal that does not close the connection: what was sent (of log_id,
 * or all zero) is not taken, with a TB_E* code (negative) and a text. */
#define TB_FIELDS_REFUSED(F, S)                     \
	F(S, INT, code, -65535, -1)                 \
	F(S, FIXED, log_id, TB_KEY_LEN, TB_KEY_LEN) \
	F(S, STR, reason, 0, 200)

/* Closing with a reason. */
#define TB_FIELDS_BYE(F, S) F(S, STR, reason, 0, 200)

/* Listing objects (FORMAT.md 16), each prefixed by its length (u16 BE). */
#define TB_FIELDS_LISTINGS(F, S) F(S, BIN, records, 0, TB_FRAME_PAYLOAD_MAX - 16)

/* A digest of the federation-visible listings I hold (PROTOCOL.md 7c):
 * equal digests mean none to send. */
#define TB_FIELDS_LISTINGS_SYNC(F, S)               \
	F(S, FIXED, digest, TB_HASHLEN, TB_HASHLEN) \
	F(S, UINT, count, 0, UINT32_MAX)

/* Answer objects (FORMAT.md 17) to the listings of the receiver's own
 * community, each prefixed by its length (u16 BE) (PROTOCOL.md 7d). */
#define TB_FIELDS_ANSWERS(F, S) F(S, BIN, records, 0, TB_FRAME_PAYLOAD_MAX - 16)

#define TB_PEER_MESSAGES(P)                  \
	P(HELLO, hello, 1)                   \
	P(SYNC, sync, 2)                     \
	P(HEADS, heads, 3)                   \
	P(ENTRIES, entries, 4)               \
	P(FORK, fork, 5)                     \
	P(PING, ping, 6)                     \
	P(PONG, pong, 7)                     \
	P(BYE, bye, 8)                       \
	P(CHECKPOINT_MSG, checkpoint_msg, 9) \
	P(REFUSED, refused, 10)              \
	P(LISTINGS, listings, 11)            \
	P(LISTINGS_SYNC, listings_sync, 12)  \
	P(ANSWERS, answers, 13)

#endif
