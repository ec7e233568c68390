/*
 * http.c: the server's start: its configuration (the listening address,
 * the console's web root), every API route list put in the route table, and
 * the listening socket.
 */
#include "http_int.h"
#include "tb_node.h"
#include "tb_testhooks.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tb_http_parse_addr(struct tb_http_conf *conf, const char *arg)
{
	if (!strcmp(arg, "off")) {
		conf->host[0] = '\0';
		conf->port = 0;
		return 0;
	}
	return tb_addr_parse(arg, conf->host, sizeof conf->host, &conf->port);
}

void tb_http_default_root(char *out, size_t cap)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			char cand[4200];
			snprintf(cand, sizeof cand, "%s/../share/tally/web/index.html", exe);
			if (!access(cand, R_OK)) {
				snprintf(out, cap, "%s/../share/tally/web", exe);
				return;
			}
		}
	}
#ifdef TB_SOURCE_WEB
	if (!access(TB_SOURCE_WEB "/index.html", R_OK)) {
		snprintf(out, cap, "%s", TB_SOURCE_WEB);
		return;
	}
#endif
	snprintf(out, cap, "/usr/share/tally/web");
}

int tb_http_start(struct tb_http **out, const struct tb_http_host *host,
		  const struct tb_http_conf *conf, char *why, size_t cap)
{
	*out = NULL;
	struct tb_http *h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(why, cap, "out of memory");
		return TB_ENOMEM;
	}
	h->host = *host;
	h->conf = *conf;
	h->crash_at = tb_test_env("TALLYD_CRASH_AT");
	const char *life = tb_test_env("TALLYD_SESSION_SECONDS");
	h->session_life_s = life && atoi(life) > 0 ? (uint64_t)atoi(life) : TB_SESSION_LIFE_S;
	h->session_idle_s =
		h->session_life_s < TB_SESSION_IDLE_S ? h->session_life_s : TB_SESSION_IDLE_S;
	if (!conf->web_root[0] || !realpath(conf->web_root, h->web_real))
		h->web_real[0] = '\0';
	static int (*const lists[])(struct tb_http *) = {
		tb_api_session_routes,	     tb_api_read_routes,    tb_api_ledger_routes,
		tb_api_report_routes,	     tb_api_write_routes,   tb_api_events_routes,
		tb_api_category_routes,	     tb_api_fed_routes,	    tb_api_audit_routes,
		tb_api_member_signin_routes, tb_api_listing_routes, tb_api_member_invite_routes,
		tb_api_member_x_routes,	     tb_api_notify_routes,  tb_api_member_listing_routes,
		tb_api_member_keys_routes,   tb_api_xroute_routes,  tb_api_member_answer_routes,
	};
	int err = 0;
	for (size_t i = 0; !err && i < sizeof lists / sizeof lists[0]; i++)
		err = lists[i](h);
	if (err) {
		snprintf(why, cap, "too many HTTP routes");
		free(h);
		return err;
	}
	if ((err = tb_http_listen(h, why, cap))) {
		free(h);
		return err;
	}
	*out = h;
	return 0;
}
