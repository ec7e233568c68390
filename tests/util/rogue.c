/*
 * rogue.c: the attacker's tools of rogue.h: a second signature of the same
 * bytes, and a dishonest community's log written as it likes and fed to a
 * daemon over a fake peer.
 * The only file of the tests that includes sodium.h: a signature with a
 * nonce of our choosing needs Ed25519's scalar arithmetic, which the product
 * (crypto/) never exposes because it never signs that way.
 */
#include "rogue.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

static const char *tag_of(enum tb_sigctx ctx)
{
	return tb_sigctx_tag(ctx);
}

void tb_rogue_sign_again(uint8_t sig[TB_SIGLEN], const struct tb_keypair *kp, enum tb_sigctx ctx,
			 const uint8_t *msg, size_t len, uint32_t salt)
{
	const char *tag = tag_of(ctx);
	size_t tlen = strlen(tag) + 1;
	/* The secret scalar a, as RFC 8032 derives it from the seed. */
	uint8_t az[64], a[32], wide[64] = {0};
	crypto_hash_sha512(az, kp->sk, 32);
	az[0] &= 248;
	az[31] &= 127;
	az[31] |= 64;
	memcpy(wide, az, 32);
	crypto_core_ed25519_scalar_reduce(a, wide);
	/* A nonce of our own: r = H(salt || prefix || M) instead of H(prefix || M). */
	uint8_t s4[4] = {(uint8_t)(salt >> 24), (uint8_t)(salt >> 16), (uint8_t)(salt >> 8),
			 (uint8_t)salt};
	crypto_hash_sha512_state h;
	uint8_t rh[64], r[32], R[32], kh[64], k[32], ka[32], S[32];
	crypto_hash_sha512_init(&h);
	crypto_hash_sha512_update(&h, s4, sizeof s4);
	crypto_hash_sha512_update(&h, az + 32, 32);
	crypto_hash_sha512_update(&h, (const uint8_t *)tag, tlen);
	crypto_hash_sha512_update(&h, msg, len);
	crypto_hash_sha512_final(&h, rh);
	crypto_core_ed25519_scalar_reduce(r, rh);
	TB_ASSERT(crypto_scalarmult_ed25519_base_noclamp(R, r) == 0);
	/* k = H(R || A || M); S = r + k a. */
	crypto_hash_sha512_init(&h);
	crypto_hash_sha512_update(&h, R, 32);
	crypto_hash_sha512_update(&h, kp->pk.b, 32);
	crypto_hash_sha512_update(&h, (const uint8_t *)tag, tlen);
	crypto_hash_sha512_update(&h, msg, len);
	crypto_hash_sha512_final(&h, kh);
	crypto_core_ed25519_scalar_reduce(k, kh);
	crypto_core_ed25519_scalar_mul(ka, k, a);
	crypto_core_ed25519_scalar_add(S, r, ka);
	memcpy(sig, R, 32);
	memcpy(sig + 32, S, 32);
	sodium_memzero(az, sizeof az);
	sodium_memzero(a, sizeof a);
	sodium_memzero(wide, sizeof wide);
	TB_ASSERT(tb_verify(sig, kp->pk.b, ctx, msg, len) == 0);
}

size_t tb_rogue_resign(uint8_t out[TB_ENTRY_MAX], const uint8_t *rec, size_t len,
		       const struct tb_keypair *kp, uint32_t salt)
{
	TB_ASSERT(len > TB_SIGLEN && len <= TB_ENTRY_MAX);
	memcpy(out, rec, len - TB_SIGLEN);
	tb_rogue_sign_again(out + len - TB_SIGLEN, kp, TB_CTX_ENTRY, rec, len - TB_SIGLEN, salt);
	TB_ASSERT(memcmp(out + len - TB_SIGLEN, rec + len - TB_SIGLEN, TB_SIGLEN));
	return len;
}

/* ---- a dishonest community ---- */

void tb_rogue_init(struct tb_rogue *r, uint32_t keyno, const char *name)
{
	memset(r, 0, sizeof *r);
	r->keyno = keyno;
	r->txno = (uint64_t)keyno << 32;
	tb_test_log_init(&r->log, keyno);
	r->log.timestamp = (uint64_t)time(NULL) - 3600;
	tb_test_keypair(&r->member, keyno * 1000 + 1);
	struct tb_genesis g;
	tb_test_genesis(&g, name, -600, 0);
	tb_rogue_add(r, TB_KIND_GENESIS, &g);
	struct tb_member_join j;
	tb_test_join(&j, 1, "mallory", &r->member, -TB_LIMIT_MAX, 0);
	tb_rogue_add(r, TB_KIND_MEMBER_JOIN, &j);
}

void tb_rogue_free(struct tb_rogue *r)
{
	tb_test_recs_free(&r->recs);
	tb_keypair_wipe(&r->member);
	tb_keypair_wipe(&r->log.kp);
}

const uint8_t *tb_rogue_id(const struct tb_rogue *r)
{
	return r->log.kp.pk.b;
}

uint64_t tb_rogue_seq(const struct tb_rogue *r)
{
	return r->log.seq;
}

uint64_t tb_rogue_add(struct tb_rogue *r, uint64_t kind, const void *body)
{
	return tb_test_log_add(&r->log, &r->recs, kind, body);
}

uint64_t tb_rogue_link(struct tb_rogue *r, const uint8_t to[TB_KEY_LEN], uint64_t limit)
{
	struct tb_link l;
	tb_test_link(&l, to, limit);
	return tb_rogue_add(r, TB_KIND_LINK, &l);
}

uint64_t tb_rogue_prepare(struct tb_rogue *r, const uint8_t to[TB_KEY_LEN], const char *to_name,
			  uint64_t minutes, uint64_t ttl, const uint8_t *txid)
{
	struct tb_test_xprepare tp;
	uint64_t now = (uint64_t)time(NULL);
	uint64_t from = r->log.timestamp > now ? r->log.timestamp : now;
	tb_test_xprepare(&tp, tb_rogue_id(r), ++r->txno, 1, to, to_name, minutes, from + ttl, NULL);
	if (txid)
		memcpy(tp.x.txid, txid, TB_TXID_LEN);
	return tb_rogue_add(r, TB_KIND_XPREPARE, &tp.x);
}

uint64_t tb_rogue_decide(struct tb_rogue *r, const struct tb_xprepare *p,
			 const uint8_t from_log[TB_KEY_LEN], uint64_t from_seq,
			 const char *from_name, uint64_t outcome)
{
	struct tb_xdecide d;
	tb_test_xdecide(&d, p, from_log, from_seq, from_name, outcome == TB_XO_COMMITTED ? 1 : 0,
			outcome);
	return tb_rogue_add(r, TB_KIND_XDECIDE, &d);
}

uint32_t tb_rogue_keyno_below(const uint8_t (*ids)[TB_KEY_LEN], size_t n, uint32_t from)
{
	for (uint32_t k = from;; k++) {
		struct tb_keypair kp;
		tb_test_keypair(&kp, k);
		size_t i = 0;
		while (i < n && memcmp(kp.pk.b, ids[i], TB_KEY_LEN) < 0)
			i++;
		tb_keypair_wipe(&kp);
		if (i == n)
			return k;
	}
}

/* ---- serving the log ---- */

void tb_rogue_connect(struct tb_rogue *r, struct tb_fake *p, uint16_t port, const uint8_t psk[32])
{
	tb_fake_open(p, port, psk, r->keyno);
}

size_t tb_rogue_send(struct tb_rogue *r, struct tb_fake *p, size_t from, size_t to)
{
	TB_ASSERT(from <= to && to <= r->recs.n);
	const struct tb_view *v = tb_test_recs_views(&r->recs, 0);
	size_t i = from;
	while (i < to) {
		size_t k = i, bytes = 0;
		while (k < to && bytes + 2 + v[k].len <= TB_FRAME_PAYLOAD_MAX - 64) {
			bytes += 2 + v[k].len;
			k++;
		}
		if (tb_fake_entries(p, v + i, k - i) || !tb_fake_drain(p))
			break;
		i = k;
	}
	return i - from;
}

/* Seq of log_id held in the ledger of a data directory (0: none). */
static uint64_t held_seq(const char *data, const uint8_t log_id[TB_KEY_LEN])
{
	char ledger[TB_FED_PATH + 64];
	snprintf(ledger, sizeof ledger, "%s/ledger", data);
	struct tb_store *s = NULL;
	if (tb_store_open(&s, ledger, TB_STORE_RDONLY))
		return 0;
	struct tb_head h;
	uint64_t seq = tb_store_head(s, log_id, &h) ? 0 : h.seq;
	tb_store_free(s);
	return seq;
}

void tb_rogue_serve(struct tb_rogue *r, struct tb_fed *f, size_t i, const uint8_t psk[32],
		    size_t from)
{
	struct tb_fake p;
	tb_rogue_connect(r, &p, f->node[i].port, psk);
	size_t sent = tb_rogue_send(r, &p, from, r->recs.n);
	if (sent != r->recs.n - from) {
		tb_fed_print_tail(f, i, 4000);
		fail_msg("%s closed the rogue's connection after %zu of %zu records",
			 f->node[i].name, sent, r->recs.n - from);
	}
	/* Reading on while the node appends, so that what it pushes to us
	 * never fills its send queue. */
	uint64_t until = tb_fed_now_ms() + 60000, held = 0;
	while ((held = held_seq(f->node[i].data, tb_rogue_id(r))) < r->log.seq) {
		if (!tb_fake_drain(&p) || tb_fed_now_ms() > until) {
			tb_fed_print_tail(f, i, 4000);
			fail_msg("%s holds the rogue's log up to seq %llu, not %llu",
				 f->node[i].name, (unsigned long long)held,
				 (unsigned long long)r->log.seq);
		}
		tb_fed_sleep_ms(25);
	}
	tb_fake_close(&p);
}

void tb_rogue_read_entry(struct tb_fed *f, size_t i, const uint8_t log_id[TB_KEY_LEN], uint64_t seq,
			 struct tb_entry *e, uint8_t *buf)
{
	char ledger[TB_FED_PATH + 64];
	snprintf(ledger, sizeof ledger, "%s/ledger", f->node[i].data);
	struct tb_store *s = NULL;
	assert_int_equal(tb_store_open(&s, ledger, TB_STORE_RDONLY), 0);
	size_t len = 0;
	int err = tb_store_get_entry(s, log_id, seq, buf, TB_ENTRY_MAX, &len);
	tb_store_free(s);
	if (err)
		fail_msg("%s: entry %llu of a log: %s", f->node[i].name, (unsigned long long)seq,
			 tb_strerror(err));
	assert_int_equal(tb_entry_decode(e, buf, len), 0);
}
