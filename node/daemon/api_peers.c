/*
 * api_peers.c: GET /api/v1/peers (docs/API.md 7), the federation as this
 * running node sees it: every configured peer and every inbound one, whether
 * it is connected, when it was last heard from, the bytes it sent and was
 * sent on the current connection, and per log held here what
 * the peer holds of it and how far it lags. It reads the node's own state
 * (the same that DATA/status gives `tally peer list`) and changes nothing.
 * The list is as long as the peers and the logs held, both capped by the node.
 */
#include "daemon.h"

#include <string.h>

static struct tb_json *peer_logs(struct tb_node *n, const struct tb_conn *c)
{
	struct tb_json *arr = tb_json_array();
	if (!c || !tb_repl_synced(c))
		return arr;
	for (size_t i = 0; i < n->nheads && arr; i++) {
		const struct tb_head *h = &n->heads[i];
		uint64_t theirs = tb_known_get(c, h->log_id);
		struct tb_community com;
		bool named = tb_store_community(n->store, h->log_id, &com) == 0;
		struct tb_json *o =
			tb_vocab_peer_log(h->log_id, named ? com.name : NULL, theirs, h->seq);
		if (tb_json_push(arr, o)) {
			tb_json_free(arr);
			arr = NULL;
		}
	}
	return arr;
}

static struct tb_json *peer_obj(struct tb_node *n, const char *addr, const struct tb_conn *c,
				const uint8_t *id, const char *name, bool outbound,
				uint64_t last_contact)
{
	bool open = c && c->state == TB_CONN_OPEN;
	if (open) {
		id = c->remote_id;
		name = c->remote_name;
	}
	struct tb_vocab_peer_in in = {addr,
				      id,
				      name,
				      open,
				      outbound,
				      last_contact,
				      open ? c->bytes_in : 0,
				      open ? c->bytes_out : 0};
	return tb_vocab_peer(&in, peer_logs(n, c));
}

static void on_peers(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	(void)req;
	struct tb_node *n = ctx;
	struct tb_json *arr = tb_json_array();
	int err = arr ? 0 : TB_ENOMEM;
	for (size_t i = 0; i < n->npeers && !err; i++) {
		const struct tb_peer *p = &n->peers[i];
		char addr[TB_ADDR_MAX + 8];
		snprintf(addr, sizeof addr, "%s:%u", p->conf.host, (unsigned)p->conf.port);
		const uint8_t *id = p->conf.has_id ? p->conf.id : p->seen ? p->seen_id : NULL;
		err = tb_json_push(arr,
				   peer_obj(n, addr, p->conn, id, p->name, true, p->last_contact));
	}
	for (const struct tb_conn *c = n->conns; c && !err; c = c->next)
		if (!c->outbound)
			err = tb_json_push(arr, peer_obj(n, c->addr, c, NULL, NULL, false, 0));
	if (err) {
		tb_json_free(arr);
		tb_http_fail(resp, err, NULL);
		return;
	}
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "peers", arr);
	tb_http_json(resp, 200, o);
}

int tb_node_peers_route(struct tb_node *n)
{
	if (!n->http)
		return 0;
	const struct tb_route r = {"GET", "/api/v1/peers", 0, TB_ROLE_VIEWER, on_peers, n};
	return tb_http_route(n->http, &r);
}
