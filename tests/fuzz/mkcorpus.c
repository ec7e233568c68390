/*
 * mkcorpus.c: writes the seed corpora of the fuzz targets into
 * tests/fuzz/corpus/<name>/ (entry, message, export, keyfile, peer, frames,
 * handshake_responder and handshake_initiator (name "handshake"), receipt,
 * config, ledger, repl (mkcorpus_repl.c) and listing (mkcorpus_listing.c)). CMake builds it (target
 * mkcorpus) but no test runs it; the corpus files are the artefact and this program documents how
 * they were made. Rebuild them, from the repository root after a normal build into build/, with
 *
 *   build/tests/mkcorpus tests/fuzz/corpus [NAME...]
 *
 * With names, only those corpora are written (directories must exist).
 * Everything is deterministic (fixed keys and values, those of fuzz_util.h)
 * except key files, which get a fresh salt and nonce each run. Key files use
 * TB_KDF_MIN and the passphrase "fuzz", the one fuzz_keyfile.c tries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "fuzz_util.h"
#include "tb_audit.h"
#include "tb_frame.h"
#include "tb_node.h"
#include "tb_noise.h"

static const char *g_root;

void mkcorpus_repl(const char *root);	 /* mkcorpus_repl.c */
void mkcorpus_listing(const char *root); /* mkcorpus_listing.c */

static void put(const char *dir, const char *name, const void *p, size_t len)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s/%s", g_root, dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "mkcorpus: cannot write %s\n", path);
		exit(1);
	}
}

static uint8_t g_bytes[1u << 18]; /* backing store of BIN and STR views */

/* Real contents for peer messages and exports: signed entries and a checkpoint. */
static uint8_t g_recs[3][TB_ENTRY_MAX];
static size_t g_reclen[3];
static uint8_t g_cp[TB_CHECKPOINT_MAX];
static size_t g_cplen;

/* Fills a message: variant 0 with small values, 1 with the largest ones. */
static void fill_msg(const struct tb_msgdef *d, void *obj, int variant)
{
	size_t used = 0;
	memset(obj, 0, d->size);
	for (size_t i = 0; i < d->nfields; i++) {
		const struct tb_field *f = &d->fields[i];
		uint8_t *at = (uint8_t *)obj + f->offset;
		uint64_t u = variant ? (uint64_t)f->max : (uint64_t)f->min + (f->max > f->min);
		int64_t s = variant ? f->min : f->max;
		struct tb_view v;
		switch (f->type) {
		case TB_FT_UINT:
			memcpy(at, &u, sizeof u);
			break;
		case TB_FT_INT:
			memcpy(at, &s, sizeof s);
			break;
		case TB_FT_FIXED:
			memset(at, 0x11 * (int)(i + 1), (size_t)f->max);
			break;
		case TB_FT_BIN:
		case TB_FT_STR:
			v.len = variant ? (size_t)f->max : (size_t)(f->min > 3 ? f->min : 3);
			if (v.len > (size_t)f->max)
				v.len = (size_t)f->max;
			v.p = g_bytes + used;
			for (size_t k = 0; k < v.len; k++)
				g_bytes[used + k] = f->type == TB_FT_STR ? (uint8_t)('a' + k % 26)
									 : (uint8_t)(k * 7);
			/* Some multi-byte UTF-8 in the long strings. */
			if (f->type == TB_FT_STR && variant && v.len >= 5)
				memcpy(g_bytes + used, "\xc3\xa9\xe2\x82\xac", 5);
			used += v.len;
			memcpy(at, &v, sizeof v);
			break;
		}
	}
}

static size_t seal(uint8_t *out, uint64_t kind, int variant, uint64_t seq,
		   const struct tb_keypair *kp)
{
	struct tb_entry e;
	size_t len;
	memset(&e, 0, sizeof e);
	e.version = TB_ENTRY_VERSION;
	memcpy(e.log_id, kp->pk.b, TB_KEY_LEN);
	e.seq = seq;
	memset(e.prev, 0x22, sizeof e.prev);
	e.timestamp = 1740000000 + seq;
	e.kind = kind;
	fill_msg(tb_kind_def(kind), &e.body, variant);
	if (tb_entry_seal(out, TB_ENTRY_MAX, &len, &e, kp) != 0) {
		fprintf(stderr, "mkcorpus: seal failed\n");
		exit(1);
	}
	return len;
}

static void entries(const struct tb_keypair *kp)
{
	uint8_t rec[TB_ENTRY_MAX + 1];
	char name[64];
	size_t len = 0;
	/* Every defined kind; numbers may have gaps (kinds are reserved per
	 * feature), so look well past the last one. */
	for (uint64_t k = 1; k < 64; k++) {
		if (!tb_kind_def(k))
			continue;
		for (int v = 0; v < 2; v++) {
			len = seal(rec, k, v, k + 1, kp);
			snprintf(name, sizeof name, "valid-%s-%d", tb_kind_name(k), v);
			put("entry", name, rec, len);
		}
	}
	/* A few invalid ones, made from an exchange record. */
	len = seal(rec, TB_KIND_EXCHANGE, 0, 9, kp);
	put("entry", "bad-truncated", rec, len - 1);
	rec[len] = 0;
	put("entry", "bad-trailing", rec, len + 1);
	uint8_t nc[TB_ENTRY_MAX + 1];
	/* seq 9 as 0xcc 0x09: at offset 1 (array) + 1 (version) + 34 (log_id). */
	memcpy(nc, rec, 36);
	nc[36] = 0xcc;
	memcpy(nc + 37, rec + 36, len - 36);
	put("entry", "bad-noncanon-seq", nc, len + 1);
	uint8_t bad = rec[1];
	rec[1] = 2;
	put("entry", "bad-version", rec, len);
	rec[1] = bad;
	len = seal(rec, TB_KIND_GENESIS, 0, 1, kp);
	/* The genesis body [name "abc", floor, ceiling] starts with the bytes
	 * 0x93 0xa3: put a control character into the name. */
	for (size_t i = 0; i + 2 < len; i++) {
		if (rec[i] == 0x93 && rec[i + 1] == 0xa3 && rec[i + 2] == 'a') {
			rec[i + 2] = 0x01;
			put("entry", "bad-utf8-name", rec, len);
			break;
		}
	}
}

static const struct tb_msgdef *const msg_defs[] = {
#define X_KIND(UP, low, num) &tb_def_##low,
	TB_ENTRY_KINDS(X_KIND)
#undef X_KIND
#define X_MSG(UP, low) &tb_def_##low,
		TB_OTHER_MESSAGES(X_MSG)
#undef X_MSG
};

static void messages(void)
{
	/* The same order as fuzz_message.c: byte 0 selects the message. */
	static uint8_t buf[4 * TB_ENTRY_MAX];
	uint64_t obj[256];
	char name[64];
	size_t len;
	for (size_t i = 0; i < sizeof msg_defs / sizeof msg_defs[0]; i++) {
		const struct tb_msgdef *d = msg_defs[i];
		for (int v = 0; v < 2; v++) {
			fill_msg(d, obj, v);
			buf[0] = (uint8_t)i;
			if (tb_terms_encode(buf + 1, sizeof buf - 1, &len, d, obj)) {
				fprintf(stderr, "mkcorpus: encode failed\n");
				exit(1);
			}
			snprintf(name, sizeof name, "valid-%s-%d", d->name, v);
			put("message", name, buf, len + 1);
			if (v == 0 && d == &tb_def_exchange_terms) {
				buf[len + 1] = 0xc0;
				put("message", "bad-trailing-exchange_terms", buf, len + 2);
			}
			if (v == 0 && d == &tb_def_proposal)
				put("message", "bad-truncated-proposal", buf, len);
		}
	}
}

static void exports(const struct tb_keypair *kp)
{
	static uint8_t file[4 * (TB_ENTRY_MAX + 5) + 64];
	uint8_t rec[TB_ENTRY_MAX];
	size_t n = 0, len;
	uint8_t h[9];
	tb_export_header(h);
	memcpy(file, h, 9);
	n = 9;
	put("export", "bad-header-only", file, n); /* no END: truncated */
	uint8_t end[13];
	tb_export_item_header(end, TB_EXPORT_END, 8);
	memset(end + 5, 0, 8);
	memcpy(file + n, end, 13);
	put("export", "valid-empty", file, n + 13);
	for (uint64_t k = 1; k <= 3; k++) {
		len = seal(rec, k, 0, k, kp);
		tb_export_item_header(file + n, TB_EXPORT_ENTRY, (uint32_t)len);
		memcpy(file + n + 5, rec, len);
		n += 5 + len;
	}
	end[12] = 3;
	memcpy(file + n, end, 13);
	put("export", "valid-three", file, n + 13);
	put("export", "bad-truncated", file, n + 12);
	end[12] = 4;
	memcpy(file + n, end, 13);
	put("export", "bad-count", file, n + 13);
	end[12] = 3;
	memcpy(file + n, end, 13);
	file[n + 13] = 0;
	put("export", "bad-trailing", file, n + 14);
	file[9] = 7;
	put("export", "bad-item-type", file, n + 13);
	file[9] = TB_EXPORT_ENTRY;
	file[0] = 'X';
	put("export", "bad-magic", file, n + 13);
	file[0] = 'T';
	tb_export_item_header(file + 9, TB_EXPORT_ENTRY, TB_ENTRY_MAX + 1);
	put("export", "bad-item-too-big", file, n + 13);

	/* Every item type: two entries, a checkpoint, a fork proof. */
	n = 9;
	for (int i = 0; i < 2; i++) {
		tb_export_item_header(file + n, TB_EXPORT_ENTRY, (uint32_t)g_reclen[i]);
		memcpy(file + n + 5, g_recs[i], g_reclen[i]);
		n += 5 + g_reclen[i];
	}
	tb_export_item_header(file + n, TB_EXPORT_CHECKPOINT, (uint32_t)g_cplen);
	memcpy(file + n + 5, g_cp, g_cplen);
	n += 5 + g_cplen;
	size_t fl = 2 + g_reclen[0] + g_reclen[1];
	tb_export_item_header(file + n, TB_EXPORT_FORK, (uint32_t)fl);
	file[n + 5] = (uint8_t)(g_reclen[0] >> 8);
	file[n + 6] = (uint8_t)g_reclen[0];
	memcpy(file + n + 7, g_recs[0], g_reclen[0]);
	memcpy(file + n + 7 + g_reclen[0], g_recs[1], g_reclen[1]);
	size_t fork_at = n;
	n += 5 + fl;
	tb_export_item_header(end, TB_EXPORT_END, 8);
	memset(end + 5, 0, 8);
	end[12] = 4;
	memcpy(file + n, end, 13);
	put("export", "valid-all-types", file, n + 13);
	file[fork_at + 5] = 0xff; /* the fork's first length past the item */
	put("export", "bad-fork-length", file, n + 13);
}

static void keyfiles(void)
{
	uint8_t img[TB_KEYFILE_LEN + 1];
	struct tb_keypair kp;
	uint8_t seed[TB_SEED_LEN];
	for (int i = 0; i < 2; i++) {
		memset(seed, 0x40 + i, sizeof seed);
		tb_keypair_from_seed(&kp, seed);
		if (tb_keyfile_seal(img, &kp, "fuzz", 4, TB_KDF_MIN)) {
			fprintf(stderr, "mkcorpus: keyfile seal failed\n");
			exit(1);
		}
		put("keyfile", i ? "valid-2" : "valid-1", img, TB_KEYFILE_LEN);
	}
	if (tb_keyfile_seal(img, &kp, "other", 5, TB_KDF_MIN))
		exit(1);
	put("keyfile", "wrong-passphrase", img, TB_KEYFILE_LEN);
	if (tb_keyfile_seal(img, &kp, "fuzz", 4, TB_KDF_MIN))
		exit(1);
	img[100] ^= 1;
	put("keyfile", "bad-box", img, TB_KEYFILE_LEN);
	img[100] ^= 1;
	img[70] ^= 1;
	put("keyfile", "bad-clear-pubkey", img, TB_KEYFILE_LEN);
	img[70] ^= 1;
	put("keyfile", "bad-short", img, TB_KEYFILE_LEN - 1);
	img[TB_KEYFILE_LEN] = 0;
	put("keyfile", "bad-long", img, TB_KEYFILE_LEN + 1);
	img[0] = 'X';
	put("keyfile", "bad-magic", img, TB_KEYFILE_LEN);
	img[0] = 'T';
	img[9] = 2;
	put("keyfile", "bad-kdf", img, TB_KEYFILE_LEN);
	img[9] = 1;
	img[15] = 0x40; /* opslimit 64: over the cap, refused before the KDF */
	put("keyfile", "bad-opslimit", img, TB_KEYFILE_LEN);
	tb_keypair_wipe(&kp);
}

static struct tb_view cstr(const char *s)
{
	return (struct tb_view){(const uint8_t *)s, strlen(s)};
}

static size_t peer_enc(uint8_t *out, size_t cap, const struct tb_peer_msg *m)
{
	size_t len;
	if (tb_peer_msg_encode(out, cap, &len, m)) {
		fprintf(stderr, "mkcorpus: peer encode failed\n");
		exit(1);
	}
	return len;
}

static void real_things(const struct tb_keypair *kp)
{
	for (int i = 0; i < 3; i++)
		g_reclen[i] = seal(g_recs[i], TB_KIND_EXCHANGE, i & 1, 5, kp);
	struct tb_checkpoint cp;
	memset(&cp, 0, sizeof cp);
	memcpy(cp.log_id, kp->pk.b, TB_KEY_LEN);
	cp.size = 5;
	memset(cp.root, 0x44, sizeof cp.root);
	cp.timestamp = 1740000000;
	if (tb_checkpoint_seal(g_cp, sizeof g_cp, &g_cplen, &cp, kp))
		exit(1);
}

/* The messages of fuzz_peer's corpus, also the plaintexts of fuzz_frames. */
static size_t real_peer(uint8_t *out, size_t cap, uint64_t type, const struct tb_keypair *kp)
{
	static uint8_t buf[4 * (TB_ENTRY_MAX + 2)];
	struct tb_peer_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	size_t n = 0;
	switch (type) {
	case TB_MSG_HELLO: {
		uint8_t proof[33];
		memset(proof, 0x33, sizeof proof);
		m.u.hello.version = TB_PROTO_VERSION;
		memcpy(m.u.hello.node_id, kp->pk.b, TB_KEY_LEN);
		tb_sign(m.u.hello.sig, kp, TB_CTX_HANDSHAKE, proof, sizeof proof);
		m.u.hello.name = cstr("Riverside");
		break;
	}
	case TB_MSG_SYNC:
		memset(m.u.sync.digest, 0x55, 32);
		m.u.sync.logs = 2;
		break;
	case TB_MSG_HEADS:
		for (int i = 0; i < 2; i++) {
			uint8_t log_id[TB_KEY_LEN], hash[TB_HASHLEN];
			memcpy(log_id, kp->pk.b, TB_KEY_LEN);
			log_id[0] ^= (uint8_t)i;
			memset(hash, 0x66, TB_HASHLEN);
			tb_heads_put(buf + n, log_id, 5 + (uint64_t)i, hash);
			n += TB_HEAD_REC_LEN;
		}
		m.u.heads.heads = (struct tb_view){buf, n};
		break;
	case TB_MSG_ENTRIES:
		for (int i = 0; i < 3; i++)
			if (tb_records_add(buf, sizeof buf, &n,
					   (struct tb_view){g_recs[i], g_reclen[i]}))
				exit(1);
		m.u.entries.records = (struct tb_view){buf, n};
		break;
	case TB_MSG_FORK:
		m.u.fork.a = (struct tb_view){g_recs[0], g_reclen[0]};
		m.u.fork.b = (struct tb_view){g_recs[1], g_reclen[1]};
		break;
	case TB_MSG_PING:
	case TB_MSG_PONG:
		m.u.ping.nonce = 1234567;
		break;
	case TB_MSG_BYE:
		m.u.bye.reason = cstr("shutting down");
		break;
	case TB_MSG_CHECKPOINT_MSG:
		m.u.checkpoint_msg.checkpoint = (struct tb_view){g_cp, g_cplen};
		break;
	}
	return peer_enc(out, cap, &m);
}

static void peers_corpus(const struct tb_keypair *kp)
{
	static uint8_t buf[TB_FRAME_PAYLOAD_MAX + 64];
	char name[64];
	size_t len;
	for (uint64_t t = 1; tb_peer_def(t); t++) {
		struct tb_peer_msg m;
		for (int v = 0; v < 2; v++) {
			memset(&m, 0, sizeof m);
			m.type = t;
			fill_msg(tb_peer_def(t), &m.u, v);
			len = peer_enc(buf, sizeof buf, &m);
			snprintf(name, sizeof name, "fill-%s-%d", tb_peer_def(t)->name, v);
			put("peer", name, buf, len);
		}
		len = real_peer(buf, sizeof buf, t, kp);
		snprintf(name, sizeof name, "valid-%s", tb_peer_def(t)->name);
		put("peer", name, buf, len);
	}
	len = real_peer(buf, sizeof buf, TB_MSG_PING, kp);
	put("peer", "bad-truncated", buf, len - 1);
	buf[len] = 0xc0;
	put("peer", "bad-trailing", buf, len + 1);
	buf[1] = 10;
	put("peer", "bad-type", buf, len);
	buf[0] = 0x93;
	put("peer", "bad-arity", buf, len);
}

/* fuzz_frames: [flags][stream]. */
static void frames_corpus(const struct tb_keypair *kp)
{
	static uint8_t plain[1 + 8 * (TB_FRAME_PAYLOAD_MAX + 64)];
	static uint8_t wire[1 + 8 * (TB_FRAME_PAYLOAD_MAX + 128)];
	static const uint64_t types[] = {
		TB_MSG_HELLO,	       TB_MSG_SYNC, TB_MSG_HEADS, TB_MSG_ENTRIES,
		TB_MSG_CHECKPOINT_MSG, TB_MSG_PING, TB_MSG_FORK,  TB_MSG_BYE};
	struct tb_noise_cipher tx;
	memset(&tx, 0, sizeof tx);
	fuzz_fill(tx.k, FUZZ_FRAME_KEY);
	tx.has_key = 1;
	size_t p = 1, w = 1;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		size_t len = real_peer(plain + p + 2, sizeof plain - p - 2, types[i], kp);
		plain[p] = (uint8_t)(len >> 8);
		plain[p + 1] = (uint8_t)len;
		size_t clen;
		if (tb_noise_encrypt(&tx, plain + p + 2, len, wire + w + 2, sizeof wire - w - 2,
				     &clen))
			exit(1);
		wire[w] = (uint8_t)(clen >> 8);
		wire[w + 1] = (uint8_t)clen;
		p += 2 + len;
		w += 2 + clen;
	}
	plain[0] = 0x01; /* sealed here, read at once */
	put("frames", "sealed-all", plain, p);
	plain[0] = 0x01 | 3 << 2; /* reads of 153 bytes */
	put("frames", "sealed-chunked", plain, p);
	plain[0] = 0x01 | 1 << 2; /* reads of 17 bytes */
	put("frames", "sealed-small-reads", plain, p);
	wire[0] = 0x00; /* raw ciphertext, valid under the fixed key */
	put("frames", "raw-valid", wire, w);
	wire[0] = 2 << 2;
	put("frames", "raw-valid-chunked", wire, w);
	wire[0] = 0x02; /* handshake: only split */
	put("frames", "handshake-split", wire, w);
	/* The second frame's tag broken: the first opens, the second does not. */
	size_t first = 2 + ((size_t)wire[1] << 8 | wire[2]);
	wire[0] = 0x00;
	wire[1 + first + 5] ^= 1;
	put("frames", "raw-bad-tag", wire, w);
	wire[1 + first + 5] ^= 1;
	/* Short and empty frames, a truncated stream. */
	uint8_t small[] = {0x00, 0x00, 0x05, 1, 2, 3, 4, 5};
	put("frames", "bad-short-frame", small, sizeof small);
	uint8_t empty[] = {0x02, 0x00, 0x00};
	put("frames", "bad-empty-handshake-frame", empty, sizeof empty);
	put("frames", "truncated", wire, w - 7);
	/* A sealed frame that is not a peer message. */
	uint8_t junk[] = {0x01, 0x00, 0x03, 0x92, 0x0b, 0xc0};
	put("frames", "sealed-bad-message", junk, sizeof junk);
}

/* Runs a handshake between fixed-key sides and writes the raw seeds. */
static void hs_corpus(void)
{
	uint8_t psk[32], is[32], ie[32], rs[32], re[32];
	fuzz_fill(psk, FUZZ_PSK);
	fuzz_fill(is, FUZZ_INIT_STATIC);
	fuzz_fill(ie, FUZZ_INIT_EPH);
	fuzz_fill(rs, FUZZ_RESP_STATIC);
	fuzz_fill(re, FUZZ_RESP_EPH);
	const uint8_t *pro = (const uint8_t *)FUZZ_PROLOGUE;
	size_t plen = strlen(FUZZ_PROLOGUE);
	static const size_t pay[][3] = {{0, 0, 0}, {10, 0, 20}, {0, 0, 300}, {300, 0, 0}};
	uint8_t payload[512];
	memset(payload, 0x5c, sizeof payload);
	for (size_t k = 0; k < sizeof pay / sizeof pay[0]; k++) {
		struct tb_noise_hs i, r;
		uint8_t m1[1024], m2[1024], m3[1024], pl[1024];
		size_t n1, n2, n3, got;
		if (tb_noise_init(&i, TB_NOISE_INITIATOR, pro, plen, psk, is, ie) ||
		    tb_noise_init(&r, TB_NOISE_RESPONDER, pro, plen, psk, rs, re) ||
		    tb_noise_write(&i, payload, pay[k][0], m1, sizeof m1, &n1) ||
		    tb_noise_read(&r, m1, n1, pl, sizeof pl, &got) ||
		    tb_noise_write(&r, payload, pay[k][1], m2, sizeof m2, &n2) ||
		    tb_noise_read(&i, m2, n2, pl, sizeof pl, &got) ||
		    tb_noise_write(&i, payload, pay[k][2], m3, sizeof m3, &n3))
			exit(1);
		uint8_t f[3 * 1024];
		char name[64];
		f[0] = 0;
		f[1] = (uint8_t)(n1 >> 8);
		f[2] = (uint8_t)n1;
		memcpy(f + 3, m1, n1);
		memcpy(f + 3 + n1, m3, n3);
		snprintf(name, sizeof name, "raw-%zu-%zu", pay[k][0], pay[k][2]);
		put("handshake_responder", name, f, 3 + n1 + n3);
		if (k == 0) {
			f[3 + n1 + 10] ^= 1;
			put("handshake_responder", "raw-bad-msg3", f, 3 + n1 + n3);
			put("handshake_responder", "raw-msg1-only", f, 3 + n1);
			f[3 + 5] ^= 1;
			put("handshake_responder", "raw-bad-msg1", f, 3 + n1 + n3);
			put("handshake_responder", "raw-short", f, 3 + 20);
		}
	}
	/* The initiator's side: our fixed message 1 is always the same, so a
	 * fixed responder's message 2 to it is valid. */
	for (size_t pl2 = 0; pl2 <= 300; pl2 += 150) {
		struct tb_noise_hs i, r;
		uint8_t m1[1024], m2[1024], pl[1024];
		size_t n1, n2, got;
		if (tb_noise_init(&i, TB_NOISE_INITIATOR, pro, plen, psk, is, ie) ||
		    tb_noise_init(&r, TB_NOISE_RESPONDER, pro, plen, psk, rs, re) ||
		    tb_noise_write(&i, NULL, 0, m1, sizeof m1, &n1) ||
		    tb_noise_read(&r, m1, n1, pl, sizeof pl, &got) ||
		    tb_noise_write(&r, payload, pl2, m2, sizeof m2, &n2))
			exit(1);
		uint8_t f[1025];
		char name[64];
		f[0] = 0;
		memcpy(f + 1, m2, n2);
		snprintf(name, sizeof name, "raw-%zu", pl2);
		put("handshake_initiator", name, f, 1 + n2);
		if (pl2 == 0) {
			f[1 + 40] ^= 1;
			put("handshake_initiator", "raw-bad-static", f, 1 + n2);
			put("handshake_initiator", "raw-short", f, 1 + 31);
		}
	}
	/* Honest peers: [1][t1][t2][l1][l2][eph 32][static 32][payload]. */
	static const uint8_t hv[][4] = {{0, 0, 0, 0},  {0, 0, 5, 9},   {3, 0, 0, 0},
					{0, 50, 0, 0}, {0, 0, 200, 0}, {0, 0, 0, 140}};
	for (size_t k = 0; k < sizeof hv / sizeof hv[0]; k++) {
		uint8_t f[1 + 4 + 64 + 400];
		char name[64];
		f[0] = 1;
		memcpy(f + 1, hv[k], 4);
		memset(f + 5, 0x90 + (int)k, 32);
		memset(f + 37, 0xa0 + (int)k, 32);
		memset(f + 69, 0x3c, 400);
		snprintf(name, sizeof name, "honest-%u-%u-%u-%u", hv[k][0], hv[k][1], hv[k][2],
			 hv[k][3]);
		put("handshake_responder", name, f, sizeof f);
		put("handshake_initiator", name, f, sizeof f);
	}
}

/* ---- ledger bodies ---- */

static size_t body(uint8_t *out, size_t cap, uint64_t kind, const void *obj)
{
	size_t len;
	if (tb_terms_encode(out, cap, &len, tb_kind_def(kind), obj)) {
		fprintf(stderr, "mkcorpus: body of kind %llu\n", (unsigned long long)kind);
		exit(1);
	}
	return len;
}

struct ops {
	uint8_t b[16384];
	size_t n;
};

static void op(struct ops *o, uint8_t h, uint64_t kind, const void *obj)
{
	size_t len = body(o->b + o->n + 4, sizeof o->b - o->n - 4, kind, obj);
	o->b[o->n] = h;
	o->b[o->n + 1] = (uint8_t)kind;
	o->b[o->n + 2] = (uint8_t)(len >> 8);
	o->b[o->n + 3] = (uint8_t)len;
	o->n += 4 + len;
}

static const char *const g_names[] = {"", "alice", "bob", "carol"};

static void community(struct ops *o, uint8_t log, const char *name, const struct tb_keypair *mk)
{
	struct tb_genesis g = {.name = cstr(name), .floor = -600, .ceiling = 0};
	op(o, log, TB_KIND_GENESIS, &g);
	for (uint32_t m = 1; m <= 3; m++) {
		struct tb_member_join j;
		memset(&j, 0, sizeof j);
		j.member = m;
		j.name = cstr(g_names[m]);
		memcpy(j.key, mk[m].pk.b, TB_KEY_LEN);
		j.floor = -600;
		j.ceiling = m == 3 ? 60 : 0;
		op(o, log, TB_KIND_MEMBER_JOIN, &j);
	}
}

static void exchange(struct ops *o, uint8_t h, uint64_t txno, uint32_t p, uint32_t r,
		     uint64_t minutes)
{
	struct tb_exchange x;
	memset(&x, 0, sizeof x);
	tb_be64_put(x.txid, txno);
	x.provider = p;
	x.receiver = r;
	x.minutes = minutes;
	x.category = cstr("gardening");
	x.date = 20240101;
	x.attested = 1;
	op(o, h, TB_KIND_EXCHANGE, &x);
}

static void link_to(struct ops *o, uint8_t log, const struct tb_keypair *other, uint64_t limit)
{
	struct tb_link l;
	memcpy(l.community, other->pk.b, TB_KEY_LEN);
	l.limit = limit;
	op(o, log, TB_KIND_LINK, &l);
}

static struct tb_xprepare prepare(uint64_t txno, uint32_t member, const struct tb_keypair *to,
				  const char *to_name, uint64_t minutes)
{
	struct tb_xprepare x;
	memset(&x, 0, sizeof x);
	tb_be64_put(x.txid, txno);
	x.member = member;
	memcpy(x.to_log, to->pk.b, TB_KEY_LEN);
	x.to_name = cstr(to_name);
	x.minutes = minutes;
	x.category = cstr("care");
	x.date = 20240102;
	x.expires = 1740000000u + 100000;
	x.attested = 1;
	return x;
}

static void update(struct ops *o, uint32_t member, const char *name, int64_t floor,
		   uint64_t ceiling, uint64_t reinstate)
{
	struct tb_member_update u = {.member = member,
				     .name = cstr(name),
				     .floor = floor,
				     .ceiling = ceiling,
				     .reinstate = reinstate};
	op(o, 0, TB_KIND_MEMBER_UPDATE, &u);
}

static void opening(struct ops *o, uint64_t txno, uint32_t member, int64_t minutes, uint64_t date)
{
	struct tb_opening ob;
	memset(&ob, 0, sizeof ob);
	tb_be64_put(ob.txid, 0x0b00 + txno);
	ob.member = member;
	ob.minutes = minutes;
	ob.date = date;
	op(o, 0, TB_KIND_OPENING, &ob);
}

/* Kinds 12 (member update) and 13 (opening balance), accepted and refused:
 * renames (a lookalike, an invisible character, the community account's
 * name), limits, a reinstatement and one of an active member, openings of
 * either sign, a repeated txid, a zero amount, a date ahead of the entry,
 * an opening for a member who left; then exchanges the new limits and
 * balances decide. */
static void members_over_time(struct ops *o, const struct tb_keypair *mk)
{
	struct tb_member_left left = {.member = 3};
	o->n = 0;
	o->b[o->n++] = 0;
	community(o, 0, "Riverside", mk);
	update(o, 2, "Robert", -1200, 120, 0);
	update(o, 1, "ROBERT", -600, 0, 0); /* too like #2: ENAME */
	update(o, 1,
	       "ali\xe2\x80\x8b"
	       "ce",
	       -600, 0, 0);		       /* zero-width space */
	update(o, 1, "Community", -600, 0, 0); /* reserved */
	update(o, 1,
	       "Ali\xd1\x81"
	       "e",
	       -600, 0, 0);		    /* Cyrillic es: like her own name */
	update(o, 9, "nobody", -600, 0, 0); /* no such member */
	opening(o, 1, 1, 90, 20240101);
	opening(o, 2, 2, -300, 20231201);
	opening(o, 2, 3, 30, 20240101); /* txid again: EDUPTX */
	opening(o, 3, 3, 0, 20240101);	/* changes nothing: EAMOUNT */
	opening(o, 4, 3, 60, 20991231); /* after the entry's day: EDATE */
	exchange(o, 0, 1, 1, 2, 900);	/* Robert's floor is now -20 hours */
	exchange(o, 0, 2, 3, 2, 90);	/* below Robert's new floor: refused */
	op(o, 0, TB_KIND_MEMBER_LEFT, &left);
	opening(o, 5, 3, 60, 20240101);	    /* carol left: refused */
	update(o, 3, "carol", -600, 60, 0); /* left: reinstate first */
	update(o, 3, "Caroline", -600, 0, 1);
	update(o, 3, "Caroline", -600, 0, 1); /* active: nothing to reinstate */
	opening(o, 6, 3, 60, 20240101);
	exchange(o, 0, 3, 3, 1, 30);
	put("ledger", "members-over-time", o->b, o->n);
	o->b[0] = 1;
	put("ledger", "members-over-time-audit", o->b, o->n);
}

/* Log `old` forked at entry 1 (two geneses, both signed): the proof, and
 * the succession by which log `nw` succeeds it keeping the first one. */
static void succession_body(struct tb_succession *sb, uint8_t *proof, size_t cap,
			    const struct tb_keypair *old, const struct tb_keypair *nw)
{
	uint8_t a[TB_ENTRY_MAX], b[TB_ENTRY_MAX], terms[256];
	size_t alen, blen, tlen;
	struct tb_entry e;
	memset(&e, 0, sizeof e);
	e.version = TB_ENTRY_VERSION;
	memcpy(e.log_id, old->pk.b, TB_KEY_LEN);
	e.seq = 1;
	e.timestamp = 1740000000u;
	e.kind = TB_KIND_GENESIS;
	e.body.genesis = (struct tb_genesis){.name = cstr("Lakeside"), .floor = -600};
	if (tb_entry_seal(a, sizeof a, &alen, &e, old))
		exit(1);
	e.body.genesis.name = cstr("Lakeside too");
	if (tb_entry_seal(b, sizeof b, &blen, &e, old) || 2 + alen + blen > cap)
		exit(1);
	proof[0] = (uint8_t)(alen >> 8);
	proof[1] = (uint8_t)alen;
	memcpy(proof + 2, a, alen);
	memcpy(proof + 2 + alen, b, blen);
	memset(sb, 0, sizeof *sb);
	memcpy(sb->old_log, old->pk.b, TB_KEY_LEN);
	sb->kept_seq = 1;
	tb_entry_hash(sb->kept_hash, a, alen);
	sb->fork_proof = (struct tb_view){proof, 2 + alen + blen};
	struct tb_succession_terms t;
	tb_succession_terms_of(&t, nw->pk.b, sb);
	if (tb_terms_encode(terms, sizeof terms, &tlen, &tb_def_succession_terms, &t))
		exit(1);
	tb_sign(sb->old_sig, old, TB_CTX_SUCCESSION, terms, tlen);
}

static void ledger_corpus(void)
{
	struct tb_keypair lg[3], mk[4];
	for (int i = 0; i < 3; i++)
		fuzz_keypair(&lg[i], FUZZ_LOG_SEED + i);
	for (int i = 0; i < 4; i++)
		fuzz_keypair(&mk[i], FUZZ_MEMBER_SEED + i);
	struct ops o;

	/* One community: members, exchanges (attested and consented), a
	 * reversal, a key change, a member leaving, one over the floor. */
	o.n = 0;
	o.b[o.n++] = 0;
	community(&o, 0, "Riverside", mk);
	exchange(&o, 0, 1, 1, 2, 30);
	exchange(&o, 0x20, 2, 1, 2, 45);
	exchange(&o, 0, 3, 3, 1, 50);
	struct tb_reversal rv;
	memset(&rv, 0, sizeof rv);
	tb_be64_put(rv.txid, 4);
	tb_be64_put(rv.original, 1);
	rv.attested = 1;
	op(&o, 0, TB_KIND_REVERSAL, &rv);
	tb_be64_put(rv.txid, 5);
	tb_be64_put(rv.original, 2);
	op(&o, 0x20, TB_KIND_REVERSAL, &rv);
	struct tb_member_key mkey = {.member = 2};
	memcpy(mkey.key, mk[0].pk.b, TB_KEY_LEN);
	op(&o, 0, TB_KIND_MEMBER_KEY, &mkey);
	exchange(&o, 0, 6, 1, 2, 700); /* below bob's floor: refused */
	struct tb_member_left left = {.member = 3};
	op(&o, 0, TB_KIND_MEMBER_LEFT, &left);
	exchange(&o, 0, 7, 3, 1, 5); /* carol left: refused */
	put("ledger", "one-community", o.b, o.n);
	o.b[0] = 1; /* the same in audit mode: refusals become violations */
	put("ledger", "one-community-audit", o.b, o.n);

	/* Two communities, linked both ways; B's bob pays A's alice (A decides
	 * in its clearing step), A's carol pays B's alice (B's decision is an
	 * entry here; A finishes). */
	o.n = 0;
	o.b[o.n++] = 0;
	community(&o, 0, "Riverside", mk);
	community(&o, 1, "Hillside", mk);
	link_to(&o, 0, &lg[1], 600);
	link_to(&o, 1, &lg[0], 600);
	struct tb_xprepare xp = prepare(100, 2, &lg[0], "alice", 40);
	op(&o, 1, TB_KIND_XPREPARE, &xp);	      /* B seq 6 */
	op(&o, 0x80 | 0, TB_KIND_MEMBER_LEFT, &left); /* A clears after */
	xp = prepare(101, 1, &lg[1], "alice", 20);
	op(&o, 0x20 | 0, TB_KIND_XPREPARE, &xp); /* A seq 8 */
	struct tb_xdecide xd;
	memset(&xd, 0, sizeof xd);
	memcpy(xd.txid, xp.txid, TB_TXID_LEN);
	memcpy(xd.from_log, lg[0].pk.b, TB_KEY_LEN);
	xd.from_seq = 8;
	xd.from_name = cstr("alice");
	xd.member = 1;
	xd.to_name = xp.to_name;
	xd.minutes = xp.minutes;
	xd.category = xp.category;
	memcpy(xd.memo_hash, xp.memo_hash, TB_HASHLEN);
	xd.date = xp.date;
	xd.expires = xp.expires;
	xd.outcome = 0;
	op(&o, 1, TB_KIND_XDECIDE, &xd); /* B seq 7 */
	struct tb_xfinal xf;
	memset(&xf, 0, sizeof xf);
	memcpy(xf.txid, xp.txid, TB_TXID_LEN);
	xf.decide_seq = 7;
	xf.outcome = 0;
	op(&o, 0, TB_KIND_XFINAL, &xf); /* by hand (the clearing step may too) */
	xp = prepare(102, 1, &lg[2], "alice", 10);
	op(&o, 0, TB_KIND_XPREPARE, &xp); /* no link to C: refused */
	put("ledger", "two-communities", o.b, o.n);
	o.b[0] = 2; /* clearing after every entry */
	put("ledger", "two-communities-clearing", o.b, o.n);
	o.b[0] = 3;
	put("ledger", "two-communities-audit", o.b, o.n);

	/* Forks, gaps, bad prev, old timestamps, a refused decision. */
	o.n = 0;
	o.b[o.n++] = 0;
	community(&o, 2, "Lakeside", mk);
	exchange(&o, 2 | 0x04, 1, 1, 2, 30);
	exchange(&o, 2 | 0x08, 2, 1, 2, 30);
	exchange(&o, 2 | 0x10, 3, 1, 2, 30);
	exchange(&o, 2 | 0x40, 4, 1, 2, 30);
	xd.outcome = 2;
	xd.from_seq = 2;
	op(&o, 2, TB_KIND_XDECIDE, &xd);
	put("ledger", "bad-chain", o.b, o.n);

	/* Lakeside's log forked; Hillside's log succeeds it (entry 2), then
	 * goes on; a second succession at entry 4 is refused. */
	static uint8_t proof[2 + 2 * TB_ENTRY_MAX];
	struct tb_succession sb;
	succession_body(&sb, proof, sizeof proof, &lg[2], &lg[1]);
	o.n = 0;
	o.b[o.n++] = 0;
	struct tb_genesis hg = {.name = cstr("Hillside"), .floor = -600, .ceiling = 0};
	op(&o, 1, TB_KIND_GENESIS, &hg);
	op(&o, 1, TB_KIND_SUCCESSION, &sb);
	struct tb_member_join jn;
	memset(&jn, 0, sizeof jn);
	jn.member = 1;
	jn.name = cstr("alice");
	memcpy(jn.key, mk[1].pk.b, TB_KEY_LEN);
	jn.floor = -600;
	op(&o, 1, TB_KIND_MEMBER_JOIN, &jn);
	op(&o, 1, TB_KIND_SUCCESSION, &sb);
	put("ledger", "succession", o.b, o.n);
	o.b[0] = 1;
	put("ledger", "succession-audit", o.b, o.n);
	uint8_t junk[] = {0, 0, 5, 0, 3, 0x93, 0x01, 0x02};
	put("ledger", "bad-body", junk, sizeof junk);
	members_over_time(&o, mk);
}

static void receipts(void)
{
	struct tb_keypair lg, mk[4];
	fuzz_keypair(&lg, FUZZ_LOG_SEED);
	for (int i = 0; i < 4; i++)
		fuzz_keypair(&mk[i], FUZZ_MEMBER_SEED + i);
	const char *tmp = getenv("TMPDIR");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/mkcorpus-receipt-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		exit(1);
	struct tb_store *s;
	struct tb_reject rej;
	if (tb_store_open(&s, dir, TB_STORE_SCRATCH) || tb_store_set_self(s, lg.pk.b))
		exit(1);
	struct tb_genesis g = {.name = cstr("Riverside"), .floor = -600, .ceiling = 0};
	if (tb_store_append_own(s, &lg, TB_KIND_GENESIS, &g, NULL, &rej))
		exit(1);
	for (uint32_t m = 1; m <= 3; m++) {
		struct tb_member_join j;
		memset(&j, 0, sizeof j);
		j.member = m;
		j.name = cstr(g_names[m]);
		memcpy(j.key, mk[m].pk.b, TB_KEY_LEN);
		j.floor = -600;
		if (tb_store_append_own(s, &lg, TB_KIND_MEMBER_JOIN, &j, NULL, &rej))
			exit(1);
	}
	for (uint64_t t = 1; t <= 3; t++) {
		struct tb_exchange x;
		memset(&x, 0, sizeof x);
		tb_be64_put(x.txid, t);
		x.provider = 1;
		x.receiver = 2;
		x.minutes = 30 * t;
		x.category = cstr("gardening");
		x.date = 20240101;
		x.attested = 1;
		if (tb_store_append_own(s, &lg, TB_KIND_EXCHANGE, &x, NULL, &rej))
			exit(1);
	}
	uint8_t cp[TB_CHECKPOINT_MAX];
	size_t cplen;
	static uint8_t rc[TB_RECEIPT_MAX + 1];
	size_t len;
	if (tb_store_checkpoint_make(s, &lg, cp, sizeof cp, &cplen))
		exit(1);
	static const uint64_t seqs[] = {1, 4, 6, 7};
	char name[64];
	for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
		if (tb_receipt_make(s, lg.pk.b, seqs[i], cp, cplen, rc, sizeof rc, &len))
			exit(1);
		snprintf(name, sizeof name, "valid-seq-%llu", (unsigned long long)seqs[i]);
		put("receipt", name, rc, len);
	}
	put("receipt", "bad-truncated", rc, len - 1);
	rc[len] = 0xc0;
	put("receipt", "bad-trailing", rc, len + 1);
	rc[len - 3] ^= 1; /* in the last proof hash */
	put("receipt", "bad-proof", rc, len);
	rc[len - 3] ^= 1;
	rc[1] = 2;
	put("receipt", "bad-version", rc, len);
	tb_store_free(s);
	char f[sizeof dir + 16];
	snprintf(f, sizeof f, "%s/data.mdb", dir);
	unlink(f);
	snprintf(f, sizeof f, "%s/lock.mdb", dir);
	unlink(f);
	rmdir(dir);
}

static void config_corpus(void)
{
	static const char *const peers[][2] = {
		{"valid-peers", "# peers of this Tally node: HOST:PORT [NODE_ID]\n"
				"127.0.0.1:7411\n"
				"[::1]:7412 "
				"00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\n"
				"  localhost:1\n\n\t# indented comment\nnode-b.example:65535\n"},
		{"valid-crlf", "10.0.0.1:7411\r\n10.0.0.2:7411\r\n"},
		{"valid-no-newline", "10.0.0.1:7411"},
		{"valid-empty", ""},
		{"bad-port", "10.0.0.1:70000\n"},
		{"bad-port-zero", "10.0.0.1:0\n"},
		{"bad-no-port", "10.0.0.1\n"},
		{"bad-id", "10.0.0.1:7411 0011\n"},
		{"bad-extra",
		 "10.0.0.1:7411 "
		 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff x\n"},
		{"bad-v6", "[::1:7411\n"},
		{"bad-host", "ho$t:7411\n"},
	};
	char buf[1 + 40000];
	for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++) {
		buf[0] = 0;
		size_t n = strlen(peers[i][1]);
		memcpy(buf + 1, peers[i][1], n);
		char name[64];
		snprintf(name, sizeof name, "peers-%s", peers[i][0]);
		put("config", name, buf, 1 + n);
	}
	/* A line over the length limit, and more peers than allowed. */
	buf[0] = 0;
	memset(buf + 1, 'a', 600);
	memcpy(buf + 601, ":1\n", 3);
	put("config", "peers-bad-long-line", buf, 604);
	size_t n = 1;
	for (int i = 0; i <= TB_PEERS_MAX; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "10.0.%d.%d:7411\n", i / 256,
				      i % 256);
	put("config", "peers-bad-too-many", buf, n);
	buf[0] = 0;
	memcpy(buf + 1, "10.0.0.1:7411\n\0\n", 16);
	put("config", "peers-bad-nul", buf, 17);

	static const char *const keys[][2] = {
		{"valid",
		 "tally-federation-v1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"},
		{"valid-upper",
		 "tally-federation-v1 00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF\n"},
		{"bad-no-newline",
		 "tally-federation-v1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"},
		{"bad-tag",
		 "tally-federation-v2 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"},
		{"bad-hex",
		 "tally-federation-v1 0011223344556677889gaabbccddeeff00112233445566778899aabbccddeeff\n"},
		{"bad-short", "tally-federation-v1 0011\n"},
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		buf[0] = 1;
		n = strlen(keys[i][1]);
		memcpy(buf + 1, keys[i][1], n);
		char name[64];
		snprintf(name, sizeof name, "fedkey-%s", keys[i][0]);
		put("config", name, buf, 1 + n);
	}
}

static int wanted(int argc, char **argv, const char *name)
{
	if (argc <= 2)
		return 1;
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct tb_keypair kp;
	uint8_t seed[TB_SEED_LEN];
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR [NAME...]\n", argv[0]);
		return 1;
	}
	g_root = argv[1];
	if (tb_crypto_init() != 0)
		return 1;
	memset(seed, 0x33, sizeof seed);
	tb_keypair_from_seed(&kp, seed);
	real_things(&kp);
	if (wanted(argc, argv, "entry"))
		entries(&kp);
	if (wanted(argc, argv, "message"))
		messages();
	if (wanted(argc, argv, "export"))
		exports(&kp);
	if (wanted(argc, argv, "keyfile"))
		keyfiles();
	if (wanted(argc, argv, "peer"))
		peers_corpus(&kp);
	if (wanted(argc, argv, "frames"))
		frames_corpus(&kp);
	if (wanted(argc, argv, "handshake"))
		hs_corpus();
	if (wanted(argc, argv, "receipt"))
		receipts();
	if (wanted(argc, argv, "config"))
		config_corpus();
	if (wanted(argc, argv, "ledger"))
		ledger_corpus();
	if (wanted(argc, argv, "repl"))
		mkcorpus_repl(g_root);
	if (wanted(argc, argv, "listing"))
		mkcorpus_listing(g_root);
	return 0;
}
