/*
 * http.c (daemon side): the glue between tallyd and its HTTP server
 * (node/http/): what the server may use of the node (store, community key,
 * log, "the store changed"), and the announcements of logs that grew, found
 * by comparing the heads of two scans.
 */
#include "daemon.h"

#include <string.h>

static void http_log(void *ctx, int level, const char *line)
{
	tb_log(ctx, (enum tb_loglevel)level, "%s", line);
}

static void http_changed(void *ctx)
{
	tb_node_store_changed(ctx);
}

int tb_node_http_start(struct tb_node *n, const struct tb_http_conf *conf, bool given)
{
	if (!conf->host[0])
		return 0;
	struct tb_http_host host = {
		.loop = n->loop,
		.store = n->store,
		.key = &n->key,
		.self = n->self,
		.data = n->data,
		.ctx = n,
		.log = http_log,
		.changed = http_changed,
	};
	char why[256];
	int err = tb_http_start(&n->http, &host, conf, why, sizeof why);
	if (err && !given) {
		tb_log(n, TB_LOG_WARN, "%s; running without the console (give --http ADDR:PORT)",
		       why);
		return 0;
	}
	if (err) {
		tb_log(n, TB_LOG_ERROR, "%s", why);
		return err;
	}
	tb_log(n, TB_LOG_INFO, "console and API on http://%s%s%s:%u/ (files from %s)",
	       strchr(conf->host, ':') ? "[" : "", conf->host, strchr(conf->host, ':') ? "]" : "",
	       (unsigned)conf->port, conf->web_root[0] ? conf->web_root : "nowhere");
	return 0;
}

void tb_node_http_heads(struct tb_node *n, const struct tb_head *old, size_t nold,
			const struct tb_head *now, size_t nnow)
{
	if (!n->http)
		return;
	size_t i = 0;
	for (size_t j = 0; j < nnow; j++) {
		while (i < nold && memcmp(old[i].log_id, now[j].log_id, TB_KEY_LEN) < 0)
			i++;
		bool same = i < nold && !memcmp(old[i].log_id, now[j].log_id, TB_KEY_LEN);
		if (!same || old[i].seq != now[j].seq)
			tb_http_announce(n->http, now[j].log_id, now[j].seq);
	}
}
