/*
 * api_member_invite.c: invitations of new members (POST /api/v1/invites by
 * a coordinator, with the link's QR code; GET /api/v1/invites, the open
 * ones, and DELETE /api/v1/invites/ID, revoking one; GET and POST
 * /api/v1/invites/TOKEN by the person invited).
 * A token is 32 random bytes, shown once in the link
 * http://HOST/member.html#/join/TOKEN; the node keeps only its SHA-256 (the
 * invitation's id) and expiry (store/invites.c). Joining records the member with the public key
 * the browser made (member_join, as `member add --pubkey`) and drops the
 * invitation, so a link works once; unknown, used and expired tokens get the
 * same answer, and failures from an address are slowed like logins (by
 * address only: a token cannot be guessed, and a count shared by all would
 * let anyone lock every invitee out).
 */
#include "http_int.h"
#include "tb_bodies.h"
#include "tb_ops.h"
#include "tb_qr.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void tb_api_member_link(const struct tb_http_req *req, const char *page, const char *arg, char *out,
			size_t cap)
{
	const char *host = tb_http_header(req, "Host");
	const char *proto = tb_http_header(req, "X-Forwarded-Proto");
	bool https = req->loopback && proto && !strcmp(proto, "https");
	bool ok = host && host[0] && strlen(host) <= 255 && !tb_text_check(host, strlen(host)) &&
		  !strpbrk(host, " /#?\"<>");
	snprintf(out, cap, "%s://%s/member.html#/%s/%s", https ? "https" : "http",
		 ok ? host : "127.0.0.1:7480", page, arg);
}

static void invite(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_invite b;
	char msg[TB_JSON_MSG_MAX];
	if (tb_body_invite(req->body, req->body_len, &b, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	struct tb_ops o = {h->host.store, h->host.self, h->host.data, h->host.key};
	char token[65], link[400];
	uint64_t expires = 0;
	struct tb_reject rej = {0};
	int err = tb_op_invite(&o, b.name, (uint64_t)b.valid_days * 86400, token, &expires, &rej);
	if (err == TB_ENAME || err == TB_EUTF8) {
		tb_http_error(resp, 409, err == TB_ENAME ? "ENAME" : "EUTF8", "%s", rej.msg);
		return;
	}
	if (err == TB_EFULL) {
		tb_http_error(resp, 409, "EFULL",
			      "%d invitations are waiting: wait for some to be used or expire",
			      TB_INVITES_MAX);
		return;
	}
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_api_member_link(req, "join", token, link, sizeof link);
	struct tb_json *j = tb_json_object();
	uint8_t raw[32], hash[TB_HASHLEN];
	char id[2 * TB_HASHLEN + 1];
	if (tb_hex_decode(raw, sizeof raw, token))
		abort(); /* tb_op_invite wrote 64 hex digits */
	tb_sha256(hash, raw, sizeof raw);
	tb_hex_encode(id, hash, sizeof hash);
	tb_json_set(j, "id", tb_json_string(id));
	tb_json_set(j, "name", tb_json_string(b.name));
	tb_json_set(j, "token", tb_json_string(token));
	tb_json_set(j, "link", tb_json_string(link));
	tb_json_set(j, "expires", tb_json_time(expires));
	if (!tb_json_qr_set(j, link))
		tb_http_log(h, 1, "http: no QR code for an invitation of %s", b.name);
	tb_wipe(raw, sizeof raw);
	tb_wipe(token, sizeof token);
	tb_wipe(link, sizeof link);
	tb_http_log(h, 2, "http: %s invited %s", req->who.name, b.name);
	tb_http_json(resp, 201, j);
}

bool tb_api_throttled(struct tb_http *h, enum tb_throttle_kind kind, struct tb_http_req *req,
		      struct tb_http_resp *resp, const char *what)
{
	uint64_t wait = tb_throttle_wait(h, kind, NULL, req->client);
	if (!wait)
		return false;
	resp->retry_after = (int)wait;
	tb_http_error(resp, 429, "ETHROTTLED",
		      "too many unknown %s from %s: try again in %llu seconds", what, req->client,
		      (unsigned long long)wait);
	return true;
}

/* The open invitations, soonest to expire first, without their tokens. */
static void open_invites(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	(void)req;
	struct tb_http *h = ctx;
	struct tb_invite_open *all = calloc(TB_INVITES_MAX, sizeof *all);
	size_t n = 0;
	int err = all ? tb_store_invite_list(h->host.store, (uint64_t)time(NULL), all,
					     TB_INVITES_MAX, &n)
		      : TB_ENOMEM;
	if (err) {
		free(all);
		tb_http_fail(resp, err, NULL);
		return;
	}
	for (size_t i = 1; i < n; i++) /* insertion sort by expiry: n <= 1,024 */
		for (size_t j = i; j > 0 && all[j].inv.expires < all[j - 1].inv.expires; j--) {
			struct tb_invite_open t = all[j];
			all[j] = all[j - 1], all[j - 1] = t;
		}
	struct tb_json *list = tb_json_array();
	for (size_t i = 0; i < n; i++) {
		char id[2 * TB_HASHLEN + 1];
		tb_hex_encode(id, all[i].hash, TB_HASHLEN);
		struct tb_json *o = tb_json_object();
		tb_json_set(o, "id", tb_json_string(id));
		tb_json_set(o, "name", tb_json_string(all[i].inv.name));
		tb_json_set(o, "expires", tb_json_time(all[i].inv.expires));
		tb_json_push(list, o);
	}
	free(all);
	struct tb_json *r = tb_json_object();
	tb_json_set(r, "invites", list);
	tb_http_json(resp, 200, r);
}

/* Revokes an open invitation by its id (the SHA-256 of its token). */
static void revoke(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	uint8_t hash[TB_HASHLEN];
	if (strlen(req->params[0]) != 2 * TB_HASHLEN ||
	    tb_hex_decode(hash, sizeof hash, req->params[0])) {
		tb_http_error(resp, 400, "EINVAL", "an invitation's id is 64 hex digits");
		return;
	}
	int err = tb_store_invite_del(h->host.store, hash);
	if (err == TB_ENOTFOUND) {
		tb_http_error(resp, 404, "ENOTFOUND", "no open invitation has this id");
		return;
	}
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_http_log(h, 2, "http: %s revoked an invitation", req->who.name);
	struct tb_json *r = tb_json_object();
	tb_json_set(r, "revoked", tb_json_string(req->params[0]));
	tb_http_json(resp, 200, r);
}

static void unknown_invitation(struct tb_http_resp *resp)
{
	tb_http_error(resp, 404, "ENOTFOUND",
		      "this invitation is unknown, used or expired: ask your coordinator for a "
		      "new one");
}

/* The invitation of the path's token, or false with resp answered; a spent
 * one only for the key that joined with it (key NULL: never). */
static bool invitation_of(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp,
			  const uint8_t *key, uint8_t hash[TB_HASHLEN], struct tb_invite *inv)
{
	if (tb_api_throttled(h, TB_THROTTLE_INVITE, req, resp, "invitations"))
		return false;
	uint8_t raw[32];
	int err = strlen(req->params[0]) == 64 ? tb_hex_decode(raw, sizeof raw, req->params[0])
					       : TB_EINVAL;
	if (!err) {
		tb_sha256(hash, raw, sizeof raw);
		err = tb_store_invite_get(h->host.store, hash, (uint64_t)time(NULL), inv);
	}
	/* Spent: only the key that joined with it may ask again (join). */
	if (!err && inv->used && (!key || memcmp(inv->key, key, TB_KEY_LEN)))
		err = TB_ENOTFOUND;
	if (err == TB_EINVAL || err == TB_ENOTFOUND) {
		tb_throttle_failed(h, TB_THROTTLE_INVITE, NULL, req->client);
		unknown_invitation(resp);
		return false;
	}
	if (err)
		tb_http_fail(resp, err, NULL);
	return !err;
}

static void invitation(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	uint8_t hash[TB_HASHLEN];
	struct tb_invite inv;
	struct tb_community c;
	if (!invitation_of(h, req, resp, NULL, hash, &inv))
		return;
	int err = tb_store_community(h->host.store, h->host.self, &c);
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "name", tb_json_string(inv.name));
	tb_json_set(o, "community", tb_json_string(c.name));
	tb_json_set(o, "expires", tb_json_time(inv.expires));
	tb_http_json(resp, 200, o);
}

static void join(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_join b;
	char msg[TB_JSON_MSG_MAX];
	uint8_t pk[TB_KEY_LEN], hash[TB_HASHLEN];
	if (tb_body_join(req->body, req->body_len, &b, msg) ||
	    tb_hex_decode(pk, sizeof pk, b.public_key)) {
		tb_http_error(resp, 400, "EINVAL", "%s",
			      msg[0] ? msg : "'public_key' must be 64 hex digits");
		return;
	}
	/* All zero would make a keyless (coordinator-attested) member, and a
	 * key that is no usable point could never sign. */
	if (!tb_pubkey_valid(pk)) {
		tb_http_error(resp, 400, "EINVAL",
			      "'public_key' is not an Ed25519 public key a member can sign with");
		return;
	}
	/* Before the invitation is spent: the new member's sign-in that follows
	 * would be refused over plain HTTP from another machine. */
	if (tb_api_plain_http_refused(h, req, resp))
		return;
	struct tb_invite inv;
	if (!invitation_of(h, req, resp, pk, hash, &inv))
		return;
	struct tb_member m;
	if (inv.used) { /* the same key again: its first answer was lost */
		int err = tb_store_member_by_name(h->host.store, h->host.self, inv.name, &m);
		if (err || !m.active || memcmp(m.key, pk, TB_KEY_LEN)) {
			unknown_invitation(resp);
			return;
		}
		tb_http_json(resp, 200, tb_vocab_member(&m));
		return;
	}
	struct tb_ops o = {h->host.store, h->host.self, h->host.data, h->host.key};
	struct tb_reject rej = {0};
	int err = tb_op_member_add(&o, inv.name, -1, -1, pk, (struct tb_op_pass){"", 0}, &m, &rej);
	if (err) {
		tb_http_fail(resp, err, &rej);
		return;
	}
	if ((err = tb_store_invite_spend(h->host.store, hash, pk, (uint64_t)time(NULL))))
		tb_http_log(h, 0, "http: %s joined but the invitation stays: %s", m.name,
			    tb_strerror(err));
	tb_throttle_passed(h, TB_THROTTLE_INVITE, NULL, req->client);
	if (h->host.changed)
		h->host.changed(h->host.ctx);
	tb_http_log(h, 2, "http: %s joined by invitation from %s", m.name, req->client);
	tb_http_json(resp, 201, tb_vocab_member(&m));
}

int tb_api_member_invite_routes(struct tb_http *h)
{
	const struct tb_route r[] = {
		{"POST", "/api/v1/invites", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR, invite, h},
		{"GET", "/api/v1/invites", 0, TB_ROLE_COORDINATOR, open_invites, h},
		{"DELETE", "/api/v1/invites/*", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR, revoke, h},
		{"GET", "/api/v1/invites/*", TB_ROUTE_PUBLIC, 0, invitation, h},
		{"POST", "/api/v1/invites/*", TB_ROUTE_PUBLIC, 0, join, h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	return err;
}
