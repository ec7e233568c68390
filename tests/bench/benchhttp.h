/*
 * benchhttp.h: the HTTP/1.1 client of the API benchmarks, over plain
 * sockets to 127.0.0.1 only. Unlike the tests' client (httpc.h, one request
 * per connection, read to the close), a connection here may carry any number
 * of requests (keep-alive, as a browser sends them): a response ends where
 * its Content-Length says. Connections are non-blocking, so one thread can
 * drive many at once (tb_bench_http_clients).
 */
#ifndef TB_BENCHHTTP_H
#define TB_BENCHHTTP_H

#include <stddef.h>
#include <stdint.h>

/* One connection and the response being read on it. */
struct tb_bench_http {
	int fd;		  /* -1 when closed */
	char *buf;	  /* what arrived of the response */
	size_t len, cap;  /* bytes in buf, its size */
	size_t need;	  /* the whole response's length, 0 until its headers are in */
	int status;	  /* the last complete response's status */
	size_t body_len;  /* and its body's length */
	const char *out;  /* the request being sent */
	size_t out_left;  /* its bytes not sent yet */
	unsigned long ok; /* complete responses on this connection */
};

/* A request: method and path, the session cookie ("name=value"), its CSRF
 * token and a JSON body (each may be NULL), keep-alive unless close.
 * malloc'd text, *len its length (NULL if out of memory). */
char *tb_bench_http_text(uint16_t port, const char *method, const char *path, const char *cookie,
			 const char *csrf, const char *body, int close, size_t *len);
/* Connects (non-blocking socket, TCP_NODELAY): 0, or -1. */
int tb_bench_http_open(struct tb_bench_http *c, uint16_t port);
void tb_bench_http_close(struct tb_bench_http *c);
/* Sends req (len bytes) and waits for its whole response: its status, or
 * -1 if the connection broke or nothing came within 20 s. */
int tb_bench_http_request(struct tb_bench_http *c, const char *req, size_t len);
/* n connections, each sending one of the nreq requests reqs (lens bytes
 * each; client i starts with reqs[i % nreq], later ones vary) as soon as its
 * previous response is in, for secs seconds; every ms milliseconds (ms > 0)
 * sample is called with ctx. Returns the complete responses (each of status
 * want), or -1 if a connection broke or answered anything else. */
long tb_bench_http_clients(uint16_t port, unsigned n, const char *const *reqs, const size_t *lens,
			   unsigned nreq, int want, double secs, unsigned ms,
			   void (*sample)(void *ctx), void *ctx);

#endif
