/*
 * rogue.h: what a dishonest community can do with its own key, for the tests
 * of what it must not achieve (issue 11): sign the same bytes a second time
 * with another valid signature (Ed25519 signing is deterministic for honest
 * signers; a key holder can pick any nonce), and write its own log entry by
 * entry as it likes (reused txids, decisions on others' prepares, floods of
 * prepares, prepares over trust lines nobody granted), then serve it to real
 * daemons over the peer protocol as a fake peer of fed.h. Honest code never
 * does any of this; the tests use it to play the attacker.
 */
#ifndef TB_ROGUE_H
#define TB_ROGUE_H

#include <stddef.h>
#include <stdint.h>

#include "fed.h"
#include "testutil.h"

/* A second valid signature by kp over tag(ctx) || msg, different from the
 * deterministic one for each salt: what any holder of the key can make. */
void tb_rogue_sign_again(uint8_t sig[TB_SIGLEN], const struct tb_keypair *kp, enum tb_sigctx ctx,
			 const uint8_t *msg, size_t len, uint32_t salt);
/* The record rec (signed by kp) with its log signature made again: the same
 * signed part, another signature, another entry hash. Returns its length. */
size_t tb_rogue_resign(uint8_t out[TB_ENTRY_MAX], const uint8_t *rec, size_t len,
		       const struct tb_keypair *kp, uint32_t salt);

/*
 * A dishonest community: its own log, which the test writes entry by entry
 * (signed with key pair number keyno, which is also its node identity on a
 * fake peer), with one member, "mallory" (number 1, attests everything,
 * may owe without limit), and every record it sealed, in order. Its entries
 * are timestamped from an hour before tb_rogue_init on, one second apart, so
 * that prepares are live by the honest nodes' clocks.
 */
struct tb_rogue {
	struct tb_test_log log;
	struct tb_keypair member;
	struct tb_test_recs recs;
	uint32_t keyno;
	uint64_t txno; /* of the last fresh txid */
};

/* Genesis named `name` and mallory's join. The honest nodes must admit the
 * community (tb_fed_admit with tb_rogue_id and the same name) to hold it. */
void tb_rogue_init(struct tb_rogue *r, uint32_t keyno, const char *name);
void tb_rogue_free(struct tb_rogue *r);
const uint8_t *tb_rogue_id(const struct tb_rogue *r);
/* Seq of the last entry written. */
uint64_t tb_rogue_seq(const struct tb_rogue *r);
/* Seals the next entry and keeps it; returns its seq. */
uint64_t tb_rogue_add(struct tb_rogue *r, uint64_t kind, const void *body);
/* A trust line: `to` may owe this community up to limit minutes. */
uint64_t tb_rogue_link(struct tb_rogue *r, const uint8_t to[TB_KEY_LEN], uint64_t limit);
/* Mallory pays to_name@to `minutes` (attested, expiring ttl seconds from
 * now, or from the entry's timestamp if that is later); txid NULL: a fresh
 * one. Returns its seq. */
uint64_t tb_rogue_prepare(struct tb_rogue *r, const uint8_t to[TB_KEY_LEN], const char *to_name,
			  uint64_t minutes, uint64_t ttl, const uint8_t *txid);
/* A decision in the rogue's own log on the prepare p (entry from_seq of
 * from_log, made by from_name there): what a third community writes to
 * "decide" an exchange that is not addressed to it. Returns its seq. */
uint64_t tb_rogue_decide(struct tb_rogue *r, const struct tb_xprepare *p,
			 const uint8_t from_log[TB_KEY_LEN], uint64_t from_seq,
			 const char *from_name, uint64_t outcome);
/* The first key pair number from `from` on whose public key sorts below
 * every one of ids (so its log comes first wherever logs are in id order). */
uint32_t tb_rogue_keyno_below(const uint8_t (*ids)[TB_KEY_LEN], size_t n, uint32_t from);

/* Opens a fake peer to a daemon as this community's node (keyno). */
void tb_rogue_connect(struct tb_rogue *r, struct tb_fake *p, uint16_t port, const uint8_t psk[32]);
/* Sends the records [from, to) through p as ENTRIES, as many as fit a frame
 * each, discarding what the daemon sends meanwhile. Returns how many were
 * sent before the daemon closed the connection (to - from if it did not). */
size_t tb_rogue_send(struct tb_rogue *r, struct tb_fake *p, size_t from, size_t to);
/* Serves the records from `from` on to node i of f (0: the whole log; a
 * record the node holds is a duplicate it skips): connects as the rogue's
 * node, sends them, waits until the node holds the rogue's log up to its
 * last seq, closes. Fails the test if the node closes the connection first
 * or does not append them all within 60 s. */
void tb_rogue_serve(struct tb_rogue *r, struct tb_fed *f, size_t i, const uint8_t psk[32],
		    size_t from);

/* Entry seq of log_id as node i of f holds it, decoded into e (views point
 * into buf, which must hold TB_ENTRY_MAX bytes). Fails the test if the node
 * does not hold it. */
void tb_rogue_read_entry(struct tb_fed *f, size_t i, const uint8_t log_id[TB_KEY_LEN], uint64_t seq,
			 struct tb_entry *e, uint8_t *buf);

#endif
