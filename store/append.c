/*
 * append.c: the one path by which entries enter the store, for entries from
 * peers, from the command line and from reindex alike.
 *
 * A batch is checked in one write transaction: decoding, seq (next of its log;
 * a byte-identical copy of a held entry is skipped), prev, ledger rules, then
 * every signature of the batch (entry and member signatures) on all cores.
 * Entries are written with their Merkle nodes and log head in the same
 * transaction, and the call returns success only after the commit synced.
 * If an entry is refused, the valid prefix before it is still committed.
 * This file must never write an entry whose checks have not all passed.
 */
#include <stdlib.h>
#include <time.h>

#include "store_int.h"

#define TB_TERMS_ARENA_PER_ENTRY 512
#define TB_JOBS_PER_ENTRY 3

struct batch {
	struct tb_entry *e;
	struct tb_sigjobs jobs;
	size_t cap;
	bool *noeffect; /* audits: entries whose member signatures failed */
	bool *badsig;	/* audits: entries whose log signature failed */
};

static int batch_init(struct batch *b, size_t n)
{
	memset(b, 0, sizeof *b);
	b->cap = n;
	b->e = calloc(n, sizeof *b->e);
	b->noeffect = calloc(n, sizeof *b->noeffect);
	b->badsig = calloc(n, sizeof *b->badsig);
	b->jobs.cap = n * TB_JOBS_PER_ENTRY;
	b->jobs.jobs = calloc(b->jobs.cap, sizeof *b->jobs.jobs);
	b->jobs.owner = calloc(b->jobs.cap, sizeof *b->jobs.owner);
	b->jobs.arena_cap = n * TB_TERMS_ARENA_PER_ENTRY;
	b->jobs.arena = malloc(b->jobs.arena_cap);
	if (!b->e || !b->noeffect || !b->badsig || !b->jobs.jobs || !b->jobs.owner ||
	    !b->jobs.arena)
		return TB_ENOMEM;
	return 0;
}

static void batch_reset(struct batch *b)
{
	b->jobs.n = 0;
	b->jobs.arena_len = 0;
}

static void batch_free(struct batch *b)
{
	free(b->e);
	free(b->noeffect);
	free(b->badsig);
	free(b->jobs.jobs);
	free(b->jobs.owner);
	free(b->jobs.arena);
}

/* A check that fails: refused, or in an audit reported (then goes on). */
static int broken(struct tb_sigjobs *jobs, struct tb_reject *rej, int err)
{
	if (!jobs->audit || !rej)
		return err;
	tb_audit_report(jobs->audit, rej);
	return 0;
}

/* Finds or creates the state of e's log. */
static int log_for(struct tb_txn *t, const struct tb_entry *e, struct tb_logstate *l,
		   struct tb_sigjobs *jobs, struct tb_reject *rej)
{
	int err = tb_logstate_get(t, e->log_id, l);
	if (err == TB_ENOTFOUND) {
		if (e->seq != 1) {
			err = tb_reject_set(
				rej, TB_ESEQ, e->log_id, e->seq,
				"entry %llu of a log this store does not hold yet (expected entry 1)",
				(unsigned long long)e->seq);
			if ((err = broken(jobs, rej, err)))
				return err;
		}
		err = tb_log_create(t, e->log_id, l);
		if (!err && e->seq != 1) {
			/* Audits: go on from this entry; no tree without its start. */
			l->seq = e->seq - 1;
			memcpy(l->hash, e->prev, TB_HASHLEN);
			l->flags |= TB_LOG_BROKEN;
		}
		return err;
	}
	return err;
}

/* A record at a seq the log already holds (7.2 step 4): 1 if it is the
 * same entry, or skipped after an audit reported it; else a refusal. */
static int held_seq(struct tb_txn *t, const struct tb_logstate *l, const struct tb_entry *e,
		    const uint8_t *rec, size_t len, struct tb_sigjobs *jobs, struct tb_reject *rej)
{
	uint8_t k[TB_ENTRY_KEY_LEN];
	struct tb_view held;
	tb_entry_key(k, l->lognum, e->seq);
	int err = tb_txn_get(t, TB_T_ENTRIES, k, sizeof k, &held);
	if (err == TB_ENOTFOUND && jobs->audit) {
		err = tb_reject_set(rej, TB_ESEQ, e->log_id, e->seq,
				    "entry %llu comes after entry %llu: out of order",
				    (unsigned long long)e->seq, (unsigned long long)l->seq);
		return broken(jobs, rej, err) ? err : 1;
	}
	if (err)
		return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
	if (held.len == len && !memcmp(held.p, rec, len))
		return 1; /* the same record */
	/* Any other record at a held seq is a second history, also one that
	 * only signs the same signed part again: its hash, and so every later
	 * entry's prev, differs (FORMAT.md 7.2). */
	if (jobs->audit) {
		/* Only a validly signed second entry proves a fork. */
		struct tb_verify_job j;
		tb_entry_verify_job(&j, e);
		bool ok = tb_verify(j.sig, j.pk, j.ctx, j.msg, j.len) == 0;
		tb_reject_set(rej, ok ? TB_EFORKED : TB_EBADSIG, e->log_id, e->seq,
			      ok ? "a second, different, validly signed entry %llu: a fork"
				 : "a second entry %llu whose signature does not verify",
			      (unsigned long long)e->seq);
		tb_audit_report(jobs->audit, rej);
		return 1;
	}
	/* Not EFORKED: that is a frozen log's; a node tells the two apart by
	 * the code (a conflict may prove a fork, a frozen log's entry never). */
	return tb_reject_set(
		rej, TB_ECONFLICT, e->log_id, e->seq,
		"conflicts with the held entry %llu of this log (a fork, if validly signed)",
		(unsigned long long)e->seq);
}

/*
 * Checks and writes one decoded entry. Returns 0 (written), 1 (the same as a
 * held entry, or skipped in an audit) or a refusal.
 */
static int ingest_one(struct tb_txn *t, struct tb_entry *e, const uint8_t *rec, size_t len,
		      struct tb_sigjobs *jobs, size_t owner, bool effects, struct tb_reject *rej)
{
	struct tb_logstate l;
	int err = log_for(t, e, &l, jobs, rej);
	if (err)
		return err;
	if (l.flags & TB_LOG_FORKED)
		return tb_reject_set(rej, TB_EFORKED, e->log_id, e->seq,
				     "log is forked; no entry is accepted");
	if (e->seq <= l.seq)
		return held_seq(t, &l, e, rec, len, jobs, rej);
	bool gap = e->seq != l.seq + 1;
	if (gap) {
		err = tb_reject_set(rej, TB_ESEQ, e->log_id, e->seq,
				    "entry %llu follows entry %llu: a gap",
				    (unsigned long long)e->seq, (unsigned long long)l.seq);
		if ((err = broken(jobs, rej, err)))
			return err;
		l.flags |= TB_LOG_BROKEN;
	} else if (memcmp(e->prev, l.hash, TB_HASHLEN)) {
		err = tb_reject_set(rej, TB_EPREV, e->log_id, e->seq,
				    "prev is not the hash of entry %llu",
				    (unsigned long long)l.seq);
		if ((err = broken(jobs, rej, err)))
			return err;
	}
	if (jobs->n + 1 > jobs->cap)
		return TB_EFULL;
	/* Audits: an entry whose signatures failed is kept in its chain but has
	 * no effect (its signatures were reported already). */
	if (effects) {
		/* (In audits the log signatures were checked before.) */
		if (!jobs->audit) {
			tb_entry_verify_job(&jobs->jobs[jobs->n], e);
			jobs->owner[jobs->n++] = owner;
		}
		if ((err = tb_rules_apply(t, l.lognum, e, jobs, owner, rej)))
			return err;
	}

	uint8_t k[TB_ENTRY_KEY_LEN], ls[TB_LOGSTATE_LEN];
	tb_entry_key(k, l.lognum, e->seq);
	tb_txn_put(t, TB_T_ENTRIES, k, sizeof k, rec, len);
	tb_entry_hash(l.hash, rec, len);
	/* After a gap (audits only) the tree has no meaning: none is kept. */
	if (!(l.flags & TB_LOG_BROKEN))
		tb_merkle_store_leaf(t, l.lognum, e->seq - 1, l.hash);
	l.seq = e->seq;
	tb_logstate_pack(ls, &l);
	tb_txn_put(t, TB_T_LOGS, e->log_id, TB_KEY_LEN, ls, sizeof ls);
	return t->ret;
}

#define TB_SUBMIT_CHUNK 32

/* Hands the jobs queued since the last call to the verify pool. */
static void submit(struct tb_store *s, struct batch *b, size_t *submitted, bool all)
{
	size_t ready = b->jobs.n - *submitted;
	if (!s->pool || (!all && ready < TB_SUBMIT_CHUNK) || !ready)
		return;
	tb_verify_pool_submit(s->pool, b->jobs.jobs + *submitted, ready);
	*submitted = b->jobs.n;
}

/* Index of the first entry whose signature job failed, or n (after the
 * pool has verified every job of the batch). */
static size_t first_bad(struct tb_store *s, struct batch *b, size_t n, int *err)
{
	*err = 0;
	if (!b->jobs.n)
		return n;
	if (s->pool)
		tb_verify_pool_wait(s->pool);
	else if (tb_verify_batch(b->jobs.jobs, b->jobs.n, s->threads) == 0)
		return n;
	size_t bad = n;
	for (size_t j = 0; j < b->jobs.n; j++) {
		if (b->jobs.jobs[j].result && b->jobs.owner[j] < bad) {
			bad = b->jobs.owner[j];
			*err = b->jobs.jobs[j].result;
		}
	}
	return bad;
}

static void bad_sig_reject(struct batch *b, size_t i, int err, struct tb_reject *rej)
{
	const struct tb_entry *e = &b->e[i];
	for (size_t j = 0; j < b->jobs.n; j++) {
		if (b->jobs.owner[j] != i || !b->jobs.jobs[j].result)
			continue;
		const char *what = b->jobs.jobs[j].ctx == TB_CTX_ENTRY
					   ? "the log key's signature"
					   : "a member's consent signature";
		tb_reject_set(rej, err == TB_EBADSIG ? TB_EBADSIG : err, e->log_id, e->seq,
			      "%s does not verify", what);
		if (err == TB_EBADSIG && b->jobs.jobs[j].ctx != TB_CTX_ENTRY)
			rej->err = TB_ECONSENT;
		return;
	}
}

/*
 * Audits (tb_store_set_audit, FORMAT.md 11.1): every violation of the batch
 * is reported, records in order, each record's in the order of its checks:
 * decoding, place (7.2 steps 2-6), the log signature, the rules, the member
 * signatures the rules queued. An entry whose log signature or member
 * signatures fail keeps its place in the chain but has no effect. The log
 * signatures are checked before the rules (they need no state); member
 * signatures after them, and when some fail the batch is redone without
 * their effects, so what later records are held to is the state an honest
 * node would have had.
 */
struct collected {
	struct tb_reject r;
	size_t owner;
};

struct collector {
	struct collected *v;
	size_t n, cap;
	size_t owner; /* the record being checked */
	bool drop;    /* its violations are known already (a redo) */
	bool oom;
};

static void collect(void *ctx, const struct tb_reject *v)
{
	struct collector *c = ctx;
	if (c->drop)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct collected *p = realloc(c->v, cap * sizeof *p);
		if (!p) {
			c->oom = true;
			return;
		}
		c->v = p;
		c->cap = cap;
	}
	c->v[c->n].r = *v;
	c->v[c->n++].owner = c->owner;
}

static void collect_sig(struct collector *c, const struct tb_entry *e, int err)
{
	struct tb_reject r;
	tb_reject_set(&r, err, e->log_id, e->seq, "%s does not verify",
		      err == TB_EBADSIG ? "the log key's signature"
					: "a member's consent signature");
	collect(c, &r);
}

/* Log signatures of the decodable records, all at once: b->badsig. */
static int audit_logsigs(struct tb_store *s, struct batch *b, const struct tb_view *recs, size_t n)
{
	struct tb_verify_job *jobs = calloc(n, sizeof *jobs);
	size_t *owner = calloc(n, sizeof *owner), k = 0;
	if (!jobs || !owner) {
		free(jobs);
		free(owner);
		return TB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		b->badsig[i] = b->noeffect[i] = false;
		if (tb_entry_decode(&b->e[i], recs[i].p, recs[i].len))
			continue;
		tb_entry_verify_job(&jobs[k], &b->e[i]);
		owner[k++] = i;
	}
	int err = 0;
	if (k && tb_verify_batch(jobs, k, s->threads)) {
		for (size_t j = 0; j < k; j++) {
			if (jobs[j].result == TB_ENOMEM)
				err = TB_ENOMEM;
			else if (jobs[j].result)
				b->badsig[owner[j]] = true;
		}
	}
	free(jobs);
	free(owner);
	return err;
}

/* One pass over the batch in t; violations go to c. */
static int audit_pass(struct tb_txn *t, struct batch *b, const struct tb_view *recs, size_t n,
		      struct collector *c, const struct collector *first)
{
	for (size_t i = 0; i < n && !t->ret; i++) {
		struct tb_reject r = {0};
		c->owner = i;
		c->drop = b->noeffect[i];
		int err = tb_entry_decode(&b->e[i], recs[i].p, recs[i].len);
		if (err) {
			tb_reject_set(&r, err, b->e[i].log_id, b->e[i].seq,
				      "entry does not decode: %s", tb_strerror(err));
			collect(c, &r);
			continue;
		}
		bool effects = !b->badsig[i] && !b->noeffect[i];
		err = ingest_one(t, &b->e[i], recs[i].p, recs[i].len, &b->jobs, i, effects, &r);
		if (err < 0 && t->ret)
			return t->ret;
		if (err < 0) { /* a log already forked: nothing is taken */
			collect(c, &r);
			continue;
		}
		if (err == 0 && b->badsig[i])
			collect_sig(c, &b->e[i], TB_EBADSIG);
		if (!b->noeffect[i])
			continue;
		/* A redo: what the first pass found for this record, then its
		 * member signatures. */
		c->drop = false;
		for (size_t j = 0; j < first->n; j++)
			if (first->v[j].owner == i)
				collect(c, &first->v[j].r);
		collect_sig(c, &b->e[i], TB_ECONSENT);
	}
	return t->ret;
}

static int run_audit(struct tb_store *s, struct batch *b, const struct tb_view *recs, size_t n,
		     size_t *accepted)
{
	struct collector first = {0}, redo = {0};
	struct tb_audit_sink sink = {collect, &first};
	int err = audit_logsigs(s, b, recs, n);
	for (bool again = true; !err && again;) {
		struct collector *c = sink.ctx;
		struct tb_txn t;
		batch_reset(b);
		b->jobs.audit = &sink;
		tb_txn_begin(&t, s->db, true);
		err = t.ret ? t.ret : audit_pass(&t, b, recs, n, c, &first);
		again = false;
		if (!err && c == &first && b->jobs.n &&
		    tb_verify_batch(b->jobs.jobs, b->jobs.n, s->threads)) {
			for (size_t j = 0; j < b->jobs.n; j++) {
				int r = b->jobs.jobs[j].result;
				if (r == TB_ENOMEM)
					err = r;
				else if (r)
					b->noeffect[b->jobs.owner[j]] = true;
			}
			sink.ctx = &redo;
			again = !err;
		}
		if (err || again)
			tb_txn_abort(&t);
		else
			err = tb_txn_commit(&t);
	}
	struct collector *c = sink.ctx;
	if (!err && (first.oom || redo.oom))
		err = TB_ENOMEM;
	for (size_t j = 0; !err && j < c->n; j++)
		tb_audit_report(&s->audit, &c->v[j].r);
	free(first.v);
	free(redo.v);
	*accepted = err ? 0 : n;
	return err;
}

/* Workers verify while this thread checks rules; it joins them at the end.
 * One thread in all means no workers. */
static void pool_start(struct tb_store *s, size_t n)
{
	if (s->pool || n < TB_SUBMIT_CHUNK)
		return;
	unsigned threads = s->threads ? s->threads : tb_cpu_count();
	if (tb_verify_pool_new(&s->pool, threads - 1))
		s->pool = NULL;
}

/* One pass of run_batch: decodes and checks records [0, n) in t, handing
 * their signatures to the verifiers (unless verified). Returns the index of
 * the first refused record (n if none); the first refusal of all passes is
 * kept in *refusal and *first. */
static size_t rules_pass(struct tb_store *s, struct tb_txn *t, struct batch *b,
			 const struct tb_view *recs, size_t n, bool verified, size_t *submitted,
			 int *refusal, struct tb_reject *first)
{
	size_t i;
	for (i = 0; i < n; i++) {
		struct tb_reject r = {0};
		int err = tb_entry_decode(&b->e[i], recs[i].p, recs[i].len);
		if (err) {
			tb_reject_set(&r, err, b->e[i].log_id, b->e[i].seq,
				      "entry does not decode: %s", tb_strerror(err));
		} else {
			err = ingest_one(t, &b->e[i], recs[i].p, recs[i].len, &b->jobs, i, true,
					 &r);
			if (err == 1)
				continue;
			if (!err && !verified)
				submit(s, b, submitted, false);
			if (err && !r.err)
				tb_reject_set(&r, err, b->e[i].log_id, b->e[i].seq, "%s",
					      tb_strerror(err));
		}
		if (err) {
			if (!*refusal) {
				*refusal = err;
				*first = r;
			}
			break;
		}
	}
	return i;
}

/*
 * Runs records [0, n) through ingest_one in a fresh transaction. On a refusal
 * at k, the prefix [0, k) is kept. Signatures are verified (unless
 * `verified`) before the commit; a bad one at m shortens the batch to m and
 * the transaction is redone without re-verifying.
 */
static int run_batch(struct tb_store *s, struct batch *b, const struct tb_view *recs, size_t n,
		     size_t *accepted, struct tb_reject *rej)
{
	bool verified = false;
	int refusal = 0;
	struct tb_reject first = {0};
	if (s->audit.fn)
		return run_audit(s, b, recs, n, accepted);
	pool_start(s, n);
	for (;;) {
		struct tb_txn t;
		size_t submitted = 0;
		batch_reset(b);
		b->jobs.audit = NULL;
		tb_txn_begin(&t, s->db, true);
		if (t.ret)
			return t.ret;
		size_t i = rules_pass(s, &t, b, recs, n, verified, &submitted, &refusal, &first);
		/* A storage error poisons the transaction: nothing is kept. */
		if (t.ret) {
			tb_txn_abort(&t);
			*accepted = 0;
			tb_reject_set(rej, t.ret, NULL, 0, "storage: %s", tb_strerror(t.ret));
			return t.ret;
		}
		size_t cut = i;
		if (!verified) {
			int serr;
			/* Jobs of a refused entry are verified too (harmless); the
			 * ring then holds nothing when the batch is redone. */
			submit(s, b, &submitted, true);
			size_t bad = first_bad(s, b, i, &serr);
			if (bad < i) {
				bad_sig_reject(b, bad, serr, &first);
				refusal = first.err;
				cut = bad;
			}
			verified = true;
		}
		/* A refused entry may have left partial index writes: redo the
		 * prefix before it in a clean transaction. */
		if (cut < n) {
			tb_txn_abort(&t);
			n = cut;
			if (n == 0) {
				*accepted = 0;
				if (rej)
					*rej = first;
				return refusal;
			}
			continue;
		}
		int err = tb_txn_commit(&t);
		if (err) {
			*accepted = 0;
			tb_reject_set(rej, err, NULL, 0, "storage: %s", tb_strerror(err));
			return err;
		}
		*accepted = i;
		if (refusal && rej)
			*rej = first;
		return refusal;
	}
}

int tb_store_append(struct tb_store *s, const struct tb_view *recs, size_t n, size_t *accepted,
		    struct tb_reject *rej)
{
	return tb_store_append_placed(s, recs, n, accepted, NULL, rej);
}

int tb_store_append_placed(struct tb_store *s, const struct tb_view *recs, size_t n,
			   size_t *accepted, struct tb_placed *placed, struct tb_reject *rej)
{
	*accepted = 0;
	if (rej)
		memset(rej, 0, sizeof *rej);
	if (s->flags & TB_STORE_RDONLY)
		return TB_EINVAL;
	if (n == 0)
		return 0;
	if (n > TB_APPEND_MAX)
		return TB_EINVAL;
	struct batch b;
	int err = batch_init(&b, n);
	if (!err)
		err = run_batch(s, &b, recs, n, accepted, rej);
	/* The accepted prefix was decoded by the pass that committed it (an
	 * audit decodes its own way and places nothing). */
	for (size_t i = 0; placed && !s->audit.fn && i < *accepted; i++) {
		memcpy(placed[i].log_id, b.e[i].log_id, TB_KEY_LEN);
		placed[i].seq = b.e[i].seq;
	}
	batch_free(&b);
	return err;
}

/* Builds, signs and ingests the next entry of kp's log inside t (not
 * committed), with its member signatures checked. */
int tb_own_append_txn(struct tb_txn *t, const struct tb_keypair *kp, uint64_t kind,
		      const void *body, uint64_t *seq, struct tb_reject *rej)
{
	const struct tb_msgdef *d = tb_kind_def(kind);
	if (!d)
		return TB_EINVAL;
	struct batch b;
	int err = batch_init(&b, 1);
	if (err) {
		batch_free(&b);
		return err;
	}
	if ((err = tb_restored_check(t, kp->pk.b, rej))) {
		batch_free(&b);
		return err;
	}
	/* libsodium's secret key is seed || public key, and signs with that
	 * public key: one that differs from kp->pk would sign entries no one
	 * can verify. */
	if (memcmp(kp->sk + TB_SECKEY_LEN - TB_KEY_LEN, kp->pk.b, TB_KEY_LEN)) {
		batch_free(&b);
		return tb_reject_set(rej, TB_EINVAL, kp->pk.b, 0,
				     "the key pair's halves do not match");
	}
	struct tb_entry *e = &b.e[0];
	e->version = TB_ENTRY_VERSION;
	memcpy(e->log_id, kp->pk.b, TB_KEY_LEN);
	struct tb_logstate l;
	err = tb_logstate_get(t, e->log_id, &l);
	if (err == TB_ENOTFOUND) {
		e->seq = 1;
		memset(e->prev, 0, TB_HASHLEN);
		err = 0;
	} else if (!err) {
		e->seq = l.seq + 1;
		memcpy(e->prev, l.hash, TB_HASHLEN);
	}
	e->timestamp = (uint64_t)time(NULL);
	e->kind = kind;
	memcpy(&e->body, body, d->size);
	uint8_t rec[TB_ENTRY_MAX];
	size_t len = 0;
	if (!err)
		err = tb_entry_seal(rec, sizeof rec, &len, e, kp);
	if (!err) {
		/* Decode our own bytes so views point into rec, as for peers;
		 * text from a user that the strict decoder refuses (bad UTF-8,
		 * control characters, out-of-range values) is refused here. */
		uint64_t seq0 = e->seq;
		err = tb_entry_decode(e, rec, len);
		if (err)
			tb_reject_set(rej, err, kp->pk.b, seq0, "the new entry is invalid: %s",
				      tb_strerror(err));
		else
			err = ingest_one(t, e, rec, len, &b.jobs, 0, true, rej);
		TB_ASSERT(err != 1);
	}
	/* The log signature (job 0, queued first by ingest_one) was made just
	 * now with kp, whose public half is the one the secret key embeds and
	 * signs with (checked above): verifying it again would cost one
	 * verification per append and prove nothing. Members' signatures, which
	 * come from outside, are verified. */
	TB_ASSERT(err || (b.jobs.n && b.jobs.jobs[0].ctx == TB_CTX_ENTRY));
	if (!err && b.jobs.n > 1 && tb_verify_batch(b.jobs.jobs + 1, b.jobs.n - 1, 1)) {
		bad_sig_reject(&b, 0, TB_EBADSIG, rej);
		err = rej->err ? rej->err : TB_EBADSIG;
	}
	if (!err && seq)
		*seq = e->seq;
	batch_free(&b);
	return err;
}

int tb_store_append_own(struct tb_store *s, const struct tb_keypair *kp, uint64_t kind,
			const void *body, uint64_t *seq, struct tb_reject *rej)
{
	return tb_store_append_own_memo(s, kp, kind, body, NULL, seq, rej);
}

int tb_store_append_own_memo(struct tb_store *s, const struct tb_keypair *kp, uint64_t kind,
			     const void *body, const struct tb_memo *memo, uint64_t *seq,
			     struct tb_reject *rej)
{
	struct tb_own_item it = {.kind = kind, .body = body, .memo = memo};
	int err = tb_store_append_own_batch(s, kp, &it, 1, false, NULL, rej);
	if (!err && seq)
		*seq = it.seq;
	return err;
}

static int contact_put(struct tb_txn *t, const struct tb_own_item *it)
{
	uint8_t k[TB_CONTACT_KEY_LEN];
	size_t n = strlen(it->email);
	if (n > TB_EMAIL_MAX)
		return TB_ETOOLONG;
	tb_contact_key(k, it->email_member);
	tb_txn_put(t, TB_T_CONTACTS, k, sizeof k, it->email, n);
	return 0;
}

/* The pending proposal dropped and the attestation kept with an entry. */
static int local_put(struct tb_txn *t, const struct tb_keypair *kp, const struct tb_own_item *it,
		     struct tb_reject *rej)
{
	int err = 0;
	if (it->pending_txid && (err = tb_pending_del_txn(t, it->pending_txid)))
		return tb_reject_set(rej, err, kp->pk.b, it->seq, "%s",
				     err == TB_ENOTFOUND ? "no such pending proposal"
							 : tb_strerror(err));
	if (it->attested_by && (err = tb_attested_put_txn(t, it->attested_txid, it->attested_by)))
		return tb_reject_set(rej, err, kp->pk.b, it->seq,
				     "'%s' is not a coordinator's name", it->attested_by);
	return 0;
}

int tb_store_append_own_batch(struct tb_store *s, const struct tb_keypair *kp,
			      struct tb_own_item *items, size_t n, bool dry_run, size_t *done,
			      struct tb_reject *rej)
{
	/* Refusals are described in a local reject when the caller passes none,
	 * so the code returned never depends on whether it asked. */
	struct tb_reject local;
	if (!rej)
		rej = &local;
	memset(rej, 0, sizeof *rej);
	if (done)
		*done = 0;
	if (s->flags & TB_STORE_RDONLY)
		return TB_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (items[i].memo && items[i].memo->len > TB_MEMO_MAX)
			return TB_ETOOLONG;
	struct tb_txn t;
	uint64_t sq = 0;
	int err = 0;
	size_t i;
	tb_txn_begin(&t, s->db, true);
	for (i = 0; !err && i < n; i++) {
		err = tb_own_append_txn(&t, kp, items[i].kind, items[i].body, &sq, rej);
		items[i].seq = sq;
		if (!err && items[i].memo)
			tb_memo_put_txn(&t, items[i].memo);
		if (!err && items[i].email)
			err = contact_put(&t, &items[i]);
		if (!err)
			err = local_put(&t, kp, &items[i], rej);
	}
	if (done)
		*done = err ? i - 1 : n;
	if (err || dry_run) {
		tb_txn_abort(&t);
		if (err && !rej->err)
			tb_reject_set(rej, err, kp->pk.b, sq, "%s", tb_strerror(err));
	} else if ((err = tb_txn_commit(&t))) {
		tb_reject_set(rej, err, kp->pk.b, sq, "storage: %s", tb_strerror(err));
		if (done)
			*done = 0;
	}
	return err;
}
