/*
 * cmd_federation.c: the federation side of the command line: the shared
 * federation key (`tally federation create|join`), the peer list (`tally
 * peer add|list`), the logs held (`tally logs`) and fork proofs (`tally
 * forks`). Connection state comes from the status file tallyd keeps; the
 * command line never talks to peers itself.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tb_node.h"

int tb_cmd_federation_create(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, 0, 'o'}, {0, 0, 0, 0}};
	const char *out = NULL;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "federation", "create")) != -1) {
		if (c != 'o')
			return TB_EXIT_USAGE;
		out = optarg;
	}
	if (!out || optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally federation create --out FILE");
	int err = tb_fedkey_create(out);
	if (err == TB_EEXISTS)
		return tb_cli_fail(TB_EXIT_USAGE, "%s exists; not overwriting a federation key",
				   out);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot write %s: %s", out, tb_strerror(err));
	if (cli->json) {
		printf("{\"file\":");
		tb_json_str(stdout, out, strlen(out));
		printf("}\n");
	} else
		printf("federation key written to %s: give it, privately, to each community of the "
		       "federation ('tally federation join %s')\n",
		       out, out);
	return TB_EXIT_OK;
}

int tb_cli_federation_install(struct tb_cli *cli, const char *file)
{
	int err = tb_fedkey_install(cli->data, file);
	if (err == TB_ENOTFOUND)
		return tb_cli_fail(TB_EXIT_USAGE, "no federation key file at %s", file);
	if (err == TB_EKEYFILE)
		return tb_cli_fail(TB_EXIT_USAGE, "%s is not a federation key file", file);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot install the federation key: %s",
				   tb_strerror(err));
	return 0;
}

int tb_cmd_federation_join(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, "federation", "join") != -1 || argc - optind != 1)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally federation join FILE");
	int rc = tb_cli_open(cli, false);
	if (rc || (rc = tb_cli_federation_install(cli, argv[optind])))
		return rc;
	if (cli->json)
		printf("{\"joined\":true}\n");
	else
		printf("federation key installed; restart tallyd to use it\n");
	return TB_EXIT_OK;
}

int tb_cmd_peer_add(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"id", required_argument, 0, 'i'}, {0, 0, 0, 0}};
	struct tb_peer_conf p = {0};
	const char *id = NULL;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "peer", "add")) != -1) {
		if (c != 'i')
			return TB_EXIT_USAGE;
		id = optarg;
	}
	if (argc - optind != 1)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally peer add HOST:PORT [--id NODE_ID]");
	if (tb_addr_parse(argv[optind], p.host, sizeof p.host, &p.port))
		return tb_cli_fail(TB_EXIT_USAGE, "'%s' is not HOST:PORT", argv[optind]);
	if (id) {
		if (tb_hex_decode(p.id, TB_KEY_LEN, id))
			return tb_cli_fail(TB_EXIT_USAGE, "--id needs a node id (64 hex digits)");
		p.has_id = true;
	}
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	int err = tb_peers_add(cli->data, &p);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot update %s/peers: %s", cli->data,
				   tb_strerror(err));
	if (cli->json) {
		printf("{\"peer\":");
		tb_json_str(stdout, argv[optind], strlen(argv[optind]));
		printf("}\n");
	} else
		printf("peer %s added%s; tallyd dials it when it next starts\n", argv[optind],
		       id ? " (identity pinned)" : "");
	/* Pinning is the transport's; admission is the ledger's: say so when
	 * the pinned community's log would not be stored here. */
	struct tb_admitted adm;
	if (id && !cli->json && tb_store_admitted(cli->store, &adm) == 0) {
		if (!tb_admitted_has(&adm, p.id))
			printf("note: community %s is not admitted here, so its log is not stored "
			       "(the peer still relays what both admit); 'tally community admit "
			       "%s --name NAME' admits it\n",
			       id, id);
		tb_admitted_free(&adm);
	}
	return TB_EXIT_OK;
}

/* Our seq of a log, for lag. */
static uint64_t our_seq(struct tb_cli *cli, const uint8_t *log_id)
{
	struct tb_head h;
	return tb_store_head(cli->store, log_id, &h) ? 0 : h.seq;
}

/* One log a peer holds: how far behind our copy it is. */
static void print_peer_log(struct tb_cli *cli, const struct tb_status_log *l)
{
	uint64_t mine = our_seq(cli, l->log_id);
	uint64_t behind = mine > l->peer_seq ? mine - l->peer_seq : 0;
	char lid[17];
	tb_hex_encode(lid, l->log_id, 8);
	struct tb_community com = {0};
	(void)!tb_store_community(cli->store, l->log_id, &com);
	printf("    log %s %-14s peer has %llu of %llu (behind %llu)\n", lid, com.name,
	       (unsigned long long)l->peer_seq, (unsigned long long)mine,
	       (unsigned long long)behind);
}

/* One peer of the list, with the logs it is behind on. */
static void print_peer(struct tb_cli *cli, const struct tb_status_peer *p)
{
	char id[2 * TB_KEY_LEN + 1] = "-", when[32] = "never";
	if (p->has_id)
		tb_hex_encode(id, p->id, TB_KEY_LEN);
	if (p->last_contact) {
		time_t t = (time_t)p->last_contact;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	printf("%s  %-21s %-12s %-13s last contact %s\n    id %s\n", p->connected ? "*" : " ",
	       p->addr, p->name[0] ? p->name : "?", p->connected ? "connected" : "disconnected",
	       when, id);
	for (size_t k = 0; k < p->nlogs; k++)
		print_peer_log(cli, &p->logs[k]);
	if (p->nbehind > p->nlogs)
		printf("    ... and %zu more logs behind\n", p->nbehind - p->nlogs);
}

/* --json: the API's peer object (GET /api/v1/peers), its logs the ones
 * the status file lists (those the peer is behind on), and how many logs
 * it is behind on in all. */
static struct tb_json *peer_json(struct tb_cli *cli, const struct tb_status_peer *p)
{
	struct tb_json *logs = tb_json_array();
	for (size_t k = 0; k < p->nlogs && logs; k++) {
		const struct tb_status_log *l = &p->logs[k];
		struct tb_community com;
		bool named = tb_store_community(cli->store, l->log_id, &com) == 0;
		if (tb_json_push(logs, tb_vocab_peer_log(l->log_id, named ? com.name : NULL,
							 l->peer_seq, our_seq(cli, l->log_id)))) {
			tb_json_free(logs);
			logs = NULL;
		}
	}
	struct tb_vocab_peer_in in = {
		p->addr,     p->has_id ? p->id : NULL, p->name,	    p->connected,
		p->outbound, p->last_contact,	       p->bytes_in, p->bytes_out};
	struct tb_json *o = tb_vocab_peer(&in, logs);
	if (o && tb_json_set(o, "logs_behind", tb_json_int((int64_t)p->nbehind))) {
		tb_json_free(o);
		o = NULL;
	}
	return o;
}

static void say_daemon(struct tb_cli *cli, bool have, bool running, uint32_t pid)
{
	if (!running)
		printf("tallyd is not running on %s: no peer is connected%s\n", cli->data,
		       have ? " (last contacts as it left them)" : "");
	else if (!have)
		printf("tallyd (pid %u) has not written a status yet\n", pid);
	else
		printf("tallyd is running (pid %u)\n", pid);
}

/* {"daemon_status": whether tallyd wrote a status file, "daemon_running",
 * "daemon_pid" (null when not running), "peers": [peer...]}, taking arr. */
static int print_peers(struct tb_json *arr, bool have, uint32_t pid)
{
	struct tb_json *o = tb_json_object();
	int err = tb_json_set(o, "daemon_status", tb_json_bool(have));
	err |= tb_json_set(o, "daemon_running", tb_json_bool(pid != 0));
	err |= tb_json_set(o, "daemon_pid", pid ? tb_json_int(pid) : tb_json_null());
	err |= tb_json_set(o, "peers", arr);
	if (err) {
		tb_json_free(o);
		o = NULL;
	}
	return tb_cli_print_json(o, 0, "the peers");
}

int tb_cmd_peer_list(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, "peer", "list") != -1 || optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally peer list");
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	struct tb_peer_conf *conf = calloc(TB_PEERS_MAX, sizeof *conf);
	size_t nconf = 0;
	int line;
	int err = conf ? tb_peers_load(cli->data, conf, TB_PEERS_MAX, &nconf, &line) : TB_ENOMEM;
	if (err) {
		free(conf);
		return tb_cli_fail(TB_EXIT_IO, "%s/peers line %d: %s", cli->data, line,
				   tb_strerror(err));
	}
	struct tb_status st;
	bool have = tb_status_read(cli->data, &st) == 0;
	/* The status file outlives its daemon: the kernel's lock says whether
	 * the tallyd that wrote it still runs. */
	uint32_t pid = 0;
	bool running = tb_daemon_running(cli->data, &pid) && (!have || pid == st.pid);
	struct tb_json *arr = cli->json ? tb_json_array() : NULL;
	if (!cli->json)
		say_daemon(cli, have, running, pid);
	size_t shown = 0;
	for (size_t i = 0; i < (have ? st.npeers : nconf); i++) {
		struct tb_status_peer fake = {0}, *p = have ? &st.peers[i] : &fake;
		if (!have) {
			snprintf(fake.addr, sizeof fake.addr, "%.60s:%u", conf[i].host,
				 conf[i].port);
			fake.has_id = conf[i].has_id;
			fake.outbound = true;
			memcpy(fake.id, conf[i].id, TB_KEY_LEN);
		}
		if (!running) {
			p->connected = false;
			p->nlogs = 0;
		}
		if (!cli->json)
			print_peer(cli, p);
		else if (arr && tb_json_push(arr, peer_json(cli, p)))
			arr = NULL; /* the push freed it */
		shown++;
	}
	if (!cli->json && !shown)
		printf("no peers (add one with 'tally peer add HOST:PORT')\n");
	if (have)
		tb_status_free(&st);
	free(conf);
	if (cli->json)
		return print_peers(arr, have, running ? pid : 0);
	return TB_EXIT_OK;
}

static int logs_one(void *vctx, const struct tb_head *h)
{
	struct tb_cli *cli = vctx;
	struct tb_community c = {0};
	(void)!tb_store_community(cli->store, h->log_id, &c);
	char id[2 * TB_KEY_LEN + 1], hh[2 * TB_HASHLEN + 1];
	tb_hex_encode(id, h->log_id, TB_KEY_LEN);
	tb_hex_encode(hh, h->hash, TB_HASHLEN);
	bool own = !memcmp(h->log_id, cli->self, TB_KEY_LEN);
	bool forked = h->flags & TB_LOG_FORKED;
	printf("%s %-16s %8llu  %.16s  %s%s\n", id, c.name, (unsigned long long)h->seq, hh,
	       own ? "(ours)" : "", forked ? " FORKED" : "");
	return 0;
}

int tb_cmd_logs(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, NULL, "logs") != -1 || optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally logs");
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	int err;
	if (cli->json) { /* GET /api/v1/logs */
		struct tb_json *o = tb_vocab_logs(cli->store, cli->self, &err);
		return tb_cli_print_json(o, err, "the logs");
	}
	printf("%-64s %-16s %8s  %-16s\n", "log (community node id)", "community", "entries",
	       "head");
	err = tb_store_foreach_log(cli->store, logs_one, cli);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot list logs: %s", tb_strerror(err));
	return TB_EXIT_OK;
}

struct forks_ctx {
	struct tb_cli *cli;
	size_t n;
};

static int forks_one(void *vctx, const uint8_t log_id[TB_KEY_LEN], uint64_t seq, struct tb_view a,
		     struct tb_view b)
{
	struct forks_ctx *f = vctx;
	uint8_t ha[TB_HASHLEN], hb[TB_HASHLEN];
	tb_entry_hash(ha, a.p, a.len);
	tb_entry_hash(hb, b.p, b.len);
	struct tb_community c = {0};
	(void)!tb_store_community(f->cli->store, log_id, &c);
	char id[2 * TB_KEY_LEN + 1], x[17], y[17];
	tb_hex_encode(id, log_id, TB_KEY_LEN);
	tb_hex_encode(x, ha, 8);
	tb_hex_encode(y, hb, 8);
	if (a.len && a.p[0] == 0x94) /* a checkpoint proof (FORMAT.md appendix A) */
		printf("FORK log %s (%s) at seq %llu: its signed checkpoint of %llu entries "
		       "contradicts the entries held, up to the one of hash %s...\n",
		       id, c.name[0] ? c.name : "?", (unsigned long long)seq,
		       (unsigned long long)seq, y);
	else
		printf("FORK log %s (%s) at seq %llu: two signed entries, hashes %s... and "
		       "%s...\n",
		       id, c.name[0] ? c.name : "?", (unsigned long long)seq, x, y);
	f->n++;
	return 0;
}

int tb_cmd_forks(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, NULL, "forks") != -1 || optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally forks");
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	int err;
	if (cli->json) { /* GET /api/v1/forks */
		struct tb_json *o = tb_vocab_forks(cli->store, cli->self, &err);
		return tb_cli_print_json(o, err, "the forks");
	}
	struct forks_ctx f = {cli, 0};
	err = tb_store_foreach_fork(cli->store, forks_one, &f);
	if (!f.n)
		printf("no forks: every log held has one history\n");
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot list forks: %s", tb_strerror(err));
	return TB_EXIT_OK;
}
