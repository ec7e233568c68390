/*
 * httpc.c: the API tests' HTTP client (see httpc.h). Deliberately simple:
 * Connection: close on every request, the response read to the end, the
 * status and headers kept as text for the tests to look into.
 */
#include <stdbool.h>

#include "httpc.h"
#include "testutil.h" /* cmocka */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int tb_httpc_connect_from(uint16_t port, const char *src)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct sockaddr_in from = {.sin_family = AF_INET};
	if (src && (inet_pton(AF_INET, src, &from.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&from, sizeof from))) {
		close(fd);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
		close(fd);
		return -1;
	}
	return fd;
}

int tb_httpc_connect(uint16_t port)
{
	return tb_httpc_connect_from(port, NULL);
}

long tb_httpc_read_until_close(int fd, unsigned ms, char *buf, size_t cap)
{
	uint64_t end = now_ms() + ms;
	size_t got = 0;
	for (;;) {
		uint64_t now = now_ms();
		if (now >= end)
			return -1;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)(end - now));
		if (r <= 0)
			continue;
		char tmp[4096];
		ssize_t n = read(fd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (long)got;
		size_t k = (size_t)n;
		if (cap && got + k > cap - 1)
			k = cap - 1 - got;
		if (cap) {
			memcpy(buf + got, tmp, k);
			buf[got + k] = '\0';
		}
		got += k;
	}
}

size_t tb_httpc_read_until_seen(int fd, unsigned ms, char *buf, size_t cap, const char *want)
{
	uint64_t end = now_ms() + ms;
	size_t got = 0;
	buf[0] = '\0';
	while (!strstr(buf, want) && now_ms() < end && got < cap - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 200) != 1)
			continue;
		ssize_t k = read(fd, buf + got, cap - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
		buf[got] = '\0';
	}
	return got;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void parse(struct tb_httpc_resp *out, char *buf, size_t len)
{
	char *end = strstr(buf, "\r\n\r\n");
	if (!end || strncmp(buf, "HTTP/1.", 7))
		return;
	size_t hl = (size_t)(end - buf);
	if (hl >= sizeof out->head)
		hl = sizeof out->head - 1;
	memcpy(out->head, buf, hl);
	out->head[hl] = '\0';
	out->status = atoi(buf + 9);
	size_t off = (size_t)(end - buf) + 4;
	out->len = len - off;
	out->body = malloc(out->len + 1);
	memcpy(out->body, buf + off, out->len);
	out->body[out->len] = '\0';
}

static int request(const char *src, uint16_t port, const char *method, const char *path,
		   const char *const *headers, const char *body, size_t len,
		   struct tb_httpc_resp *out)
{
	memset(out, 0, sizeof *out);
	out->body = calloc(1, 1);
	int fd = tb_httpc_connect_from(port, src);
	if (fd < 0)
		return 0;
	size_t hcap = strlen(method) + strlen(path) + 256;
	for (size_t i = 0; headers && headers[i]; i++)
		hcap += strlen(headers[i]) + 2;
	char *head = malloc(hcap);
	size_t n = (size_t)snprintf(head, hcap,
				    "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n",
				    method, path, (unsigned)port);
	for (size_t i = 0; headers && headers[i]; i++)
		n += (size_t)snprintf(head + n, hcap - n, "%s\r\n", headers[i]);
	if (body)
		n += (size_t)snprintf(head + n, hcap - n, "Content-Length: %zu\r\n", len);
	n += (size_t)snprintf(head + n, hcap - n, "\r\n");
	/* The server may answer (413) before it took the body: send errors
	 * are not the test's concern, the answer is. */
	if (!send_all(fd, head, n) && body && len)
		(void)send_all(fd, body, len);
	free(head);
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	long got = tb_httpc_read_until_close(fd, 20000, buf, cap);
	close(fd);
	if (got > 0) {
		free(out->body);
		out->body = NULL;
		parse(out, buf, (size_t)got);
		if (!out->body)
			out->body = calloc(1, 1);
	}
	free(buf);
	return out->status;
}

int tb_httpc_raw(uint16_t port, const char *method, const char *path, const char *const *headers,
		 const char *body, size_t len, struct tb_httpc_resp *out)
{
	return request(NULL, port, method, path, headers, body, len, out);
}

int tb_httpc_from(const char *src, uint16_t port, const char *method, const char *path,
		  const struct tb_httpc_session *s, bool csrf, const char *body,
		  struct tb_httpc_resp *out)
{
	char cookie[200], token[120];
	const char *h[4];
	size_t k = 0;
	if (body)
		h[k++] = "Content-Type: application/json";
	if (s) {
		snprintf(cookie, sizeof cookie, "Cookie: %s", s->cookie);
		h[k++] = cookie;
		if (csrf) {
			snprintf(token, sizeof token, "X-CSRF-Token: %s", s->csrf);
			h[k++] = token;
		}
	}
	h[k] = NULL;
	return request(src, port, method, path, h, body, body ? strlen(body) : 0, out);
}

int tb_httpc(uint16_t port, const char *method, const char *path, const struct tb_httpc_session *s,
	     bool csrf, const char *body, struct tb_httpc_resp *out)
{
	return tb_httpc_from(NULL, port, method, path, s, csrf, body, out);
}

void tb_httpc_free(struct tb_httpc_resp *r)
{
	free(r->body);
	r->body = NULL;
}

const char *tb_httpc_header(const struct tb_httpc_resp *r, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (const char *p = strstr(r->head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2;
		if (!strncasecmp(line, name, nl) && line[nl] == ':') {
			const char *v = line + nl + 1;
			while (*v == ' ')
				v++;
			size_t vl = strcspn(v, "\r\n");
			if (vl >= cap)
				vl = cap - 1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return out;
		}
	}
	return NULL;
}

int tb_httpc_login(uint16_t port, const char *name, const char *password,
		   struct tb_httpc_session *s)
{
	char body[512], cookie[400];
	snprintf(body, sizeof body, "{\"name\":\"%s\",\"password\":\"%s\"}", name, password);
	struct tb_httpc_resp r;
	int st = tb_httpc(port, "POST", "/api/v1/session", NULL, false, body, &r);
	memset(s, 0, sizeof *s);
	if (st == 200 && tb_httpc_header(&r, "Set-Cookie", cookie, sizeof cookie)) {
		snprintf(s->cookie, sizeof s->cookie, "%.*s", (int)strcspn(cookie, ";"), cookie);
		const char *c = strstr(r.body, "\"csrf_token\":\"");
		if (c)
			snprintf(s->csrf, sizeof s->csrf, "%.64s", c + 14);
	}
	tb_httpc_free(&r);
	return st;
}

void tb_httpc_assert_error(const struct tb_httpc_resp *r, int status, const char *code)
{
	char want[64];
	snprintf(want, sizeof want, "{\"error\":{\"code\":\"%s\",\"message\":\"", code);
	if (r->status != status || strncmp(r->body, want, strlen(want)))
		fail_msg("wanted %d %s, got %d: %s", status, code, r->status, r->body);
}
