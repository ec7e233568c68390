/*
 * conn.c: one peer connection: TCP via libuv, the Noise XXpsk3 handshake
 * with the federation key as PSK, the HELLO identity proof over the handshake
 * hash, then length-prefixed encrypted frames of at most 64 KiB. Every length
 * is checked before use; oversized, malformed, unauthenticated, late or
 * flooding input closes the connection with a logged reason. It never
 * crashes on input and never passes an unauthenticated byte upward.
 */
#include "daemon.h"

#include <stdlib.h>
#include <string.h>

#define TB_PROLOGUE "tally/1"

struct wreq {
	uv_write_t req;
	struct tb_conn *conn;
	size_t len;
	uint8_t data[];
};

static void on_close(uv_handle_t *h)
{
	struct tb_conn *c = h->data;
	if (--c->handles)
		return;
	tb_repl_conn_free(c);
	tb_wipe(&c->hs, sizeof c->hs);
	tb_wipe(&c->tx, sizeof c->tx);
	tb_wipe(&c->rx, sizeof c->rx);
	free(c->rbuf);
	free(c);
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

void tb_conn_close(struct tb_conn *c, const char *why)
{
	if (c->state == TB_CONN_CLOSING)
		return;
	enum tb_conn_state was = c->state;
	c->state = TB_CONN_CLOSING;
	tb_log(c->node, was == TB_CONN_OPEN ? TB_LOG_INFO : TB_LOG_WARN,
	       "%s %s closed: %s", c->outbound ? "to" : "from", c->addr, why);
	unlink_conn(c);
	if (c->peer) {
		struct tb_peer *p = c->peer;
		c->peer = NULL;
		p->conn = NULL;
		tb_peer_lost(p);
	}
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->tcp, on_close);
	uv_close((uv_handle_t *)&c->timer, on_close);
	tb_node_status_dirty(c->node);
}

struct tb_conn *tb_conn_new(struct tb_node *n, bool outbound, const char *addr)
{
	struct tb_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->rbuf = malloc(2 + TB_FRAME_MAX);
	if (!c->rbuf) {
		free(c);
		return NULL;
	}
	c->node = n;
	c->outbound = outbound;
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

static void on_write(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct tb_conn *c = w->conn;
	c->queued -= w->len;
	free(w);
	if (status < 0) {
		tb_conn_close(c, uv_strerror(status));
		return;
	}
	if (c->state == TB_CONN_OPEN && c->synced)
		tb_repl_pump(c);
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
	uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
	int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
	if (rc) {
		free(w);
		tb_conn_close(c, uv_strerror(rc));
		return TB_EIO;
	}
	c->queued += w->len;
	c->bytes_out += w->len;
	if (c->queued > 2 * TB_QUEUE_MAX) {
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

static void on_timer(uv_timer_t *t)
{
	struct tb_conn *c = t->data;
	uint64_t now = tb_now_ms(c->node);
	if (c->state != TB_CONN_OPEN) {
		tb_conn_close(c, "handshake did not finish in time");
		return;
	}
	if (now - c->last_rx > TB_IDLE_MS) {
		tb_conn_close(c, "idle: nothing received for too long");
		return;
	}
	if (!c->synced && now - c->opened > TB_KEEPALIVE_MS) {
		tb_conn_close(c, "the heads exchange did not finish in time");
		return;
	}
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
	return send_hello(c);
}

static int handshake_frame(struct tb_conn *c, const uint8_t *f, size_t len)
{
	uint8_t payload[256], out[256];
	size_t plen, olen;
	int err = tb_noise_read(&c->hs, f, len, payload, sizeof payload, &plen);
	if (err) {
		tb_conn_close(c, err == TB_EBADSIG
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
		tb_conn_close(c, "peer speaks another protocol version");
		return TB_EVERSION;
	}
	if (tb_verify(h->sig, h->node_id, TB_CTX_HANDSHAKE, proof, sizeof proof)) {
		tb_conn_close(c, "peer's identity proof does not verify");
		return TB_EBADSIG;
	}
	if (c->peer && c->peer->conf.has_id &&
	    memcmp(c->peer->conf.id, h->node_id, TB_KEY_LEN)) {
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
	c->state = TB_CONN_OPEN;
	c->opened = tb_now_ms(n);
	uv_timer_start(&c->timer, on_timer, TB_KEEPALIVE_MS, TB_KEEPALIVE_MS);
	if (tb_node_conn_open(n, c))
		return TB_EEXISTS;
	tb_repl_start(c);
	return 0;
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
	return tb_repl_receive(c, &m);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct tb_conn *c = h->data;
	size_t room = 2 + TB_FRAME_MAX - c->rlen;
	*buf = uv_buf_init((char *)c->rbuf + c->rlen, (unsigned)room);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	struct tb_conn *c = s->data;
	if (nread < 0) {
		tb_conn_close(c, nread != UV_EOF ? uv_strerror((int)nread)
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
		if (rc == 0)
			break; /* wait for the rest */
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
	tb_repl_flush(c);
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
