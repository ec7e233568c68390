/*
 * mkcorpus.c: writes the seed corpora of the fuzz targets into
 * tests/fuzz/corpus/{entry,message,export,keyfile}/. Not built by CMake (its
 * name matches neither fuzz_*.c nor test_*.c); the corpus files are the
 * artefact and this program documents how they were made. Rebuild them with,
 * from the repository root after a normal build into build/:
 *
 *   cc -std=c11 -D_DEFAULT_SOURCE -Iproto -Icrypto -Icommon \
 *      tests/fuzz/mkcorpus.c build/proto/libtb_proto.a \
 *      build/crypto/libtb_crypto.a build/common/libtb_common.a \
 *      $(pkg-config --libs msgpack libsodium) -lpthread -o /tmp/mkcorpus
 *   /tmp/mkcorpus tests/fuzz/corpus
 *
 * Entries, messages and exports are deterministic (fixed keys and values);
 * key files get a fresh salt and nonce each run. Key files use TB_KDF_MIN
 * and the passphrase "fuzz", the one fuzz_keyfile.c tries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb_proto.h"

static const char *g_root;

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

static uint8_t g_bytes[1024]; /* backing store of BIN and STR views */

/* Fills a message: variant 0 with small values, 1 with the largest ones. */
static void fill_msg(const struct tb_msgdef *d, void *obj, int variant)
{
	size_t used = 0;
	memset(obj, 0, d->size);
	for (size_t i = 0; i < d->nfields; i++) {
		const struct tb_field *f = &d->fields[i];
		uint8_t *at = (uint8_t *)obj + f->offset;
		uint64_t u =
		    variant ? (uint64_t)f->max : (uint64_t)f->min + (f->max > f->min);
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
			v.len =
			    variant ? (size_t)f->max : (size_t)(f->min > 3 ? f->min : 3);
			if (v.len > (size_t)f->max)
				v.len = (size_t)f->max;
			v.p = g_bytes + used;
			for (size_t k = 0; k < v.len; k++)
				g_bytes[used + k] = f->type == TB_FT_STR
							? (uint8_t)('a' + k % 26)
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
	e.timestamp = 1700000000 + seq;
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
	for (uint64_t k = 1; tb_kind_def(k); k++) {
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
	uint8_t buf[TB_ENTRY_MAX + 1];
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
				put("message", "bad-trailing-exchange_terms", buf,
				    len + 2);
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

int main(int argc, char **argv)
{
	struct tb_keypair kp;
	uint8_t seed[TB_SEED_LEN];
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 1;
	}
	g_root = argv[1];
	if (tb_crypto_init() != 0)
		return 1;
	memset(seed, 0x33, sizeof seed);
	tb_keypair_from_seed(&kp, seed);
	entries(&kp);
	messages();
	exports(&kp);
	keyfiles();
	return 0;
}
