/*
 * http.c (daemon side): the glue between tallyd and its HTTP server
 * (node/http/): what the server may use of the node (store, community key,
 * log, "the store changed", "send the digests due"). The announcements of logs that grew are
 * heads.c's.
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

static int http_digest_run(void *ctx, size_t *queued)
{
	return tb_digest_run(ctx, queued);
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
		.digest_run = n->digests ? http_digest_run : NULL,
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
