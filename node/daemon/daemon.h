/*
 * daemon.h: tallyd's objects. Everything long-lived hangs off struct tb_node
 * (no globals but signal plumbing). A connection (struct tb_conn) owns its
 * TCP handle, timer, Noise state and buffers and is freed only in its close
 * callbacks; a configured peer (struct tb_peer) owns its redial timer.
 */
#ifndef TB_DAEMON_H
#define TB_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include <stdio.h>

#include "tb_frame.h"
#include "tb_http.h"
#include "tb_noise.h"
#include "tb_node.h"

enum tb_loglevel { TB_LOG_ERROR, TB_LOG_WARN, TB_LOG_INFO, TB_LOG_DEBUG };

/* What tallyd's options set (flags.c). */
struct tb_daemon_opts {
	char data[4096];
	char listen[TB_ADDR_MAX];
	struct tb_peer_conf peers[TB_PEERS_MAX];
	size_t npeers;
	enum tb_loglevel level;
	char pass_file[4096]; /* "": none given */
	struct tb_http_conf http;
	bool http_given; /* --http was given: failing to listen is fatal */
	uint64_t restore_wait_ms;
	char config[4096]; /* --config FILE, "" if none */
	size_t file_keys;  /* keys it set */
	bool check_only;   /* --check-config */
	/* email digests (digest.c): off while sendmail is "" */
	char sendmail[1024];
	uint32_t sendmail_timeout_s;
	int digest_hour;
	char mail_from[255]; /* "" for tally@ the host's name (TB_EMAIL_MAX + 1) */
};

/* One option: --name [ARG], its help, and how it applies. */
struct tb_flag {
	const char *name;
	const char *arg; /* NULL: takes no value */
	const char *help;
	int (*apply)(struct tb_daemon_opts *o, const char *value);
};
extern const struct tb_flag tb_flags[];
extern const size_t tb_nflags;
void tb_flags_defaults(struct tb_daemon_opts *o);
/* Applies one option by name (a configuration file's keys): 0, TB_ENOTFOUND
 * for an unknown name, or the option's error. */
int tb_flag_apply(struct tb_daemon_opts *o, const char *name, const char *value);
/* Reads a configuration file's keys into o (conffile.c): 0, or -1 with why
 * ("FILE line N: ..."). */
int tb_conf_file(struct tb_daemon_opts *o, const char *path, char *why, size_t cap);
/* Parses argv, after the file of --config (wherever it stands) so flags
 * override it: 0 to run, 1 when --help or --version was printed, 2 on a
 * usage error or a bad configuration line (printed). */
int tb_flags_parse(struct tb_daemon_opts *o, int argc, char **argv);
void tb_flags_usage(FILE *f);

/* Limits (PROTOCOL.md, "Limits"). */
#define TB_HANDSHAKE_MS 5000
#define TB_KEEPALIVE_MS 15000
#define TB_SYNC_MS 15000 /* heads exchanged within this of HELLO */
#define TB_IDLE_MS 45000
/* What one peer's send queue may cost (frames, their libuv requests and
 * allocations): bulk sending (heads, fork proofs, checkpoints, entries)
 * pauses at TB_QUEUE_MAX, or already at TB_QUEUE_LOW while all peers
 * together hold TB_QUEUE_TOTAL; past TB_QUEUE_CLOSE the peer does not read. */
#define TB_QUEUE_LOW (64u << 10)
#define TB_QUEUE_MAX (1u << 20)
#define TB_QUEUE_CLOSE (4u << 20)
#define TB_QUEUE_TOTAL (32u << 20)
#define TB_MSG_RATE 4000 /* messages per second per peer */
#define TB_MSG_BURST 8000
/* Inbound connections not yet authenticated: in all, and per address. When
 * full, one of them (of that address; silent ones first, then the oldest)
 * gives way to the new one. */
#define TB_PREAUTH_MAX 256
#define TB_PREAUTH_PER_ADDR 64
/* Authenticated inbound connections; a pinned peer evicts another one. */
#define TB_PEERS_IN_MAX 512
#define TB_PEER_LOGS_MAX 65536
/* Two of the store's groups (TB_APPEND_GROUP): one is checked while the
 * other commits. */
#define TB_INGEST_BATCH 2000
#define TB_INGEST_BYTES (4u << 20)
#define TB_HS_FRAME_MAX 512 /* a handshake message and its payload */
/* Checkpoints a peer may send: only of logs held, one per log a minute,
 * and in all a burst of this plus the logs held, then this many per second
 * plus one per minute per log held; more are dropped unread. */
#define TB_CP_BURST 64
#define TB_CP_RATE 4
#define TB_CP_SPACING_S 60
#define TB_CP_BATCH 256			  /* checkpoints kept in one transaction */
#define TB_CP_TOLD 8			  /* dropped checkpoints told with REFUSED per connection */
#define TB_CHECKPOINT_MS (10 * 60 * 1000) /* checkpoint interval */
#define TB_REFUSALS_LOGGED 3		  /* REFUSED lines logged per connection */

struct tb_node;
struct tb_digest;
struct tb_peer;

/* A leg the clearing step could not record (clearing.c logs each once). */
struct tb_clear_skip {
	uint8_t payer[TB_KEY_LEN];
	uint64_t seq; /* the prepare's */
};
#define TB_CLEAR_SKIPS_MAX 256

/* What a peer is known to hold of one log. */
struct tb_known {
	uint8_t log_id[TB_KEY_LEN];
	uint64_t seq;
	uint32_t flags;
	uint32_t cp_at; /* when this peer's last checkpoint of the log was taken (s) */
};
#define TB_KNOWN_FORK 1u    /* the log's fork proof was sent to or came from the peer */
#define TB_KNOWN_REFUSED 2u /* the log was refused (by us, or by the peer) */

enum tb_conn_state {
	TB_CONN_CONNECTING,
	TB_CONN_HANDSHAKE,
	TB_CONN_HELLO,
	TB_CONN_OPEN,
	TB_CONN_CLOSING
};

/* What replication keeps of one connection (repl.c, push.c, ingest.c,
 * admission.c; conn.c never reads it): created when the connection opens,
 * freed when it is closed. */
struct tb_repl {
	bool synced;		/* heads exchanged; live pushes flow */
	bool sync_received;	/* the peer's SYNC arrived */
	uint64_t heads_due;	/* head records still expected from the peer */
	struct tb_known *known; /* sorted by log id */
	size_t nknown, capknown;
	size_t forks_sent;	  /* of n->forks, those flagged TB_KNOWN_FORK here */
	uint8_t sync_digest[32];  /* the digest we sent in SYNC */
	struct tb_head *snapshot; /* our heads when we sent SYNC, until the
				   * peer's SYNC comes (at most TB_SYNC_MS) */
	size_t nsnapshot;
	size_t heads_total;		 /* records our SYNC announced */
	bool heads_sending;		 /* our HEADS are due (the digests differed) */
	size_t heads_sent;		 /* records sent as HEADS so far */
	uint8_t heads_after[TB_KEY_LEN]; /* the last log sent as HEADS */
	size_t push_at;			 /* the head where pushing entries stopped */
	bool cps_due;			 /* checkpoints of every log still to send */
	uint8_t cps_after[TB_KEY_LEN];	 /* ... of the logs after this one */
	bool cps_started;
	double cp_tokens; /* checkpoints this peer may still send */
	uint64_t cp_at;
	uint64_t cp_dropped;
	unsigned refusals_logged; /* REFUSED sent or received, logged (the first few) */
	/* listings (listings.c): our LISTINGS_SYNC's digest, count and the
	 * stamp it was taken at; once the peer's came (lst_ready), versions
	 * stored up to lst_sent were sent or the peer held them */
	bool lst_ready;
	uint8_t lst_digest[32];
	uint64_t lst_count, lst_stamp, lst_sent;
	unsigned lst_told; /* listings refused, told with REFUSED */
	/* answers (answers.c): those stored up to ans_sent were looked at for
	 * this peer (from 0 when it opens: it is sent all it is due again) */
	uint64_t ans_sent;
	unsigned ans_told; /* answers refused, told with REFUSED */
};

struct tb_conn_events;

struct tb_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect;
	int handles; /* open libuv handles; freed when 0 */
	struct tb_node *node;
	const struct tb_conn_events *ev; /* the owner's callbacks */
	struct tb_repl *repl;		 /* the owner's replication state (NULL until OPEN) */
	struct tb_peer *peer;		 /* the configured peer we dialed, or NULL */
	struct tb_conn *next;
	bool outbound;
	bool preauth; /* inbound, not authenticated yet: counted in n->npreauth */
	bool spoke;   /* bytes from the peer wait unread (before authentication) */
	char addr[TB_ADDR_MAX];
	char ip[TB_ADDR_MAX]; /* inbound: the peer's address without the port */
	uint64_t started;     /* accepted or dialed (ms) */
	enum tb_conn_state state;

	struct tb_noise_hs hs;
	struct tb_noise_cipher tx, rx;
	uint8_t hh[32];
	uint8_t remote_id[TB_KEY_LEN];
	char remote_name[TB_NAME_MAX + 1];

	uint8_t *rbuf; /* TB_HS_FRAME_MAX during the handshake, then a whole frame */
	size_t rcap, rlen;
	size_t roffer;	     /* room the last read was offered */
	unsigned full_reads; /* reads in a row that filled it: more waits */
	bool burst_open;     /* frames read and their end of burst not told */
	size_t queued;	     /* what the frames handed to uv_write and not written cost */
	uint64_t last_rx;
	double tokens;
	uint64_t tokens_at;
	uint64_t opened;   /* when the connection became OPEN (ms) */
	uint64_t deadline; /* OPEN: closed at this time (ms) unless 0 */
	const char *deadline_why;
	uint64_t bytes_in, bytes_out;
};

struct tb_peer {
	struct tb_peer_conf conf;
	struct tb_node *node;
	struct tb_conn *conn;
	uv_timer_t retry;
	uint64_t backoff;
	uint64_t last_contact;
	char name[TB_NAME_MAX + 1];
	uint8_t seen_id[TB_KEY_LEN];
	bool seen;
	bool synced_once; /* heads exchanged at least once since we started */
};

struct tb_node {
	uv_loop_t *loop;
	const char *data;
	struct tb_store *store;
	struct tb_keypair key;
	uint8_t self[TB_KEY_LEN];
	char name[TB_NAME_MAX + 1];
	uint8_t psk[32];
	uint8_t noise_secret[32];
	enum tb_loglevel level;
	char listen_addr[TB_ADDR_MAX];

	uv_tcp_t listener;
	uv_signal_t sigint, sigterm;
	uv_fs_event_t watch;
	uv_timer_t scan_timer;	     /* debounce of store changes */
	uv_timer_t status_timer;     /* debounce of status writes */
	uv_timer_t checkpoint_timer; /* signs the own log's checkpoints */
	uint64_t checkpointed;	     /* own log size of the last checkpoint */
	uv_timer_t settle_timer;     /* rescans after the store's events stop */
	uint64_t settle_ms;
	uv_timer_t trim_timer; /* gives freed memory back after closes */
	bool scan_armed, status_armed, trim_armed;

	struct tb_peer *peers;
	size_t npeers;
	struct tb_conn *conns;
	size_t nconns;
	size_t npreauth;	/* inbound connections not authenticated yet */
	size_t queued;		/* sum of the connections' queued */
	uint64_t freed;		/* bytes freed by closes since the last trim */
	uint64_t quiet_at;	/* pre-authentication close lines: this second */
	unsigned quiet_lines;	/* ... logged in it */
	uint64_t quiet_skipped; /* ... not logged */

	/* heads of every log held, as of the last scan, sorted by log id */
	struct tb_head *heads;
	size_t nheads, capheads;
	uint8_t digest[32];
	/* the communities whose logs are stored and relayed (admission.c) */
	struct tb_admitted admitted;
	bool admission_loaded;
	bool successor_pending; /* a successor's entries wait in the ingest batch */
	uint8_t raw_digest[32]; /* of every log's head, admitted or not */
	/* logs whose fork proof is held, sorted */
	uint8_t (*forks)[TB_KEY_LEN];
	size_t nforks;
	/* records received in the current read burst, not yet appended (one
	 * connection reads at a time; tb_repl_flush empties them) */
	struct tb_conn *ingest_conn;
	uint8_t *ingest;
	size_t ingest_len;
	struct tb_view *ingest_recs;
	struct tb_placed *ingest_placed; /* where the store put each accepted one */
	size_t ningest;
	/* checkpoints received, kept at the end of the read burst */
	uint8_t (*cps)[TB_CHECKPOINT_MAX];
	size_t *cps_len;
	struct tb_conn **cps_from;
	size_t ncps;
	bool stopping;
	const char *crash_at; /* TALLYD_CRASH_AT: tests' fault injection */
	int lock_fd;	      /* DATA/tallyd.lock, held while we run */
	struct tb_http *http; /* the console and API; NULL when off */

	/* restored from a backup: nothing signed until peers gave back our log */
	bool restored;
	uint64_t restored_seq;	   /* own log's seq in the backup */
	uint64_t restore_first_ms; /* when the first peer synced (0: none yet) */
	uint64_t restore_wait_ms;  /* then how long to wait for the other peers */
	uv_timer_t restore_timer;
	uv_timer_t watchdog_timer; /* systemd's watchdog, when it asks */
	uint64_t started;	   /* unix seconds */
	/* legs the last clearing steps could not record, logged once */
	struct tb_clear_skip skips[TB_CLEAR_SKIPS_MAX];
	size_t nskips;
	uint64_t lst_stamp;	   /* the listings' last stamp as of the last scan */
	uint64_t lst_pruned;	   /* when expired listings were last deleted (unix s) */
	uint64_t ans_stamp;	   /* the answers' last stamp as of the last scan */
	struct tb_digest *digests; /* email digests; NULL when off */
};

/* options.c: the settings, from the configuration file and the flags. */
struct tb_dconf {
	char data[4096];
	char listen[TB_ADDR_MAX + 8];
	struct tb_peer_conf *peers; /* TB_PEERS_MAX, owned by the caller */
	size_t npeers;
	enum tb_loglevel level;
	char pass_file[4096];
	uint64_t restore_wait_ms;
	char config[4096]; /* the file read, "" if none */
	size_t file_keys;  /* keys it set */
	bool check_only;   /* --check-config */
};
void tb_dconf_init(struct tb_dconf *d, struct tb_peer_conf *peers);
void tb_dconf_usage(FILE *f);
/* Reads a configuration file into d: 0, or -1 with why ("FILE line N: ..."). */
int tb_dconf_file(struct tb_dconf *d, const char *path, char *why, size_t cap);
/* The file named by --config (if any), then the flags. Returns -1 to go on,
 * or the exit code to stop with (after --help, --version, or an error,
 * which it printed). */
int tb_dconf_parse(struct tb_dconf *d, int argc, char **argv);

/* notify.c: systemd readiness, watchdog and stop (no-ops outside systemd) */
void tb_notify_ready(struct tb_node *n);
/* Progress of the ledger's rebuild before READY=1 (a tb_progress_fn). */
void tb_notify_rebuild(uint64_t done, uint64_t total);
void tb_notify_stopping(struct tb_node *n);

/* log.c */
void tb_log(struct tb_node *n, enum tb_loglevel lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* conn.c: connections, handshake, frames. A connection tells its owner
 * what happened only through these callbacks; conn.c calls no replication
 * or peer code. */
struct tb_conn_events {
	/* Authenticated and OPEN: 0, else an error (c was closed). */
	int (*opened)(struct tb_conn *c);
	/* A message after HELLO: 0, else an error (c was closed). m NULL: the
	 * read burst ended, and what it brought may be applied. */
	int (*message)(struct tb_conn *c, const struct tb_peer_msg *m);
	/* A queued frame was written: the send queue has room again. */
	void (*drained)(struct tb_conn *c);
	/* c is closed (it left n->conns when tb_conn_close was called, and its
	 * handles are closed now): drop everything that refers to it and free
	 * c->repl. Returns the bytes that freed (for the heap trim). */
	size_t (*closed)(struct tb_conn *c);
};
struct tb_conn *tb_conn_new(struct tb_node *n, bool outbound, const char *addr,
			    const struct tb_conn_events *ev);
void tb_conn_close(struct tb_conn *c, const char *why);
int tb_conn_start_inbound(struct tb_conn *c);
int tb_conn_dial(struct tb_conn *c, const struct sockaddr *sa);
/* Encrypts and queues one message; 0 or an error (the conn is closed). */
int tb_conn_send(struct tb_conn *c, const struct tb_peer_msg *m);
/* OPEN and the send queue has room for bulk sending. */
bool tb_conn_may_push(const struct tb_conn *c);
/* An inbound connection's peer proved its identity: no longer counted
 * among the connections before authentication. */
void tb_conn_authenticated(struct tb_conn *c);
/* Closes an OPEN connection with `why` (a string that outlives it) if it is
 * still open at at_ms (checked with the keepalive); 0 clears it. */
void tb_conn_deadline(struct tb_conn *c, uint64_t at_ms, const char *why);

/* peers.c: listening and dialing with backoff; the connections' owner
 * (their callbacks) */
int tb_node_listen(struct tb_node *n, const char *addr);
void tb_peer_dial(struct tb_peer *p);
/* A connection of the node (tb_conn_new with the node's callbacks). */
struct tb_conn *tb_node_conn_new(struct tb_node *n, bool outbound, const char *addr);
/* Frees the store and every table the node's parts allocated (heads, fork
 * proofs, admissions, ingest and checkpoint batches, peers): the one list
 * that tallyd's exit and the replication fuzz target both use. */
void tb_node_free_tables(struct tb_node *n);

/* known.c: what each peer is known to hold, and our heads (calls nothing
 * else of the daemon) */
/* Our head of a log as of the last scan, or NULL if not held. */
const struct tb_head *tb_node_head(const struct tb_node *n, const uint8_t *log_id);
/* c is OPEN and its heads were exchanged. */
bool tb_repl_synced(const struct tb_conn *c);
uint64_t tb_known_get(const struct tb_conn *c, const uint8_t *log_id);
/* The record of a log (added with seq 0 if create), or NULL (none, or over
 * TB_PEER_LOGS_MAX, or no memory). */
struct tb_known *tb_known_at(struct tb_conn *c, const uint8_t *log_id, bool create);
int tb_known_raise(struct tb_conn *c, const uint8_t *log_id, uint64_t seq);
/* Merges k records (sorted by log id, no repeats) into what is known, in
 * one pass; a log in both keeps the larger seq. */
int tb_known_merge(struct tb_conn *c, const struct tb_known *in, size_t k);
/* Frees c->repl; returns the bytes it held. */
size_t tb_repl_free(struct tb_conn *c);

/* heads.c: the store's heads, rescanned when it changed */
/* The store may have changed: rescan heads, push to peers (debounced). */
void tb_node_store_changed(struct tb_node *n);
int tb_node_scan(struct tb_node *n);
/* Lifts the restored mark once every peer reached has given back what it
 * holds of our own log (see PROTOCOL.md, "Restored nodes"). */
void tb_node_restore_check(struct tb_node *n);

/* repl.c: the opening exchange and the dispatch of messages */
/* c opened: its replication state, SYNC. 0, or an error (c was closed). */
int tb_repl_start(struct tb_conn *c);
int tb_repl_receive(struct tb_conn *c, const struct tb_peer_msg *m);

/* push.c: sending, as the send queue allows */
void tb_repl_pump(struct tb_conn *c);
/* Sends a newly kept checkpoint to every synced peer but `except`. */
void tb_node_checkpoint_spread(struct tb_node *n, struct tb_conn *except, const uint8_t *p,
			       size_t len);
/* A fork proof was kept: reload the list, send it to the peers. */
void tb_node_forks_changed(struct tb_node *n);
/* The proof of log_id held became one of two records in place of a
 * checkpoint proof: every peer but from (the one that sent it, or NULL) is
 * sent it again. */
void tb_node_fork_replaced(struct tb_node *n, struct tb_conn *from, const uint8_t *log_id);
bool tb_node_has_fork(const struct tb_node *n, const uint8_t *log_id);

/* admission.c: which logs are stored and relayed */
int tb_node_admission_load(struct tb_node *n);
bool tb_node_admits(const struct tb_node *n, const uint8_t *log_id);
/* Tells the peer (once per log and connection) that what it sent of
 * log_id (NULL: of no log) is not taken, and why. */
void tb_repl_refuse(struct tb_conn *c, int code, const uint8_t *log_id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same each time it is called (the caller bounds how often), without
 * marking the log refused: for a dropped checkpoint (PROTOCOL.md 8a). */
void tb_repl_tell(struct tb_conn *c, int code, const uint8_t *log_id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* 1 if a received entry record is refused by admission (the peer told),
 * 0 to go on, TB_ADMIT_FLUSH when the successor pending in the ingest
 * batch must be written first (then ask again); next is the record after
 * it in the same ENTRIES (p NULL if none): a new log's genesis followed by
 * its succession of an admitted log is let through for the store to judge. */
#define TB_ADMIT_FLUSH 2
int tb_repl_admit_record(struct tb_conn *c, const uint8_t *p, size_t len,
			 const struct tb_view *next);
int tb_repl_on_refused(struct tb_conn *c, const struct tb_refused *r);

/* ingest.c: receiving */
int tb_repl_on_entries(struct tb_conn *c, const struct tb_entries *e);
int tb_repl_on_fork(struct tb_conn *c, const struct tb_fork *f);
int tb_repl_on_checkpoint(struct tb_conn *c, const struct tb_view *v);
/* After a read burst: append the entries, keep the checkpoints received. */
void tb_repl_flush(struct tb_conn *c);
/* c closed: drop what it sent and was not appended yet. */
void tb_repl_conn_closed(struct tb_conn *c);

/* listings.c: gossip of federation-visible listings (PROTOCOL.md 7c). A
 * peer's listings go to the store together, one write transaction per
 * LISTINGS; each refusal is told (the first TB_LST_TOLD of a connection)
 * without closing it. */
#define TB_LST_TOLD 8
/* Listings of one LISTINGS stored in one write transaction (a frame holds
 * at most about 490 valid ones, so one in practice). */
#define TB_LST_BATCH 512
#define TB_LST_PRUNE_S 60 /* expired listings are deleted this often */
/* c opened: our LISTINGS_SYNC. */
int tb_lst_start(struct tb_conn *c);
int tb_lst_on_sync(struct tb_conn *c, const struct tb_listings_sync *s);
int tb_lst_on_listings(struct tb_conn *c, const struct tb_listings *l);
/* push.c: sends c the listings stored since it was last sent some (the
 * pump's last step). */
void tb_lst_push(struct tb_conn *c);
/* heads.c: the store may have changed: new listings are pumped to the
 * peers, and expired ones deleted (at most every TB_LST_PRUNE_S). */
void tb_node_listings_scan(struct tb_node *n);

/* answers.c: answers to listings, sent only to the listing's own
 * community node (PROTOCOL.md 7d). Each refusal is told (the first
 * TB_ANS_TOLD of a connection) without closing it. */
#define TB_ANS_TOLD 8
#define TB_ANS_PER_MSG 64  /* answers in one ANSWERS, at most */
#define TB_ANS_BYTES 16384 /* record bytes of one ANSWERS we send, at most */
int tb_ans_on_answers(struct tb_conn *c, const struct tb_answers *a);
/* The answers for c's node stored since it was last looked at (the pump's
 * last step). */
void tb_ans_push(struct tb_conn *c);

/* clearing.c: decide and finish cross-community exchanges now due; true
 * when legs were appended or more are due than the steps took (scan again
 * soon: the next scan announces them). */
bool tb_node_clear(struct tb_node *n);

/* status.c (daemon side): write the status file soon. */
void tb_node_status_dirty(struct tb_node *n);
void tb_node_status_write(struct tb_node *n);

uint64_t tb_now_ms(struct tb_node *n);

/* http.c (daemon side): start the HTTP server (when the default address is
 * taken, e.g. by another node on this machine, only a warning). */
int tb_node_http_start(struct tb_node *n, const struct tb_http_conf *conf, bool given);
/* health.c: GET /healthz and /metrics on the HTTP listener (if it runs). */
int tb_node_health_routes(struct tb_node *n);
/* GET /api/v1/peers (api_peers.c). */
int tb_node_peers_route(struct tb_node *n);

/* digest.c: members' email digests through the operator's sendmail
 * command, once a day at the configured hour or when an admin asks. Start
 * before the HTTP server (it tells the server digests are on); stop kills a
 * command still running; free after the loop closed the handles. */
int tb_digest_start(struct tb_node *n, const struct tb_daemon_opts *o);
/* Sends the digests due now, one command at a time; TB_EFULL while a run is
 * under way. */
int tb_digest_run(struct tb_node *n, size_t *queued);
void tb_digest_stop(struct tb_node *n);
void tb_digest_free(struct tb_node *n);

#endif
