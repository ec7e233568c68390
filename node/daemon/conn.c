/*
 * conn.c: one peer connection: TCP via libuv, the Noise XXpsk3 handshake
 * with the federation key as PSK, the HELLO identity proof over the handshake
 * hash, then length-prefixed encrypted frames of at most 64 KiB. Every length
 * is checked before use; oversized, malformed, unauthenticated, late or
 * flooding input closes the connection with a logged reason. It never
 * crashes on input and never passes an unauthenticated byte upward.
 *
 * What a connection costs is bounded: before authentication a small read
 * buffer (a handshake message), afterwards one frame (back to 4 KiB when the
 * peer is quiet); its send queue counts
 * every byte it holds (frames, libuv requests, allocation overhead) against
 * a per-peer and a node-wide cap; everything is freed when it closes, and
 * the freed memory is handed back to the system soon after.
 *
 * A connection reaches its owner (the node's peers.c) only through the
 * callbacks it was given (struct tb_conn_events), as libuv's streams do: it
 * calls no replication or peer code, and what the owner keeps of it
 * (c->repl) is freed by the owner's closed callback, once the handles are
 * closed and nothing can reach the connection any more.
 */
#include "daemon.h"

#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define TB_PROLOGUE "tally/1"
#define TB_MALLOC_OVERHEAD 16 /* a heap block's header, counted per frame */
#define TB_TRIM_MS 200
#define TB_TRIM_BYTES (1u << 20)
#define TB_QUIET_LINES 20  /* pre-authentication close lines logged a second */
#define TB_RBUF_SMALL 4096 /* read buffer of an authenticated peer between large frames */
/* Reads libuv makes of one stream in a row while they fill their buffer
 * (src/unix/stream.c, uv__read), before it polls again. */
#define TB_READS_PER_PASS 32

struct wreq {
	uv_write_t req;
	struct tb_conn *conn;
	size_t cost; /* what this request holds, counted in queued */
	size_t len;
	uint8_t data[];
};

static void on_trim(uv_timer_t *t)
{
	struct tb_node *n = t->data;
	n->trim_armed = false;
	n->freed = 0;
#ifdef __GLIBC__
	/* Freed frames sit in the heap's free lists; hand the pages back. */
	malloc_trim(0);
#endif
}

/* Memory was freed: give it back to the system once closes settle. */
static void freed(struct tb_node *n, size_t bytes)
{
	n->freed += bytes;
	if (n->freed < TB_TRIM_BYTES || n->trim_armed || n->stopping)
		return;
	n->trim_armed = true;
	uv_timer_start(&n->trim_timer, on_trim, TB_TRIM_MS, 0);
}

static void on_close(uv_handle_t *h)
{
	struct tb_conn *c = h->data;
	if (--c->handles)
		return;
	struct tb_node *n = c->node;
	size_t bytes = sizeof *c + c->rcap + c->ev->closed(c);
	tb_wipe(&c->hs, sizeof c->hs);
	tb_wipe(&c->tx, sizeof c->tx);
	tb_wipe(&c->rx, sizeof c->rx);
	free(c->rbuf);
	free(c);
	freed(n, bytes);
}

static void unlink_conn(struct tb_conn *c)
{
	struct tb_node *n = c->node;
	for (struct tb_conn **p = &n->conns; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			n->nconns--;
			return;
		}
	}
}

void tb_conn_authenticated(struct tb_conn *c)
{
	if (!c->preauth)
		return;
	c->preauth = false;
	c->node->npreauth--;
}

/*
 * Connections that fail before authentication are logged, but an outsider
 * reconnecting a thousand times a second must not fill the log: past
 * TB_QUIET_LINES a second their lines are counted and summed up once.
 */
static bool quiet(struct tb_node *n)
{
	uint64_t sec = tb_now_ms(n) / 1000;
	if (sec != n->quiet_at) {
		if (n->quiet_skipped)
			tb_log(n, TB_LOG_WARN,
			       "%llu more connections closed before authentication (not logged)",
			       (unsigned long long)n->quiet_skipped);
		n->quiet_at = sec;
		n->quiet_lines = 0;
		n->quiet_skipped = 0;
	}
	if (n->quiet_lines < TB_QUIET_LINES) {
		n->quiet_lines++;
		return false;
	}
	n->quiet_skipped++;
	return true;
}

void tb_conn_close(struct tb_conn *c, const char *why)
{
	if (c->state == TB_CONN_CLOSING)
		return;
	enum tb_conn_state was = c->state;
	c->state = TB_CONN_CLOSING;
	if (was == TB_CONN_OPEN)
		tb_log(c->node, TB_LOG_INFO, "%s %s closed: %s", c->outbound ? "to" : "from",
		       c->addr, why);
	else if (c->outbound || !quiet(c->node))
		tb_log(c->node, TB_LOG_WARN, "%s %s closed: %s", c->outbound ? "to" : "from",
		       c->addr, why);
	tb_conn_authenticated(c);
	unlink_conn(c);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->tcp, on_close);
	uv_close((uv_handle_t *)&c->timer, on_close);
}

struct tb_conn *tb_conn_new(struct tb_node *n, bool outbound, const char *addr,
			    const struct tb_conn_events *ev)
{
	struct tb_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->rcap = 2 + TB_HS_FRAME_MAX;
	c->rbuf = malloc(c->rcap);
	if (!c->rbuf) {
		free(c);
		return NULL;
	}
	c->node = n;
	c->ev = ev;
	c->outbound = outbound;
	c->preauth = !outbound;
	if (c->preauth)
		n->npreauth++;
	c->started = tb_now_ms(n);
	snprintf(c->addr, sizeof c->addr, "%s", addr);
	uv_tcp_init(n->loop, &c->tcp);
	uv_timer_init(n->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->handles = 2;
	c->state = TB_CONN_CONNECTING;
	c->tokens = TB_MSG_BURST;
	c->tokens_at = tb_now_ms(n);
	c->last_rx = tb_now_ms(n);
	c->next = n->conns;
	n->conns = c;
	n->nconns++;
	return c;
}

void tb_conn_deadline(struct tb_conn *c, uint64_t at_ms, const char *why)
{
	c->deadline = at_ms;
	c->deadline_why = why;
}

bool tb_conn_may_push(const struct tb_conn *c)
{
	if (c->state != TB_CONN_OPEN)
		return false;
	return c->queued < TB_QUEUE_LOW ||
	       (c->queued < TB_QUEUE_MAX && c->node->queued < TB_QUEUE_TOTAL);
}

static void on_write(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct tb_conn *c = w->conn;
	c->queued -= w->cost;
	c->node->queued -= w->cost;
	freed(c->node, w->cost);
	free(w);
	if (status < 0) {
		tb_conn_close(c, uv_strerror(status));
		return;
	}
	if (c->state == TB_CONN_OPEN)
		c->ev->drained(c);
}

/* Queues a frame: 2-byte big-endian length, then body. */
static int write_frame(struct tb_conn *c, const uint8_t *body, size_t len, bool encrypt)
{
	if (c->state == TB_CONN_CLOSING)
		return TB_EINVAL;
	size_t max = len + 16;
	struct wreq *w = malloc(sizeof *w + 2 + max);
	if (!w) {
		tb_conn_close(c, "out of memory");
		return TB_ENOMEM;
	}
	size_t out = len;
	if (encrypt) {
		int err = tb_noise_encrypt(&c->tx, body, len, w->data + 2, max, &out);
		if (err) {
			free(w);
			tb_conn_close(c, "cannot encrypt");
			return err;
		}
	} else {
		memcpy(w->data + 2, body, len);
	}
	if (out > TB_FRAME_MAX) {
		free(w);
		tb_conn_close(c, "frame over the cap (internal)");
		return TB_ETOOBIG;
	}
	w->data[0] = (uint8_t)(out >> 8);
	w->data[1] = (uint8_t)out;
	w->conn = c;
	w->len = out + 2;
	w->cost = sizeof *w + 2 + max + TB_MALLOC_OVERHEAD;
	uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
	int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
	if (rc) {
		free(w);
		tb_conn_close(c, uv_strerror(rc));
		return TB_EIO;
	}
	c->queued += w->cost;
	c->node->queued += w->cost;
	c->bytes_out += w->len;
	if (c->queued > TB_QUEUE_CLOSE) {
		tb_conn_close(c, "peer does not read: send queue over its cap");
		return TB_EFULL;
	}
	return 0;
}

int tb_conn_send(struct tb_conn *c, const struct tb_peer_msg *m)
{
	uint8_t buf[TB_FRAME_PAYLOAD_MAX + 64];
	size_t len;
	int err = tb_peer_msg_encode(buf, sizeof buf, &len, m);
	if (err) {
		tb_conn_close(c, "cannot encode a message (internal)");
		return err;
	}
	return write_frame(c, buf, len, true);
}

static int send_hello(struct tb_conn *c)
{
	struct tb_node *n = c->node;
	struct tb_peer_msg m = {.type = TB_MSG_HELLO};
	uint8_t proof[33];
	memcpy(proof, c->hh, 32);
	proof[32] = c->outbound ? 0 : 1; /* who signs: initiator 0, responder 1 */
	m.u.hello.version = TB_PROTO_VERSION;
	memcpy(m.u.hello.node_id, n->self, TB_KEY_LEN);
	tb_sign(m.u.hello.sig, &n->key, TB_CTX_HANDSHAKE, proof, sizeof proof);
	m.u.hello.name.p = (const uint8_t *)n->name;
	m.u.hello.name.len = strlen(n->name);
	return tb_conn_send(c, &m);
}

static int resize_rbuf(struct tb_conn *c, size_t cap)
{
	uint8_t *r = realloc(c->rbuf, cap);
	if (!r)
		return TB_ENOMEM;
	c->rbuf = r;
	c->rcap = cap;
	return 0;
}

/* Tells the owner the read burst ended (it appends what the frames
 * brought), if it has not been told since the last frames. */
static void burst_end(struct tb_conn *c)
{
	if (!c->burst_open)
		return;
	c->burst_open = false;
	c->full_reads = 0;
	(void)c->ev->message(c, NULL);
}

static void on_timer(uv_timer_t *t)
{
	struct tb_conn *c = t->data;
	uint64_t now = tb_now_ms(c->node);
	if (c->state == TB_CONN_OPEN)
		burst_end(c); /* none is left open long; in case */
	if (c->state != TB_CONN_OPEN) {
		tb_conn_close(c, "handshake did not finish in time");
		return;
	}
	if (now - c->last_rx > TB_IDLE_MS) {
		tb_conn_close(c, "idle: nothing received for too long");
		return;
	}
	if (c->deadline && now >= c->deadline) {
		tb_conn_close(c, c->deadline_why);
		return;
	}
	/* A quiet peer's read buffer shrinks back (it grows with the next
	 * large frame). */
	if (c->rlen == 0 && c->rcap > TB_RBUF_SMALL)
		(void)resize_rbuf(c, TB_RBUF_SMALL);
	struct tb_peer_msg m = {.type = TB_MSG_PING};
	m.u.ping.nonce = now;
	(void)!tb_conn_send(c, &m);
}

static int finish_handshake(struct tb_conn *c)
{
	uint8_t rs[32];
	int err = tb_noise_split(&c->hs, &c->tx, &c->rx, c->hh, rs);
	if (err) {
		tb_conn_close(c, "handshake could not complete");
		return err;
	}
	c->state = TB_CONN_HELLO;
	/* From now on frames may be as large as the cap allows: the buffer
	 * grows when one larger than it begins. */
	if (c->rcap < TB_RBUF_SMALL && resize_rbuf(c, TB_RBUF_SMALL)) {
		tb_conn_close(c, "out of memory");
		return TB_ENOMEM;
	}
	return send_hello(c);
}

static int handshake_frame(struct tb_conn *c, const uint8_t *f, size_t len)
{
	uint8_t payload[256], out[256];
	size_t plen, olen;
	int err = tb_noise_read(&c->hs, f, len, payload, sizeof payload, &plen);
	if (err) {
		tb_conn_close(c,
			      err == TB_EBADSIG
				      ? "handshake failed: wrong federation key or tampered message"
				      : "handshake failed: malformed message");
		return err;
	}
	if (tb_noise_done(&c->hs))
		return finish_handshake(c);
	err = tb_noise_write(&c->hs, NULL, 0, out, sizeof out, &olen);
	if (!err)
		err = write_frame(c, out, olen, false);
	if (err) {
		tb_conn_close(c, "handshake failed");
		return err;
	}
	if (tb_noise_done(&c->hs))
		return finish_handshake(c);
	return 0;
}

static int hello(struct tb_conn *c, const struct tb_hello *h)
{
	struct tb_node *n = c->node;
	uint8_t proof[33];
	memcpy(proof, c->hh, 32);
	proof[32] = c->outbound ? 1 : 0; /* the other side signed */
	if (h->version != TB_PROTO_VERSION) {
		/* PROTOCOL.md 4.2: a peer of another version would close on the
		 * messages it does not know (a version 1 node on LISTINGS), so the
		 * two never replicate; say so to both operators. */
		char why[120], bye[120];
		snprintf(why, sizeof why, "peer speaks protocol %u, this node %u: upgrade %s",
			 (unsigned)h->version, (unsigned)TB_PROTO_VERSION,
			 h->version < TB_PROTO_VERSION ? "it" : "this node");
		snprintf(bye, sizeof bye, "this node speaks protocol %u, not %u",
			 (unsigned)TB_PROTO_VERSION, (unsigned)h->version);
		struct tb_peer_msg m = {.type = TB_MSG_BYE};
		m.u.bye.reason.p = (const uint8_t *)bye;
		m.u.bye.reason.len = strlen(bye);
		(void)!tb_conn_send(c, &m);
		tb_conn_close(c, why);
		return TB_EVERSION;
	}
	if (tb_verify(h->sig, h->node_id, TB_CTX_HANDSHAKE, proof, sizeof proof)) {
		tb_conn_close(c, "peer's identity proof does not verify");
		return TB_EBADSIG;
	}
	if (c->peer && c->peer->conf.has_id && memcmp(c->peer->conf.id, h->node_id, TB_KEY_LEN)) {
		char why[200], want[17], got[17];
		tb_hex_encode(want, c->peer->conf.id, 8);
		tb_hex_encode(got, h->node_id, 8);
		snprintf(why, sizeof why,
			 "peer presented identity %s..., not the pinned --id %s...", got, want);
		tb_conn_close(c, why);
		return TB_EBADSIG;
	}
	if (!memcmp(h->node_id, n->self, TB_KEY_LEN)) {
		tb_conn_close(c, "connected to ourselves");
		return TB_EINVAL;
	}
	memcpy(c->remote_id, h->node_id, TB_KEY_LEN);
	memcpy(c->remote_name, h->name.p, h->name.len);
	c->remote_name[h->name.len] = '\0';
	tb_conn_authenticated(c);
	c->state = TB_CONN_OPEN;
	c->opened = tb_now_ms(n);
	uv_timer_start(&c->timer, on_timer, TB_SYNC_MS, TB_KEEPALIVE_MS);
	return c->ev->opened(c);
}

static int rate_ok(struct tb_conn *c)
{
	uint64_t now = tb_now_ms(c->node);
	c->tokens += (double)(now - c->tokens_at) * TB_MSG_RATE / 1000.0;
	c->tokens_at = now;
	if (c->tokens > TB_MSG_BURST)
		c->tokens = TB_MSG_BURST;
	c->tokens -= 1;
	return c->tokens >= 0;
}

static int transport_frame(struct tb_conn *c, const uint8_t *f, size_t len)
{
	uint8_t plain[TB_FRAME_MAX];
	struct tb_peer_msg m;
	int err = tb_frame_open(&c->rx, f, len, plain, &m);
	if (err == TB_EBADSIG) {
		tb_conn_close(c, "frame does not authenticate");
		return TB_EBADSIG;
	}
	if (err) {
		char why[160];
		snprintf(why, sizeof why, "malformed message: %s", tb_strerror(err));
		tb_conn_close(c, why);
		return err;
	}
	if (!rate_ok(c)) {
		tb_conn_close(c, "flooding: over the message rate limit");
		return TB_EFULL;
	}
	if (c->state == TB_CONN_HELLO) {
		if (m.type != TB_MSG_HELLO) {
			tb_conn_close(c, "expected HELLO first");
			return TB_EINVAL;
		}
		return hello(c, &m.u.hello);
	}
	if (m.type == TB_MSG_HELLO) {
		tb_conn_close(c, "HELLO sent twice");
		return TB_EINVAL;
	}
	return c->ev->message(c, &m);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct tb_conn *c = h->data;
	size_t room = c->rcap - c->rlen;
	c->roffer = room;
	*buf = uv_buf_init((char *)c->rbuf + c->rlen, (unsigned)room);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	struct tb_conn *c = s->data;
	if (nread < 0) {
		/* What the reads before brought is appended first. */
		if (c->state == TB_CONN_OPEN)
			burst_end(c);
		if (c->state == TB_CONN_CLOSING)
			return;
		tb_conn_close(
			c,
			nread != UV_EOF ? uv_strerror((int)nread)
			: c->state == TB_CONN_HANDSHAKE
				? "peer closed the connection during the handshake (a different federation key?)"
				: "peer closed the connection");
		return;
	}
	if (c->state == TB_CONN_CLOSING)
		return;
	c->rlen += (size_t)nread;
	c->bytes_in += (size_t)nread;
	c->last_rx = tb_now_ms(c->node);
	size_t off = 0;
	while (c->state != TB_CONN_CLOSING) {
		bool transport = c->state != TB_CONN_HANDSHAKE;
		struct tb_view f;
		size_t used;
		int rc = tb_frame_next(c->rbuf + off, c->rlen - off, transport, &f, &used);
		if (rc < 0) {
			tb_conn_close(c, transport ? "frame too short to be authenticated"
						   : "empty frame");
			return;
		}
		if (rc == 0) {
			/* A handshake message cannot be larger than this. */
			if (!transport && c->rlen - off >= 2 &&
			    ((size_t)c->rbuf[off] << 8 | c->rbuf[off + 1]) > TB_HS_FRAME_MAX) {
				tb_conn_close(c, "handshake failed: malformed message");
				return;
			}
			break; /* wait for the rest */
		}
		off += used;
		if (transport)
			transport_frame(c, f.p, f.len);
		else
			handshake_frame(c, f.p, f.len);
	}
	if (c->state == TB_CONN_CLOSING)
		return;
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
	/* A frame larger than the buffer has begun: room for the largest. */
	if (c->rlen >= 2 && 2 + ((size_t)c->rbuf[0] << 8 | c->rbuf[1]) > c->rcap &&
	    resize_rbuf(c, 2 + TB_FRAME_MAX)) {
		tb_conn_close(c, "out of memory");
		return;
	}
	/* A read that filled its buffer means more is waiting in the socket:
	 * the burst ends when a read comes back short (or empty), so a peer's
	 * entries are appended in groups as large as the owner takes, not one
	 * frame's worth each. libuv reads a stream at most TB_READS_PER_PASS
	 * times in a row before polling the others: the burst ends there too. */
	c->burst_open = true;
	if (nread > 0 && (size_t)nread == c->roffer && ++c->full_reads < TB_READS_PER_PASS)
		return;
	burst_end(c);
}

static int start(struct tb_conn *c)
{
	struct tb_node *n = c->node;
	int err = tb_noise_init(&c->hs, c->outbound ? TB_NOISE_INITIATOR : TB_NOISE_RESPONDER,
				(const uint8_t *)TB_PROLOGUE, strlen(TB_PROLOGUE), n->psk,
				n->noise_secret, NULL);
	if (err) {
		tb_conn_close(c, "cannot start the handshake");
		return err;
	}
	c->state = TB_CONN_HANDSHAKE;
	uv_tcp_nodelay(&c->tcp, 1);
	int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	if (rc) {
		tb_conn_close(c, uv_strerror(rc));
		return TB_EIO;
	}
	if (c->outbound) {
		uint8_t out[256];
		size_t olen;
		err = tb_noise_write(&c->hs, NULL, 0, out, sizeof out, &olen);
		if (!err)
			err = write_frame(c, out, olen, false);
		if (err)
			return err;
	}
	return 0;
}

int tb_conn_start_inbound(struct tb_conn *c)
{
	uv_timer_start(&c->timer, on_timer, TB_HANDSHAKE_MS, 0);
	return start(c);
}

static void on_connect(uv_connect_t *req, int status)
{
	struct tb_conn *c = req->data;
	if (c->state == TB_CONN_CLOSING)
		return;
	if (status < 0) {
		char why[160];
		snprintf(why, sizeof why, "cannot connect: %s", uv_strerror(status));
		tb_conn_close(c, why);
		return;
	}
	(void)start(c);
}

int tb_conn_dial(struct tb_conn *c, const struct sockaddr *sa)
{
	c->connect.data = c;
	uv_timer_start(&c->timer, on_timer, TB_HANDSHAKE_MS, 0);
	int rc = uv_tcp_connect(&c->connect, &c->tcp, sa, on_connect);
	if (rc) {
		tb_conn_close(c, uv_strerror(rc));
		return TB_EIO;
	}
	return 0;
}
