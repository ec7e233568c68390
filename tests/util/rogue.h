/*
 * rogue.h: what a dishonest community can do with its own key, for the tests
 * of what it must not achieve (issue 11): sign the same bytes a second time
 * with another valid signature (Ed25519 signing is deterministic for honest
 * signers; a key holder can pick any nonce), and write its own log entry by
 * entry as it likes, then feed it to a daemon as a peer would. Honest code
 * never does any of this; the tests use it to play the attacker.
 */
#ifndef TB_ROGUE_H
#define TB_ROGUE_H

#include <stddef.h>
#include <stdint.h>

#include "fed.h"
#include "testutil.h"

/* A second valid signature by kp over tag(ctx) || msg, different from the
 * deterministic one for each salt: what any holder of the key can make. */
void tb_rogue_sign_again(uint8_t sig[TB_SIGLEN], const struct tb_keypair *kp,
			 enum tb_sigctx ctx, const uint8_t *msg, size_t len, uint32_t salt);
/* The record rec (signed by kp) with its log signature made again: the same
 * signed part, another signature, another entry hash. Returns its length. */
size_t tb_rogue_resign(uint8_t out[TB_ENTRY_MAX], const uint8_t *rec, size_t len,
		       const struct tb_keypair *kp, uint32_t salt);

#endif
