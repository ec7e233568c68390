/*
 * answers.c: delivery of members' answers to listings (PROTOCOL.md 7d,
 * FORMAT.md 17). An answer to a listing of another community goes from the
 * responder's node to the node of the listing's community only, on their
 * own authenticated connection: it is never relayed nor sent to any other
 * peer, and a node keeps only answers to its own community's listings sent
 * by the responder's own community node. Each connection resends from the
 * first stored answer when it opens (the receiver keeps the newest of each
 * responder and listing, so a repeat changes nothing), then what is stored
 * later. A bad answer is refused with REFUSED, never a closed connection.
 */
#include "daemon.h"
#include "tb_http.h"
#include "tb_ops.h"

#include <string.h>

static void tell(struct tb_conn *c, int err, const uint8_t *log, const char *msg)
{
	struct tb_repl *r = c->repl;
	if (r->ans_told >= TB_ANS_TOLD)
		return;
	r->ans_told++;
	tb_log(c->node, TB_LOG_INFO, "%s: %s", c->addr, msg);
	tb_repl_tell(c, err, log, "%s", msg);
}

/* The poster of a listing of ours is told at once (their page's events). */
static void notify_poster(struct tb_node *n, const struct tb_answer *a)
{
	uint8_t obj[TB_LISTING_MAX];
	size_t len;
	struct tb_listing l;
	if (!n->http || tb_store_listing_get(n->store, a->listing_log, a->listing_id, obj, &len) ||
	    len <= TB_SIGLEN || tb_msg_decode_exact(obj, len - TB_SIGLEN, &tb_def_listing, &l))
		return;
	tb_http_notice(n->http, (uint32_t)l.member);
}

static void one(struct tb_conn *c, struct tb_view rec, uint64_t now)
{
	static const uint8_t zero[TB_KEY_LEN];
	struct tb_node *n = c->node;
	struct tb_answer a;
	struct tb_reject rej;
	int err = tb_answer_open(&a, rec.p, rec.len);
	if (err) {
		tell(c, err, zero,
		     err == TB_ETOOBIG ? "answer refused: over 700 bytes"
				       : "answer refused: malformed answer object");
		return;
	}
	if (memcmp(a.listing_log, n->self, TB_KEY_LEN)) {
		tell(c, TB_EINVAL, a.from_log,
		     "answer refused: its listing is not of this node's community");
		return;
	}
	if (memcmp(a.from_log, c->remote_id, TB_KEY_LEN)) {
		tell(c, TB_EINVAL, a.from_log,
		     "answer refused: only the responder's own community node sends it");
		return;
	}
	err = tb_store_answer_put(n->store, rec.p, rec.len, now, &rej);
	if (err < 0) {
		tell(c, err, a.from_log, rej.msg);
		return;
	}
	if (err == 0) {
		tb_log(n, TB_LOG_INFO, "%s: answer from %.*s to a listing of ours stored", c->addr,
		       (int)a.name.len, (const char *)a.name.p);
		notify_poster(n, &a);
	}
}

int tb_ans_on_answers(struct tb_conn *c, const struct tb_answers *as)
{
	struct tb_records_iter it;
	struct tb_view rec;
	uint64_t now = tb_listing_now();
	size_t seen = 0;
	int rc;
	/* Entries of this burst first: the responder may have just joined. */
	tb_repl_flush(c);
	tb_records_begin(&it, as->records);
	while ((rc = tb_records_next(&it, &rec)) == 1 && seen++ < TB_ANS_PER_MSG)
		one(c, rec, now);
	if (rc < 0 || seen > TB_ANS_PER_MSG) {
		tb_conn_close(c, rc < 0 ? "malformed ANSWERS" : "too many answers in one message");
		return TB_EINVAL;
	}
	return 0;
}
