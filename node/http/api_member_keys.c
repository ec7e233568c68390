/*
 * api_member_keys.c: a member's encrypted key file kept at the node for
 * their other devices (docs/API.md, "Key file for other devices"; FORMAT.md
 * 8.4), and the one-time device links that hand it out.
 *
 * The member's browser sends the key file exactly as it made it (FORMAT.md
 * 9, sealed with the passphrase): the node checks its layout and that its
 * clear public key is the member's, keeps it (store/devices.c), and never
 * gives it back to a session: the file allows guessing the passphrase
 * offline, so it leaves the node only for a device link's token, made by
 * the member's signed-in device or a coordinator, valid for minutes and
 * once. Unknown, used and expired tokens get one answer and are slowed per
 * address like invitations. Never the passphrase, never the secret key.
 */
#include "http_int.h"
#include "tb_bodies.h"
#include "tb_crypto.h"

#include <string.h>
#include <time.h>

#define DEVLINK_VALID_S TB_DEVLINK_VALID_S

static struct tb_json *kept_json(struct tb_http *h, uint32_t member, int *err)
{
	uint64_t stored = 0;
	*err = tb_store_keyfile_get(h->host.store, member, NULL, &stored);
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "stored", tb_json_bool(!*err));
	if (!*err)
		tb_json_set(o, "stored_at", tb_json_time(stored));
	if (*err == TB_ENOTFOUND)
		*err = 0;
	return o;
}

/* Whether a key file is kept, and since when (never the file). */
static void keyfile_status(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	if (!tb_api_me(h, req, resp, &m))
		return;
	int err;
	struct tb_json *o = kept_json(h, m.no, &err);
	if (err) {
		tb_json_free(o);
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_http_json(resp, 200, o);
}

static void keyfile_put(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	struct tb_body_keyfile b;
	char msg[TB_JSON_MSG_MAX];
	uint8_t file[TB_KEYFILE_LEN];
	struct tb_pubkey pk;
	if (!tb_api_me(h, req, resp, &m))
		return;
	if (tb_body_keyfile(req->body, req->body_len, &b, msg) ||
	    strlen(b.key_file) != 2 * TB_KEYFILE_LEN ||
	    tb_hex_decode(file, sizeof file, b.key_file)) {
		tb_http_error(resp, 400, "EINVAL", "%s",
			      msg[0] ? msg : "'key_file' must be a key file of 140 bytes in hex");
		return;
	}
	if (tb_keyfile_pubkey(&pk, file, sizeof file)) {
		tb_http_error(resp, 400, "EKEYFILE",
			      "this is not a Tally key file (FORMAT.md 9): nothing was kept");
		return;
	}
	if (memcmp(pk.b, m.key, TB_KEY_LEN)) {
		tb_http_error(resp, 400, "EKEYFILE",
			      "this key file holds another key than %s's: nothing was kept",
			      m.name);
		return;
	}
	int err =
		tb_store_keyfile_put(h->host.store, m.no, file, sizeof file, (uint64_t)time(NULL));
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_http_log(h, 2, "http: %s keeps their key file at the node", m.name);
	struct tb_json *o = kept_json(h, m.no, &err);
	tb_http_json(resp, 201, o);
}

static void keyfile_del(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	if (!tb_api_me(h, req, resp, &m))
		return;
	int err = tb_store_keyfile_del(h->host.store, m.no);
	if (err == TB_ENOTFOUND) {
		tb_http_error(resp, 404, "ENOTFOUND", "no key file of yours is kept here");
		return;
	}
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_http_log(h, 2, "http: %s deleted their key file kept at the node", m.name);
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "stored", tb_json_bool(false));
	tb_http_json(resp, 200, o);
}

/* A device link for member m, answered 201 with its QR code. */
static void devlink_new(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp,
			const struct tb_member *m)
{
	int err = tb_store_keyfile_get(h->host.store, m->no, NULL, NULL);
	if (err == TB_ENOTFOUND) {
		tb_http_error(resp, 409, "ENOTFOUND",
			      "no key file of %s is kept here: keep it first, from a signed-in "
			      "device",
			      m->name);
		return;
	}
	uint8_t raw[32], hash[TB_HASHLEN];
	char token[65], link[400];
	tb_random(raw, sizeof raw);
	tb_sha256(hash, raw, sizeof raw);
	uint64_t now = (uint64_t)time(NULL);
	if (!err)
		err = tb_store_devlink_put(h->host.store, hash, m->no, now + DEVLINK_VALID_S, now);
	if (err == TB_EFULL) {
		tb_http_error(resp, 409, "EFULL",
			      "%d device links of %s wait (or %d in all): use them or wait %d "
			      "minutes",
			      TB_DEVLINKS_PER_MEMBER, m->name, TB_DEVLINKS_MAX,
			      DEVLINK_VALID_S / 60);
	} else if (err) {
		tb_http_fail(resp, err, NULL);
	} else {
		tb_hex_encode(token, raw, sizeof raw);
		tb_api_member_link(req, "device", token, link, sizeof link);
		struct tb_json *o = tb_json_object();
		tb_json_set(o, "member", tb_json_string(m->name));
		tb_json_set(o, "token", tb_json_string(token));
		tb_json_set(o, "link", tb_json_string(link));
		tb_json_set(o, "expires", tb_json_time(now + DEVLINK_VALID_S));
		if (!tb_json_qr_set(o, link))
			tb_http_log(h, 1, "http: no QR code for a device link of %s", m->name);
		tb_http_log(h, 2, "http: %s made a device link for %s",
			    req->who.name[0] ? req->who.name : m->name, m->name);
		tb_http_json(resp, 201, o);
		tb_wipe(token, sizeof token);
		tb_wipe(link, sizeof link);
	}
	tb_wipe(raw, sizeof raw);
}

static void my_devlink(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	if (tb_api_me(h, req, resp, &m))
		devlink_new(h, req, resp, &m);
}

/* A coordinator makes one for a member who has no signed-in device. */
static void member_devlink(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	int err = tb_store_member_by_name(h->host.store, h->host.self, req->params[0], &m);
	if (err == TB_ENOTFOUND || (!err && !m.active)) {
		tb_http_error(resp, 404, "ENOTFOUND", "no active member is named %s",
			      req->params[0]);
		return;
	}
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	devlink_new(h, req, resp, &m);
}

static void unknown_link(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp)
{
	tb_throttle_failed(h, TB_THROTTLE_DEVICE, NULL, req->client);
	tb_http_error(resp, 404, "ENOTFOUND",
		      "this device link is unknown, used or expired: make a new one on a device "
		      "where you are signed in");
}

/* The new device spends the link and gets the key file to open with the
 * passphrase in its browser. */
static void devlink_use(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	if (tb_api_throttled(h, TB_THROTTLE_DEVICE, req, resp, "device links"))
		return;
	/* Before the link is spent: the file and the sign-in that follows go
	 * only over HTTPS (or to this machine). */
	if (tb_api_plain_http_refused(h, req, resp))
		return;
	uint8_t raw[32], hash[TB_HASHLEN], file[TB_KEYFILE_LEN];
	uint32_t no = 0;
	if (strlen(req->params[0]) != 64 || tb_hex_decode(raw, sizeof raw, req->params[0])) {
		unknown_link(h, req, resp);
		return;
	}
	tb_sha256(hash, raw, sizeof raw);
	int err = tb_store_devlink_take(h->host.store, hash, (uint64_t)time(NULL), &no);
	if (err == TB_ENOTFOUND) {
		unknown_link(h, req, resp);
		return;
	}
	struct tb_member m;
	struct tb_pubkey pk;
	if (!err)
		err = tb_store_member(h->host.store, h->host.self, no, &m);
	if (!err)
		err = tb_store_keyfile_get(h->host.store, no, file, NULL);
	if (!err && (!m.active || tb_keyfile_pubkey(&pk, file, sizeof file) ||
		     memcmp(pk.b, m.key, TB_KEY_LEN)))
		err = TB_ENOTFOUND; /* left, or changed keys since it was kept */
	if (err == TB_ENOTFOUND) {
		tb_http_error(resp, 404, "ENOTFOUND",
			      "no key file for this member's current key is kept here any more");
		return;
	}
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_throttle_passed(h, TB_THROTTLE_DEVICE, NULL, req->client);
	char hex[2 * TB_KEYFILE_LEN + 1];
	tb_hex_encode(hex, file, sizeof file);
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "member", tb_json_string(m.name));
	tb_json_set(o, "community", tb_api_community_json(h));
	tb_json_set(o, "key_file", tb_json_string(hex));
	tb_http_log(h, 2, "http: %s's key file went to a new device at %s", m.name, req->client);
	resp->cache = "no-store";
	tb_http_json(resp, 200, o);
}

int tb_api_member_keys_routes(struct tb_http *h)
{
	const unsigned W = TB_ROUTE_WRITE | TB_ROUTE_MEMBER_ONLY, R = TB_ROUTE_MEMBER_ONLY;
	const struct tb_route r[] = {
		{"GET", "/api/v1/me/keyfile", R, 0, keyfile_status, h},
		{"POST", "/api/v1/me/keyfile", W, 0, keyfile_put, h},
		{"DELETE", "/api/v1/me/keyfile", W, 0, keyfile_del, h},
		{"POST", "/api/v1/me/device-links", W, 0, my_devlink, h},
		{"POST", "/api/v1/members/*/device-links", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR,
		 member_devlink, h},
		{"POST", "/api/v1/device/*", TB_ROUTE_PUBLIC, 0, devlink_use, h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	return err;
}
