/*
 * vocab.c: the one JSON vocabulary of Tally (docs/API.md, "Vocabulary"),
 * shared by `tally --json` and tallyd's API: every object a program can
 * read is built here, so a field has one name and one type everywhere.
 * Amounts are whole minutes in fields ending in _minutes, limits are
 * positive amounts (debt_limit_minutes: how far below zero a member may
 * go), dates of service are "YYYY-MM-DD", moments are UTC
 * "YYYY-MM-DDTHH:MM:SSZ", ids are lower-case hex, booleans are true/false.
 */
#include "tb_json.h"
#include "tb_ops.h"
#include "tb_qr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = {
	[TB_ROLE_VIEWER] = "viewer",
	[TB_ROLE_COORDINATOR] = "coordinator",
	[TB_ROLE_ADMIN] = "admin",
};

const char *tb_role_name(int role)
{
	if (role < TB_ROLE_VIEWER || role > TB_ROLE_ADMIN)
		return "?";
	return role_names[role];
}

int tb_role_parse(const char *s)
{
	for (int r = TB_ROLE_VIEWER; r <= TB_ROLE_ADMIN; r++)
		if (!strcmp(s, role_names[r]))
			return r;
	return -1;
}

#define OBJ(...)                                                  \
	build(tb_json_object(), (const struct kv[]){__VA_ARGS__}, \
	      sizeof((const struct kv[]){__VA_ARGS__}) / sizeof(struct kv))

struct kv {
	const char *k;
	struct tb_json *v;
};

/* Sets the fields in order; on the first failure the object and every
 * value not yet set are freed, and the answer is NULL. */
static struct tb_json *build(struct tb_json *o, const struct kv *kv, size_t n)
{
	int err = o ? 0 : TB_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (err)
			tb_json_free(kv[i].v);
		else
			err = tb_json_set(o, kv[i].k, kv[i].v);
	}
	if (err) {
		tb_json_free(o);
		return NULL;
	}
	return o;
}

static struct tb_json *ceiling(uint64_t c)
{
	return c ? tb_json_int((int64_t)c) : tb_json_null();
}

struct tb_json *tb_vocab_coordinator(const struct tb_coord *c)
{
	return OBJ({"name", tb_json_string(c->name)},
		   {"role", tb_json_string(tb_role_name(c->role))},
		   {"created", tb_json_time(c->created)});
}

struct tb_json *tb_vocab_community(const uint8_t id[TB_KEY_LEN], const struct tb_community *c)
{
	return OBJ({"id", tb_json_bytes(id, TB_KEY_LEN)}, {"name", tb_json_string(c->name)},
		   {"debt_limit_minutes", tb_json_int(-c->floor)},
		   {"ceiling_minutes", ceiling(c->ceiling)}, {"members", tb_json_int(c->members)},
		   {"active_members", tb_json_int(c->active)},
		   {"exchanges", tb_json_int((int64_t)c->exchanges)},
		   {"reversals", tb_json_int((int64_t)c->reversals)},
		   {"exchanged_minutes", tb_json_int((int64_t)c->minutes)});
}

struct tb_json *tb_vocab_member(const struct tb_member *m)
{
	return OBJ({"number", tb_json_int(m->no)}, {"name", tb_json_string(m->name)},
		   {"key", tb_json_bytes(m->key, TB_KEY_LEN)},
		   {"debt_limit_minutes", tb_json_int(-m->floor)},
		   {"ceiling_minutes", ceiling(m->ceiling)},
		   {"balance_minutes", tb_json_int(m->balance)},
		   {"held_minutes", tb_json_int(m->held)}, {"active", tb_json_bool(m->active)},
		   {"joined_seq", tb_json_int((int64_t)m->joined_seq)});
}

struct tb_json *tb_vocab_clearing(const struct tb_clearing *c, const char *other_name)
{
	return OBJ({"community", tb_json_bytes(c->other, TB_KEY_LEN)},
		   {"community_name", tb_json_string(other_name)},
		   {"linked", tb_json_bool(c->linked)},
		   {"limit_minutes", tb_json_int((int64_t)c->limit)},
		   {"balance_minutes", tb_json_int(c->balance)},
		   {"held_minutes", tb_json_int(c->held)},
		   {"exchanges", tb_json_int((int64_t)c->exchanges)});
}

struct tb_json *tb_vocab_link(const struct tb_clearing *c, const char *other_name,
			      const struct tb_clearing *mirror)
{
	bool their = mirror && mirror->linked;
	return OBJ({"community", tb_json_bytes(c->other, TB_KEY_LEN)},
		   {"community_name", tb_json_string(other_name)},
		   {"linked", tb_json_bool(c->linked)},
		   {"limit_minutes", tb_json_int((int64_t)c->limit)},
		   {"their_limit_minutes",
		    their ? tb_json_int((int64_t)mirror->limit) : tb_json_null()},
		   {"balance_minutes", tb_json_int(c->balance)},
		   {"mirror_minutes", mirror ? tb_json_int(mirror->balance) : tb_json_null()},
		   {"held_minutes", tb_json_int(c->held)},
		   {"exchanges", tb_json_int((int64_t)c->exchanges)});
}

struct tb_json *tb_vocab_log(const struct tb_head *h, const char *community_name, bool own)
{
	return OBJ({"log", tb_json_bytes(h->log_id, TB_KEY_LEN)},
		   {"community_name", tb_json_string(community_name)}, {"own", tb_json_bool(own)},
		   {"seq", tb_json_int((int64_t)h->seq)},
		   {"head", h->seq ? tb_json_bytes(h->hash, TB_HASHLEN) : tb_json_null()},
		   {"forked", tb_json_bool(h->flags & TB_LOG_FORKED)});
}

struct tb_json *tb_vocab_fork(const uint8_t log_id[TB_KEY_LEN], const char *community_name,
			      uint64_t seq, struct tb_view a, struct tb_view b)
{
	return OBJ({"log", tb_json_bytes(log_id, TB_KEY_LEN)},
		   {"community_name", tb_json_string(community_name)},
		   {"seq", tb_json_int((int64_t)seq)}, {"entry_a", tb_json_bytes(a.p, a.len)},
		   {"entry_b", tb_json_bytes(b.p, b.len)});
}

struct tb_json *tb_vocab_checkpoint(const struct tb_checkpoint *cp, const char *community_name)
{
	return OBJ({"log", tb_json_bytes(cp->log_id, TB_KEY_LEN)},
		   {"community_name", tb_json_string(community_name)},
		   {"size", tb_json_int((int64_t)cp->size)},
		   {"root", tb_json_bytes(cp->root, TB_HASHLEN)},
		   {"time", tb_json_time(cp->timestamp)});
}

struct tb_json *tb_vocab_cross(const struct tb_op_xview *v)
{
	char payer[2 * TB_NAME_MAX + 2], payee[2 * TB_NAME_MAX + 2];
	snprintf(payer, sizeof payer, "%s@%s", v->from, v->from_c);
	snprintf(payee, sizeof payee, "%s@%s", v->to, v->to_c);
	const struct tb_xleg *l = &v->leg;
	struct tb_json *refusal = tb_json_null();
	if (v->has_outcome && v->outcome)
		refusal = OBJ({"code", tb_json_string(tb_errname(tb_xoutcome_err(v->outcome)))},
			      {"message", tb_json_string(tb_xoutcome_text(v->outcome))});
	return OBJ(
		{"txid", tb_json_bytes(l->txid, TB_TXID_LEN)}, {"state", tb_json_string(v->state)},
		{"payer", tb_json_string(payer)}, {"payee", tb_json_string(payee)},
		{"payer_community", tb_json_bytes(l->payer, TB_KEY_LEN)},
		{"payee_community", tb_json_bytes(l->provider, TB_KEY_LEN)},
		{"minutes", tb_json_int((int64_t)l->minutes)},
		{"expires", tb_json_time(l->expires)},
		{"prepare_seq",
		 l->prepare_seq ? tb_json_int((int64_t)l->prepare_seq) : tb_json_null()},
		{"decide_seq",
		 l->decide_seq ? tb_json_int((int64_t)l->decide_seq) : tb_json_null()},
		{"final_seq", l->final_seq ? tb_json_int((int64_t)l->final_seq) : tb_json_null()},
		{"refusal", refusal});
}

struct tb_json *tb_vocab_peer(const struct tb_vocab_peer_in *p, struct tb_json *logs)
{
	return OBJ({"address", tb_json_string(p->addr)},
		   {"id", p->id ? tb_json_bytes(p->id, TB_KEY_LEN) : tb_json_null()},
		   {"community_name",
		    p->name && p->name[0] ? tb_json_string(p->name) : tb_json_null()},
		   {"connected", tb_json_bool(p->connected)},
		   {"outbound", tb_json_bool(p->outbound)},
		   {"last_contact", tb_json_time(p->last_contact)},
		   {"bytes_in", tb_json_int(p->connected ? (int64_t)p->bytes_in : 0)},
		   {"bytes_out", tb_json_int(p->connected ? (int64_t)p->bytes_out : 0)},
		   {"logs", logs});
}

struct tb_json *tb_vocab_peer_log(const uint8_t log_id[TB_KEY_LEN], const char *community_name,
				  uint64_t peer_seq, uint64_t our_seq)
{
	return OBJ({"log", tb_json_bytes(log_id, TB_KEY_LEN)},
		   {"community_name",
		    community_name ? tb_json_string(community_name) : tb_json_null()},
		   {"peer_seq", tb_json_int((int64_t)peer_seq)},
		   {"our_seq", tb_json_int((int64_t)our_seq)},
		   {"lag", tb_json_int((int64_t)our_seq - (int64_t)peer_seq)});
}

struct tb_json *tb_vocab_known_community(const uint8_t id[TB_KEY_LEN], const char *name,
					 const char *status, bool held, const char *admitted_by)
{
	return OBJ({"community", tb_json_bytes(id, TB_KEY_LEN)},
		   {"community_name", tb_json_string(name)}, {"status", tb_json_string(status)},
		   {"held", tb_json_bool(held)},
		   {"admitted_by", admitted_by ? tb_json_string(admitted_by) : tb_json_null()});
}

struct tb_json *tb_vocab_admitted(const uint8_t id[TB_KEY_LEN], const char *name,
				  const char *status, uint64_t seq)
{
	return OBJ({"community", tb_json_bytes(id, TB_KEY_LEN)},
		   {"community_name", tb_json_string(name)}, {"status", tb_json_string(status)},
		   {"seq", tb_json_int((int64_t)seq)});
}

struct tb_json *tb_vocab_violation(const struct tb_reject *r, uint64_t item)
{
	return OBJ({"log", tb_json_bytes(r->log_id, TB_KEY_LEN)},
		   {"seq", tb_json_int((int64_t)r->seq)}, {"item", tb_json_int((int64_t)item)},
		   {"code", tb_json_string(tb_errname(r->err))},
		   {"message", tb_json_string(r->msg)});
}

/* The counts of an audit (FORMAT.md 11.1), named as the API names them. */
struct tb_json *tb_vocab_audit_summary(const struct tb_audit_summary *s)
{
	return OBJ({"logs", tb_json_int((int64_t)s->logs)},
		   {"entries", tb_json_int((int64_t)s->entries)},
		   {"members", tb_json_int((int64_t)s->members)},
		   {"exchanges", tb_json_int((int64_t)s->exchanges)},
		   {"reversals", tb_json_int((int64_t)s->reversals)},
		   {"minutes", tb_json_int((int64_t)s->minutes)},
		   {"forks", tb_json_int((int64_t)s->forks)},
		   {"checkpoints", tb_json_int((int64_t)s->checkpoints)},
		   {"violations", tb_json_int((int64_t)s->violations)},
		   {"legs_unmatched", tb_json_int((int64_t)s->legs_unmatched)},
		   {"legs_in_flight", tb_json_int((int64_t)s->legs_in_flight)},
		   {"succeeded", tb_json_int((int64_t)s->succeeded)});
}

static const char *kept_name(int kept_held)
{
	return kept_held > 0 ? "held" : kept_held == 0 ? "dropped" : "unknown";
}

struct tb_json *tb_vocab_successions(const struct tb_audit_summary *s)
{
	struct tb_json *arr = tb_json_array();
	size_t n = s->succeeded < TB_AUDIT_STORIES ? (size_t)s->succeeded : TB_AUDIT_STORIES;
	for (size_t i = 0; arr && i < n; i++) {
		const struct tb_audit_story *st = &s->stories[i];
		struct tb_json *o = OBJ({"old_log", tb_json_bytes(st->s.old_log, TB_KEY_LEN)},
					{"fork_seq", tb_json_int((int64_t)st->s.fork_seq)},
					{"new_log", tb_json_bytes(st->s.new_log, TB_KEY_LEN)},
					{"kept_seq", tb_json_int((int64_t)st->s.kept_seq)},
					{"kept", tb_json_string(kept_name(st->kept_held))});
		if (tb_json_push(arr, o)) {
			tb_json_free(arr);
			return NULL;
		}
	}
	return arr;
}

struct tb_json *tb_vocab_verify(const struct tb_verify_report *r)
{
	struct tb_json *sum = OBJ({"logs", tb_json_int((int64_t)r->logs)},
				  {"entries", tb_json_int((int64_t)r->entries)},
				  {"legs_unmatched", tb_json_int((int64_t)r->legs_unmatched)},
				  {"legs_in_flight", tb_json_int((int64_t)r->legs_in_flight)},
				  {"succeeded", tb_json_int((int64_t)r->succeeded)});
	if (!r->err)
		return OBJ({"clean", tb_json_bool(true)}, {"summary", sum});
	return OBJ({"clean", tb_json_bool(false)}, {"summary", sum},
		   {"violation", tb_vocab_violation(&r->where, r->item)});
}

struct tb_json *tb_vocab_txid_seq(const uint8_t txid[TB_TXID_LEN], uint64_t seq)
{
	return OBJ({"txid", tb_json_bytes(txid, TB_TXID_LEN)}, {"seq", tb_json_int((int64_t)seq)});
}

struct tb_json *tb_vocab_proposed(const uint8_t txid[TB_TXID_LEN])
{
	return OBJ({"txid", tb_json_bytes(txid, TB_TXID_LEN)}, {"pending", tb_json_bool(true)});
}

struct tb_json *tb_vocab_rejected(const uint8_t txid[TB_TXID_LEN])
{
	return OBJ({"txid", tb_json_bytes(txid, TB_TXID_LEN)}, {"rejected", tb_json_bool(true)});
}

struct tb_json *tb_vocab_link_added(const uint8_t id[TB_KEY_LEN], const char *name, int64_t limit,
				    uint64_t seq)
{
	return OBJ({"community", tb_json_bytes(id, TB_KEY_LEN)},
		   {"community_name", tb_json_string(name)}, {"limit_minutes", tb_json_int(limit)},
		   {"seq", tb_json_int((int64_t)seq)});
}

struct tb_json *tb_vocab_member_change(uint64_t seq, const struct tb_member *m)
{
	return OBJ({"seq", tb_json_int((int64_t)seq)}, {"member", tb_vocab_member(m)});
}

struct tb_json *tb_vocab_error(const char *code, const char *message)
{
	struct tb_json *e =
		OBJ({"code", tb_json_string(code)}, {"message", tb_json_string(message)});
	return e ? OBJ({"error", e}) : NULL;
}

bool tb_json_qr_set(struct tb_json *o, const char *text)
{
	size_t len;
	int err;
	char *svg = tb_qr_svg(text, &len, &err);
	struct tb_json *v = svg ? tb_json_stringn(svg, len) : NULL;
	free(svg);
	if (v)
		tb_json_set(o, "qr_svg", v);
	return v != NULL;
}
