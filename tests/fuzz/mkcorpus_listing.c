/*
 * mkcorpus_listing.c: the seed corpus of fuzz_listing (mkcorpus's
 * "listing"), and the LISTINGS seed of fuzz_peer: a member-signed offer and an attested request
 * sealed by a fixed community key, and refused variants (truncated, trailing byte, a bad community
 * signature, expiry out of range signed validly).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

void mkcorpus_listing(const char *root);

static void put(const char *root, const char *name, const void *p, size_t len)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/listing/%s", root, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "mkcorpus: cannot write %s\n", path);
		exit(1);
	}
}

static struct tb_view sv(const char *s)
{
	return (struct tb_view){(const uint8_t *)s, strlen(s)};
}

/* A LISTINGS peer message carrying obj, into the peer corpus. */
static void peer_seed(const char *root, const uint8_t *obj, size_t len)
{
	static uint8_t recs[2 + TB_LISTING_MAX], msg[TB_FRAME_PAYLOAD_MAX];
	size_t rlen = 0, mlen;
	char path[1024];
	struct tb_peer_msg m = {.type = TB_MSG_LISTINGS};
	if (tb_records_add(recs, sizeof recs, &rlen, (struct tb_view){obj, len}))
		exit(1);
	m.u.listings.records = (struct tb_view){recs, rlen};
	if (tb_peer_msg_encode(msg, sizeof msg, &mlen, &m))
		exit(1);
	snprintf(path, sizeof path, "%s/peer/listings-valid", root);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(msg, 1, mlen, f) != mlen || fclose(f) != 0)
		exit(1);
}

void mkcorpus_listing(const char *root)
{
	struct tb_keypair log, member;
	struct tb_listing l;
	uint8_t sig[TB_SIGLEN], obj[TB_LISTING_MAX];
	size_t len;
	fuzz_keypair(&log, FUZZ_LOG_SEED);
	fuzz_keypair(&member, FUZZ_MEMBER_SEED + 1);
	memset(&l, 0, sizeof l);
	memcpy(l.log_id, log.pk.b, TB_KEY_LEN);
	memset(l.id, 0x11, TB_LISTING_ID_LEN);
	l.version = 1;
	l.member = 1;
	l.kind = TB_LISTING_OFFER;
	l.title = sv("I can fix bikes");
	l.description = sv("Brakes, gears and punctures.");
	l.category = sv("Repairs");
	l.visibility = TB_LISTING_FEDERATION;
	l.created = 1800000000;
	l.expires = l.created + 30 * TB_LISTING_DAY;
	if (tb_listing_sign_member(sig, &l, &member))
		exit(1);
	l.member_sig = (struct tb_view){sig, TB_SIGLEN};
	if (tb_listing_seal(obj, sizeof obj, &len, &l, &log))
		exit(1);
	put(root, "valid-offer", obj, len);
	peer_seed(root, obj, len);
	put(root, "bad-truncated", obj, len - 1);
	obj[len] = 0;
	put(root, "bad-trailing", obj, len + 1);
	obj[len - 1] ^= 1;
	put(root, "bad-sig", obj, len);

	l.kind = TB_LISTING_REQUEST;
	l.version = 2;
	l.title = sv("Lift to the clinic on Tuesdays");
	l.description = sv("");
	l.category = sv("");
	l.visibility = TB_LISTING_COMMUNITY;
	l.attested = 1;
	l.member_sig = (struct tb_view){NULL, 0};
	if (tb_listing_seal(obj, sizeof obj, &len, &l, &log))
		exit(1);
	put(root, "valid-request-attested", obj, len);

	/* 91 days, signed as if valid: sealing refuses it, so sign by hand. */
	l.expires = l.created + 91 * TB_LISTING_DAY;
	struct tb_wbuf w;
	tb_wbuf_init(&w, obj, sizeof obj);
	if (tb_msg_encode(&w, &tb_def_listing, &l) || w.len + TB_SIGLEN > sizeof obj)
		exit(1);
	tb_sign(obj + w.len, &log, TB_CTX_LISTED, obj, w.len);
	put(root, "bad-expiry", obj, w.len + TB_SIGLEN);
}
