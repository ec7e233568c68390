/*
 * append.c: the one path by which entries enter the store, for entries from
 * peers, from the command line and from reindex alike.
 *
 * A batch is checked in groups of up to TB_APPEND_GROUP records, each in one
 * write transaction: decoding, seq (next of its log; a byte-identical copy of
 * a held entry is skipped), prev, ledger rules, then every signature of the
 * group (entry and member signatures) on all cores. The log signatures of a
 * group are handed to the verifiers before its rules run, those of the next
 * group while this one is committed, so the verifiers never wait for the
 * disk. Entries are written with their Merkle nodes and log head in the same
 * transaction, and the call returns success only after every commit synced.
 * If an entry is refused, the valid prefix before it is still committed.
 * This file must never write an entry whose checks have not all passed.
 */
#include <stdlib.h>
#include <time.h>

#include "append_int.h"

#define TB_TERMS_ARENA_PER_ENTRY 512
#define TB_JOBS_PER_ENTRY 3

static int batch_init(struct batch *b, size_t n)
{
	memset(b, 0, sizeof *b);
	b->cap = n;
	b->e = calloc(n, sizeof *b->e);
	b->derr = calloc(n, sizeof *b->derr);
	b->presub = calloc(n, sizeof *b->presub);
	b->ejobs = calloc(n, sizeof *b->ejobs);
	b->eowner = calloc(n, sizeof *b->eowner);
	b->noeffect = calloc(n, sizeof *b->noeffect);
	b->badsig = calloc(n, sizeof *b->badsig);
	b->jobs.cap = n * TB_JOBS_PER_ENTRY;
	b->jobs.jobs = calloc(b->jobs.cap, sizeof *b->jobs.jobs);
	b->jobs.owner = calloc(b->jobs.cap, sizeof *b->jobs.owner);
	b->jobs.arena_cap = n * TB_TERMS_ARENA_PER_ENTRY;
	b->jobs.arena = malloc(b->jobs.arena_cap);
	if (!b->e || !b->derr || !b->presub || !b->ejobs || !b->eowner || !b->noeffect ||
	    !b->badsig || !b->jobs.jobs || !b->jobs.owner || !b->jobs.arena)
		return TB_ENOMEM;
	return 0;
}

static void batch_free(struct batch *b)
{
	free(b->e);
	free(b->derr);
	free(b->presub);
	free(b->ejobs);
	free(b->eowner);
	free(b->noeffect);
	free(b->badsig);
	free(b->jobs.jobs);
	free(b->jobs.owner);
	free(b->jobs.arena);
}

/* Hands the jobs queued since the last call to the verify pool. */
static void submit(struct tb_store *s, struct batch *b, size_t *submitted, bool all)
{
	size_t ready = b->jobs.n - *submitted;
	if (!s->pool || (!all && ready < TB_SUBMIT_CHUNK) || !ready)
		return;
	tb_verify_pool_submit(s->pool, b->jobs.jobs + *submitted, ready);
	*submitted = b->jobs.n;
}

/* Lowers *bad to the record of each failed job of jobs[0, n). */
static void failed(const struct tb_verify_job *jobs, const size_t *owner, size_t n, size_t *bad,
		   int *err)
{
	for (size_t j = 0; j < n; j++) {
		if (jobs[j].result && owner[j] < *bad) {
			*bad = owner[j];
			*err = jobs[j].result;
		}
	}
}

/* Index of the first record of [off, end) whose log or member signature
 * failed, or end (after every job of the group has its result). */
static size_t first_bad(struct tb_store *s, struct batch *b, size_t end, int *err)
{
	*err = 0;
	size_t nej = b->ej1 - b->ej0;
	if (s->pool) {
		tb_verify_pool_wait(s->pool);
	} else {
		/* Without a pool (small batches), all here. */
		int e1 = tb_verify_batch(b->ejobs + b->ej0, nej, s->threads);
		int e2 = tb_verify_batch(b->jobs.jobs, b->jobs.n, s->threads);
		if (!e1 && !e2)
			return end;
	}
	size_t bad = end;
	/* The log signature first: of a record's checks it comes first. */
	failed(b->ejobs + b->ej0, b->eowner + b->ej0, nej, &bad, err);
	failed(b->jobs.jobs, b->jobs.owner, b->jobs.n, &bad, err);
	return bad;
}

static void bad_sig_reject(struct batch *b, size_t i, int err, struct tb_reject *rej)
{
	const struct tb_entry *e = &b->e[i];
	for (size_t j = b->ej0; j < b->ej1; j++) {
		if (b->eowner[j] == i && b->ejobs[j].result) {
			tb_reject_set(rej, err, e->log_id, e->seq,
				      "the log key's signature does not verify");
			return;
		}
	}
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
 * Decodes records [off, off + k) (their one decoding) and hands the log
 * signature of each not held yet (seq past its log's head in t) to the
 * verifiers: they need no state, so they are checked while t is still
 * being worked on or committed. A held one costs no signature check.
 */
static void prepare(struct tb_store *s, struct tb_txn *t, struct batch *b,
		    const struct tb_view *recs, size_t off, size_t k)
{
	const uint8_t *last = NULL;
	uint64_t head = 0;
	b->ej0 = b->nej;
	for (size_t i = off; i < off + k; i++) {
		struct tb_entry *e = &b->e[i];
		b->presub[i] = false;
		if ((b->derr[i] = tb_entry_decode(e, recs[i].p, recs[i].len)))
			continue;
		if (!last || memcmp(last, e->log_id, TB_KEY_LEN)) {
			struct tb_logstate l;
			head = tb_logstate_get(t, e->log_id, &l) ? 0 : l.seq;
			last = e->log_id;
		}
		if (e->seq <= head)
			continue;
		tb_entry_verify_job(&b->ejobs[b->nej], e);
		b->eowner[b->nej++] = i;
		b->presub[i] = true;
	}
	b->ej1 = b->nej;
	/* One range: the pool hands it out in chunks (verify_pool.c). */
	if (s->pool)
		tb_verify_pool_submit(s->pool, b->ejobs + b->ej0, b->ej1 - b->ej0);
}

/* One pass of run_group: checks records [off, end) (decoded by prepare) in
 * t, handing their member signatures to the verifiers (unless verified).
 * Returns the index of the first refused record (end if none); the first
 * refusal of all passes is kept in *refusal and *first. */
static size_t rules_pass(struct tb_store *s, struct tb_txn *t, struct batch *b,
			 const struct tb_view *recs, size_t off, size_t end, bool verified,
			 size_t *submitted, int *refusal, struct tb_reject *first)
{
	size_t i;
	for (i = off; i < end; i++) {
		struct tb_reject r = {0};
		int err = b->derr[i];
		if (err) {
			tb_reject_set(&r, err, b->e[i].log_id, b->e[i].seq,
				      "entry does not decode: %s", tb_strerror(err));
		} else {
			err = tb_ingest_one(t, &b->e[i], recs[i].p, recs[i].len, &b->jobs, i, true,
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

static int storage_failed(size_t *accepted, struct tb_reject *rej, int err)
{
	*accepted = 0;
	tb_reject_set(rej, err, NULL, 0, "storage: %s", tb_strerror(err));
	return err;
}

/*
 * Runs records [off, off + k) through ingest_one in a fresh transaction; the
 * group's records were prepared. On a refusal at i, the prefix [off, i) is
 * kept. Signatures are verified (unless `verified`) before the commit; a bad
 * one at m shortens the group to m and the transaction is redone without
 * re-verifying. Before a clean group commits, the next (up to n) is
 * prepared.
 */
static int run_group(struct tb_store *s, struct batch *b, const struct tb_view *recs, size_t off,
		     size_t k, size_t n, size_t *accepted, struct tb_reject *rej)
{
	bool verified = false;
	int refusal = 0;
	struct tb_reject first = {0};
	size_t end = off + k;
	for (;;) {
		struct tb_txn t;
		size_t submitted = 0;
		tb_batch_reset(b);
		b->jobs.audit = NULL;
		b->jobs.presub = b->presub;
		tb_txn_begin(&t, s->db, true);
		if (t.ret)
			return storage_failed(accepted, rej, t.ret);
		if (off == 0 && !verified)
			prepare(s, &t, b, recs, 0, k);
		size_t i = rules_pass(s, &t, b, recs, off, end, verified, &submitted, &refusal,
				      &first);
		/* A storage error poisons the transaction: nothing is kept. */
		if (t.ret) {
			int err = t.ret;
			tb_txn_abort(&t);
			return storage_failed(accepted, rej, err);
		}
		size_t cut = i;
		if (!verified) {
			int serr;
			/* Jobs of a refused entry are verified too (harmless); the
			 * ring then holds nothing when the group is redone. */
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
		if (cut < end) {
			tb_txn_abort(&t);
			end = cut;
			if (end == off) {
				*accepted = 0;
				if (rej)
					*rej = first;
				return refusal;
			}
			continue;
		}
		if (!refusal && end < n)
			prepare(s, &t, b, recs, end,
				n - end < TB_APPEND_GROUP ? n - end : TB_APPEND_GROUP);
		int err = tb_txn_commit(&t);
		if (err)
			return storage_failed(accepted, rej, err);
		*accepted = i - off;
		if (refusal && rej)
			*rej = first;
		return refusal;
	}
}

/* Runs records [0, n) in groups; stops at the first group not taken whole.
 * Jobs handed ahead for a group never reached are dropped. */
static int run_batch(struct tb_store *s, struct batch *b, const struct tb_view *recs, size_t n,
		     size_t *accepted, struct tb_reject *rej)
{
	if (s->audit.fn)
		return tb_run_audit(s, b, recs, n, accepted);
	tb_store_pool_start(s, n);
	int err = 0;
	b->nej = 0;
	*accepted = 0;
	for (size_t off = 0; off < n;) {
		size_t k = n - off < TB_APPEND_GROUP ? n - off : TB_APPEND_GROUP, acc = 0;
		err = run_group(s, b, recs, off, k, n, &acc, rej);
		*accepted += acc;
		if (err || acc < k)
			break;
		off += k;
	}
	if (s->pool)
		tb_verify_pool_cancel(s->pool);
	return err;
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
			err = tb_ingest_one(t, e, rec, len, &b.jobs, 0, true, rej);
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
	/* A member who left or changed keys: the key file kept for their other
	 * devices (FORMAT.md 8.4) can only help guess an old passphrase. */
	if (it->kind == TB_KIND_MEMBER_LEFT)
		tb_keyfile_forget_txn(t, ((const struct tb_member_left *)it->body)->member);
	else if (it->kind == TB_KIND_MEMBER_KEY)
		tb_keyfile_forget_txn(t, ((const struct tb_member_key *)it->body)->member);
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
