/*
 * tb_bodies.h: the request bodies of tallyd's API (docs/API.md), each
 * defined once as a struct and a static field table (bodies.c) and decoded
 * by one function over tb_json_decode:
 * the handlers and the fuzz target call the same functions. An empty body
 * reads as {}. Passphrases and passwords are wiped by tb_body_wipe.
 */
#ifndef TB_BODIES_H
#define TB_BODIES_H

#include "tb_json.h"
#include "tb_notice_prefs.h"

#define TB_SECRET_MAX 1024

struct tb_body_login {
	char name[TB_NAME_MAX + 1];
	char password[TB_SECRET_MAX + 1];
};

struct tb_body_member {
	char name[TB_NAME_MAX + 1];
	int64_t debt_limit, ceiling; /* -1 when absent */
	char public_key[2 * TB_KEY_LEN + 1];
	char passphrase[TB_SECRET_MAX + 1];
	bool has_key, has_pass;
};

struct tb_body_exchange {
	char provider[TB_NAME_MAX + 1], receiver[TB_NAME_MAX + 1];
	int64_t minutes;
	char memo[TB_MEMO_MAX + 1];
	char category[TB_CATEGORY_MAX + 1];
	char date[11]; /* "" when absent */
	bool attest;
	char provider_passphrase[TB_SECRET_MAX + 1];
};

struct tb_body_confirm {
	char receiver_passphrase[TB_SECRET_MAX + 1];
};

struct tb_body_reverse {
	bool attest;
	char provider_passphrase[TB_SECRET_MAX + 1];
	char receiver_passphrase[TB_SECRET_MAX + 1];
};

struct tb_body_link {
	char community[2 * TB_KEY_LEN + TB_NAME_MAX + 1]; /* a name, an id or an id prefix */
	int64_t limit;
};

struct tb_body_cross {
	char from[TB_NAME_MAX + 1];
	char to[2 * TB_NAME_MAX + 2]; /* NAME@COMMUNITY */
	int64_t minutes;
	char memo[TB_MEMO_MAX + 1];
	char category[TB_CATEGORY_MAX + 1];
	char date[11]; /* "" when absent */
	bool attest;
	int64_t ttl; /* seconds; 600 when absent */
	char payer_passphrase[TB_SECRET_MAX + 1];
	bool has_pass;
};

struct tb_body_coordinator {
	char name[TB_NAME_MAX + 1];
	char role[16];
	char password[TB_SECRET_MAX + 1];
	int role_id; /* enum tb_role of role */
};

/* A change of a coordinator: "role" and/or "password" (-1 / "" when absent). */
struct tb_body_coordinator_set {
	char role[16];
	char password[TB_SECRET_MAX + 1];
	int role_id;
};

/* A member asks for a sign-in challenge: by key, or name, or both. */
struct tb_body_challenge {
	char key[2 * TB_KEY_LEN + 1];
	char member[TB_NAME_MAX + 1];
	bool has_key, has_member;
};

/* A member signs in: the challenge and the signature of the terms. */
struct tb_body_signin {
	char challenge[2 * TB_HASHLEN + 1];
	char signature[2 * TB_SIGLEN + 1];
};

/* A coordinator invites a new member. */
struct tb_body_invite {
	char name[TB_NAME_MAX + 1];
	int64_t valid_days; /* 7 when absent */
};

/* The invited member joins with the key their browser made. */
struct tb_body_join {
	char public_key[2 * TB_KEY_LEN + 1];
};

/* A member keeps their encrypted key file at the node (hex). */
struct tb_body_keyfile {
	char key_file[2 * TB_KEYFILE_LEN + 1];
};

/* A member's own exchange (docs/API.md, "Members' own exchanges"): the
 * draft's fields; with the signature made in the member's browser also what
 * the node chose in the draft (hex). */
struct tb_body_mpropose {
	char receiver[TB_NAME_MAX + 1];
	int64_t minutes;
	char memo[TB_MEMO_MAX + 1];
	char category[TB_CATEGORY_MAX + 1];
	char date[11]; /* "" when absent */
	char txid[2 * TB_TXID_LEN + 1];
	char memo_salt[2 * TB_MEMO_SALT_LEN + 1];
	char signature[2 * TB_SIGLEN + 1];
};

/* A member's own payment to another community, as above. */
struct tb_body_mpay {
	char to[2 * TB_NAME_MAX + 2]; /* NAME@COMMUNITY */
	int64_t minutes;
	char memo[TB_MEMO_MAX + 1];
	char category[TB_CATEGORY_MAX + 1];
	char date[11]; /* "" when absent */
	int64_t ttl;   /* seconds; 600 when absent (draft) */
	int64_t expires;
	char txid[2 * TB_TXID_LEN + 1];
	char memo_salt[2 * TB_MEMO_SALT_LEN + 1];
	char signature[2 * TB_SIGLEN + 1];
};

/* A signature made in a member's browser (hex). */
struct tb_body_msig {
	char signature[2 * TB_SIGLEN + 1];
};

/* 0, or TB_EINVAL with msg naming the problem. */
TB_MUST_CHECK int tb_body_login(const char *body, size_t len, struct tb_body_login *out,
				char msg[TB_JSON_MSG_MAX]);
TB_MUST_CHECK int tb_body_member(const char *body, size_t len, struct tb_body_member *out,
				 char msg[TB_JSON_MSG_MAX]);
TB_MUST_CHECK int tb_body_exchange(const char *body, size_t len, struct tb_body_exchange *out,
				   char msg[TB_JSON_MSG_MAX]);
TB_MUST_CHECK int tb_body_confirm(const char *body, size_t len, struct tb_body_confirm *out,
				  char msg[TB_JSON_MSG_MAX]);
TB_MUST_CHECK int tb_body_reverse(const char *body, size_t len, struct tb_body_reverse *out,
				  char msg[TB_JSON_MSG_MAX]);
TB_MUST_CHECK int tb_body_link(const char *body, size_t len, struct tb_body_link *out,
			       char msg[TB_JSON_MSG_MAX]);
TB_MUST_CHECK int tb_body_coordinator(const char *body, size_t len, struct tb_body_coordinator *out,
				      char msg[TB_JSON_MSG_MAX]);
TB_MUST_CHECK int tb_body_coordinator_set(const char *body, size_t len,
					  struct tb_body_coordinator_set *out,
					  char msg[TB_JSON_MSG_MAX]);
TB_MUST_CHECK int tb_body_cross(const char *body, size_t len, struct tb_body_cross *out,
				char msg[TB_JSON_MSG_MAX]);
TB_MUST_CHECK int tb_body_challenge(const char *body, size_t len, struct tb_body_challenge *out,
				    char msg[TB_JSON_MSG_MAX]);
TB_MUST_CHECK int tb_body_signin(const char *body, size_t len, struct tb_body_signin *out,
				 char msg[TB_JSON_MSG_MAX]);
TB_MUST_CHECK int tb_body_invite(const char *body, size_t len, struct tb_body_invite *out,
				 char msg[TB_JSON_MSG_MAX]);
TB_MUST_CHECK int tb_body_join(const char *body, size_t len, struct tb_body_join *out,
			       char msg[TB_JSON_MSG_MAX]);
TB_MUST_CHECK int tb_body_keyfile(const char *body, size_t len, struct tb_body_keyfile *o,
				  char msg[TB_JSON_MSG_MAX]);
/* signed: the body carries the signature and the draft's choices. */
TB_MUST_CHECK int tb_body_mpropose(const char *body, size_t len, bool is_signed,
				   struct tb_body_mpropose *out, char msg[TB_JSON_MSG_MAX]);
TB_MUST_CHECK int tb_body_mpay(const char *body, size_t len, bool is_signed,
			       struct tb_body_mpay *out, char msg[TB_JSON_MSG_MAX]);
TB_MUST_CHECK int tb_body_msig(const char *body, size_t len, struct tb_body_msig *out,
			       char msg[TB_JSON_MSG_MAX]);
/* An empty body (TB_EINVAL otherwise). */
TB_MUST_CHECK int tb_body_empty(const char *body, size_t len, char msg[TB_JSON_MSG_MAX]);

/* A member's email digest choice: "none", "daily" or "weekly", and the
 * address (checked by tb_email_check; needed unless "none"). */
struct tb_body_digest {
	char digest[8];
	char email[TB_EMAIL_MAX + 1];
};
TB_MUST_CHECK int tb_body_digest(const char *body, size_t len, struct tb_body_digest *out,
				 char msg[TB_JSON_MSG_MAX]);

/* Wipes a body struct holding secrets. */
void tb_body_wipe(void *body, size_t size);

/* "YYYY-MM-DD" into yyyymmdd (0 for ""); TB_EDATE if not a calendar date. */
TB_MUST_CHECK int tb_body_date(const char *s, uint64_t *out);

#endif
