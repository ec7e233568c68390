/*
 * main.c: tallyd, the community's node daemon. It opens the data directory's
 * ledger and keys, listens for peers, dials the configured ones, replicates
 * logs, watches the store for entries recorded by the command line, and
 * shuts down cleanly on SIGINT or SIGTERM (connections closed, store
 * closed). Everything it owns hangs off one struct tb_node.
 */
#include "daemon.h"
#include "tb_file.h"
#include "tb_testhooks.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void walk_close(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void stop(struct tb_node *n, const char *why)
{
	if (n->stopping)
		return;
	tb_log(n, TB_LOG_INFO, "stopping (%s)", why);
	tb_notify_stopping(n);
	tb_node_status_write(n);
	n->stopping = true;
	tb_http_stop(n->http);
	n->http = NULL;
	tb_digest_stop(n);
	while (n->conns) {
		struct tb_conn *c = n->conns;
		struct tb_peer_msg m = {.type = TB_MSG_BYE};
		m.u.bye.reason.p = (const uint8_t *)"shutting down";
		m.u.bye.reason.len = 13;
		if (c->state == TB_CONN_OPEN)
			(void)!tb_conn_send(c, &m);
		tb_conn_close(c, "shutting down");
	}
	for (size_t i = 0; i < n->npeers; i++)
		uv_timer_stop(&n->peers[i].retry);
	uv_walk(n->loop, walk_close, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	stop(s->data, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/*
 * Another process's commit (tally's) makes its new state visible in
 * lock.mdb only after its last write to data.mdb, the last event we get: a
 * scan in between sees the old heads, and nothing would announce the new
 * ones. So once a store's events stop, rescan at growing intervals (heads
 * only; nothing is sent unless they moved).
 */
static void on_settle(uv_timer_t *t)
{
	struct tb_node *n = t->data;
	if (n->stopping)
		return;
	(void)tb_node_scan(n);
	if (n->settle_ms < 3200) {
		n->settle_ms *= 2;
		uv_timer_start(&n->settle_timer, on_settle, n->settle_ms, 0);
	}
}

/* Every interval, if the own log grew, sign a checkpoint and spread it. */
static void on_checkpoint(uv_timer_t *t)
{
	struct tb_node *n = t->data;
	struct tb_head h;
	if (n->restored || tb_store_head(n->store, n->self, &h) || h.seq == n->checkpointed)
		return;
	uint8_t cp[TB_CHECKPOINT_MAX];
	size_t len;
	int err = tb_store_checkpoint_make(n->store, &n->key, cp, sizeof cp, &len);
	if (err) {
		tb_log(n, TB_LOG_WARN, "cannot sign a checkpoint: %s", tb_strerror(err));
		return;
	}
	n->checkpointed = h.seq;
	tb_log(n, TB_LOG_DEBUG, "signed a checkpoint at %llu entries", (unsigned long long)h.seq);
	tb_http_announce_checkpoint(n->http, n->self, h.seq);
	tb_node_checkpoint_spread(n, NULL, cp, len);
}

static void on_watch(uv_fs_event_t *h, const char *file, int events, int status)
{
	(void)file;
	(void)events;
	(void)status;
	struct tb_node *n = h->data;
	tb_node_store_changed(n);
	if (!n->stopping) {
		n->settle_ms = 2;
		uv_timer_start(&n->settle_timer, on_settle, n->settle_ms, 0);
	}
}

/* The passphrase: --passphrase-file, else the systemd credential named
 * 'passphrase' (LoadCredential=, never on a command line or in the
 * environment), else TALLY_PASSPHRASE; never cut (tb_passphrase_read). */
static int read_pass(const char *file, char out[TB_PASSPHRASE_MAX + 1], size_t *len)
{
	char cred[4200];
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	if (!file && dir && *dir) {
		snprintf(cred, sizeof cred, "%s/passphrase", dir);
		if (access(cred, R_OK) == 0)
			file = cred;
	}
	/* No terminal: a daemon's stdin is rarely one, and never waited on. */
	return tb_passphrase_read(file, false, NULL, "TALLY_PASSPHRASE", out, len);
}

static void on_restore_timer(uv_timer_t *t)
{
	tb_node_restore_check(t->data);
}

/* A ledger restored from a backup signs nothing until its peers gave back
 * our log's later entries; say so, and check every second. */
static void restore_start(struct tb_node *n)
{
	uv_timer_init(n->loop, &n->restore_timer);
	n->restore_timer.data = n;
	if (tb_store_restored(n->store, &n->restored_seq))
		return;
	n->restored = true;
	tb_log(n, TB_LOG_WARN,
	       "restored from a backup (own log at entry %llu then): signing nothing until the "
	       "peers have given back the entries of our log they hold",
	       (unsigned long long)n->restored_seq);
	uv_timer_start(&n->restore_timer, on_restore_timer, 1000, 1000);
}

/* A rebuild the open runs (an older layout, a reindex cut short): systemd
 * must not time the start out while it makes progress. */
static void on_rebuild(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	tb_notify_rebuild(done, total);
}

static int load(struct tb_node *n, const char *pass_file)
{
	char path[4300], pass[TB_PASSPHRASE_MAX + 1];
	size_t plen;
	snprintf(path, sizeof path, "%s/ledger", n->data);
	int err = tb_store_open_progress(&n->store, path, 0, on_rebuild, n);
	if (err) {
		char why[4400];
		tb_describe_storage(why, sizeof why, err, path, 0);
		fprintf(stderr, "tallyd: cannot open the ledger: %s\n", why);
		return 3;
	}
	if (tb_store_self(n->store, n->self)) {
		fprintf(stderr, "tallyd: %s holds no community (run 'tally init')\n", n->data);
		return 3;
	}
	err = read_pass(pass_file, pass, &plen);
	if (err == TB_ENOTFOUND && !pass_file) {
		fprintf(stderr, "tallyd: no passphrase for the community key: give "
				"--passphrase-file FILE, a systemd credential 'passphrase', or "
				"TALLY_PASSPHRASE\n");
		return 2;
	}
	if (err) {
		fprintf(stderr, "tallyd: the passphrase %s%s %s: %s\n", pass_file ? "file " : "in ",
			pass_file ? pass_file : "TALLY_PASSPHRASE",
			err == TB_ETOOLONG ? "is over 1023 bytes" : "cannot be used",
			tb_strerror(err));
		return 2;
	}
	snprintf(path, sizeof path, "%s/keys/node.key", n->data);
	err = tb_keyfile_read(path, &n->key, pass, plen);
	tb_wipe(pass, sizeof pass);
	if (err) {
		fprintf(stderr, "tallyd: cannot unlock %s: %s\n", path, tb_strerror(err));
		return err == TB_EPASSPHRASE ? 2 : 3;
	}
	if (memcmp(n->key.pk.b, n->self, TB_KEY_LEN)) {
		fprintf(stderr, "tallyd: %s is not this community's key\n", path);
		return 3;
	}
	snprintf(path, sizeof path, "%s/federation.key", n->data);
	if ((err = tb_fedkey_read(path, n->psk))) {
		fprintf(stderr,
			"tallyd: no federation key at %s (%s): run 'tally federation "
			"create' or 'tally federation join FILE'\n",
			path, tb_strerror(err));
		return 2;
	}
	struct tb_community c;
	if (!tb_store_community(n->store, n->self, &c))
		snprintf(n->name, sizeof n->name, "%s", c.name);
	uint8_t pub[32];
	tb_noise_keypair(n->noise_secret, pub);
	return 0;
}

/* The peers of DATA/peers and of the flags, each with its retry timer:
 * 0, or the exit code (after saying why). */
static int peers_init(struct tb_node *n, const struct tb_daemon_opts *o)
{
	struct tb_peer_conf *conf = calloc(TB_PEERS_MAX, sizeof *conf);
	size_t nconf = 0;
	int line = 0;
	int err = conf ? tb_peers_load(n->data, conf, TB_PEERS_MAX, &nconf, &line) : TB_ENOMEM;
	if (err) {
		if (err == TB_ENOMEM)
			fprintf(stderr, "tallyd: out of memory\n");
		else
			fprintf(stderr, "tallyd: %s/peers line %d: %s\n", n->data, line,
				tb_strerror(err));
		free(conf);
		return err == TB_ENOMEM ? 3 : 2;
	}
	n->peers = calloc(nconf + o->npeers + 1, sizeof *n->peers);
	if (!n->peers) {
		fprintf(stderr, "tallyd: out of memory\n");
		free(conf);
		return 3;
	}
	for (size_t i = 0; i < nconf + o->npeers; i++) {
		struct tb_peer *p = &n->peers[n->npeers++];
		p->conf = i < nconf ? conf[i] : o->peers[i - nconf];
		p->node = n;
		uv_timer_init(n->loop, &p->retry);
		p->retry.data = p;
	}
	free(conf);
	return 0;
}

/* The node's timers, signals and the watch on the ledger file. */
static void handles_init(struct tb_node *n)
{
	uv_timer_init(n->loop, &n->checkpoint_timer);
	n->checkpoint_timer.data = n;
	const char *cpenv = tb_test_env("TALLYD_CHECKPOINT_MS");
	uint64_t cpms = cpenv && atoll(cpenv) > 0 ? (uint64_t)atoll(cpenv) : TB_CHECKPOINT_MS;
	uv_timer_start(&n->checkpoint_timer, on_checkpoint, 1000, cpms);
	restore_start(n);
	uv_timer_init(n->loop, &n->scan_timer);
	uv_timer_init(n->loop, &n->status_timer);
	uv_timer_init(n->loop, &n->settle_timer);
	uv_timer_init(n->loop, &n->trim_timer);
	n->scan_timer.data = n->status_timer.data = n->settle_timer.data = n;
	n->trim_timer.data = n;
	uv_signal_init(n->loop, &n->sigint);
	uv_signal_init(n->loop, &n->sigterm);
	n->sigint.data = n->sigterm.data = n;
	uv_signal_start(&n->sigint, on_signal, SIGINT);
	uv_signal_start(&n->sigterm, on_signal, SIGTERM);
	uv_fs_event_init(n->loop, &n->watch);
	n->watch.data = n;
	char ledger[4200];
	snprintf(ledger, sizeof ledger, "%s/ledger/data.mdb", n->data);
	if (uv_fs_event_start(&n->watch, on_watch, ledger, 0))
		tb_log(n, TB_LOG_WARN,
		       "cannot watch %s: entries recorded by 'tally' will "
		       "reach peers only with the next exchange",
		       ledger);
}

/* DATA locked, the ledger and keys loaded, every handle made and the
 * listeners open: 0, or the exit code (after saying why). Whatever it
 * got so far, node_deinit releases. */
static int node_init(struct tb_node *n, struct tb_daemon_opts *o)
{
	snprintf(n->name, sizeof n->name, "?");
	n->lock_fd = -1;
	n->level = o->level;
	n->restore_wait_ms = o->restore_wait_ms;
	n->data = o->data;
	n->crash_at = tb_test_env("TALLYD_CRASH_AT");
	if (tb_crypto_init()) {
		fprintf(stderr, "tallyd: cannot initialise libsodium\n");
		return 3;
	}
	/* A peer that vanishes mid-write must be an error on that connection,
	 * not a signal that kills the node (libuv leaves SIGPIPE alone). */
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	uint32_t holder;
	int err = tb_daemon_lock(n->data, &n->lock_fd, &holder);
	if (err == TB_ELOCKED) {
		fprintf(stderr, "tallyd: another tallyd (pid %u) is running on %s: stop it first\n",
			holder, n->data);
		return 3;
	}
	if (err) {
		char why[4400];
		tb_describe_storage(why, sizeof why, err, n->data, 0);
		fprintf(stderr, "tallyd: cannot lock %s/tallyd.lock: %s\n", n->data,
			err == TB_ENOTFOUND ? "no such data directory (run 'tally init')" : why);
		return 3;
	}
	int rc = load(n, o->pass_file[0] ? o->pass_file : NULL);
	if (rc)
		return rc;
	n->loop = uv_default_loop();
	if ((rc = peers_init(n, o)))
		return rc;
	handles_init(n);
	/* The last checkpoint signed before a restart counts: no new one
	 * until the log grows. */
	uint8_t cpb[TB_CHECKPOINT_MAX];
	size_t cpl;
	struct tb_checkpoint cp;
	if (!tb_store_checkpoint_get(n->store, n->self, cpb, sizeof cpb, &cpl) &&
	    !tb_checkpoint_open(&cp, cpb, cpl))
		n->checkpointed = cp.size;
	n->started = (uint64_t)time(NULL);
	if (tb_node_listen(n, o->listen) || tb_digest_start(n, o) ||
	    tb_node_http_start(n, &o->http, o->http_given) || tb_node_health_routes(n) ||
	    tb_node_peers_route(n))
		return 3;
	return 0;
}

/* Announce, dial the peers, and serve until a signal stops the loop. */
static void node_run(struct tb_node *n)
{
	tb_node_forks_changed(n);
	(void)tb_node_scan(n);
	tb_log(n, TB_LOG_INFO, "community %s, %zu peers configured, %zu logs held", n->name,
	       n->npeers, n->nheads);
	for (size_t i = 0; i < n->npeers; i++)
		tb_peer_dial(&n->peers[i]);
	tb_node_status_write(n);
	tb_notify_ready(n);
	uv_run(n->loop, UV_RUN_DEFAULT);
}

/* Everything node_init got, however far it got: handles closed, the store
 * closed, secrets wiped, memory freed, the lock released. */
static void node_deinit(struct tb_node *n)
{
	if (n->loop) {
		tb_http_stop(n->http);
		n->http = NULL;
		uv_walk(n->loop, walk_close, NULL);
		uv_run(n->loop, UV_RUN_DEFAULT);
		(void)uv_loop_close(n->loop);
	}
	tb_digest_free(n);
	tb_node_free_tables(n);
	tb_keypair_wipe(&n->key);
	tb_wipe(n->psk, sizeof n->psk);
	tb_wipe(n->noise_secret, sizeof n->noise_secret);
	if (n->lock_fd >= 0)
		close(n->lock_fd);
}

int main(int argc, char **argv)
{
	struct tb_daemon_opts *o = calloc(1, sizeof *o);
	if (!o) {
		fprintf(stderr, "tallyd: out of memory\n");
		return 3;
	}
	tb_flags_defaults(o);
	int rc = tb_flags_parse(o, argc, argv);
	if (rc) {
		free(o);
		return rc == 1 ? 0 : 2;
	}
	if (o->check_only) {
		printf("%s: ok (%zu settings)\n", o->config[0] ? o->config : "flags", o->file_keys);
		free(o);
		return 0;
	}
	struct tb_node n;
	memset(&n, 0, sizeof n);
	rc = node_init(&n, o);
	if (!rc)
		node_run(&n);
	node_deinit(&n);
	free(o);
	if (!rc)
		tb_log(&n, TB_LOG_INFO, "stopped");
	return rc;
}
