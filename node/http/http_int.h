/*
 * http_int.h: what the HTTP server's files share and nobody else sees: the
 * server struct, the route table, sessions and login throttles, static
 * files, and the API's route lists.
 */
#ifndef TB_HTTP_INT_H
#define TB_HTTP_INT_H

#include "tb_http.h"
#include "tb_xroute.h"

/* Limits (docs/API.md, "Limits"). */
#define TB_HTTP_BODY_MAX (64u << 10) /* request body */
#define TB_HTTP_CONN_MEM (16u << 10) /* per connection: headers and buffers */
#define TB_HTTP_CONNS_MAX 256	     /* connections; the oldest idle go first */
#define TB_HTTP_HEADER_MS 10000	     /* to send a request's headers */
#define TB_HTTP_BODY_MS 30000	     /* to send its body */
#define TB_HTTP_IDLE_MS 30000	     /* keep-alive between requests */
/* A group commit with fewer changes than the last one waits for the rest
 * of the clients' requests half as long as the last commit took, at most
 * this long (server.c, gather). */
#define TB_HTTP_GATHER_MS 4
/* The import map of web/member.html (sodium.js needs it), allowed by its
 * SHA-256 in the Content-Security-Policy: change both together. */
#define TB_IMPORTMAP_HASH "'sha256-ZFj/KAqXAiZea3wrM/ks2tzRSjZNzG6n5OpZygdcRKQ='"
#define TB_SESSIONS_MAX 256
#define TB_SESSIONS_PER_PRINCIPAL 4   /* one coordinator's or member's */
#define TB_SESSION_IDLE_S (30 * 60)   /* a session unused this long ends */
#define TB_SESSION_LIFE_S (12 * 3600) /* and every session after this */
#define TB_THROTTLE_MAX 1024	      /* entries of each login-throttle table */
#define TB_THROTTLE_FREE 3	      /* failures before logins are slowed */
#define TB_THROTTLE_CAP_S (15 * 60)   /* the longest wait */
#define TB_CHALLENGES_MAX 256	      /* members' sign-in challenges outstanding */
#define TB_CHALLENGES_PER_CLIENT 8    /* of them from one client address */
#define TB_CHALLENGE_MS 120000	      /* a challenge must be answered within */

struct tb_session {
	uint8_t token_hash[32]; /* SHA-256 of the cookie's token */
	char csrf[65];
	struct tb_principal who;
	uint64_t created, used; /* unix seconds */
	uint64_t touched;	/* the server's count of session uses when last used */
	bool live;
};

/* What a failure is counted against: each kind has its own table of client
 * addresses (session.c). */
enum tb_throttle_kind {
	TB_THROTTLE_LOGIN,  /* coordinators' passwords (also counted by name) */
	TB_THROTTLE_SIGNIN, /* members' signed sign-ins */
	TB_THROTTLE_INVITE, /* invitations' tokens */
	TB_THROTTLE_DEVICE, /* device links' tokens */
	TB_THROTTLE_KINDS
};

struct tb_throttle {
	char key[TB_NAME_MAX + 1];
	uint32_t failures;
	uint64_t until; /* ms: no login attempt before */
	uint64_t last;	/* ms */
};

/* A member's sign-in challenge (api_member_signin.c): single use. */
struct tb_challenge {
	uint8_t value[TB_HASHLEN];
	uint32_t member;
	uint8_t key[TB_KEY_LEN]; /* the member's key when it was asked */
	char client[64];
	uint64_t expires; /* ms */
	bool live;
};

struct tb_tracked; /* a connection (server.c) */

#define TB_STREAMS_MAX 64
#define TB_STREAMS_PER_PRINCIPAL 6 /* one coordinator's or member's; a 7th ends the oldest */
#define TB_STREAMS_MEMBERS_MAX 48  /* all members' together: 16 stay for coordinators */
#define TB_STREAM_BUF 8192	   /* bytes queued to one stream; past it, it is closed */
#define TB_STREAM_KEEPALIVE_MS 15000

/* A live event stream (events.c). */
struct tb_stream {
	struct tb_stream *next;
	struct tb_http *h;
	void *conn;
	char buf[TB_STREAM_BUF];
	size_t len;
	bool suspended;
	bool overflow;		    /* too slow a reader: ended */
	bool ending;		    /* replaced by a newer stream of its principal: being closed */
	uint32_t member;	    /* a member's stream (their number), 0 for a coordinator's */
	char name[TB_NAME_MAX + 1]; /* the coordinator's name (member 0) */
};

struct req_state;
struct tb_http {
	struct tb_http_host host;
	struct tb_http_conf conf;
	char web_real[4096]; /* realpath of the web root */
	void *daemon;	     /* the library's daemon */
	uv_poll_t poll;
	uv_timer_t timer; /* the library's timeouts */
	uv_timer_t sweep; /* our deadlines */
	int handles;
	bool stopping;
	bool woken; /* a stream was resumed while MHD_run ran (run() must run again) */
	struct tb_route routes[TB_HTTP_ROUTES_MAX];
	size_t nroutes;
	struct tb_session sessions[TB_SESSIONS_MAX];
	uint64_t session_life_s, session_idle_s;
	uint64_t session_uses;			     /* orders sessions by last use (session.c) */
	struct tb_throttle by_name[TB_THROTTLE_MAX]; /* coordinators' logins */
	struct tb_throttle by_addr[TB_THROTTLE_KINDS][TB_THROTTLE_MAX];
	struct tb_challenge challenges[TB_CHALLENGES_MAX];
	struct tb_tracked *conns;
	size_t nconns;
	struct tb_stream *streams;
	size_t nstreams;
	uv_timer_t keepalive;
	uint64_t events_seq;  /* announcements so far */
	uint64_t requests[6]; /* answered, by status class (1xx..5xx; [0] other) */
	char *audit_last;     /* the last audit's answer (api_audit.c), or NULL */
	size_t audit_len;
	/* Answers waiting for this turn's group commit (server.c), how many,
	 * the last group's size, and the wait for the rest of one. */
	struct req_state *held;
	size_t nheld, last_group;
	uint64_t last_commit_ns;
	uv_timer_t gather;
	bool gathering;
	/* TALLYD_CRASH_AT (tests only): "group-committed" exits right after a
	 * group commit, before its answers go out. */
	const char *crash_at;
	struct tb_xgraph *xgraph; /* the trust-line graph (api_routes.c), made on first use */
};

/* server.c: listening (after the routes are in). */
int tb_http_listen(struct tb_http *h, char *why, size_t cap);

/* request.c: a request's cookie (NULL if it has none). Percent-decodes s
 * (len bytes) into out; TB_EINVAL on a bad escape or a NUL, TB_ETOOLONG
 * when it does not fit. */
const char *tb_http_cookie(const struct tb_http_req *req, const char *name);
int tb_http_unescape(const char *s, size_t len, char *out, size_t cap);

/* router.c: finds the route, checks session, role and CSRF token, runs the
 * handler, logs state changes. */
void tb_http_dispatch(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp);

/* reply.c: the server's log and clock (the answers are in tb_http.h). */
void tb_http_log(struct tb_http *h, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint64_t tb_http_now_ms(struct tb_http *h);

/* session.c */
/* The session of a request's cookie, or NULL (expired ones are ended). */
struct tb_session *tb_session_find(struct tb_http *h, const char *cookie_token);
/* Starts a session; writes the cookie's token (64 hex digits). */
struct tb_session *tb_session_new(struct tb_http *h, const struct tb_principal *who,
				  char token[65]);
void tb_session_end(struct tb_session *s);
/* Ends every coordinator's session of a name (the coordinator was removed). */
void tb_session_end_name(struct tb_http *h, const char *name);
/* Throttling of a kind of attempt from addr (and, for TB_THROTTLE_LOGIN, for
 * the name; NULL for none): 0 if it may go on, else the seconds to wait. A
 * failure counts in that kind's tables only; a success clears them. */
uint64_t tb_throttle_wait(struct tb_http *h, enum tb_throttle_kind kind, const char *name,
			  const char *addr);
void tb_throttle_failed(struct tb_http *h, enum tb_throttle_kind kind, const char *name,
			const char *addr);
void tb_throttle_passed(struct tb_http *h, enum tb_throttle_kind kind, const char *name,
			const char *addr);

/* static.c: GET and HEAD of the console's files. */
void tb_http_static(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp);

/* events.c: event streams. tb_stream_push queues text to every stream.
 * server.c's part: start a stream's response, wake a suspended one, take
 * its queued bytes for the library, and unlink it when it closes. */
int tb_api_events_routes(struct tb_http *h);
void tb_stream_push(struct tb_http *h, const char *text, size_t len);
/* ... to the streams of one member only. */
void tb_stream_push_member(struct tb_http *h, uint32_t member, const char *text, size_t len);
void tb_stream_wake(struct tb_stream *st);
/* A stream's response for its connection (server.c); 0 or an error. */
int tb_stream_respond(struct tb_http *h, struct tb_http_req *req, struct tb_stream *st);
/* Called by the library's content reader: the bytes to send now (0: none,
 * the connection is suspended until tb_stream_wake). */
size_t tb_stream_take(struct tb_stream *st, char *out, size_t max);
void tb_stream_closed(struct tb_stream *st);

/* api_*.c: the API's routes. */
int tb_api_session_routes(struct tb_http *h);
int tb_api_read_routes(struct tb_http *h);
int tb_api_write_routes(struct tb_http *h);
int tb_api_ledger_routes(struct tb_http *h);
int tb_api_report_routes(struct tb_http *h);
int tb_api_category_routes(struct tb_http *h);
int tb_api_fed_routes(struct tb_http *h);
int tb_api_audit_routes(struct tb_http *h);
int tb_api_xroute_routes(struct tb_http *h);
int tb_api_member_signin_routes(struct tb_http *h);
int tb_api_member_invite_routes(struct tb_http *h);
int tb_api_member_keys_routes(struct tb_http *h);

/* api_member_invite.c: the link to a page of the members' pages,
 * SCHEME://HOST/member.html#/PAGE/ARG, with the request's Host (https
 * behind a local TLS proxy). */
void tb_api_member_link(const struct tb_http_req *req, const char *page, const char *arg, char *out,
			size_t cap);
/* True (and resp answered 429 ETHROTTLED) when the client must wait before
 * it tries another token of a kind ("invitations", "device links"). */
bool tb_api_throttled(struct tb_http *h, enum tb_throttle_kind kind, struct tb_http_req *req,
		      struct tb_http_resp *resp, const char *what);

/* api_session.c: a session's answer (POST/GET /api/v1/session, sign-in),
 * and the cookie of a new session's token. */
struct tb_json *tb_api_session_json(const struct tb_http *h, const struct tb_session *s);
/* The own community as {"id": hex, "name": "Riverside"}. */
/* api_write.c: a transaction id (32 hex digits) from the path's first
 * segment, else answered (404 ENOTX). */
bool tb_api_txid_param(struct tb_http_req *req, struct tb_http_resp *resp,
		       uint8_t txid[TB_TXID_LEN]);
/* The ledger operations on the node's store, community and key. */
struct tb_ops tb_api_ops(const struct tb_http *h);
struct tb_json *tb_api_community_json(const struct tb_http *h);
void tb_api_session_cookie(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp,
			   const char *token);
/* True (and resp answered 403) when a session cookie would go over plain
 * HTTP to another machine without --http-insecure (a login or sign-in, and
 * a join, whose sign-in would be refused after the invitation was spent). */
bool tb_api_plain_http_refused(struct tb_http *h, struct tb_http_req *req,
			       struct tb_http_resp *resp);
int tb_api_listing_routes(struct tb_http *h);
/* api_listings.c: a listings search's "community" (a name or id) and
 * "member" (a name of that community) query arguments into q, log holding
 * the community's id (the own one when none is named); false when answered
 * (400 or 404). Shared by the coordinators' and the members' searches. */
bool tb_api_listing_where(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp,
			  struct tb_listing_query *q, uint8_t log[TB_KEY_LEN]);
/* api_listings.c: a listing id (32 hex digits) from the path's segment i,
 * else answered (404); the own community's listing id answered with status
 * as the vocabulary shows it. Shared with the members' routes. */
bool tb_api_listing_id(struct tb_http_req *req, struct tb_http_resp *resp, size_t i,
		       uint8_t id[TB_LISTING_ID_LEN]);
void tb_api_listing_answer(struct tb_http *h, struct tb_http_resp *resp, int status,
			   const uint8_t id[TB_LISTING_ID_LEN]);
/* api_member_x.c (members' own proposals; with api_member_xpay.c's). */
int tb_api_member_x_routes(struct tb_http *h);
int tb_api_member_xpay_routes(struct tb_http *h);
/* api_notify.c: members' notices and digest choice. */
int tb_api_notify_routes(struct tb_http *h);
/* api_member_x.c: the session's member into m, else answered (403 for a
 * session that is not a member's); a body's hex argument `what` of exactly
 * len bytes into out, else answered (400 EINVAL). */
bool tb_api_me(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp,
	       struct tb_member *m);
bool tb_api_hex_arg(struct tb_http_resp *resp, const char *hex, uint8_t *out, size_t len,
		    const char *what);
/* api_member_listings.c (members' own listings, signed in their browser). */
int tb_api_member_listing_routes(struct tb_http *h);
/* api_member_answers.c (answers to listings, signed in the browser). */
int tb_api_member_answer_routes(struct tb_http *h);

#endif
