/*
 * fuzz_util.h: what the fuzz targets and mkcorpus.c share: the fixed keys
 * every run uses (so a crash reproduces, and so mkcorpus can make seeds that
 * get past the cryptography) and a field-by-field message comparison.
 * Header-only (static inline): each target is one translation unit.
 */
#ifndef TB_FUZZ_UTIL_H
#define TB_FUZZ_UTIL_H

#include <stdint.h>
#include <string.h>

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

#endif
