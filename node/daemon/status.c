/*
 * status.c (daemon): keeps DATA/status current for `tally peer list`:
 * configured peers and inbound ones, connected or not, last contact, and the
 * logs each peer lags behind on (counted; the most behind listed, a fixed
 * number, so the file stays small whatever peers claim). Writes are
 * debounced to one a second and only happen when something changed, so an
 * idle node stays idle.
 */
#include "daemon.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The logs held here of which the peer lacks entries: counted, and the
 * TB_STATUS_LOGS_MAX most behind listed (not every log the peer claims). */
static void fill_logs(struct tb_status_peer *sp, const struct tb_node *n, const struct tb_conn *c)
{
	sp->nlogs = sp->nbehind = 0;
	sp->logs = NULL;
	if (!c || !tb_repl_synced(c))
		return;
	struct tb_status_log top[TB_STATUS_LOGS_MAX];
	uint64_t lag[TB_STATUS_LOGS_MAX];
	size_t k = 0;
	for (size_t i = 0; i < n->nheads; i++) {
		uint64_t have = tb_known_get(c, n->heads[i].log_id);
		if (have >= n->heads[i].seq)
			continue;
		sp->nbehind++;
		uint64_t behind = n->heads[i].seq - have;
		if (k == TB_STATUS_LOGS_MAX && behind <= lag[k - 1])
			continue;
		size_t at = k < TB_STATUS_LOGS_MAX ? k++ : k - 1;
		while (at > 0 && lag[at - 1] < behind) {
			top[at] = top[at - 1];
			lag[at] = lag[at - 1];
			at--;
		}
		memcpy(top[at].log_id, n->heads[i].log_id, TB_KEY_LEN);
		top[at].peer_seq = have;
		lag[at] = behind;
	}
	if (!k || !(sp->logs = calloc(k, sizeof *sp->logs)))
		return;
	memcpy(sp->logs, top, k * sizeof *top);
	sp->nlogs = k;
}

void tb_node_status_write(struct tb_node *n)
{
	struct tb_status st = {0};
	memcpy(st.node_id, n->self, TB_KEY_LEN);
	snprintf(st.listen, sizeof st.listen, "%s", n->listen_addr[0] ? n->listen_addr : "-");
	st.written = (uint64_t)time(NULL);
	st.pid = (uint32_t)getpid();
	st.peers = calloc(n->npeers + n->nconns + 1, sizeof *st.peers);
	if (!st.peers)
		return;
	for (size_t i = 0; i < n->npeers; i++) {
		struct tb_peer *p = &n->peers[i];
		struct tb_status_peer *sp = &st.peers[st.npeers++];
		snprintf(sp->addr, sizeof sp->addr, "%.60s:%u", p->conf.host, p->conf.port);
		sp->has_id = p->seen || p->conf.has_id;
		memcpy(sp->id, p->seen ? p->seen_id : p->conf.id, TB_KEY_LEN);
		snprintf(sp->name, sizeof sp->name, "%s", p->name);
		sp->connected = p->conn && p->conn->state == TB_CONN_OPEN;
		sp->outbound = p->conn ? p->conn->outbound : true;
		sp->last_contact = p->last_contact;
		if (p->conn) {
			sp->bytes_in = p->conn->bytes_in;
			sp->bytes_out = p->conn->bytes_out;
		}
		fill_logs(sp, n, sp->connected ? p->conn : NULL);
	}
	for (struct tb_conn *c = n->conns; c; c = c->next) {
		if (c->peer || c->state != TB_CONN_OPEN)
			continue;
		struct tb_status_peer *sp = &st.peers[st.npeers++];
		snprintf(sp->addr, sizeof sp->addr, "%s", c->addr);
		sp->has_id = true;
		memcpy(sp->id, c->remote_id, TB_KEY_LEN);
		snprintf(sp->name, sizeof sp->name, "%s", c->remote_name);
		sp->connected = true;
		sp->outbound = false;
		sp->last_contact = (uint64_t)time(NULL);
		sp->bytes_in = c->bytes_in;
		sp->bytes_out = c->bytes_out;
		fill_logs(sp, n, c);
	}
	int err = tb_status_write(n->data, &st);
	if (err)
		tb_log(n, TB_LOG_WARN, "cannot write the status file: %s", tb_strerror(err));
	tb_status_free(&st);
}

static void on_status(uv_timer_t *t)
{
	struct tb_node *n = t->data;
	n->status_armed = false;
	tb_node_status_write(n);
}

void tb_node_status_dirty(struct tb_node *n)
{
	if (n->status_armed || n->stopping)
		return;
	n->status_armed = true;
	uv_timer_start(&n->status_timer, on_status, 1000, 0);
}
