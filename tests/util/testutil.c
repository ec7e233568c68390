/*
 * testutil.c: temp directories, deterministic keys, file reading, ledger
 * records built the way peers and members build them, and whole-store dumps
 * for the tests. Never used by the product itself. The dumps read the store's
 * tables directly (store_int.h) so that a test comparing two dumps sees every
 * byte the store keeps, not only what the public views show.
 */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_int.h"

char *tb_test_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path = malloc(4096);
	assert_non_null(path);
	snprintf(path, 4096, "%s/tally-%s-XXXXXX", base ? base : "/tmp", tag);
	assert_non_null(mkdtemp(path));
	return path;
}

void tb_test_select(int argc, char **argv)
{
	if (argc == 1)
		return;
	if (argc == 3 && !strcmp(argv[1], "--only")) {
		cmocka_set_test_filter(argv[2]);
	} else if (argc == 3 && !strcmp(argv[1], "--skip")) {
		cmocka_set_skip_filter(argv[2]);
	} else {
		fprintf(stderr, "usage: %s [--only PATTERN | --skip PATTERN]\n", argv[0]);
		exit(2);
	}
}

/*
 * Stores whose durability the test does not examine go on tmpfs: on a disk
 * the page faults, readahead and unlinks of fresh LMDB files made the store
 * and model tests several times slower on a busy machine, and no test can
 * observe what fsync adds (a killed process loses nothing on tmpfs either).
 * TMPDIR, when set, still wins. Benchmarks keep tb_test_tmpdir: they measure
 * the disk.
 */
char *tb_test_scratchdir(const char *tag)
{
	if (getenv("TMPDIR") || access("/dev/shm", W_OK) != 0)
		return tb_test_tmpdir(tag);
	char *path = malloc(4096);
	assert_non_null(path);
	snprintf(path, 4096, "/dev/shm/tally-%s-XXXXXX", tag);
	assert_non_null(mkdtemp(path));
	return path;
}

void tb_test_rmrf(char *path)
{
	if (!path)
		return;
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", path);
	free(path);
}

void tb_test_keypair(struct tb_keypair *kp, uint32_t n)
{
	uint8_t seed[TB_SEED_LEN] = {0};
	memcpy(seed, "tally-test-seed", 15);
	seed[28] = (uint8_t)(n >> 24);
	seed[29] = (uint8_t)(n >> 16);
	seed[30] = (uint8_t)(n >> 8);
	seed[31] = (uint8_t)n;
	tb_keypair_from_seed(kp, seed);
}

uint8_t *tb_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	*len = n;
	return buf;
}

int tb_test_write_file(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	const uint8_t *b = p;
	while (len) {
		ssize_t w = write(fd, b, len);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		b += w;
		len -= (size_t)w;
	}
	return close(fd);
}

/* ---- ledger records ---- */

void tb_test_log_init(struct tb_test_log *l, uint32_t keyno)
{
	memset(l, 0, sizeof *l);
	tb_test_keypair(&l->kp, keyno);
	l->timestamp = 1740000000;
}

size_t tb_test_seal_at(uint8_t out[TB_ENTRY_MAX], const struct tb_keypair *kp, uint64_t seq,
		       const uint8_t prev[TB_HASHLEN], uint64_t timestamp, uint64_t kind,
		       const void *body)
{
	struct tb_entry e;
	memset(&e, 0, sizeof e);
	e.version = TB_ENTRY_VERSION;
	memcpy(e.log_id, kp->pk.b, TB_KEY_LEN);
	e.seq = seq;
	memcpy(e.prev, prev, TB_HASHLEN);
	e.timestamp = timestamp;
	e.kind = kind;
	const struct tb_msgdef *d = tb_kind_def(kind);
	assert_non_null(d);
	memcpy(&e.body, body, d->size);
	size_t len = 0;
	assert_int_equal(tb_entry_seal(out, TB_ENTRY_MAX, &len, &e, kp), 0);
	return len;
}

size_t tb_test_seal_next(const struct tb_test_log *l, uint8_t out[TB_ENTRY_MAX], uint64_t kind,
			 const void *body)
{
	return tb_test_seal_at(out, &l->kp, l->seq + 1, l->head, l->timestamp, kind, body);
}

void tb_test_log_advance(struct tb_test_log *l, const uint8_t *rec, size_t len)
{
	tb_entry_hash(l->head, rec, len);
	l->seq++;
	l->timestamp++;
}

size_t tb_test_seal(struct tb_test_log *l, uint8_t out[TB_ENTRY_MAX], uint64_t kind,
		    const void *body)
{
	size_t len = tb_test_seal_next(l, out, kind, body);
	tb_test_log_advance(l, out, len);
	return len;
}

void tb_test_recs_add(struct tb_test_recs *r, const uint8_t *rec, size_t len)
{
	if (r->len + len > r->cap) {
		size_t cap = r->cap ? r->cap : 65536;
		while (cap < r->len + len)
			cap *= 2;
		r->buf = realloc(r->buf, cap);
		assert_non_null(r->buf);
		r->cap = cap;
	}
	if (r->n == r->ncap) {
		r->ncap = r->ncap ? r->ncap * 2 : 64;
		r->off = realloc(r->off, r->ncap * sizeof *r->off);
		r->rlen = realloc(r->rlen, r->ncap * sizeof *r->rlen);
		r->v = realloc(r->v, r->ncap * sizeof *r->v);
		assert_true(r->off && r->rlen && r->v);
	}
	memcpy(r->buf + r->len, rec, len);
	r->off[r->n] = r->len;
	r->rlen[r->n] = len;
	r->n++;
	r->len += len;
}

const struct tb_view *tb_test_recs_views(struct tb_test_recs *r, size_t from)
{
	for (size_t i = 0; i < r->n; i++) {
		r->v[i].p = r->buf + r->off[i];
		r->v[i].len = r->rlen[i];
	}
	return r->v ? r->v + from : NULL;
}

void tb_test_recs_clear(struct tb_test_recs *r)
{
	r->n = 0;
	r->len = 0;
}

void tb_test_recs_free(struct tb_test_recs *r)
{
	free(r->buf);
	free(r->off);
	free(r->rlen);
	free(r->v);
	memset(r, 0, sizeof *r);
}

uint64_t tb_test_log_add(struct tb_test_log *l, struct tb_test_recs *r, uint64_t kind,
			 const void *body)
{
	uint8_t rec[TB_ENTRY_MAX];
	size_t len = tb_test_seal(l, rec, kind, body);
	tb_test_recs_add(r, rec, len);
	return l->seq;
}

static struct tb_view cstr(const char *s)
{
	struct tb_view v = {(const uint8_t *)s, strlen(s)};
	return v;
}

void tb_test_genesis(struct tb_genesis *g, const char *name, int64_t floor, uint64_t ceiling)
{
	memset(g, 0, sizeof *g);
	g->name = cstr(name);
	g->floor = floor;
	g->ceiling = ceiling;
}

void tb_test_join(struct tb_member_join *j, uint32_t no, const char *name,
		  const struct tb_keypair *kp, int64_t floor, uint64_t ceiling)
{
	memset(j, 0, sizeof *j);
	j->member = no;
	j->name = cstr(name);
	memcpy(j->key, kp->pk.b, TB_KEY_LEN);
	j->floor = floor;
	j->ceiling = ceiling;
}

void tb_test_txid(uint8_t txid[TB_TXID_LEN], uint64_t n)
{
	tb_be64_put(txid, n);
	memcpy(txid + 8, "tallytx!", 8);
}

static void sign_terms(uint8_t sig[TB_SIGLEN], const struct tb_keypair *kp, enum tb_sigctx ctx,
		       const struct tb_msgdef *d, const void *terms)
{
	uint8_t buf[TB_ENTRY_MAX];
	size_t len;
	assert_int_equal(tb_terms_encode(buf, sizeof buf, &len, d, terms), 0);
	tb_sign(sig, kp, ctx, buf, len);
}

void tb_test_exchange_sign(struct tb_test_exchange *tx, const uint8_t log_id[TB_KEY_LEN],
			   const struct tb_keypair *pk, const struct tb_keypair *rk)
{
	struct tb_exchange *x = &tx->x;
	struct tb_exchange_terms t;
	tb_exchange_terms_of(&t, log_id, x);
	sign_terms(tx->psig, pk, TB_CTX_EXCHANGE, &tb_def_exchange_terms, &t);
	sign_terms(tx->rsig, rk, TB_CTX_EXCHANGE, &tb_def_exchange_terms, &t);
	x->attested = 0;
	x->provider_sig.p = tx->psig;
	x->provider_sig.len = TB_SIGLEN;
	x->receiver_sig.p = tx->rsig;
	x->receiver_sig.len = TB_SIGLEN;
}

void tb_test_exchange(struct tb_test_exchange *tx, const uint8_t log_id[TB_KEY_LEN], uint64_t txno,
		      uint32_t provider, uint32_t receiver, uint64_t minutes,
		      const struct tb_keypair *pk, const struct tb_keypair *rk)
{
	memset(tx, 0, sizeof *tx);
	struct tb_exchange *x = &tx->x;
	tb_test_txid(x->txid, txno);
	x->provider = provider;
	x->receiver = receiver;
	x->minutes = minutes;
	x->category = cstr("gardening");
	tb_sha256(x->memo_hash, (const uint8_t *)"memo", 4);
	x->date = 20240229;
	x->attested = 1;
	if (pk && rk)
		tb_test_exchange_sign(tx, log_id, pk, rk);
}

void tb_test_reversal(struct tb_test_reversal *tr, const uint8_t log_id[TB_KEY_LEN], uint64_t txno,
		      uint64_t orig_txno, const struct tb_keypair *pk, const struct tb_keypair *rk)
{
	memset(tr, 0, sizeof *tr);
	struct tb_reversal *r = &tr->r;
	tb_test_txid(r->txid, txno);
	tb_test_txid(r->original, orig_txno);
	r->attested = 1;
	if (!pk || !rk)
		return;
	struct tb_reversal_terms t;
	tb_reversal_terms_of(&t, log_id, r);
	sign_terms(tr->psig, pk, TB_CTX_REVERSAL, &tb_def_reversal_terms, &t);
	sign_terms(tr->rsig, rk, TB_CTX_REVERSAL, &tb_def_reversal_terms, &t);
	r->attested = 0;
	r->provider_sig.p = tr->psig;
	r->provider_sig.len = TB_SIGLEN;
	r->receiver_sig.p = tr->rsig;
	r->receiver_sig.len = TB_SIGLEN;
}

/* ---- cross-community legs ---- */

void tb_test_link(struct tb_link *l, const uint8_t community[TB_KEY_LEN], uint64_t limit)
{
	memset(l, 0, sizeof *l);
	memcpy(l->community, community, TB_KEY_LEN);
	l->limit = limit;
}

void tb_test_xprepare_sign(struct tb_test_xprepare *tp, const uint8_t log_id[TB_KEY_LEN],
			   const struct tb_keypair *mk)
{
	struct tb_xprepare *x = &tp->x;
	struct tb_xprepare_terms t;
	tb_xprepare_terms_of(&t, log_id, x);
	sign_terms(tp->sig, mk, TB_CTX_XPREPARE, &tb_def_xprepare_terms, &t);
	x->attested = 0;
	x->member_sig.p = tp->sig;
	x->member_sig.len = TB_SIGLEN;
}

void tb_test_xprepare(struct tb_test_xprepare *tp, const uint8_t log_id[TB_KEY_LEN], uint64_t txno,
		      uint32_t member, const uint8_t to_log[TB_KEY_LEN], const char *to_name,
		      uint64_t minutes, uint64_t expires, const struct tb_keypair *mk)
{
	memset(tp, 0, sizeof *tp);
	struct tb_xprepare *x = &tp->x;
	tb_test_txid(x->txid, txno);
	x->member = member;
	memcpy(x->to_log, to_log, TB_KEY_LEN);
	x->to_name = cstr(to_name);
	x->minutes = minutes;
	x->category = cstr("tutoring");
	tb_sha256(x->memo_hash, (const uint8_t *)"xmemo", 5);
	x->date = 20240301;
	x->expires = expires;
	x->attested = 1;
	if (mk)
		tb_test_xprepare_sign(tp, log_id, mk);
}

void tb_test_xdecide(struct tb_xdecide *d, const struct tb_xprepare *p,
		     const uint8_t from_log[TB_KEY_LEN], uint64_t from_seq, const char *from_name,
		     uint32_t member, uint64_t outcome)
{
	tb_xdecide_of(d, p, from_log, from_seq, cstr(from_name));
	d->member = member;
	d->outcome = outcome;
}

void tb_test_xfinal(struct tb_xfinal *f, const uint8_t txid[TB_TXID_LEN], uint64_t decide_seq,
		    uint64_t outcome)
{
	memset(f, 0, sizeof *f);
	memcpy(f->txid, txid, TB_TXID_LEN);
	f->decide_seq = decide_seq;
	f->outcome = outcome;
}

/* ---- dumps ---- */

static const char *const dump_table_names[TB_T__COUNT] = {
#define TB__DUMP_NAME(id, name, class) name,
	TB_TABLES(TB__DUMP_NAME)
#undef TB__DUMP_NAME
};

#define TB__DUMP_PRIMARY 0
#define TB__DUMP_DERIVED 1
#define TB__DUMP_LOCAL 1
#define TB__DUMP_PRUNED 1
static const int dump_table_secondary[TB_T__COUNT] = {
#define TB__DUMP_CLASS(id, name, class) [TB_T_##id] = TB__DUMP_##class,
	TB_TABLES(TB__DUMP_CLASS)
#undef TB__DUMP_CLASS
};

struct table_digest {
	struct tb_sha256_ctx c;
	uint64_t count;
};

static int digest_cb(void *ctx, struct tb_view k, struct tb_view v)
{
	struct table_digest *d = ctx;
	uint8_t n[8];
	tb_be64_put(n, k.len);
	tb_sha256_update(&d->c, n, 8);
	tb_sha256_update(&d->c, k.p, k.len);
	tb_be64_put(n, v.len);
	tb_sha256_update(&d->c, n, 8);
	tb_sha256_update(&d->c, v.p, v.len);
	d->count++;
	return 0;
}

static void hex(FILE *f, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		putc(digits[p[i] >> 4], f);
		putc(digits[p[i] & 15], f);
	}
}

struct dump_ctx {
	FILE *f;
	struct tb_store *s;
	const uint8_t *log_id;
};

static int dump_history(void *ctx, const struct tb_history_item *h)
{
	struct dump_ctx *d = ctx;
	fprintf(d->f, "    seq %llu delta %lld balance %lld\n", (unsigned long long)h->seq,
		(long long)h->delta, (long long)h->balance);
	return 0;
}

static int dump_member(void *ctx, const struct tb_member *m)
{
	struct dump_ctx *d = ctx;
	fprintf(d->f, "  member %u '%s' key ", m->no, m->name);
	hex(d->f, m->key, 8);
	fprintf(d->f, " floor %lld ceiling %llu balance %lld active %d joined %llu\n",
		(long long)m->floor, (unsigned long long)m->ceiling, (long long)m->balance,
		(int)m->active, (unsigned long long)m->joined_seq);
	int err = tb_store_foreach_history(d->s, d->log_id, m->no, dump_history, d);
	assert_int_equal(err, 0);
	return 0;
}

static int dump_log(void *ctx, const struct tb_head *h)
{
	struct dump_ctx *d = ctx;
	uint8_t root[TB_HASHLEN];
	fprintf(d->f, "log ");
	hex(d->f, h->log_id, TB_KEY_LEN);
	fprintf(d->f, " seq %llu flags %u head ", (unsigned long long)h->seq, h->flags);
	hex(d->f, h->hash, TB_HASHLEN);
	assert_int_equal(tb_store_root(d->s, h->log_id, h->seq, root), 0);
	fprintf(d->f, " root ");
	hex(d->f, root, TB_HASHLEN);
	fprintf(d->f, "\n");
	struct tb_community c;
	int err = tb_store_community(d->s, h->log_id, &c);
	if (err == TB_ENOTFOUND) {
		fprintf(d->f, "  no community\n");
		return 0;
	}
	assert_int_equal(err, 0);
	fprintf(d->f,
		"  community '%s' floor %lld ceiling %llu members %u active %u exchanges "
		"%llu reversals %llu minutes %llu\n",
		c.name, (long long)c.floor, (unsigned long long)c.ceiling, c.members, c.active,
		(unsigned long long)c.exchanges, (unsigned long long)c.reversals,
		(unsigned long long)c.minutes);
	struct dump_ctx md = {d->f, d->s, h->log_id};
	assert_int_equal(tb_store_foreach_member(d->s, h->log_id, dump_member, &md), 0);
	return 0;
}

static char *dump(struct tb_store *s, int secondary_only)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	struct tb_txn t;
	tb_txn_begin(&t, s->db, false);
	assert_int_equal(t.ret, 0);
	for (int tab = 0; tab < TB_T__COUNT; tab++) {
		if (secondary_only && !dump_table_secondary[tab])
			continue;
		struct table_digest d;
		d.count = 0;
		tb_sha256_init(&d.c);
		assert_int_equal(
			tb_txn_foreach(&t, (enum tb_table)tab, NULL, 0, NULL, 0, digest_cb, &d), 0);
		uint8_t h[TB_HASH_LEN];
		tb_sha256_final(&d.c, h);
		fprintf(f, "table %s count %llu digest ", dump_table_names[tab],
			(unsigned long long)d.count);
		hex(f, h, sizeof h);
		fprintf(f, "\n");
	}
	tb_txn_abort(&t);
	struct dump_ctx d = {f, s, NULL};
	assert_int_equal(tb_store_foreach_log(s, dump_log, &d), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

char *tb_test_store_dump(struct tb_store *s)
{
	return dump(s, 0);
}

char *tb_test_store_dump_derived(struct tb_store *s)
{
	return dump(s, 1);
}

static int fork_one(void *ctx, const uint8_t log_id[TB_KEY_LEN], uint64_t seq, struct tb_view a,
		    struct tb_view b)
{
	(void)log_id;
	struct tb_test_forks *fs = ctx;
	assert_true(a.len <= sizeof fs->a && b.len <= sizeof fs->b);
	fs->n++;
	fs->seq = seq;
	memcpy(fs->a, a.p, a.len);
	memcpy(fs->b, b.p, b.len);
	fs->alen = a.len;
	fs->blen = b.len;
	return 0;
}

struct tb_test_forks *tb_test_forks_read(struct tb_store *s)
{
	struct tb_test_forks *fs = calloc(1, sizeof *fs);
	assert_non_null(fs);
	assert_int_equal(tb_store_foreach_fork(s, fork_one, fs), 0);
	return fs;
}

void tb_test_mth(uint8_t out[TB_HASHLEN], const uint8_t (*leaves)[TB_HASHLEN], uint64_t n)
{
	if (n == 0) {
		tb_sha256(out, NULL, 0);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], TB_HASHLEN);
		return;
	}
	uint64_t k = 1;
	while (k * 2 < n)
		k *= 2;
	uint8_t l[TB_HASHLEN], r[TB_HASHLEN];
	tb_test_mth(l, leaves, k);
	tb_test_mth(r, leaves + k, n - k);
	tb_node_hash(out, l, r);
}

/* ---- the cross-log pass in steps ---- */

#define XV_MAX 64
struct xv_list {
	struct tb_reject v[XV_MAX];
	size_t n;
};

static void xv_collect(void *ctx, const struct tb_reject *r)
{
	struct xv_list *l = ctx;
	assert_true(l->n < XV_MAX);
	l->v[l->n++] = *r;
}

size_t tb_test_xverify_steps_agree(struct tb_store *s)
{
	struct xv_list *whole = calloc(1, sizeof *whole), *steps = calloc(1, sizeof *steps);
	assert_non_null(whole);
	assert_non_null(steps);
	struct tb_xverify_counts cw, cs;
	assert_int_equal(tb_store_xverify(s, xv_collect, whole, &cw), 0);
	for (size_t chunk = 1; chunk <= 3; chunk++) {
		struct tb_xverify *x;
		int err;
		size_t nsteps = 0;
		steps->n = 0;
		assert_int_equal(tb_store_xverify_new(&x, xv_collect, steps), 0);
		tb_xverify_set_chunk(x, chunk);
		while ((err = tb_store_xverify_step(s, x, &cs)) == 1)
			nsteps++;
		tb_store_xverify_free(x);
		assert_int_equal(err, 0);
		assert_true(nsteps > 0);
		assert_int_equal(steps->n, whole->n);
		for (size_t i = 0; i < whole->n; i++) {
			assert_int_equal(steps->v[i].err, whole->v[i].err);
			assert_int_equal(steps->v[i].seq, whole->v[i].seq);
			assert_memory_equal(steps->v[i].log_id, whole->v[i].log_id, TB_KEY_LEN);
			assert_string_equal(steps->v[i].msg, whole->v[i].msg);
		}
		assert_int_equal(cs.unmatched, cw.unmatched);
		assert_int_equal(cs.in_flight, cw.in_flight);
	}
	size_t n = whole->n;
	free(whole);
	free(steps);
	return n;
}
