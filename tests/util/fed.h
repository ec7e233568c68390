/*
 * fed.h: helpers of the multi-node federation tests. A test federation is N
 * node data directories under one temp dir, sharing one federation key, each
 * with a community (CommNN) and two members (m1, m2), each given a free
 * loopback port. Daemons (tallyd) are real processes on 127.0.0.1 only, with
 * their stderr in DATA/tallyd.log; every pid is tracked (in the federation
 * and in a process-wide list) so a teardown can always kill them, and each
 * dies with the test process (PR_SET_PDEATHSIG). Heads are read directly
 * from a node's LMDB ledger, read-only, next to its running daemon. Waits
 * poll every 25 ms and on timeout fail naming the node that lacks which log,
 * with the tail of that node's tallyd.log.
 *
 * The fake peer (struct tb_fake) speaks the peer protocol as
 * node/daemon/conn.c does, from the test, to feed a daemon bad input: frames
 * are a 2-byte big-endian length and bytes; Noise XXpsk3 as the initiator
 * with prologue "tally/1" and the federation key as PSK; then HELLO (identity
 * signed over the handshake hash), SYNC and the rest, encrypted.
 */
#ifndef TB_FED_H
#define TB_FED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runproc.h"
#include "tb_noise.h"
#include "testutil.h"

#define TB_FED_MAX_NODES 32
#define TB_FED_MAX_LOGS 4096
#define TB_FED_PATH 1024
#define TB_FED_PASS "pw"
#define TB_FED_MEMBER_PASS "mp"
#define TB_FED_MAX_MEMBERS 8

/* How to create one node: its community's name and its members' names
 * (NULL-terminated). */
struct tb_fed_spec {
	const char *name;
	const char *members[TB_FED_MAX_MEMBERS + 1];
};

struct tb_fed_node {
	char data[TB_FED_PATH + 16];  /* data directory */
	char log[TB_FED_PATH + 32];   /* DATA/tallyd.log */
	char name[24];		      /* community name, CommNN unless specified */
	uint16_t port;		      /* listens on 127.0.0.1:port */
	uint8_t id[TB_KEY_LEN];	      /* node id = own log id */
	pid_t pid;		      /* running tallyd, 0 if none */
	uint64_t recorded;	      /* exchanges recorded by tb_fed_record */
	bool dials[TB_FED_MAX_NODES]; /* --peer of these nodes */
};

struct tb_fed {
	char *root;
	char fedkey[TB_FED_PATH];
	char note[160]; /* added to every failure message (e.g. the seed) */
	size_t n;
	struct tb_fed_node node[TB_FED_MAX_NODES];
	struct tb_proc_result res; /* of the last tb_fed_tally */
};

/* Entries of a new node's own log: genesis, two members, then one ADMIT of
 * each other node of the federation. */
#define TB_FED_BASE_SEQ(f) (3 + (uint64_t)(f)->n - 1)

/* Node i admits the community with this log id and name (a fake peer's
 * log, say); the nodes of the federation admit each other when created. */
void tb_fed_admit(struct tb_fed *f, size_t i, const uint8_t id[TB_KEY_LEN], const char *name);
/* ... n of them in one command (one transaction). */
void tb_fed_admit_many(struct tb_fed *f, size_t i, const uint8_t (*ids)[TB_KEY_LEN],
		       const char *const *names, size_t n);

/* Path of tallyd under test ($TALLYD_BIN). */
const char *tb_tallyd_bin(void);
/* Milliseconds of a monotonic clock. */
uint64_t tb_fed_now_ms(void);
void tb_fed_sleep_ms(unsigned ms);
/* A free port on 127.0.0.1 (checked by binding it), never handed out twice. */
uint16_t tb_fed_free_port(void);

/* Creates n nodes (in parallel); sets TALLY_PASSPHRASE and
 * TALLY_MEMBER_PASSPHRASE. */
struct tb_fed *tb_fed_new(const char *tag, size_t n);
/* The same with the communities and members of spec[0..n-1]. */
struct tb_fed *tb_fed_new_spec(const char *tag, size_t n, const struct tb_fed_spec *spec);
/* Kills every daemon still running and removes the tree (kept if $TB_KEEP). */
void tb_fed_free(struct tb_fed *f);
/* Kills every daemon any federation of this process started: for group
 * teardowns, whatever happened before. */
void tb_fed_kill_all(void);

/* a dials b (--peer) the next time a starts. */
void tb_fed_link(struct tb_fed *f, size_t a, size_t b);
/* Starts a's tallyd (extra arguments may be NULL) and waits until it listens. */
void tb_fed_start(struct tb_fed *f, size_t i);
void tb_fed_start_args(struct tb_fed *f, size_t i, const char *const *extra);
/* Starts without waiting; tb_fed_wait_up waits. */
void tb_fed_spawn(struct tb_fed *f, size_t i, const char *const *extra);
/* The same with environment settings for that daemon only ("NAME=value",
 * NULL-terminated; env may be NULL). */
void tb_fed_spawn_env(struct tb_fed *f, size_t i, const char *const *extra, const char *const *env);
/* Waits up to ms for node i's daemon to exit by itself (a crash point):
 * returns its wait status (pid cleared), or -1 if it still runs (or none
 * was running). */
int tb_fed_wait_exit(struct tb_fed *f, size_t i, unsigned ms);
/* "exited with code 70", "killed by signal 9"... of a wait status. */
const char *tb_fed_describe_status(int status, char buf[64]);
void tb_fed_wait_up(struct tb_fed *f, size_t i);
void tb_fed_start_all(struct tb_fed *f);
/* SIGTERM and wait: the daemon must exit 0 (a clean stop). */
void tb_fed_stop(struct tb_fed *f, size_t i);
void tb_fed_stop_all(struct tb_fed *f);
/* SIGKILL and wait. */
void tb_fed_kill(struct tb_fed *f, size_t i);

/* Runs `tally --data DATA args...` (args NULL-terminated) into f->res;
 * returns its exit code. */
int tb_fed_tally(struct tb_fed *f, size_t i, const char *const *args);
#define TB_FED_TALLY(f, i, ...) tb_fed_tally(f, i, (const char *const[]){__VA_ARGS__, NULL})
/* The same, failing unless the exit code is want: the failure names the
 * command and line and shows its stderr and stdout and node i's log tail. */
void tb_fed_tally_is(struct tb_fed *f, size_t i, int want, int line, const char *const *args);
#define TB_FED_TALLY_IS(f, i, want, ...) \
	tb_fed_tally_is(f, i, want, __LINE__, (const char *const[]){__VA_ARGS__, NULL})
/* Records an attested exchange at node i through the CLI (m1 and m2 take
 * turns as provider). */
void tb_fed_record(struct tb_fed *f, size_t i);

/* Appends records to node i's ledger directly (its daemon not running), in
 * batches as large as the store takes; fails on any refusal. */
void tb_fed_preload(struct tb_fed *f, size_t i, const struct tb_view *recs, size_t n);
/* Private anonymous memory of node i's daemon (RssAnon), KiB. */
long tb_fed_anon_kib(struct tb_fed *f, size_t i);
/* CPU time node i's daemon used so far (user and system), ms. */
long tb_fed_cpu_ms(struct tb_fed *f, size_t i);

/* Heads of every log a node holds, read directly from its ledger (sorted
 * by log id). */
struct tb_fed_heads {
	size_t n;
	struct tb_head h[TB_FED_MAX_LOGS];
};
int tb_fed_heads_dir(const char *data, struct tb_fed_heads *out);
void tb_fed_heads(struct tb_fed *f, size_t i, struct tb_fed_heads *out);
/* The head of log_id in hs, or NULL. */
const struct tb_head *tb_fed_find(const struct tb_fed_heads *hs, const uint8_t *log_id);
/* Seq of node i's own log as node i holds it. */
uint64_t tb_fed_own_seq(struct tb_fed *f, size_t i);
/* "CommNN" for a node's log, else the log id's first 16 hex digits. */
const char *tb_fed_log_name(struct tb_fed *f, const uint8_t *log_id, char buf[24]);
/* Fails (with a message) unless a and b hold the same logs at the same heads. */
void tb_fed_assert_same_heads(struct tb_fed *f, const struct tb_fed_heads *a,
			      const struct tb_fed_heads *b, const char *what);

/* The last lines of node i's tallyd.log (malloc'd). */
char *tb_fed_log_tail(struct tb_fed *f, size_t i, size_t max_bytes);
/* Prints that tail to stderr (failure messages are cut short by cmocka). */
void tb_fed_print_tail(struct tb_fed *f, size_t i, size_t max_bytes);
/* True if one line of node i's tallyd.log contains a and b (b may be NULL). */
bool tb_fed_log_has(struct tb_fed *f, size_t i, const char *a, const char *b);

/*
 * A predicate of a wait: true when it holds; when not, writes why into why
 * and the node to blame (whose log tail is shown) into *blame.
 */
typedef bool (*tb_fed_pred)(struct tb_fed *f, void *ctx, char *why, size_t cap, size_t *blame);
/* Polls until p holds or ms pass; false on timeout (why and blame set). Fails
 * at once if a daemon that should run has died. */
bool tb_fed_poll(struct tb_fed *f, unsigned ms, tb_fed_pred p, void *ctx, char *why, size_t cap,
		 size_t *blame);
/* The same, failing on timeout with what, why and the blamed node's log tail. */
void tb_fed_wait(struct tb_fed *f, unsigned ms, tb_fed_pred p, void *ctx, const char *what);
/* Every node of the set (NULL, k = 0: all nodes) holds the same logs at the
 * same heads, among them every node's own log. */
void tb_fed_wait_converged(struct tb_fed *f, const size_t *set, size_t k, unsigned ms);
/* Node holder holds node owner's own log at least at owner's current head. */
void tb_fed_wait_has(struct tb_fed *f, size_t holder, size_t owner, unsigned ms);
/* Node holder holds log_id at seq >= seq. */
void tb_fed_wait_log_seq(struct tb_fed *f, size_t holder, const uint8_t *log_id, uint64_t seq,
			 unsigned ms);
/* A line of node i's log contains a and b. */
void tb_fed_wait_log_line(struct tb_fed *f, size_t i, const char *a, const char *b, unsigned ms);

/* ---- a fake peer, driven by the test ---- */

struct tb_fake {
	int fd;
	uint16_t port;	      /* our local port */
	char addr[32];	      /* "127.0.0.1:port", as the daemon names us */
	struct tb_keypair id; /* our node identity */
	uint8_t noise_secret[32];
	struct tb_noise_hs hs;
	struct tb_noise_cipher tx, rx;
	uint8_t hh[32];
	uint8_t remote_id[TB_KEY_LEN];
	size_t rlen;
	uint8_t rbuf[2 + 65535 + 4096];
	uint8_t frame[65535];
	uint8_t plain[65535];
	/* What is being sent: each fake its own, so that two threads may each
	 * drive one. */
	uint8_t out_msg[TB_FRAME_PAYLOAD_MAX + 64];
	uint8_t out_ct[65535 + 64];
};

/* A TCP connection to 127.0.0.1:port; identity is key pair keyno. 0 or -1. */
int tb_fake_connect(struct tb_fake *p, uint16_t port, uint32_t keyno);
/* Handshake steps: write message 1; read message 2; write message 3 and
 * split; HELLO both ways (the daemon's checked). 0 or an error (< 0; 0 from
 * a read is reported as -1000: closed). */
int tb_fake_hs1(struct tb_fake *p, const uint8_t psk[32]);
int tb_fake_hs2(struct tb_fake *p, int timeout_ms);
int tb_fake_hs3(struct tb_fake *p);
int tb_fake_hello(struct tb_fake *p, int timeout_ms);
/* SYNC claiming no logs: the daemon is then ready for ENTRIES. */
int tb_fake_sync(struct tb_fake *p);
/* connect, handshake, hello, sync; asserts success. */
void tb_fake_open(struct tb_fake *p, uint16_t port, const uint8_t psk[32], uint32_t keyno);

int tb_fake_send_raw(struct tb_fake *p, const void *b, size_t len);
/* One frame: length prefix and body as given. */
int tb_fake_send_frame(struct tb_fake *p, const void *body, size_t len);
/* Encrypts plaintext bytes into one frame. */
int tb_fake_send_plain(struct tb_fake *p, const uint8_t *pt, size_t len);
int tb_fake_send(struct tb_fake *p, const struct tb_peer_msg *m);
/* ENTRIES carrying these records. */
int tb_fake_entries(struct tb_fake *p, const struct tb_view *recs, size_t n);
/* Next frame's bytes: 1 (*f, *n set; valid until the next read), 0 closed,
 * -1 timeout, -2 error. */
int tb_fake_read_frame(struct tb_fake *p, int timeout_ms, const uint8_t **f, size_t *n);
/* Next message (views into p->plain): 1, 0 closed, -1 timeout, -2 error. */
int tb_fake_recv(struct tb_fake *p, struct tb_peer_msg *m, int timeout_ms);
/* Waits for a message of a type (skipping others): 1, 0 closed, -1 timeout. */
int tb_fake_expect(struct tb_fake *p, uint64_t type, struct tb_peer_msg *m, int timeout_ms);
/* SYNC announcing n logs, then HEADS holding them at seq 0 (zero hashes):
 * the daemon then pushes those logs from their first entry. 0 or an error. */
int tb_fake_sync_heads(struct tb_fake *p, const uint8_t (*ids)[TB_KEY_LEN], size_t n);
/* SYNC announcing n logs, then HEADS of these 72-byte records as they are
 * (log id, seq, hash: any order). 0 or an error. */
int tb_fake_send_heads(struct tb_fake *p, const uint8_t (*recs)[TB_HEAD_REC_LEN], size_t n);
/* connect, handshake and HELLO, not asserting: 0, or an error (< 0) when a
 * step fails or takes more than timeout_ms. */
int tb_fake_try_open(struct tb_fake *p, uint16_t port, const uint8_t psk[32], uint32_t keyno,
		     int timeout_ms);
/* Discards what has arrived, without waiting: 0 if the daemon closed, else 1.
 * (Frames are no longer followed afterwards.) */
int tb_fake_drain(struct tb_fake *p);
/* Discards input until the daemon closes: true if it did within timeout_ms. */
bool tb_fake_closed_within(struct tb_fake *p, int timeout_ms);
void tb_fake_close(struct tb_fake *p);

#endif
