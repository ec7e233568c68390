/*
 * tb_http.h: tallyd's HTTP server (docs/API.md): the JSON API under /api/v1/,
 * the console's static files, sessions of coordinators, all on the node's
 * uv loop with no thread of its own. tallyd starts it with what it needs of
 * the node (struct tb_http_host) and tells it when entries arrive; other
 * parts of the node add routes (health, metrics) with tb_http_route.
 *
 * Handlers see our own request and response structs, never the HTTP
 * library's, so they can be driven without sockets (tests, fuzzing).
 */
#ifndef TB_HTTP_H
#define TB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "tb_json.h"
#include "tb_store.h"

struct tb_http;

/* What the server uses of the node. */
struct tb_http_host {
	uv_loop_t *loop;
	struct tb_store *store;
	const struct tb_keypair *key; /* the community key, unlocked */
	const uint8_t *self;	      /* the own log id */
	const char *data;	      /* the data directory */
	void *ctx;
	/* One line for the node's log (level 0 error .. 3 debug). */
	void (*log)(void *ctx, int level, const char *line);
	/* The API appended to the store: spread it to peers now. */
	void (*changed)(void *ctx);
	/* Sends the email digests due now (an admin asked); *queued gets how
	 * many; TB_EFULL while a run is under way. NULL when the operator set
	 * no sendmail command. */
	int (*digest_run)(void *ctx, size_t *queued);
};

struct tb_http_conf {
	char host[64]; /* listen address; "" when off */
	uint16_t port;
	bool insecure;	     /* cookies over plain HTTP from any address */
	char web_root[4096]; /* the console's static files; "" for none */
};

/* Defaults (--http 127.0.0.1:7480). */
#define TB_HTTP_DEFAULT "127.0.0.1:7480"

/* Parses --http: "ADDR:PORT" or "off" (conf->host left empty). */
int tb_http_parse_addr(struct tb_http_conf *conf, const char *arg);
/* The console's default web root: DIR/../share/tally/web of the running
 * binary when present (an installed package), else the source tree's web/
 * (a build tree), else /usr/share/tally/web. */
void tb_http_default_root(char *out, size_t cap);

/* Starts listening. 0 or an error, with a sentence in why. */
int tb_http_start(struct tb_http **out, const struct tb_http_host *host,
		  const struct tb_http_conf *conf, char *why, size_t cap);
/* Closes every connection and the listener (the loop must run for the
 * handles to close), then frees the server. NULL is fine. */
void tb_http_stop(struct tb_http *h);
/* New entries are held (a log grew to seq): live updates to clients. */
void tb_http_announce(struct tb_http *h, const uint8_t log_id[TB_KEY_LEN], uint64_t seq);
/* A newer checkpoint of a log is held (signed here or kept from a peer),
 * covering size entries: live updates to clients. */
void tb_http_announce_checkpoint(struct tb_http *h, const uint8_t log_id[TB_KEY_LEN],
				 uint64_t size);

/* Something new may wait for a member (a proposal to them): a "notice"
 * event on that member's streams only. */
void tb_http_notice(struct tb_http *h, uint32_t member);

/* ---- requests, responses and routes ---- */

#define TB_HTTP_PARAMS_MAX 4
#define TB_HTTP_PARAM_MAX 200 /* bytes of one decoded path segment */

/* Who made a request: a coordinator (role set, member 0) or a member
 * signed in with their own key (member set, role 0). */
struct tb_principal {
	char name[TB_NAME_MAX + 1];
	int role;	 /* enum tb_role; 0 for a member or when not logged in */
	uint32_t member; /* the member's number in the own log; 0 for a coordinator */
	uint8_t member_key[TB_KEY_LEN]; /* the key the member signed in with */
	uint8_t pw_tag[TB_HASHLEN];	/* a coordinator's: SHA-256 of the password hash */
};

struct tb_http_req {
	struct tb_http *srv;
	void *conn; /* the library's connection (server.c only) */
	const char *method;
	const char *path;
	const char *body;
	size_t body_len;
	bool loopback; /* the client is on this machine (or a local proxy) */
	char client[64];
	char params[TB_HTTP_PARAMS_MAX][TB_HTTP_PARAM_MAX + 1]; /* '*' segments */
	size_t nparams;
	struct tb_principal who;
	struct tb_session *session; /* NULL when not logged in */
};

struct tb_http_resp {
	int status;
	char *body; /* malloc'd, owned */
	size_t len;
	const char *type;
	int fd;		   /* a static file to send (>= 0), len bytes; the server closes it */
	const char *cache; /* Cache-Control */
	char etag[48];
	char cookie[320];     /* Set-Cookie */
	char allow[32];	      /* Allow, with 405 */
	char disposition[96]; /* Content-Disposition of a download */
	int retry_after;      /* seconds, with 429 and 503 */
	bool stream;	      /* an event stream (text/event-stream) follows */
};

/* Route flags. */
enum {
	TB_ROUTE_PUBLIC = 1,	  /* no session needed */
	TB_ROUTE_WRITE = 2,	  /* changes state: CSRF token checked, request logged */
	TB_ROUTE_MEMBER = 4,	  /* members' sessions may use it too (else they get 403) */
	TB_ROUTE_MEMBER_ONLY = 8, /* only members' sessions (coordinators get 403) */
};

typedef void (*tb_http_fn)(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx);

struct tb_route {
	const char *method;  /* "GET", "POST", "DELETE" */
	const char *pattern; /* "/api/v1/members/ * /statement" ('*': one segment) */
	unsigned flags;
	int role; /* the least role allowed (enum tb_role), if not PUBLIC */
	tb_http_fn fn;
	void *ctx;
};

/* The API has about 90 routes; room for the next ones (a node with more
 * refuses to start: "too many HTTP routes"). */
#define TB_HTTP_ROUTES_MAX 128
/* Adds a route (copied; pattern and method must outlive the server). */
int tb_http_route(struct tb_http *h, const struct tb_route *r);

/* A request header or query argument (raw query values are decoded);
 * NULL if absent. */
const char *tb_http_header(const struct tb_http_req *req, const char *name);
int tb_http_query(const struct tb_http_req *req, const char *name, char *out, size_t cap);
/* A query argument that may be absent, as handlers read them: 1 and its
 * decoded value in out, 0 when absent (out untouched), or TB_EINVAL when it
 * is present but unreadable (longer than cap, a bad %-escape, a NUL),
 * having answered 400 EINVAL naming it when resp is not NULL. Never read a
 * bad argument as an absent one: a filter dropped silently widens the
 * answer. */
int tb_http_query_opt(const struct tb_http_req *req, struct tb_http_resp *resp, const char *name,
		      char *out, size_t cap);

/* Responses: a JSON value (taken), or the error shape
 * {"error":{"code","message"}}. */
void tb_http_json(struct tb_http_resp *resp, int status, struct tb_json *v);
void tb_http_error(struct tb_http_resp *resp, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The HTTP status of a TB_E* error (409 for ledger rules, 503 for storage). */
int tb_http_status_for(int err);
/* An error from a TB_E* code, with its sentence (rej's when given). */
void tb_http_fail(struct tb_http_resp *resp, int err, const struct tb_reject *rej);

/* Requests answered so far by status class: out[1] 1xx ... out[5] 5xx. */
void tb_http_requests(const struct tb_http *h, uint64_t out[6]);

/* The member a request's session is bound to (their number in the own
 * log), or 0 when the session is a coordinator's or there is none. A
 * member's session acts only as that member. */
uint32_t tb_http_member(const struct tb_http_req *req);

/* The server's host (store, key, ...) for handlers. */
const struct tb_http_host *tb_http_host(const struct tb_http *h);

#endif
