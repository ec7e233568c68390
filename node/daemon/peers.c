/*
 * peers.c: who tallyd talks to. It listens for inbound connections (capped
 * in number), dials every configured peer, redials lost ones with
 * exponential backoff (250 ms doubling to 30 s, reset once a handshake
 * succeeds), and keeps one connection per remote node: when two exist, the
 * one dialed by the node with the smaller id wins on both sides.
 */
#include "daemon.h"

#include <stdlib.h>
#include <string.h>

#define TB_BACKOFF_MIN 250
#define TB_BACKOFF_MAX 30000

static int resolve(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
	const char *h = strcmp(host, "localhost") ? host : "127.0.0.1";
	if (strchr(h, ':'))
		return uv_ip6_addr(h, port, (struct sockaddr_in6 *)ss) ? TB_EINVAL : 0;
	return uv_ip4_addr(h, port, (struct sockaddr_in *)ss) ? TB_EINVAL : 0;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct tb_node *n = server->data;
	if (status < 0) {
		tb_log(n, TB_LOG_WARN, "accept failed: %s", uv_strerror(status));
		return;
	}
	struct tb_conn *c = tb_conn_new(n, false, "?");
	if (!c)
		return;
	if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
		tb_conn_close(c, "accept failed");
		return;
	}
	struct sockaddr_storage ss;
	int len = sizeof ss;
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
		char ip[64] = "?";
		int port = 0;
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			uv_ip4_name(a, ip, sizeof ip);
			port = ntohs(a->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			uv_ip6_name(a, ip, sizeof ip);
			port = ntohs(a->sin6_port);
		}
		snprintf(c->addr, sizeof c->addr, "%s:%d", ip, port);
	}
	if (n->nconns > TB_CONNS_MAX) {
		tb_conn_close(c, "too many connections");
		return;
	}
	tb_log(n, TB_LOG_DEBUG, "connection from %s", c->addr);
	(void)tb_conn_start_inbound(c);
}

int tb_node_listen(struct tb_node *n, const char *addr)
{
	char host[TB_ADDR_MAX];
	uint16_t port;
	struct sockaddr_storage ss;
	if (tb_addr_parse(addr, host, sizeof host, &port) || resolve(host, port, &ss)) {
		tb_log(n, TB_LOG_ERROR, "--listen %s: not an ADDR:PORT", addr);
		return TB_EINVAL;
	}
	uv_tcp_init(n->loop, &n->listener);
	n->listener.data = n;
	int rc = uv_tcp_bind(&n->listener, (struct sockaddr *)&ss, 0);
	if (!rc)
		rc = uv_listen((uv_stream_t *)&n->listener, 128, on_connection);
	if (rc) {
		tb_log(n, TB_LOG_ERROR, "cannot listen on %s: %s", addr, uv_strerror(rc));
		return TB_EIO;
	}
	snprintf(n->listen_addr, sizeof n->listen_addr, "%s", addr);
	tb_log(n, TB_LOG_INFO, "listening on %s", addr);
	return 0;
}

static void on_retry(uv_timer_t *t)
{
	tb_peer_dial(t->data);
}

void tb_peer_dial(struct tb_peer *p)
{
	struct tb_node *n = p->node;
	if (p->conn || n->stopping)
		return;
	char addr[TB_ADDR_MAX + 8];
	snprintf(addr, sizeof addr, "%s:%u", p->conf.host, p->conf.port);
	struct sockaddr_storage ss;
	if (resolve(p->conf.host, p->conf.port, &ss)) {
		tb_log(n, TB_LOG_ERROR, "peer %s: not an address", addr);
		return;
	}
	struct tb_conn *c = tb_conn_new(n, true, addr);
	if (!c)
		return;
	c->peer = p;
	p->conn = c;
	tb_log(n, TB_LOG_DEBUG, "dialing %s", addr);
	(void)tb_conn_dial(c, (struct sockaddr *)&ss);
}

void tb_peer_lost(struct tb_peer *p)
{
	struct tb_node *n = p->node;
	if (n->stopping)
		return;
	if (!p->backoff)
		p->backoff = TB_BACKOFF_MIN;
	uint64_t wait = p->backoff;
	/* Jitter of up to a quarter spreads reconnect storms. */
	wait += (uint64_t)rand() % (wait / 4 + 1);
	p->backoff = p->backoff * 2 > TB_BACKOFF_MAX ? TB_BACKOFF_MAX : p->backoff * 2;
	uv_timer_start(&p->retry, on_retry, wait, 0);
}

/* The id of the node that dialed c. */
static const uint8_t *initiator(struct tb_node *n, struct tb_conn *c)
{
	return c->outbound ? n->self : c->remote_id;
}

int tb_node_conn_open(struct tb_node *n, struct tb_conn *c)
{
	for (struct tb_conn *o = n->conns; o; o = o->next) {
		if (o == c || o->state != TB_CONN_OPEN ||
		    memcmp(o->remote_id, c->remote_id, TB_KEY_LEN))
			continue;
		/* Two connections to one node: keep the one whose dialer has
		 * the smaller id; both sides choose the same. */
		struct tb_conn *lose =
			memcmp(initiator(n, c), initiator(n, o), TB_KEY_LEN) < 0 ? o : c;
		if (lose == c && c->peer && o->peer == NULL) {
			/* Our dial duplicates an inbound link: park the peer on it. */
			o->peer = c->peer;
			c->peer->conn = o;
			c->peer = NULL;
		} else if (lose == o && o->peer && c->peer == NULL) {
			c->peer = o->peer;
			o->peer->conn = c;
			o->peer = NULL;
		}
		tb_conn_close(lose, "duplicate connection to the same node");
		if (lose == c)
			return TB_EEXISTS;
	}
	if (c->peer) {
		c->peer->backoff = 0;
		c->peer->seen = true;
		memcpy(c->peer->seen_id, c->remote_id, TB_KEY_LEN);
		snprintf(c->peer->name, sizeof c->peer->name, "%s", c->remote_name);
	}
	tb_log(n, TB_LOG_INFO, "%s %s open: node %02x%02x%02x%02x (%s)",
	       c->outbound ? "to" : "from", c->addr, c->remote_id[0], c->remote_id[1],
	       c->remote_id[2], c->remote_id[3], c->remote_name);
	tb_node_status_dirty(n);
	return 0;
}
