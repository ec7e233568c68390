/*
 * benchhttp.c: the API benchmarks' HTTP client (see benchhttp.h). A
 * response is complete once its headers and Content-Length bytes of body
 * are in, so a connection can carry the next request at once; one poll()
 * loop drives every connection of tb_bench_http_clients.
 */
#include "benchhttp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RESP_MAX (8u << 20) /* a response larger than this is an error */
#define WAIT_MS 20000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *tb_bench_http_text(uint16_t port, const char *method, const char *path, const char *cookie,
			 const char *csrf, const char *body, int close, size_t *len)
{
	size_t cap = strlen(method) + strlen(path) + (cookie ? strlen(cookie) : 0) +
		     (csrf ? strlen(csrf) : 0) + (body ? strlen(body) : 0) + 256;
	char *r = malloc(cap);
	if (!r)
		return NULL;
	int n = snprintf(r, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n%s", method, path,
			 (unsigned)port, close ? "Connection: close\r\n" : "");
	if (cookie)
		n += snprintf(r + n, cap - (size_t)n, "Cookie: %s\r\n", cookie);
	if (csrf)
		n += snprintf(r + n, cap - (size_t)n, "X-CSRF-Token: %s\r\n", csrf);
	if (body)
		n += snprintf(r + n, cap - (size_t)n,
			      "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			      strlen(body));
	n += snprintf(r + n, cap - (size_t)n, "\r\n%s", body ? body : "");
	*len = (size_t)n;
	return r;
}

int tb_bench_http_open(struct tb_bench_http *c, uint16_t port)
{
	memset(c, 0, sizeof *c);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return -1;
	int one = 1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof a) && errno != EINPROGRESS) {
		tb_bench_http_close(c);
		return -1;
	}
	struct pollfd p = {.fd = c->fd, .events = POLLOUT};
	int err = 0;
	socklen_t el = sizeof err;
	if (poll(&p, 1, WAIT_MS) != 1 || getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) ||
	    err) {
		tb_bench_http_close(c);
		return -1;
	}
	return 0;
}

void tb_bench_http_close(struct tb_bench_http *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = c->need = 0;
}

static void start(struct tb_bench_http *c, const char *req, size_t len)
{
	c->out = req;
	c->out_left = len;
	c->len = c->need = 0;
}

/* The headers' end in buf (past "\r\n\r\n"), or 0. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' &&
		    buf[i - 3] == '\r')
			return i + 1;
	return 0;
}

/* Once the headers are in: the whole response's length in c->need. */
static int parse_head(struct tb_bench_http *c)
{
	size_t end = head_end(c->buf, c->len);
	if (!end)
		return c->len > 65536 ? -1 : 0;
	if (end < 12 || strncmp(c->buf, "HTTP/1.1 ", 9))
		return -1;
	c->status = atoi(c->buf + 9);
	const char *p = c->buf;
	long cl = -1;
	while ((p = memchr(p, '\n', end - (size_t)(p - c->buf) - 1)) != NULL) {
		p++;
		if (!strncasecmp(p, "Content-Length:", 15)) {
			cl = strtol(p + 15, NULL, 10);
			break;
		}
	}
	if (cl < 0 || (unsigned long)cl > RESP_MAX)
		return -1;
	c->body_len = (size_t)cl;
	c->need = end + (size_t)cl;
	return 0;
}

/* Sends and receives what the socket takes now: 1 once the response is
 * complete, 0 if more is to come, -1 on an error or a close too early. */
static int step(struct tb_bench_http *c)
{
	while (c->out_left) {
		ssize_t n = send(c->fd, c->out, c->out_left, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		c->out += n;
		c->out_left -= (size_t)n;
	}
	for (;;) {
		if (c->cap - c->len < 16384) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *b = cap <= 2 * RESP_MAX ? realloc(c->buf, cap) : NULL;
			if (!b)
				return -1;
			c->buf = b;
			c->cap = cap;
		}
		ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		if (!c->need && parse_head(c))
			return -1;
		if (c->need && c->len >= c->need) {
			c->ok++;
			return 1;
		}
	}
}

int tb_bench_http_request(struct tb_bench_http *c, const char *req, size_t len)
{
	start(c, req, len);
	double end = now_s() + WAIT_MS / 1000.0;
	for (;;) {
		int r = step(c);
		if (r)
			return r < 0 ? -1 : c->status;
		struct pollfd p = {.fd = c->fd, .events = c->out_left ? POLLOUT : POLLIN};
		double left = end - now_s();
		if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) < 0)
			return -1;
	}
}

static void close_all(struct tb_bench_http *c, struct pollfd *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		tb_bench_http_close(&c[i]);
	free(c);
	free(p);
}

long tb_bench_http_clients(uint16_t port, unsigned n, const char *const *reqs, const size_t *lens,
			   unsigned nreq, int want, double secs, unsigned ms,
			   void (*sample)(void *ctx), void *ctx)
{
	struct tb_bench_http *c = calloc(n, sizeof *c);
	struct pollfd *p = calloc(n, sizeof *p);
	long done = 0;
	for (unsigned i = 0; c && i < n; i++)
		c[i].fd = -1;
	for (unsigned i = 0; c && p && i < n; i++) {
		if (tb_bench_http_open(&c[i], port)) {
			close_all(c, p, n);
			return -1;
		}
		start(&c[i], reqs[i % nreq], lens[i % nreq]);
	}
	if (!c || !p) {
		free(c);
		free(p);
		return -1;
	}
	double t0 = now_s(), next = t0 + ms / 1000.0;
	while (now_s() - t0 < secs) {
		for (unsigned i = 0; i < n; i++)
			p[i] = (struct pollfd){c[i].fd, c[i].out_left ? POLLOUT : POLLIN, 0};
		if (poll(p, n, 10) < 0 && errno != EINTR)
			break;
		for (unsigned i = 0; i < n; i++) {
			if (!p[i].revents)
				continue;
			int r = step(&c[i]);
			if (r < 0 || (r > 0 && c[i].status != want)) {
				fprintf(stderr, "client %u: %s (status %d, not %d)\n", i,
					r < 0 ? "connection broke" : "unexpected answer",
					c[i].status, want);
				close_all(c, p, n);
				return -1;
			}
			if (r > 0) {
				done++;
				size_t k = (i + c[i].ok) % nreq; /* in turn */
				start(&c[i], reqs[k], lens[k]);
			}
		}
		if (ms && sample && now_s() >= next) {
			sample(ctx);
			next += ms / 1000.0;
		}
	}
	close_all(c, p, n);
	return done;
}
