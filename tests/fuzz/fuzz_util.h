/*
 * fuzz_util.h: what the fuzz targets and mkcorpus.c share: the fixed keys
 * every run uses (so a crash reproduces, and so mkcorpus can make seeds that
 * get past the cryptography), a field-by-field message comparison, the
 * members' consent re-signed after a mutation, and the scratch folder of the
 * targets that open a store.
 * Header-only (static inline): each target is one translation unit.
 */
#ifndef TB_FUZZ_UTIL_H
#define TB_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tb_proto.h"

/* The daemon's Noise prologue (node/daemon/conn.c). */
#define FUZZ_PROLOGUE "tally/1"

/* Fixed 32-byte values, each a byte repeated: Noise keys of the handshake
 * targets, the transport key of fuzz_frames, Ed25519 seeds of the ledger. */
enum {
	FUZZ_PSK = 0x41, /* federation key */
	FUZZ_INIT_STATIC = 0x31,
	FUZZ_INIT_EPH = 0x32,
	FUZZ_RESP_STATIC = 0x21,
	FUZZ_RESP_EPH = 0x22,
	FUZZ_FRAME_KEY = 0x5a,	 /* fuzz_frames: both directions' cipher key */
	FUZZ_LOG_SEED = 0x60,	 /* + i: community i of fuzz_ledger (0..2) */
	FUZZ_MEMBER_SEED = 0x70, /* + m % 4: the key of member number m */
	FUZZ_PEER_NODE = 0x50,	 /* fuzz_repl: the peer's node key */
};

static inline void fuzz_fill(uint8_t out[32], int byte)
{
	memset(out, byte, 32);
}

static inline void fuzz_keypair(struct tb_keypair *kp, int byte)
{
	uint8_t seed[TB_SEED_LEN];
	memset(seed, byte, sizeof seed);
	tb_keypair_from_seed(kp, seed);
}

/* 1 if two decoded messages of definition d hold the same values. */
static inline int fuzz_same_msg(const struct tb_msgdef *d, const void *a, const void *b)
{
	for (size_t i = 0; i < d->nfields; i++) {
		const struct tb_field *f = &d->fields[i];
		const uint8_t *x = (const uint8_t *)a + f->offset;
		const uint8_t *y = (const uint8_t *)b + f->offset;
		struct tb_view u, v;
		switch (f->type) {
		case TB_FT_UINT:
		case TB_FT_INT:
			if (memcmp(x, y, sizeof(uint64_t)))
				return 0;
			break;
		case TB_FT_FIXED:
			if (memcmp(x, y, (size_t)f->max))
				return 0;
			break;
		case TB_FT_BIN:
		case TB_FT_STR:
			memcpy(&u, x, sizeof u);
			memcpy(&v, y, sizeof v);
			if (u.len != v.len || (u.len && memcmp(u.p, v.p, u.len)))
				return 0;
			break;
		}
	}
	return 1;
}

/* A fresh scratch folder "<tmp>/<name>.XXXXXX" for the stores a target
 * opens, on tmpfs where there is one: there a store's pages fault in without
 * the disk's readahead and unlink is cheap (three times the inputs per
 * second). */
static inline void fuzz_scratch_dir(char *out, size_t cap, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || strlen(tmp) >= 32)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	int n = snprintf(out, cap, "%s/%s.XXXXXX", tmp, name);
	TB_ASSERT(n > 0 && (size_t)n < cap);
	TB_ASSERT(mkdtemp(out) != NULL);
}

static inline void fuzz_sign_terms(uint8_t sig[TB_SIGLEN], const struct tb_keypair *kp,
				   enum tb_sigctx ctx, const struct tb_msgdef *d, const void *terms)
{
	static uint8_t buf[TB_ENTRY_MAX];
	size_t len;
	TB_ASSERT(tb_terms_encode(buf, sizeof buf, &len, d, terms) == 0);
	tb_sign(sig, kp, ctx, buf, len);
}

/* Re-signs the members' consent in e's body with the fixed member keys m[4]
 * (sigs holds the signatures), so that a mutated exchange, reversal or
 * prepare still reaches the rules behind the signature checks. */
static inline void fuzz_consent(struct tb_entry *e, const struct tb_keypair m[4],
				uint8_t sigs[2][TB_SIGLEN])
{
	if (e->kind == TB_KIND_EXCHANGE) {
		struct tb_exchange *x = &e->body.exchange;
		struct tb_exchange_terms t;
		tb_exchange_terms_of(&t, e->log_id, x);
		fuzz_sign_terms(sigs[0], &m[x->provider % 4], TB_CTX_EXCHANGE,
				&tb_def_exchange_terms, &t);
		fuzz_sign_terms(sigs[1], &m[x->receiver % 4], TB_CTX_EXCHANGE,
				&tb_def_exchange_terms, &t);
		x->attested = 0;
		x->provider_sig = (struct tb_view){sigs[0], TB_SIGLEN};
		x->receiver_sig = (struct tb_view){sigs[1], TB_SIGLEN};
	} else if (e->kind == TB_KIND_REVERSAL) {
		struct tb_reversal *r = &e->body.reversal;
		struct tb_reversal_terms t;
		tb_reversal_terms_of(&t, e->log_id, r);
		fuzz_sign_terms(sigs[0], &m[1], TB_CTX_REVERSAL, &tb_def_reversal_terms, &t);
		fuzz_sign_terms(sigs[1], &m[2], TB_CTX_REVERSAL, &tb_def_reversal_terms, &t);
		r->attested = 0;
		r->provider_sig = (struct tb_view){sigs[0], TB_SIGLEN};
		r->receiver_sig = (struct tb_view){sigs[1], TB_SIGLEN};
	} else if (e->kind == TB_KIND_XPREPARE) {
		struct tb_xprepare *x = &e->body.xprepare;
		struct tb_xprepare_terms t;
		tb_xprepare_terms_of(&t, e->log_id, x);
		fuzz_sign_terms(sigs[0], &m[x->member % 4], TB_CTX_XPREPARE, &tb_def_xprepare_terms,
				&t);
		x->attested = 0;
		x->member_sig = (struct tb_view){sigs[0], TB_SIGLEN};
	}
}

#endif
