/*
 * test_rfc6962.c: store/merkle.c against the RFC 6962 vectors of
 * transparency-dev/merkle (tests/vectors/rfc6962). Builds the eight-leaf tree
 * of those vectors with tb_merkle_append and checks its roots, then runs every
 * inclusion and consistency case: each must give the verdict its wantErr
 * names, and on happy paths over that tree our proof generators must produce
 * exactly the listed proof. Given files or folders on the command line it
 * replays those instead of the default folder. A malformed case (null proof,
 * hash of the wrong length) is a verdict, never a crash; a consistency case
 * of equal sizes compares its roots as given, whatever their length, as
 * transparency-dev/merkle does.
 */
#include "testutil.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "tb_merkle.h"

#define HLEN TB_MERKLE_HASH_LEN
#define LEAVES 8
#define MAX_ARGS 256
/* Longest base64 field we decode; anything longer is of the wrong length. */
#define MAX_FIELD 128

/* The paths to run, set by main() before cmocka starts (the group state). */
struct run {
	const char *paths[MAX_ARGS];
	size_t npaths;
	bool is_default;
};

static struct run g_run;

static int group_setup(void **state)
{
	*state = &g_run;
	return 0;
}

/* ---- the eight-leaf tree of the vectors, in memory ---- */

static const char *const leaf_hex[LEAVES] = {
	"",
	"00",
	"10",
	"2021",
	"3031",
	"40414243",
	"5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

/* MTH of the first n leaves, from an independent reference implementation
 * (Python hashlib, naive recursion); sizes 1, 2, 3, 5, 6, 7 and 8 also appear
 * as root fields of the happy-path vectors. */
static const char *const root_hex[LEAVES + 1] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct mem_tree {
	uint8_t node[4][LEAVES][HLEN]; /* levels 0..3 */
	bool have[4][LEAVES];
	uint64_t size;
	unsigned gets;
};

static int mem_get(void *ctx, unsigned level, uint64_t index, uint8_t out[HLEN])
{
	struct mem_tree *t = ctx;

	t->gets++;
	if (level >= 4 || index >= LEAVES || !t->have[level][index])
		return TB_ENOTFOUND;
	memcpy(out, t->node[level][index], HLEN);
	return 0;
}

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex) / 2, i;
	unsigned v;

	assert_true(n <= cap);
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void expect_root(uint8_t out[HLEN], uint64_t size);

/* Appends the eight leaves; with check, compares each new root as it grows
 * (so the root only ever reads nodes stored so far). */
static void mem_tree_build(struct mem_tree *t, bool check)
{
	struct tb_merkle_node nodes[64];
	uint8_t data[16], leaf[HLEN], got_root[HLEN], want_root[HLEN];
	uint64_t i;
	int k, got;

	memset(t, 0, sizeof *t);
	for (i = 0; i < LEAVES; i++) {
		size_t len = unhex(data, sizeof data, leaf_hex[i]);

		tb_leaf_hash(leaf, data, len);
		got = tb_merkle_append(nodes, i, leaf, mem_get, t);
		assert_true(got >= 1);
		for (k = 0; k < got; k++) {
			assert_true(nodes[k].level < 4);
			assert_true(nodes[k].index < LEAVES);
			memcpy(t->node[nodes[k].level][nodes[k].index], nodes[k].hash, HLEN);
			t->have[nodes[k].level][nodes[k].index] = true;
		}
		t->size = i + 1;
		if (check) {
			assert_int_equal(tb_merkle_root(got_root, t->size, mem_get, t), 0);
			expect_root(want_root, t->size);
			assert_memory_equal(got_root, want_root, HLEN);
		}
	}
}

static void expect_root(uint8_t out[HLEN], uint64_t size)
{
	assert_true(size <= LEAVES);
	assert_int_equal(unhex(out, HLEN, root_hex[size]), HLEN);
}

static void test_roots(void **state)
{
	struct mem_tree t;
	uint8_t got[HLEN], want[HLEN];
	uint64_t size;

	(void)state;
	mem_tree_build(&t, true);
	/* Sizes 1..8 from the full table, and the size-0 root. */
	for (size = 0; size <= LEAVES; size++) {
		t.gets = 0;
		assert_int_equal(tb_merkle_root(got, size, mem_get, &t), 0);
		expect_root(want, size);
		assert_memory_equal(got, want, HLEN);
		/* One getter call per complete subtree of the decomposition. */
		assert_int_equal(t.gets, __builtin_popcountll(size));
	}
	/* A getter error is passed up and leaves a defined (zero) output. */
	memset(&t, 0, sizeof t);
	assert_int_equal(tb_merkle_root(got, 3, mem_get, &t), TB_ENOTFOUND);
	memset(want, 0, HLEN);
	assert_memory_equal(got, want, HLEN);
}

/* ---- base64 (RFC 4648, with padding, as Go's encoding/json writes it) ---- */

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decodes s into out (cap bytes). Returns the decoded length, cap + 1 if it
 * would not fit (a wrong length for every field we read), or -1 if s is not
 * valid padded base64.
 */
static long b64_decode(uint8_t *out, size_t cap, const char *s)
{
	size_t len = strlen(s), pad = 0, n = 0, i;
	uint32_t acc = 0;

	if (len % 4)
		return -1;
	if (len && s[len - 1] == '=')
		pad++;
	if (len > 1 && s[len - 2] == '=')
		pad++;
	if (len / 4 * 3 - pad > cap)
		return (long)cap + 1;
	for (i = 0; i < len; i++) {
		int v = b64_value(s[i]);

		if (i >= len - pad) {
			v = 0; /* checked as '=' above */
		} else if (v < 0) {
			return -1;
		}
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			uint8_t b[3] = {(uint8_t)(acc >> 16), (uint8_t)(acc >> 8), (uint8_t)acc};
			size_t take = i == len - 1 ? 3 - pad : 3;

			memcpy(out + n, b, take);
			n += take;
			acc = 0;
		}
	}
	return (long)n;
}

static void test_b64(void **state)
{
	uint8_t out[8];

	(void)state;
	assert_int_equal(b64_decode(out, sizeof out, ""), 0);
	assert_int_equal(b64_decode(out, sizeof out, "Zm9vYg=="), 4);
	assert_memory_equal(out, "foob", 4);
	assert_int_equal(b64_decode(out, sizeof out, "Zm9vYmE="), 5);
	assert_memory_equal(out, "fooba", 5);
	assert_int_equal(b64_decode(out, sizeof out, "Zm9vYmFy"), 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(b64_decode(out, sizeof out, "Zm9"), -1);
	assert_int_equal(b64_decode(out, sizeof out, "Zm9v*mFy"), -1);
	assert_int_equal(b64_decode(out, sizeof out, "Zm9vYmFyYmF6"), 9);
}

/* ---- one vector file ---- */

enum vkind { V_BAD_FORMAT, V_INCLUSION, V_CONSISTENCY };

struct vcase {
	enum vkind kind;
	uint64_t a, b;		    /* leafIdx, treeSize or size1, size2 */
	uint8_t h1[HLEN], h2[HLEN]; /* root, leafHash or root1, root2 */
	uint8_t proof[TB_MERKLE_MAX_PROOF][HLEN];
	size_t n;
	bool malformed; /* a hash of the wrong length or a proof too long */
	bool bad_proof; /* the proof itself is (a hash of the wrong length) */
	uint8_t raw1[MAX_FIELD], raw2[MAX_FIELD]; /* the roots as given */
	long raw1_len, raw2_len;
	bool want_err;
};

/*
 * jansson keeps integers in a json_int_t (int64), but the vectors hold uint64
 * values such as 2^64 - 1 (leafIdx - 1 from 0). Before parsing, every bare
 * run of 19 or more digits outside strings becomes the string "u64:<digits>",
 * which get_u64 reads back exactly. Returns a malloc'd copy.
 */
#define BIG_TAG "u64:"

static char *quote_big_ints(const uint8_t *in, size_t len, size_t *out_len)
{
	char *out = malloc(2 * len + 16);
	size_t i = 0, o = 0, j;
	bool in_str = false;

	assert_non_null(out);
	while (i < len) {
		char ch = (char)in[i];

		if (in_str) {
			out[o++] = ch;
			if (ch == '\\' && i + 1 < len)
				out[o++] = (char)in[++i];
			else if (ch == '"')
				in_str = false;
			i++;
			continue;
		}
		if (ch == '"') {
			in_str = true;
			out[o++] = ch;
			i++;
			continue;
		}
		for (j = i; j < len && in[j] >= '0' && in[j] <= '9'; j++)
			;
		if (j - i >= 19 && (i == 0 || in[i - 1] != '-') &&
		    (j == len || (in[j] != '.' && in[j] != 'e' && in[j] != 'E'))) {
			out[o++] = '"';
			memcpy(out + o, BIG_TAG, strlen(BIG_TAG));
			o += strlen(BIG_TAG);
			memcpy(out + o, in + i, j - i);
			o += j - i;
			out[o++] = '"';
			i = j;
			continue;
		}
		if (j > i) {
			memcpy(out + o, in + i, j - i);
			o += j - i;
			i = j;
			continue;
		}
		out[o++] = ch;
		i++;
	}
	*out_len = o;
	return out;
}

static bool get_u64(json_t *obj, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	const char *s, *p;
	uint64_t x = 0;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return false;
		*out = (uint64_t)json_integer_value(v);
		return true;
	}
	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	if (strncmp(s, BIG_TAG, strlen(BIG_TAG)) != 0)
		return false;
	p = s + strlen(BIG_TAG);
	for (; *p; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return false; /* over 2^64 - 1 */
		x = x * 10 + d;
	}
	*out = x;
	return true;
}

/* Reads a base64 hash; false if the field is missing or not base64. The
 * bytes as given (any length up to MAX_FIELD) go to raw when not NULL. */
static bool get_hash(json_t *obj, const char *key, uint8_t out[HLEN], bool *malformed,
		     uint8_t raw[MAX_FIELD], long *raw_len)
{
	uint8_t buf[MAX_FIELD];
	json_t *v = json_object_get(obj, key);
	long len;

	if (!json_is_string(v))
		return false;
	len = b64_decode(buf, sizeof buf, json_string_value(v));
	if (len < 0)
		return false;
	if (raw) {
		memcpy(raw, buf, (size_t)len);
		*raw_len = len;
	}
	if (len != HLEN)
		*malformed = true;
	else
		memcpy(out, buf, HLEN);
	return true;
}

static bool get_proof(json_t *obj, struct vcase *c)
{
	uint8_t buf[MAX_FIELD];
	json_t *v = json_object_get(obj, "proof"), *e;
	size_t i;
	long len;

	c->n = 0;
	if (!v || json_is_null(v))
		return true; /* Go: a nil proof is an empty one */
	if (!json_is_array(v))
		return false;
	if (json_array_size(v) > TB_MERKLE_MAX_PROOF) {
		c->malformed = c->bad_proof = true;
		c->n = json_array_size(v);
		return true;
	}
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e))
			return false;
		len = b64_decode(buf, sizeof buf, json_string_value(e));
		if (len < 0)
			return false;
		if (len != HLEN)
			c->malformed = c->bad_proof = true;
		else
			memcpy(c->proof[i], buf, HLEN);
	}
	c->n = json_array_size(v);
	return true;
}

/* Parses one case; V_BAD_FORMAT (with a message) if it is not one. */
static enum vkind load_case(const char *path, struct vcase *c)
{
	json_error_t jerr;
	json_t *root = NULL, *want;
	uint8_t *raw;
	char *text;
	size_t len, tlen;
	bool ok;

	memset(c, 0, sizeof *c);
	raw = tb_test_read_file(path, &len);
	if (!raw) {
		print_error("%s: cannot read\n", path);
		return V_BAD_FORMAT;
	}
	text = quote_big_ints(raw, len, &tlen);
	free(raw);
	root = json_loadb(text, tlen, 0, &jerr);
	free(text);
	if (!root) {
		print_error("%s: %s (line %d)\n", path, jerr.text, jerr.line);
		return V_BAD_FORMAT;
	}
	if (json_object_get(root, "leafIdx")) {
		c->kind = V_INCLUSION;
		ok = get_u64(root, "leafIdx", &c->a) && get_u64(root, "treeSize", &c->b) &&
		     get_hash(root, "root", c->h1, &c->malformed, NULL, NULL) &&
		     get_hash(root, "leafHash", c->h2, &c->malformed, NULL, NULL);
	} else if (json_object_get(root, "size1")) {
		c->kind = V_CONSISTENCY;
		ok = get_u64(root, "size1", &c->a) && get_u64(root, "size2", &c->b) &&
		     get_hash(root, "root1", c->h1, &c->malformed, c->raw1, &c->raw1_len) &&
		     get_hash(root, "root2", c->h2, &c->malformed, c->raw2, &c->raw2_len);
	} else {
		ok = false;
	}
	ok = ok && get_proof(root, c);
	want = json_object_get(root, "wantErr");
	ok = ok && json_is_boolean(want);
	if (ok)
		c->want_err = json_is_true(want);
	json_decref(root);
	if (!ok) {
		print_error("%s: not an RFC 6962 inclusion or consistency case\n", path);
		return V_BAD_FORMAT;
	}
	return c->kind;
}

/* ---- running cases ---- */

struct tally {
	unsigned cases;	 /* of the kind under test */
	unsigned others; /* of the other kind, skipped */
	unsigned failed;
	unsigned generated; /* happy paths whose proof we regenerated */
	unsigned files;
};

static bool our_root(const struct mem_tree *t, uint64_t size, const uint8_t root[HLEN])
{
	uint8_t want[HLEN];

	if (size == 0 || size > t->size)
		return false;
	expect_root(want, size);
	return memcmp(want, root, HLEN) == 0;
}

static void check_generated(const char *path, struct vcase *c, struct mem_tree *t, struct tally *tl)
{
	uint8_t proof[TB_MERKLE_MAX_PROOF][HLEN];
	size_t n = 99;
	int rc;

	if (c->kind == V_INCLUSION) {
		if (!our_root(t, c->b, c->h1))
			return;
		rc = tb_merkle_inclusion_proof(proof, TB_MERKLE_MAX_PROOF, &n, c->a, c->b, mem_get,
					       t);
	} else {
		if (!our_root(t, c->a, c->h1) || !our_root(t, c->b, c->h2))
			return;
		rc = tb_merkle_consistency_proof(proof, TB_MERKLE_MAX_PROOF, &n, c->a, c->b,
						 mem_get, t);
	}
	tl->generated++;
	if (rc != 0 || n != c->n || (n && memcmp(proof, c->proof, n * HLEN) != 0)) {
		print_error("%s: generated proof differs (rc %d, %zu hashes, "
			    "want %zu)\n",
			    path, rc, n, c->n);
		tl->failed++;
	}
}

/*
 * A consistency case whose roots are not 32 bytes cannot be passed to our
 * verifier, but where the sizes make the proof trivial transparency-dev/merkle
 * judges it without hashing, and so does this: equal sizes compare the roots
 * as given (any length) with an empty proof; size1 0 needs an empty proof
 * and looks at neither root.
 */
static int trivial_consistency(const struct vcase *c)
{
	if (c->n)
		return TB_EPROOF;
	if (c->a == 0 && c->b)
		return 0;
	return c->raw1_len == c->raw2_len && !memcmp(c->raw1, c->raw2, (size_t)c->raw1_len)
		       ? 0
		       : TB_EPROOF;
}

static void run_file(const char *path, enum vkind kind, struct mem_tree *t, struct tally *tl)
{
	static struct vcase c; /* large; one at a time */
	const uint8_t(*proof)[HLEN] = (const uint8_t(*)[HLEN])c.proof;
	enum vkind got = load_case(path, &c);
	int rc;

	tl->files++;
	if (got == V_BAD_FORMAT) {
		tl->failed++;
		return;
	}
	if (got != kind) {
		tl->others++;
		return;
	}
	tl->cases++;
	if (c.malformed && kind == V_CONSISTENCY && !c.bad_proof && c.a <= c.b &&
	    (c.a == c.b || c.a == 0))
		rc = trivial_consistency(&c);
	else if (c.malformed)
		rc = TB_EPROOF; /* cannot even be passed: the verdict is no */
	else if (kind == V_INCLUSION)
		rc = tb_merkle_verify_inclusion(c.h2, c.a, c.b, proof, c.n, c.h1);
	else
		rc = tb_merkle_verify_consistency(c.a, c.b, c.h1, c.h2, proof, c.n);
	if (rc != 0 && rc != TB_EPROOF) {
		print_error("%s: verifier returned %s, not 0 or EPROOF\n", path, tb_errname(rc));
		tl->failed++;
		return;
	}
	if ((rc != 0) != c.want_err) {
		print_error("%s: verdict %s, want %s\n", path, rc ? "reject" : "accept",
			    c.want_err ? "reject" : "accept");
		tl->failed++;
		return;
	}
	if (!c.want_err)
		check_generated(path, &c, t, tl);
}

static bool is_json(const char *name)
{
	size_t len = strlen(name);

	return len > 5 && strcmp(name + len - 5, ".json") == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs path: a file as given, or every *.json under a folder, sorted. */
static void run_path(const char *path, bool top, enum vkind kind, struct mem_tree *t,
		     struct tally *tl)
{
	struct stat st;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	DIR *d;

	if (stat(path, &st) != 0) {
		print_error("%s: cannot stat\n", path);
		tl->failed++;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (top || is_json(path))
			run_file(path, kind, t, tl);
		return;
	}
	d = opendir(path);
	if (!d) {
		print_error("%s: cannot open folder\n", path);
		tl->failed++;
		return;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(names, cap * sizeof *names);
			assert_non_null(names);
		}
		len = strlen(path) + strlen(de->d_name) + 2;
		names[n] = malloc(len);
		assert_non_null(names[n]);
		snprintf(names[n], len, "%s/%s", path, de->d_name);
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_str);
	for (i = 0; i < n; i++) {
		run_path(names[i], false, kind, t, tl);
		free(names[i]);
	}
	free(names);
}

static void run_kind(struct run *r, enum vkind kind)
{
	struct mem_tree t;
	struct tally tl = {0};
	size_t i;

	mem_tree_build(&t, false);
	for (i = 0; i < r->npaths; i++)
		run_path(r->paths[i], true, kind, &t, &tl);
	print_message("%s: %u cases, %u failed, %u proofs regenerated "
		      "(%u files)\n",
		      kind == V_INCLUSION ? "inclusion" : "consistency", tl.cases, tl.failed,
		      tl.generated, tl.files);
	assert_int_equal(tl.failed, 0);
	if (r->is_default) {
		/* The shipped folder: both kinds, and our tree's happy paths. */
		assert_true(tl.cases > 0);
		assert_true(tl.generated > 0);
	} else {
		assert_true(tl.cases + tl.others > 0);
	}
}

static void test_inclusion_vectors(void **state)
{
	run_kind(*state, V_INCLUSION);
}

static void test_consistency_vectors(void **state)
{
	run_kind(*state, V_CONSISTENCY);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_roots),
		cmocka_unit_test(test_inclusion_vectors),
		cmocka_unit_test(test_consistency_vectors),
	};
	int i;

	if (argc > 1) {
		if (argc - 1 > MAX_ARGS) {
			fprintf(stderr, "%s: at most %d paths\n", argv[0], MAX_ARGS);
			return 2;
		}
		for (i = 1; i < argc; i++)
			g_run.paths[g_run.npaths++] = argv[i];
	} else {
		g_run.paths[g_run.npaths++] = TB_SOURCE_DIR "/tests/vectors/rfc6962";
		g_run.is_default = true;
	}
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
