/*
 * httpc.h: a small HTTP/1.1 client for the API tests, over plain sockets to
 * 127.0.0.1 only: one request per connection (Connection: close), the whole
 * response read with a deadline. Raw connections are also handed out, for
 * the tests that misbehave on purpose (slow headers, idle sockets, bodies
 * over the cap).
 */
#ifndef TB_HTTPC_H
#define TB_HTTPC_H

#include <stddef.h>
#include <stdint.h>

struct tb_httpc_resp {
	int status;	 /* 0 if no response came */
	char head[8192]; /* status line and headers, NUL-terminated */
	char *body;	 /* NUL-terminated, malloc'd */
	size_t len;
};

/* A session as the console holds it: the cookie and the CSRF token. */
struct tb_httpc_session {
	char cookie[160]; /* "tally_session=..." */
	char csrf[80];
};

/* Sends one request. headers: "Name: value" strings, NULL-terminated (may be
 * NULL); a session (may be NULL) adds its cookie and, unless csrf is false,
 * its X-CSRF-Token. Returns the status (0 if the connection broke first). */
int tb_httpc(uint16_t port, const char *method, const char *path, const struct tb_httpc_session *s,
	     bool csrf, const char *body, struct tb_httpc_resp *out);
/* The same from a given local source address ("127.0.0.2": another client
 * on this machine; NULL: the default). */
int tb_httpc_from(const char *src, uint16_t port, const char *method, const char *path,
		  const struct tb_httpc_session *s, bool csrf, const char *body,
		  struct tb_httpc_resp *out);
/* The same with extra headers and a body of len bytes. */
int tb_httpc_raw(uint16_t port, const char *method, const char *path, const char *const *headers,
		 const char *body, size_t len, struct tb_httpc_resp *out);
void tb_httpc_free(struct tb_httpc_resp *r);
/* The value of a response header (first one), or NULL. */
const char *tb_httpc_header(const struct tb_httpc_resp *r, const char *name, char *out, size_t cap);
/* Logs in: the status of POST /api/v1/session; fills s on 200. */
int tb_httpc_login(uint16_t port, const char *name, const char *password,
		   struct tb_httpc_session *s);
/* A connected socket to 127.0.0.1:port (from src: NULL for any), or -1. */
int tb_httpc_connect(uint16_t port);
int tb_httpc_connect_from(uint16_t port, const char *src);
/* Fails the test unless r has this HTTP status and is the API's JSON error
 * {"error":{"code":code,"message":...}}. */
void tb_httpc_assert_error(const struct tb_httpc_resp *r, int status, const char *code);
/* Reads what arrives on fd until it closes or ms pass: bytes read, -1 on
 * timeout with the connection still open. */
long tb_httpc_read_until_close(int fd, unsigned ms, char *buf, size_t cap);
/* Reads what arrives on fd into buf (cap > 0; kept NUL-terminated) until
 * `want` is in it, the peer closes, ms pass or buf is full: bytes read. */
size_t tb_httpc_read_until_seen(int fd, unsigned ms, char *buf, size_t cap, const char *want);

#endif
