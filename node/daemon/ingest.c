/*
 * ingest.c: what tallyd takes from a peer: entries, fork proofs and
 * checkpoints.
 *
 * Entries of a read burst are gathered in one node-wide buffer (one
 * connection reads at a time) and appended at its end through
 * tb_store_append, which verifies everything before writing. A conflicting,
 * validly signed entry is a fork: the proof is kept and sent to each peer
 * once (push.c). Any other refused entry closes the connection, logged with
 * the peer's address and the reason. A batch of entries already held costs
 * no rescan of the store.
 *
 * Checkpoints are cheap to receive and cannot be used to flood: only those
 * of logs held are taken, one per log a minute from each peer, and each
 * peer has a budget (a burst, then a rate, counted in messages); the rest
 * are dropped unread, and the first few of a connection are told with
 * REFUSED. One is kept per log, and those of a burst are kept in one
 * transaction. One whose root contradicts the entries held is a fork proof
 * (kept, sent to each peer once).
 */
#include "daemon.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- entries ---- */

static int ingest_alloc(struct tb_node *n)
{
	if (n->ingest)
		return 0;
	n->ingest = malloc(TB_INGEST_BYTES);
	n->ingest_recs = malloc(TB_INGEST_BATCH * sizeof *n->ingest_recs);
	n->ingest_placed = malloc(TB_INGEST_BATCH * sizeof *n->ingest_placed);
	if (!n->ingest || !n->ingest_recs || !n->ingest_placed) {
		free(n->ingest);
		free(n->ingest_recs);
		free(n->ingest_placed);
		n->ingest = NULL;
		n->ingest_recs = NULL;
		n->ingest_placed = NULL;
		return TB_ENOMEM;
	}
	return 0;
}

/* Whether admission lets rec through (next: the record after it in the
 * same ENTRIES, if any): 0 to queue it, 1 if refused (the peer was told,
 * or c closed). A pending successor is written first when admission asks. */
static int admit(struct tb_conn *c, struct tb_view rec, const struct tb_view *next)
{
	int rc = tb_repl_admit_record(c, rec.p, rec.len, next);
	if (rc == TB_ADMIT_FLUSH) {
		tb_repl_flush(c);
		rc = c->state == TB_CONN_OPEN ? tb_repl_admit_record(c, rec.p, rec.len, next) : 1;
	}
	return rc || c->state != TB_CONN_OPEN;
}

/* Queues one record of c for the append at the end of the read burst:
 * 0, or an error (c was closed). */
static int queue(struct tb_conn *c, struct tb_view rec)
{
	struct tb_node *n = c->node;
	if (n->ningest == TB_INGEST_BATCH || n->ingest_len + rec.len > TB_INGEST_BYTES)
		tb_repl_flush(c);
	if (c->state != TB_CONN_OPEN)
		return TB_EINVAL;
	n->ingest_conn = c;
	memcpy(n->ingest + n->ingest_len, rec.p, rec.len);
	n->ingest_recs[n->ningest].p = n->ingest + n->ingest_len;
	n->ingest_recs[n->ningest].len = rec.len;
	n->ingest_len += rec.len;
	n->ningest++;
	return 0;
}

int tb_repl_on_entries(struct tb_conn *c, const struct tb_entries *e)
{
	struct tb_node *n = c->node;
	if (!c->repl->synced) {
		tb_conn_close(c, "ENTRIES before the heads were exchanged");
		return TB_EINVAL;
	}
	if (ingest_alloc(n)) {
		tb_conn_close(c, "out of memory");
		return TB_ENOMEM;
	}
	if (n->ingest_conn && n->ingest_conn != c)
		tb_repl_flush(n->ingest_conn);
	n->ingest_conn = c;
	struct tb_records_iter it;
	struct tb_view rec;
	int rc;
	tb_records_begin(&it, e->records);
	while ((rc = tb_records_next(&it, &rec)) == 1) {
		/* The record after it, if it splits (admission looks ahead). */
		struct tb_records_iter ahead = it;
		struct tb_view next;
		if (tb_records_next(&ahead, &next) != 1)
			next = (struct tb_view){NULL, 0};
		if (admit(c, rec, &next)) {
			if (c->state != TB_CONN_OPEN)
				return TB_EINVAL;
			continue;
		}
		if (queue(c, rec))
			return TB_EINVAL;
	}
	if (rc < 0) {
		/* Records before the bad framing stay queued. */
		bool cut = it.v.len - it.off < 2;
		tb_conn_close(c, cut ? "truncated record in ENTRIES"
				     : "record length out of bounds in ENTRIES");
		return rc;
	}
	return 0;
}

/* An entry of a frozen log: ignored, unless the log's proof held is a
 * checkpoint's and the record differs from the one held at its seq. Then
 * the two records are a proof a succession can carry, and replace it (once
 * per log: the records are checked only while a checkpoint proof is held).
 * 0 to go on; a record that proves nothing closes the connection. */
static int frozen_entry(struct tb_conn *c, const struct tb_view *rec, const struct tb_reject *rej,
			const char *id)
{
	struct tb_node *n = c->node;
	if (tb_store_fork_by_checkpoint(n->store, rej->log_id) != 1)
		return 0;
	int err = tb_store_fork_check(n->store, rec->p, rec->len);
	if (err == TB_ENOTFOUND)
		return 0; /* not held here, or the same record */
	if (err) {
		char why[200];
		snprintf(why, sizeof why, "refused entry: log %s seq %llu: not a fork proof (%s)",
			 id, (unsigned long long)rej->seq, tb_errname(err));
		tb_conn_close(c, why);
		return err;
	}
	tb_log(n, TB_LOG_WARN,
	       "FORK of log %s: two records at seq %llu (from %s) replace its checkpoint proof", id,
	       (unsigned long long)rej->seq, c->addr);
	tb_node_fork_replaced(n, NULL, rej->log_id);
	return 0;
}

/* A refused record: a conflict proving a fork (kept, sent to each peer
 * once), an entry of a frozen log (EFORKED: ignored, or a better proof), or
 * a bad peer (closed). 0 to go on. */
static int refused(struct tb_conn *c, const struct tb_view *rec, int err,
		   const struct tb_reject *rej)
{
	struct tb_node *n = c->node;
	char id[17];
	tb_hex_encode(id, rej->log_id, 8);
	if (err == TB_EFORKED)
		return frozen_entry(c, rec, rej, id);
	if (err == TB_ECONFLICT) {
		int ferr = tb_store_fork_check(n->store, rec->p, rec->len);
		if (ferr == 0) {
			if (!tb_node_has_fork(n, rej->log_id)) {
				tb_log(n, TB_LOG_WARN,
				       "FORK of log %s at seq %llu (entries from %s): proof kept, log frozen",
				       id, (unsigned long long)rej->seq, c->addr);
				tb_node_forks_changed(n);
				tb_node_store_changed(n);
			}
			return 0;
		}
		if (ferr == TB_ENOTFOUND)
			return 0; /* the same entry after all */
	}
	char why[400];
	snprintf(why, sizeof why, "refused entry: log %s seq %llu: %s (%s)", id,
		 (unsigned long long)rej->seq, rej->msg, tb_errname(err));
	tb_conn_close(c, why);
	return err;
}

static bool storage_error(int err)
{
	return err == TB_EIO || err == TB_ESTORE || err == TB_EFULL || err == TB_ENOMEM ||
	       err == TB_EDISKFULL || err == TB_EPERM;
}

/* Appends the records gathered from c; true if one was new here. */
static bool flush_entries(struct tb_conn *c)
{
	struct tb_node *n = c->node;
	size_t done = 0;
	bool fresh = false;
	while (done < n->ningest && c->state == TB_CONN_OPEN) {
		size_t k = n->ningest - done;
		if (k > TB_APPEND_MAX)
			k = TB_APPEND_MAX;
		size_t accepted = 0;
		struct tb_reject rej;
		struct tb_placed *pl = n->ingest_placed + done;
		int err = tb_store_append_placed(n->store, n->ingest_recs + done, k, &accepted, pl,
						 &rej);
		for (size_t i = 0; i < accepted; i++) {
			(void)tb_known_raise(c, pl[i].log_id, pl[i].seq);
			/* Heads only grow: at or below the last scan's head it
			 * was a duplicate. */
			const struct tb_head *h = tb_node_head(n, pl[i].log_id);
			if (!h || pl[i].seq > h->seq)
				fresh = true;
		}
		if (accepted && c->peer)
			c->peer->last_contact = (uint64_t)time(NULL);
		done += accepted;
		if (err) {
			if (accepted == k || storage_error(err)) {
				char why[4400], path[4200];
				snprintf(path, sizeof path, "%s/ledger", n->data);
				tb_describe_storage(why, sizeof why, err, path,
						    tb_store_need(n->store));
				tb_log(n, TB_LOG_ERROR, "storage: %s", why);
				tb_conn_close(c, "local storage error");
				break;
			}
			if (refused(c, &n->ingest_recs[done], err, &rej))
				break;
			done++; /* skip the forked record, go on with the rest */
		}
	}
	n->ningest = 0;
	n->ingest_len = 0;
	n->ingest_conn = NULL;
	return fresh;
}

/* ---- checkpoints ---- */

/* Tells c that a checkpoint of log_id (NULL: unreadable) was dropped, and
 * why: the first TB_CP_TOLD of the connection, then once that more are not
 * told (PROTOCOL.md 8a). */
static void cp_dropped(struct tb_conn *c, int code, const uint8_t *log_id, const char *why)
{
	if (!c || c->state != TB_CONN_OPEN)
		return;
	if (c->repl->cp_dropped == 0)
		tb_log(c->node, TB_LOG_INFO, "%s sent a checkpoint not taken: %s (%s)", c->addr,
		       why, tb_errname(code));
	if (c->repl->cp_dropped < TB_CP_TOLD) {
		if (code == TB_ENOTADMITTED)
			tb_repl_refuse(c, code, log_id, "checkpoint dropped: %s", why);
		else
			tb_repl_tell(c, code, log_id, "checkpoint dropped: %s", why);
	} else if (c->repl->cp_dropped == TB_CP_TOLD) {
		tb_repl_tell(c, TB_EFULL, NULL,
			     "%d checkpoints dropped; more on this connection are dropped "
			     "without a word",
			     TB_CP_TOLD);
	}
	c->repl->cp_dropped++;
}

/* A checkpoint that contradicts the entries held was kept as its log's
 * fork proof (now or earlier): say so, and send the proof to the peers. */
static void cp_forked(struct tb_node *n, struct tb_conn *from, const struct tb_view *v)
{
	struct tb_checkpoint cp;
	if (tb_checkpoint_open(&cp, v->p, v->len) || tb_node_has_fork(n, cp.log_id))
		return;
	char id[17];
	tb_hex_encode(id, cp.log_id, 8);
	tb_log(n, TB_LOG_WARN,
	       "FORK of log %s: a checkpoint of %llu entries from %s contradicts the entries held: "
	       "proof kept, log frozen",
	       id, (unsigned long long)cp.size, from ? from->addr : "a closed connection");
	tb_node_forks_changed(n);
	tb_node_store_changed(n);
}

static void flush_checkpoints(struct tb_node *n)
{
	struct tb_view v[TB_CP_BATCH];
	int res[TB_CP_BATCH];
	size_t k = n->ncps;
	n->ncps = 0;
	if (!k)
		return;
	for (size_t i = 0; i < k; i++)
		v[i] = (struct tb_view){n->cps[i], n->cps_len[i]};
	int err = tb_store_checkpoint_put_many(n->store, v, k, res);
	if (err) {
		tb_log(n, TB_LOG_ERROR, "cannot keep checkpoints: %s", tb_strerror(err));
		return;
	}
	for (size_t i = 0; i < k; i++) {
		struct tb_conn *from = n->cps_from[i];
		const char *addr = from ? from->addr : "a closed connection";
		struct tb_checkpoint cp = {0};
		if (res[i] == 1) {
			tb_node_checkpoint_spread(n, from, v[i].p, v[i].len);
			if (!tb_checkpoint_open(&cp, v[i].p, v[i].len))
				tb_http_announce_checkpoint(n->http, cp.log_id, cp.size);
		} else if (res[i] == TB_EFORKED) {
			cp_forked(n, from, &v[i]);
		} else if (res[i] == TB_EBADSIG) {
			tb_log(n, TB_LOG_WARN, "%s sent a checkpoint that does not verify", addr);
			if (!tb_msg_decode_exact(v[i].p, v[i].len - TB_SIGLEN, &tb_def_checkpoint,
						 &cp))
				cp_dropped(from, res[i], cp.log_id,
					   "its signature does not verify");
		} else if (res[i] == TB_ENOTFOUND && !tb_checkpoint_open(&cp, v[i].p, v[i].len)) {
			cp_dropped(from, res[i], cp.log_id, "a log not held here");
		} else if (res[i] < 0) {
			tb_log(n, TB_LOG_DEBUG, "%s sent a checkpoint not kept: %s", addr,
			       tb_strerror(res[i]));
		}
	}
}

/* Whether a checkpoint from c is within its budget: of a log held, none of
 * that log from c in the last TB_CP_SPACING_S seconds, and tokens left. It
 * reads the checkpoint's fields without checking its signature (cheap);
 * the store checks everything before keeping it. If not, the peer is told
 * why. */
static bool cp_budget(struct tb_conn *c, const struct tb_view *v)
{
	struct tb_repl *r = c->repl;
	struct tb_node *n = c->node;
	uint64_t now = tb_now_ms(n);
	double cap = TB_CP_BURST + (double)n->nheads;
	r->cp_tokens += (double)(now - r->cp_at) * (TB_CP_RATE + (double)n->nheads / 60.0) / 1000.0;
	r->cp_at = now;
	if (r->cp_tokens > cap)
		r->cp_tokens = cap;
	struct tb_checkpoint cp;
	if (c->repl->cp_tokens < 1) {
		cp_dropped(c, TB_EFULL, NULL, "over this connection's budget of checkpoints");
		return false;
	}
	int err = v->len > TB_CHECKPOINT_MAX ? TB_ETOOBIG
		  : v->len <= TB_SIGLEN
			  ? TB_ETRUNCATED
			  : tb_msg_decode_exact(v->p, v->len - TB_SIGLEN, &tb_def_checkpoint, &cp);
	if (err) {
		cp_dropped(c, err, NULL, "not a checkpoint");
		return false;
	}
	if (!tb_node_admits(n, cp.log_id)) {
		cp_dropped(c, TB_ENOTADMITTED, cp.log_id, "a log not admitted here");
		return false;
	}
	const struct tb_head *h = tb_node_head(n, cp.log_id);
	if (!h || !h->seq) {
		cp_dropped(c, TB_ENOTFOUND, cp.log_id, "a log not held here");
		return false;
	}
	struct tb_known *k = tb_known_at(c, cp.log_id, true);
	uint32_t sec = (uint32_t)(now / 1000) + 1; /* 0: never */
	if (!k || (k->cp_at && sec - k->cp_at < TB_CP_SPACING_S)) {
		cp_dropped(c, TB_EFULL, cp.log_id,
			   "one of this log from this peer in the last minute already");
		return false;
	}
	k->cp_at = sec;
	r->cp_tokens -= 1;
	return true;
}

int tb_repl_on_checkpoint(struct tb_conn *c, const struct tb_view *v)
{
	struct tb_node *n = c->node;
	if (!cp_budget(c, v))
		return 0;
	if (!n->cps) {
		n->cps = malloc(TB_CP_BATCH * sizeof *n->cps);
		n->cps_len = malloc(TB_CP_BATCH * sizeof *n->cps_len);
		n->cps_from = malloc(TB_CP_BATCH * sizeof *n->cps_from);
		if (!n->cps || !n->cps_len || !n->cps_from) {
			free(n->cps);
			free(n->cps_len);
			free(n->cps_from);
			n->cps = NULL;
			tb_conn_close(c, "out of memory");
			return TB_ENOMEM;
		}
	}
	if (n->ncps == TB_CP_BATCH)
		flush_checkpoints(n);
	memcpy(n->cps[n->ncps], v->p, v->len);
	n->cps_len[n->ncps] = v->len;
	n->cps_from[n->ncps] = c;
	n->ncps++;
	return 0;
}

/* ---- fork proofs ---- */

int tb_repl_on_fork(struct tb_conn *c, const struct tb_fork *f)
{
	struct tb_node *n = c->node;
	/* b is a record in both kinds of proof (a may be a signed checkpoint). */
	struct tb_entry e;
	int err = tb_entry_decode(&e, f->b.p, f->b.len);
	/* A proof of a log already frozen here changes nothing: it is not
	 * checked again (two signatures each time would let a peer spend our
	 * CPU at its message rate). */
	if (!err && !tb_node_admits(n, e.log_id)) {
		tb_repl_refuse(c, TB_ENOTADMITTED, e.log_id,
			       "fork proof of a log not admitted here: not kept");
		return 0;
	}
	/* Except two records where a checkpoint proof is held: they replace
	 * it (once per log), as only they travel in a succession. */
	bool pair = f->a.len && f->a.p[0] != 0x94;
	bool better = false;
	if (!err && tb_node_has_fork(n, e.log_id)) {
		better = pair && tb_store_fork_by_checkpoint(n->store, e.log_id) == 1;
		struct tb_known *k = tb_known_at(c, e.log_id, true);
		if (k)
			k->flags |= TB_KNOWN_FORK;
		if (!better)
			return 0;
	}
	if (!err)
		err = tb_store_fork_add(n->store, f->a.p, f->a.len, f->b.p, f->b.len);
	if (err == TB_ETRUNCATED && f->a.len && f->a.p[0] == 0x94)
		return 0; /* a checkpoint proof past the entries held: cannot tell */
	if (err < 0) {
		char why[160];
		snprintf(why, sizeof why, "invalid fork proof: %s", tb_strerror(err));
		tb_conn_close(c, why);
		return err;
	}
	/* The peer has it: it is not sent back. */
	struct tb_known *k = tb_known_at(c, e.log_id, true);
	if (k)
		k->flags |= TB_KNOWN_FORK;
	if (err == 1 && better) {
		tb_log(n, TB_LOG_WARN,
		       "fork proof of two records received from %s: it replaces the checkpoint "
		       "proof held",
		       c->addr);
		tb_node_fork_replaced(n, c, e.log_id);
	} else if (err == 1) {
		tb_log(n, TB_LOG_WARN, "fork proof received from %s: log frozen", c->addr);
		tb_node_forks_changed(n);
		tb_node_store_changed(n);
	}
	return 0;
}

/* ---- the end of a read burst ---- */

void tb_repl_flush(struct tb_conn *c)
{
	struct tb_node *n = c->node;
	bool fresh = false;
	if (n->ingest_conn == c)
		fresh = flush_entries(c);
	flush_checkpoints(n);
	if (fresh) {
		(void)tb_node_scan(n);
		tb_node_restore_check(n);
	}
}

void tb_repl_conn_closed(struct tb_conn *c)
{
	struct tb_node *n = c->node;
	if (n->ingest_conn == c) {
		/* Records of a peer that went away: it sends them again. */
		n->ningest = 0;
		n->ingest_len = 0;
		n->ingest_conn = NULL;
	}
	for (size_t i = 0; i < n->ncps; i++)
		if (n->cps_from[i] == c)
			n->cps_from[i] = NULL;
}
