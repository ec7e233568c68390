/*
 * server.c: the HTTP transport (with request.c, the only files that include
 * microhttpd.h).
 * libmicrohttpd runs without threads of its own (MHD_USE_EPOLL): its epoll
 * descriptor is polled by the node's uv loop and MHD_run is called when it is
 * readable or when MHD_get_timeout says so. It assembles each request (the
 * body capped; a Content-Length over the cap is answered 413 before any of
 * the body is read), hands it to the router as our own struct, and sends the
 * response back. A request that may change something (not GET or HEAD) runs
 * inside the store's group of that run of the library (tb_store_group_join)
 * and its response is held, its connection suspended, until the group is
 * committed right after the run: one durable commit for all of them, and no
 * answer before its change is on disk. It also bounds what clients can hold: every connection has
 * a deadline for its headers, its body and its idle keep-alive (slowloris),
 * and past TB_HTTP_CONNS_MAX connections the oldest idle one is cut. An event
 * stream's sending side is here too: its queued bytes are taken as the
 * library asks for them, and it is unlinked when its connection ends.
 */
#include "http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

/* A connection as we track it (MHD's socket context). */
struct tb_tracked {
	struct tb_tracked *next, *prev;
	int fd;
	uint64_t deadline; /* ms; the connection is cut after it */
	bool busy;	   /* a request is under way */
	bool cut;
};

/* One request being received (MHD's per-request context). */
struct req_state {
	char *body;
	size_t len, cap;
	bool refused; /* a response went out before the body was read */
	bool too_big; /* the body passed the cap: 413 once it ends */
	/* A change's answer held until the group commit that holds it (its
	 * connection suspended meanwhile), on the server's list of them. */
	bool holding;
	struct tb_http_resp held;
	struct MHD_Connection *conn;
	struct req_state *next;
};

static struct tb_tracked *tracked_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static void cut(struct tb_http *h, struct tb_tracked *t, const char *why)
{
	if (t->cut)
		return;
	t->cut = true;
	/* The library owns the descriptor: shutting it down makes its next read
	 * see the end, and it closes the connection itself. */
	shutdown(t->fd, SHUT_RDWR);
	tb_http_log(h, 3, "http: connection cut (%s)", why);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **sctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct tb_http *h = cls;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct tb_tracked *t = *sctx;
		if (!t)
			return;
		if (t->prev)
			t->prev->next = t->next;
		else
			h->conns = t->next;
		if (t->next)
			t->next->prev = t->prev;
		h->nconns--;
		free(t);
		*sctx = NULL;
		return;
	}
	struct tb_tracked *t = calloc(1, sizeof *t);
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!t || !ci) {
		free(t);
		if (ci)
			shutdown(ci->connect_fd, SHUT_RDWR);
		return;
	}
	t->fd = ci->connect_fd;
	t->deadline = tb_http_now_ms(h) + TB_HTTP_HEADER_MS;
	/* Newest first: the oldest idle connections are at the tail. */
	t->next = h->conns;
	if (h->conns)
		h->conns->prev = t;
	h->conns = t;
	*sctx = t;
	if (++h->nconns <= TB_HTTP_CONNS_MAX)
		return;
	struct tb_tracked *old = h->conns, *victim = NULL;
	for (; old; old = old->next)
		if (!old->busy && !old->cut && old != t)
			victim = old;
	cut(h, victim ? victim : t, "too many connections");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **rctx,
			 enum MHD_RequestTerminationCode toe)
{
	struct tb_http *h = cls;
	(void)toe;
	struct req_state *r = *rctx;
	if (r) {
		if (r->holding) { /* the client left before its answer was released */
			free(r->held.body);
			if (r->held.fd >= 0)
				close(r->held.fd);
		}
		free(r->body);
		free(r);
		*rctx = NULL;
	}
	struct tb_tracked *t = tracked_of(c);
	if (t) {
		t->busy = false;
		t->deadline = tb_http_now_ms(h) + TB_HTTP_IDLE_MS;
	}
}

static void sweep(uv_timer_t *timer)
{
	struct tb_http *h = timer->data;
	uint64_t now = tb_http_now_ms(h);
	for (struct tb_tracked *t = h->conns; t; t = t->next)
		if (t->deadline && now > t->deadline)
			cut(h, t, t->busy ? "request too slow" : "idle");
}

static void add_header(struct MHD_Response *r, const char *k, const char *v)
{
	if (v && *v)
		(void)MHD_add_response_header(r, k, v);
}

static enum MHD_Result send_resp(struct tb_http *h, struct MHD_Connection *c,
				 struct tb_http_resp *resp)
{
	struct MHD_Response *r;
	if (resp->fd >= 0) {
		r = MHD_create_response_from_fd((uint64_t)resp->len, resp->fd);
		if (!r)
			close(resp->fd);
		resp->fd = -1;
	} else {
		r = MHD_create_response_from_buffer(resp->len, resp->body, MHD_RESPMEM_MUST_FREE);
		if (r)
			resp->body = NULL;
	}
	free(resp->body);
	resp->body = NULL;
	if (!r)
		return MHD_NO;
	char num[24];
	add_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->type);
	add_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, resp->cache ? resp->cache : "no-store");
	add_header(r, MHD_HTTP_HEADER_ETAG, resp->etag);
	add_header(r, MHD_HTTP_HEADER_SET_COOKIE, resp->cookie);
	add_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
	add_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, resp->disposition);
	if (resp->retry_after > 0) {
		snprintf(num, sizeof num, "%d", resp->retry_after);
		add_header(r, MHD_HTTP_HEADER_RETRY_AFTER, num);
	}
	add_header(r, "X-Content-Type-Options", "nosniff");
	add_header(r, "X-Frame-Options", "DENY");
	add_header(r, "Referrer-Policy", "same-origin");
	add_header(r, "Content-Security-Policy",
		   "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' " TB_IMPORTMAP_HASH
		   "; img-src 'self' data:; frame-ancestors 'none'; "
		   "base-uri 'none'; form-action 'self'");
	struct tb_tracked *t = tracked_of(c);
	if (t)
		t->deadline = tb_http_now_ms(h) + TB_HTTP_BODY_MS + TB_HTTP_IDLE_MS;
	enum MHD_Result ok = MHD_queue_response(c, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result refuse(struct tb_http *h, struct MHD_Connection *c, struct req_state *r,
			      int status, const char *code, const char *msg)
{
	struct tb_http_resp resp = {.fd = -1};
	r->refused = true;
	free(r->body);
	r->body = NULL;
	r->len = r->cap = 0;
	tb_http_error(&resp, status, code, "%s", msg);
	return send_resp(h, c, &resp);
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a))
			return true;
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	return false;
}

/* Behind a proxy on this machine every client comes from loopback: the
 * client's own address is the last of X-Forwarded-For, the one the proxy
 * added (what came before it the client may have written). Only from
 * loopback, and only an address that parses, replaces the socket's. */
static void forwarded_for(struct MHD_Connection *c, struct tb_http_req *req)
{
	const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
	if (!xff)
		return;
	const char *last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	last += strspn(last, " \t");
	size_t n = strcspn(last, " \t");
	char addr[64];
	unsigned char bin[sizeof(struct in6_addr)];
	if (n == 0 || n >= sizeof addr)
		return;
	memcpy(addr, last, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, bin) == 1 || inet_pton(AF_INET6, addr, bin) == 1)
		snprintf(req->client, sizeof req->client, "%s", addr);
}

static void client_of(struct MHD_Connection *c, struct tb_http_req *req)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	req->loopback = is_loopback(sa);
	snprintf(req->client, sizeof req->client, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->client,
			  sizeof req->client);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->client,
			  sizeof req->client);
	if (req->loopback)
		forwarded_for(c, req);
}

/* The first call for a request: its headers are in. */
static enum MHD_Result begin(struct tb_http *h, struct MHD_Connection *c, void **rctx)
{
	struct req_state *r = calloc(1, sizeof *r);
	if (!r)
		return MHD_NO;
	*rctx = r;
	struct tb_tracked *t = tracked_of(c);
	if (t) {
		t->busy = true;
		t->deadline = tb_http_now_ms(h) + TB_HTTP_BODY_MS;
	}
	const char *cl =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(cl, &end, 10);
		if (errno || end == cl || *end || n > TB_HTTP_BODY_MAX) {
			char msg[96];
			snprintf(msg, sizeof msg, "the request body is over %u bytes",
				 TB_HTTP_BODY_MAX);
			return refuse(h, c, r, 413, "ETOOBIG", msg);
		}
	}
	return MHD_YES;
}

static enum MHD_Result take_body(struct req_state *r, const char *data, size_t *size)
{
	size_t n = *size;
	*size = 0;
	if (r->refused)
		return MHD_YES;
	if (r->too_big || n > TB_HTTP_BODY_MAX - r->len) {
		/* The library answers only once the body ended: what comes past
		 * the cap is dropped (the body deadline bounds how long). */
		r->too_big = true;
		free(r->body);
		r->body = NULL;
		r->len = r->cap = 0;
		return MHD_YES;
	}
	if (r->len + n > r->cap) {
		size_t cap = r->cap ? r->cap : 1024;
		while (cap < r->len + n)
			cap *= 2;
		char *b = realloc(r->body, cap + 1);
		if (!b) {
			r->too_big = true;
			return MHD_YES;
		}
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	return MHD_YES;
}

/* Whether a request's body says it is JSON. A form on another site can
 * post text/plain or form data without asking first, never JSON: so no
 * endpoint, not even the public ones (login, sign-in, join), takes a body
 * a browser sent across sites without the node's consent. */
static bool json_body(struct MHD_Connection *c)
{
	static const char want[] = "application/json";
	const char *ct =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!ct)
		return false;
	ct += strspn(ct, " \t");
	if (strncasecmp(ct, want, sizeof want - 1))
		return false;
	ct += sizeof want - 1;
	ct += strspn(ct, " \t");
	return *ct == '\0' || *ct == ';';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **rctx)
{
	struct tb_http *h = cls;
	(void)version;
	if (!*rctx)
		return begin(h, c, rctx);
	struct req_state *r = *rctx;
	if (r->holding) { /* resumed: its group is committed (or failed) */
		r->holding = false;
		return send_resp(h, c, &r->held);
	}
	if (*upload_size)
		return take_body(r, upload, upload_size);
	if (r->refused)
		return MHD_YES;
	if (r->too_big) {
		char msg[96];
		snprintf(msg, sizeof msg, "the request body is over %u bytes", TB_HTTP_BODY_MAX);
		return refuse(h, c, r, 413, "ETOOBIG", msg);
	}
	if (r->len && !json_body(c))
		return refuse(h, c, r, 415, "EMEDIA",
			      "a request body must be JSON, sent with Content-Type: "
			      "application/json");
	struct tb_http_req req = {.srv = h,
				  .conn = c,
				  .method = method,
				  .path = url,
				  .body = r->body ? r->body : "",
				  .body_len = r->len};
	if (r->body)
		r->body[r->len] = '\0';
	client_of(c, &req);
	struct tb_http_resp resp = {.fd = -1};
	/* A request that may change something joins this turn's group commit:
	 * its answer waits until the commit is on disk. */
	bool change = h->host.store && strcmp(method, "GET") && strcmp(method, "HEAD");
	if (change)
		tb_store_group_join(h->host.store);
	tb_http_dispatch(h, &req, &resp);
	if (change)
		tb_store_group_leave(h->host.store);
	if (resp.stream)
		return MHD_YES; /* its response is queued already */
	if (!change)
		return send_resp(h, c, &resp);
	r->held = resp;
	r->holding = true;
	r->conn = c;
	r->next = h->held;
	h->held = r;
	h->nheld++;
	MHD_suspend_connection(c);
	return MHD_YES;
}

/*
 * After a turn of the library's loop: the changes of its requests are
 * committed at once (one durable commit), and only then are their answers
 * released; if the commit failed none of the changes is kept, and every
 * answer that would have said otherwise says why instead.
 */
static void answer_held(struct tb_http *h)
{
	bool committed = false;
	uint64_t t0 = uv_hrtime();
	int err = tb_store_group_commit(h->host.store, &committed);
	h->last_commit_ns = uv_hrtime() - t0;
	if (!err && committed && h->crash_at && !strcmp(h->crash_at, "group-committed")) {
		tb_http_log(h, 3,
			    "http: crash point group-committed reached: exiting "
			    "(TALLYD_CRASH_AT)");
		_exit(70);
	}
	for (struct req_state *r = h->held; r; r = r->next) {
		if (err && r->held.status < 400) {
			if (r->held.fd >= 0)
				close(r->held.fd);
			r->held.fd = -1;
			tb_http_fail(&r->held, err, NULL);
		}
		MHD_resume_connection(r->conn);
	}
	h->held = NULL;
	h->last_group = h->nheld;
	h->nheld = 0;
	h->woken = true;
}

static void run(struct tb_http *h);

static void on_gather(uv_timer_t *t)
{
	struct tb_http *h = t->data;
	h->gathering = false;
	if (h->held)
		answer_held(h);
	run(h);
}

/*
 * Clients that each send their next change once the answer to the last is
 * in do not all get theirs back within one run: a group smaller than the
 * last one waits up to TB_HTTP_GATHER_MS for the others (other readiness
 * runs the library again meanwhile), so that they share one commit instead
 * of splitting into groups of alternating sizes. The wait is half what the
 * last commit took (at most TB_HTTP_GATHER_MS), so it never costs more
 * than the commit it saves; a lone client never waits, nor does any where
 * a commit takes under 2 ms.
 */
static void gather(struct tb_http *h)
{
	uint64_t ms = h->last_commit_ns / 2000000;
	ms = ms < TB_HTTP_GATHER_MS ? ms : TB_HTTP_GATHER_MS;
	if (h->nheld < h->last_group && ms && !h->stopping) {
		if (!h->gathering)
			uv_timer_start(&h->gather, on_gather, ms, 0);
		h->gathering = true;
		return;
	}
	if (h->gathering)
		uv_timer_stop(&h->gather);
	h->gathering = false;
	answer_held(h);
}

static void on_timer(uv_timer_t *t);

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct tb_stream *st = cls;
	(void)pos;
	size_t n = tb_stream_take(st, buf, max);
	if (n)
		return (ssize_t)n;
	if (st->overflow)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* Nothing to send: out of the library's loop until tb_stream_wake. */
	MHD_suspend_connection(st->conn);
	st->suspended = true;
	return 0;
}

static void stream_free(void *cls)
{
	tb_stream_closed(cls);
}

int tb_stream_respond(struct tb_http *h, struct tb_http_req *req, struct tb_stream *st)
{
	st->conn = req->conn;
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024,
								   stream_read, st, stream_free);
	if (!r)
		return TB_ENOMEM;
	add_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream; charset=utf-8");
	add_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	add_header(r, "X-Accel-Buffering", "no");
	add_header(r, "X-Content-Type-Options", "nosniff");
	enum MHD_Result ok = MHD_queue_response(req->conn, 200, r);
	MHD_destroy_response(r);
	if (ok != MHD_YES)
		return TB_ENOMEM;
	struct tb_tracked *t = tracked_of(req->conn);
	if (t)
		t->deadline = 0; /* a stream lives as long as its reader */
	(void)h;
	return 0;
}

void tb_stream_wake(struct tb_stream *st)
{
	if (!st->suspended)
		return;
	st->suspended = false;
	MHD_resume_connection(st->conn);
	st->h->woken = true;
	if (!st->h->stopping)
		uv_timer_start(&st->h->timer, on_timer, 0, 0);
}

/* Paths and query values are decoded by us (tb_http_unescape), segment by
 * segment, so an escaped '/' stays inside its segment. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	vsnprintf(line, sizeof line, fmt, ap);
	size_t n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	tb_http_log(cls, 3, "http: %s", line);
}

static void run(struct tb_http *h)
{
	if (h->stopping)
		return;
	h->woken = false;
	MHD_run(h->daemon);
	if (h->held)
		gather(h);
	MHD_UNSIGNED_LONG_LONG ms;
	/* A stream resumed by a request handled in that run (an event its
	 * handler announced) is sent by the next run: at once, whatever the
	 * library's own timeout says. */
	if (h->woken)
		uv_timer_start(&h->timer, on_timer, 0, 0);
	else if (MHD_get_timeout(h->daemon, &ms) == MHD_YES)
		uv_timer_start(&h->timer, on_timer, ms, 0);
	else
		uv_timer_stop(&h->timer);
}

static void on_timer(uv_timer_t *t)
{
	run(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	run(p->data);
}

static int listen_addr(const struct tb_http_conf *conf, struct sockaddr_storage *ss,
		       unsigned *flags)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	const char *host = conf->host;
	if (!strcmp(host, "localhost"))
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(conf->port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(conf->port);
		*flags |= MHD_USE_IPv6;
		return 0;
	}
	return TB_EINVAL;
}

int tb_http_listen(struct tb_http *h, char *why, size_t cap)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (listen_addr(&h->conf, &ss, &flags)) {
		snprintf(why, cap, "--http %s: not an IP address", h->conf.host);
		return TB_EINVAL;
	}
	h->daemon = MHD_start_daemon(
		flags, h->conf.port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
		on_mhd_log, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)(TB_HTTP_CONNS_MAX + 64),
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)TB_HTTP_CONN_MEM,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)((TB_HTTP_BODY_MS + TB_HTTP_IDLE_MS) / 1000), MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
		MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, h, MHD_OPTION_LISTEN_BACKLOG_SIZE, 128u,
		MHD_OPTION_END);
	if (!h->daemon) {
		snprintf(why, cap, "cannot listen for HTTP on %s:%u: %s", h->conf.host,
			 (unsigned)h->conf.port, strerror(errno ? errno : EADDRINUSE));
		return TB_EIO;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (!di || uv_poll_init(h->host.loop, &h->poll, di->epoll_fd)) {
		MHD_stop_daemon(h->daemon);
		h->daemon = NULL;
		snprintf(why, cap, "cannot poll the HTTP server's descriptor");
		return TB_EIO;
	}
	h->poll.data = h;
	uv_timer_init(h->host.loop, &h->timer);
	uv_timer_init(h->host.loop, &h->sweep);
	uv_timer_init(h->host.loop, &h->keepalive);
	uv_timer_init(h->host.loop, &h->gather);
	h->timer.data = h->sweep.data = h->keepalive.data = h->gather.data = h;
	h->handles = 5;
	uv_poll_start(&h->poll, UV_READABLE, on_poll);
	uv_timer_start(&h->sweep, sweep, 1000, 1000);
	run(h);
	return 0;
}

static void on_closed(uv_handle_t *hd)
{
	struct tb_http *h = hd->data;
	if (--h->handles == 0)
		free(h);
}

void tb_http_stop(struct tb_http *h)
{
	if (!h || h->stopping)
		return;
	h->stopping = true;
	free(h->audit_last);
	h->audit_last = NULL;
	tb_xgraph_free(h->xgraph);
	h->xgraph = NULL;
	if (!h->daemon) {
		free(h);
		return;
	}
	uv_poll_stop(&h->poll);
	uv_timer_stop(&h->timer);
	uv_timer_stop(&h->sweep);
	uv_timer_stop(&h->keepalive);
	uv_timer_stop(&h->gather);
	if (h->held) /* changes made wait for no more: committed, answers resumed */
		answer_held(h);
	/* The library closes suspended connections only once resumed. */
	for (struct tb_stream *st = h->streams; st; st = st->next)
		if (st->suspended) {
			st->suspended = false;
			MHD_resume_connection(st->conn);
		}
	/* Closes every connection (their callbacks free our records). */
	MHD_stop_daemon(h->daemon);
	h->daemon = NULL;
	uv_close((uv_handle_t *)&h->poll, on_closed);
	uv_close((uv_handle_t *)&h->timer, on_closed);
	uv_close((uv_handle_t *)&h->sweep, on_closed);
	uv_close((uv_handle_t *)&h->keepalive, on_closed);
	uv_close((uv_handle_t *)&h->gather, on_closed);
}

size_t tb_stream_take(struct tb_stream *st, char *out, size_t max)
{
	size_t n = st->len < max ? st->len : max;
	memcpy(out, st->buf, n);
	memmove(st->buf, st->buf + n, st->len - n);
	st->len -= n;
	return n;
}

void tb_stream_closed(struct tb_stream *st)
{
	struct tb_http *h = st->h;
	for (struct tb_stream **p = &h->streams; *p; p = &(*p)->next)
		if (*p == st) {
			*p = st->next;
			h->nstreams--;
			break;
		}
	free(st);
}
