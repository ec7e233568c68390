/*
 * peers.c: who tallyd talks to. It listens for inbound connections, dials
 * every configured peer, redials lost ones with exponential backoff (250 ms
 * doubling to 30 s, reset once a handshake succeeds), and keeps one
 * connection per remote node: when two exist, the one dialed by the node
 * with the smaller id wins on both sides.
 *
 * Inbound connections are capped in two classes. Before authentication (no
 * federation key proven yet): TB_PREAUTH_MAX in all and TB_PREAUTH_PER_ADDR
 * per address, and when a cap is reached the oldest such connection (of
 * that address; one that sent nothing yet before one that did) gives way to
 * the new one, so an outsider reconnecting without the key only churns
 * those slots while an honest handshake, which takes a round trip or two,
 * completes. Authenticated inbound peers:
 * TB_PEERS_IN_MAX, where a pinned peer takes the place of the oldest
 * unpinned one. Connections we dial are in neither class: they always go
 * out.
 *
 * It owns the connections: conn.c reports to it only through the callbacks
 * at the end of this file, which hand messages to replication and tidy up
 * (the ingest batch, the peer's redial) once a connection is closed.
 */
#include "daemon.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define TB_BACKOFF_MIN 250
#define TB_BACKOFF_MAX 30000

static int resolve(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
	const char *h = strcmp(host, "localhost") ? host : "127.0.0.1";
	if (strchr(h, ':'))
		return uv_ip6_addr(h, port, (struct sockaddr_in6 *)ss) ? TB_EINVAL : 0;
	return uv_ip4_addr(h, port, (struct sockaddr_in *)ss) ? TB_EINVAL : 0;
}

/* Whether the peer has said anything: read already, or waiting in the
 * socket (a burst of accepts comes before any read). */
static bool spoke(struct tb_conn *c)
{
	if (c->bytes_in)
		return true;
	uv_os_fd_t fd;
	int pending = 0;
	if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 && ioctl(fd, FIONREAD, &pending) == 0 &&
	    pending > 0)
		c->spoke = true;
	return c->spoke;
}

/*
 * The inbound connection not yet authenticated (of address ip if not NULL)
 * other than c that gives way first, and how many there are: one that has
 * sent nothing at all before one that has, the oldest among those.
 */
static struct tb_conn *oldest_preauth(struct tb_node *n, const struct tb_conn *c, const char *ip,
				      size_t *count)
{
	struct tb_conn *old = NULL, *silent = NULL;
	*count = 0;
	for (struct tb_conn *o = n->conns; o; o = o->next) {
		if (o == c || !o->preauth || o->state == TB_CONN_CLOSING)
			continue;
		if (ip && strcmp(o->ip, ip))
			continue;
		(*count)++;
		/* The list runs newest first: on a tie the later one is older. */
		if (!old || o->started <= old->started)
			old = o;
		if (!o->bytes_in && !o->spoke && (!silent || o->started <= silent->started))
			silent = o;
	}
	/* The oldest silent one, unless its first bytes wait unread. */
	while (silent && spoke(silent)) {
		struct tb_conn *next = NULL;
		for (struct tb_conn *o = n->conns; o; o = o->next)
			if (o != c && o->preauth && o->state != TB_CONN_CLOSING &&
			    (!ip || !strcmp(o->ip, ip)) && !o->bytes_in && !o->spoke &&
			    (!next || o->started <= next->started))
				next = o;
		silent = next;
	}
	return silent ? silent : old;
}

/* Room for the new inbound connection c among those not authenticated. */
static void preauth_room(struct tb_node *n, struct tb_conn *c)
{
	size_t same;
	struct tb_conn *old = oldest_preauth(n, c, c->ip, &same);
	if (same >= TB_PREAUTH_PER_ADDR) {
		tb_conn_close(old, "too many connections before authentication from this "
				   "address: it gives way to a newer one");
		return;
	}
	if (n->npreauth > TB_PREAUTH_MAX && (old = oldest_preauth(n, c, NULL, &same)))
		tb_conn_close(old, "too many connections before authentication: it gives way "
				   "to a newer one");
}

static const struct tb_conn_events conn_events;

struct tb_conn *tb_node_conn_new(struct tb_node *n, bool outbound, const char *addr)
{
	return tb_conn_new(n, outbound, addr, &conn_events);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct tb_node *n = server->data;
	if (status < 0) {
		tb_log(n, TB_LOG_WARN, "accept failed: %s", uv_strerror(status));
		return;
	}
	struct tb_conn *c = tb_node_conn_new(n, false, "?");
	if (!c)
		return;
	if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
		tb_conn_close(c, "accept failed");
		return;
	}
	struct sockaddr_storage ss;
	int len = sizeof ss;
	snprintf(c->ip, sizeof c->ip, "?");
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
		snprintf(c->ip, sizeof c->ip, "%s", ip);
	}
	preauth_room(n, c);
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
	struct tb_conn *c = tb_node_conn_new(n, true, addr);
	if (!c)
		return;
	c->peer = p;
	p->conn = c;
	tb_log(n, TB_LOG_DEBUG, "dialing %s", addr);
	(void)tb_conn_dial(c, (struct sockaddr *)&ss);
}

static void peer_lost(struct tb_peer *p)
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

/* A configured peer pinned this node id. */
static bool pinned(const struct tb_node *n, const uint8_t *id)
{
	for (size_t i = 0; i < n->npeers; i++)
		if (n->peers[i].conf.has_id && !memcmp(n->peers[i].conf.id, id, TB_KEY_LEN))
			return true;
	return false;
}

/* The authenticated inbound cap: 0, or c was refused. */
static int inbound_cap(struct tb_node *n, struct tb_conn *c)
{
	size_t open = 0;
	struct tb_conn *old = NULL;
	for (struct tb_conn *o = n->conns; o; o = o->next) {
		if (o == c || o->outbound || o->state != TB_CONN_OPEN)
			continue;
		open++;
		if (!pinned(n, o->remote_id) && (!old || o->opened <= old->opened))
			old = o;
	}
	if (open < TB_PEERS_IN_MAX)
		return 0;
	if (pinned(n, c->remote_id) && old) {
		tb_conn_close(old, "too many peers: a pinned peer takes the place of the oldest");
		return 0;
	}
	tb_conn_close(c, "too many peers");
	return TB_EFULL;
}

/* A connection became OPEN: caps, deduplication, contact. 0 or closed. */
static int conn_open(struct tb_node *n, struct tb_conn *c)
{
	if (!c->outbound && inbound_cap(n, c))
		return TB_EFULL;
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

/* ---- what the node's connections report (tb_conn_events) ---- */

static int conn_opened(struct tb_conn *c)
{
	if (conn_open(c->node, c))
		return TB_EEXISTS;
	return tb_repl_start(c);
}

/* A message, or (m NULL) the end of a read burst: append what it brought. */
static int conn_message(struct tb_conn *c, const struct tb_peer_msg *m)
{
	if (!m) {
		tb_repl_flush(c);
		return 0;
	}
	return tb_repl_receive(c, m);
}

static void conn_drained(struct tb_conn *c)
{
	if (tb_repl_synced(c))
		tb_repl_pump(c);
}

static size_t conn_closed(struct tb_conn *c)
{
	tb_repl_conn_closed(c);
	if (c->peer) {
		struct tb_peer *p = c->peer;
		c->peer = NULL;
		p->conn = NULL;
		peer_lost(p);
	}
	tb_node_status_dirty(c->node);
	return tb_repl_free(c);
}

static const struct tb_conn_events conn_events = {
	.opened = conn_opened,
	.message = conn_message,
	.drained = conn_drained,
	.closed = conn_closed,
};

void tb_node_free_tables(struct tb_node *n)
{
	tb_store_free(n->store);
	n->store = NULL;
	free(n->heads);
	free(n->forks);
	tb_admitted_free(&n->admitted);
	free(n->ingest);
	free(n->ingest_recs);
	free(n->ingest_placed);
	free(n->cps);
	free(n->cps_len);
	free(n->cps_from);
	free(n->peers);
	n->heads = NULL;
	n->forks = NULL;
	n->ingest = NULL;
	n->ingest_recs = NULL;
	n->ingest_placed = NULL;
	n->cps = NULL;
	n->cps_len = NULL;
	n->cps_from = NULL;
	n->peers = NULL;
}
