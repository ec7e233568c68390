/*
 * admission.c: tallyd stores and relays only the logs of the communities
 * admitted here (PROTOCOL.md, "Admission"): its own log, those its own log
 * admits with ADMIT entries, and one level of those its vouching
 * communities admit. The set is recomputed when a log changes and the heads
 * that are announced, pushed and checkpointed are those of admitted logs
 * only. Entries and fork proofs of any other log are refused before they
 * are verified or stored, and the sender is told once per log with a
 * REFUSED message (TB_ENOTADMITTED, or TB_EADMIT for a genesis whose name
 * is not the name admitted); a peer told so stops sending that log on this
 * connection. Nothing here depends on a message's text.
 */
#include "daemon.h"

#include <stdarg.h>
#include <string.h>

#include "tb_text.h"

int tb_node_admission_load(struct tb_node *n)
{
	struct tb_admitted a;
	int err = tb_store_admitted(n->store, &a);
	if (err) {
		tb_log(n, TB_LOG_ERROR, "cannot read the admissions: %s", tb_strerror(err));
		return err;
	}
	if (a.dropped && a.dropped != n->admitted.dropped)
		tb_log(n, TB_LOG_WARN,
		       "%zu communities vouched for are not admitted (over %d per voucher or "
		       "%d in all, or a name already admitted)",
		       a.dropped, TB_ADMIT_PER_VOUCHER, TB_ADMITTED_MAX);
	tb_admitted_free(&n->admitted);
	n->admitted = a;
	n->admission_loaded = true;
	return 0;
}

bool tb_node_admits(const struct tb_node *n, const uint8_t *log_id)
{
	if (!memcmp(log_id, n->self, TB_KEY_LEN))
		return true;
	return n->admission_loaded && tb_admitted_find(&n->admitted, log_id) != NULL;
}

static void send_refused(struct tb_conn *c, int code, const uint8_t *log_id, const char *fmt,
			 va_list ap)
{
	struct tb_repl *r = c->repl;
	char why[201];
	vsnprintf(why, sizeof why, fmt, ap);
	struct tb_peer_msg m = {.type = TB_MSG_REFUSED};
	m.u.refused.code = code;
	if (log_id)
		memcpy(m.u.refused.log_id, log_id, TB_KEY_LEN);
	m.u.refused.reason.p = (const uint8_t *)why;
	m.u.refused.reason.len = strlen(why);
	char id[17] = "-";
	if (log_id)
		tb_hex_encode(id, log_id, 8);
	if (r->refusals_logged < TB_REFUSALS_LOGGED)
		tb_log(c->node, TB_LOG_INFO, "refused log %s from %s: %s (%s)%s", id, c->addr, why,
		       tb_errname(code),
		       ++r->refusals_logged == TB_REFUSALS_LOGGED
			       ? "; more refusals on this connection are not logged"
			       : "");
	(void)tb_conn_send(c, &m);
}

void tb_repl_refuse(struct tb_conn *c, int code, const uint8_t *log_id, const char *fmt, ...)
{
	struct tb_known *k = log_id ? tb_known_at(c, log_id, true) : NULL;
	if (log_id && (!k || (k->flags & TB_KNOWN_REFUSED)))
		return; /* told already (or no room to remember: not told again) */
	if (k)
		k->flags |= TB_KNOWN_REFUSED;
	va_list ap;
	va_start(ap, fmt);
	send_refused(c, code, log_id, fmt, ap);
	va_end(ap);
}

void tb_repl_tell(struct tb_conn *c, int code, const uint8_t *log_id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	send_refused(c, code, log_id, fmt, ap);
	va_end(ap);
}

/* Whether e is entry 2 of its log and a succession of an admitted log. */
static bool succeeds_admitted(const struct tb_node *n, const struct tb_entry *e)
{
	return e->kind == TB_KIND_SUCCESSION && e->seq == 2 &&
	       tb_node_admits(n, e->body.succession.old_log);
}

/* A log not admitted (yet): the successor of an admitted log gets through
 * (its genesis when its succession follows in the same message, then the
 * succession itself): 0. Once one is pending, the batch must be written so
 * that the admitted set, read again, holds it: TB_ADMIT_FLUSH (the caller
 * writes it and asks again). 1: not let through. */
static int successor_through(struct tb_conn *c, const struct tb_entry *e,
			     const struct tb_view *next)
{
	struct tb_node *n = c->node;
	struct tb_entry s;
	if (e->kind == TB_KIND_GENESIS && next && next->p &&
	    !tb_entry_decode(&s, next->p, next->len) && !memcmp(s.log_id, e->log_id, TB_KEY_LEN) &&
	    succeeds_admitted(n, &s))
		return 0;
	if (succeeds_admitted(n, e)) {
		n->successor_pending = true;
		return 0;
	}
	if (!n->successor_pending)
		return 1;
	n->successor_pending = false;
	return TB_ADMIT_FLUSH;
}

int tb_repl_admit_record(struct tb_conn *c, const uint8_t *p, size_t len,
			 const struct tb_view *next)
{
	struct tb_node *n = c->node;
	struct tb_entry e;
	if (tb_entry_decode(&e, p, len))
		return 0; /* the store says what is wrong with it */
	if (!tb_node_admits(n, e.log_id)) {
		int rc = successor_through(c, &e, next);
		if (rc != 1)
			return rc;
		tb_repl_refuse(c, TB_ENOTADMITTED, e.log_id,
			       "log not admitted here: its community is not admitted by this "
			       "node's community");
		return 1;
	}
	if (e.kind != TB_KIND_GENESIS || !memcmp(e.log_id, n->self, TB_KEY_LEN))
		return 0;
	const struct tb_admitted_one *o = tb_admitted_find(&n->admitted, e.log_id);
	const struct tb_genesis *g = &e.body.genesis;
	if (o && tb_text_same_name((const char *)g->name.p, g->name.len, o->name,
				   strlen(o->name)) != 1) {
		tb_repl_refuse(c, TB_EADMIT, e.log_id,
			       "its genesis names it '%.*s', it is admitted here as '%s'",
			       (int)g->name.len, (const char *)g->name.p, o->name);
		return 1;
	}
	return 0;
}

int tb_repl_on_refused(struct tb_conn *c, const struct tb_refused *r)
{
	struct tb_repl *rp = c->repl;
	static const uint8_t zero[TB_KEY_LEN];
	char id[17];
	tb_hex_encode(id, r->log_id, 8);
	if (rp->refusals_logged < TB_REFUSALS_LOGGED)
		tb_log(c->node, TB_LOG_INFO, "%s refused %s%s: %.*s (%s)%s", c->addr,
		       memcmp(r->log_id, zero, TB_KEY_LEN) ? "log " : "", id, (int)r->reason.len,
		       (const char *)r->reason.p, tb_errname((int)r->code),
		       ++rp->refusals_logged == TB_REFUSALS_LOGGED
			       ? "; more refusals on this connection are not logged"
			       : "");
	if (!memcmp(r->log_id, zero, TB_KEY_LEN) ||
	    (r->code != TB_ENOTADMITTED && r->code != TB_EADMIT))
		return 0; /* of no log, or a dropped checkpoint: nothing changes */
	/* The peer does not take this log: it is not sent again on this
	 * connection (it was recorded as known, seq 0, if not yet). */
	struct tb_known *k = tb_known_at(c, r->log_id, true);
	if (k) {
		k->flags |= TB_KNOWN_REFUSED;
		k->seq = UINT64_MAX;
	}
	return 0;
}
