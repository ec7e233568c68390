/*
 * tb_node.h: what the daemon (tallyd) and the command line (tally) share
 * about a data directory beyond the ledger: the peer list, the federation
 * key file and the status file the daemon keeps for `tally peer list`.
 *
 * Data directory layout:
 *   DATA/ledger/          the LMDB ledger (store/)
 *   DATA/keys/node.key    the community key; keys/members/<pubkey>.key
 *   DATA/federation.key   the federation's shared key (the Noise PSK)
 *   DATA/peers            peers to dial, one "HOST:PORT [NODE_ID]" a line
 *   DATA/status           written by tallyd: peers, connection state, lag
 *   DATA/tallyd.lock      held (a POSIX write lock) by the running tallyd
 */
#ifndef TB_NODE_H
#define TB_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "tb_store.h"

#define TB_DEFAULT_PORT 7411
#define TB_PEERS_MAX 256
#define TB_ADDR_MAX 80

struct tb_peer_conf {
	char host[TB_ADDR_MAX];
	uint16_t port;
	bool has_id;
	uint8_t id[TB_KEY_LEN];
};

/* "HOST:PORT" (IPv4, [IPv6] or localhost) into host and port. */
int tb_addr_parse(const char *s, char *host, size_t cap, uint16_t *port);

/* Reads DATA/peers (missing file: no peers). Bad lines are TB_EINVAL with
 * *line set to the line number. */
int tb_peers_load(const char *data, struct tb_peer_conf *out, size_t cap, size_t *n, int *line);
/* Parses the text of a peers file (len bytes, any bytes) as tb_peers_load
 * does: lines of at most TB_PEERS_LINE_MAX bytes, NUL bytes refused. */
#define TB_PEERS_LINE_MAX 510
int tb_peers_parse(const char *text, size_t len, struct tb_peer_conf *out, size_t cap, size_t *n,
		   int *line);
/* Adds or updates a peer line (atomically rewritten). */
int tb_peers_add(const char *data, const struct tb_peer_conf *p);

/* Federation key files: "tally-federation-v1 <64 hex digits>\n". */
#define TB_FEDKEY_LEN 32
int tb_fedkey_create(const char *path);
int tb_fedkey_read(const char *path, uint8_t key[TB_FEDKEY_LEN]);
/* Parses a federation key file's bytes: 0 or TB_EKEYFILE (key zeroed). */
int tb_fedkey_parse(const char *text, size_t len, uint8_t key[TB_FEDKEY_LEN]);
/* Copies a federation key file into DATA/federation.key. */
int tb_fedkey_install(const char *data, const char *from);

/* ---- the status file ---- */

struct tb_status_log {
	uint8_t log_id[TB_KEY_LEN];
	uint64_t peer_seq; /* what we know the peer holds */
};

struct tb_status_peer {
	char addr[TB_ADDR_MAX];
	bool has_id;
	uint8_t id[TB_KEY_LEN];
	char name[TB_NAME_MAX + 1];
	bool connected;
	bool outbound;
	uint64_t last_contact;	      /* unix seconds, 0: never */
	uint64_t bytes_in, bytes_out; /* on the current connection */
	size_t nbehind;		      /* logs held here of which the peer lacks entries */
	size_t nlogs;		      /* of those, the ones listed (most behind first) */
	struct tb_status_log *logs;   /* owned */
};
/* Logs listed per peer: the file stays small whatever peers claim. */
#define TB_STATUS_LOGS_MAX 16

struct tb_status {
	uint8_t node_id[TB_KEY_LEN];
	char listen[TB_ADDR_MAX];
	uint64_t written; /* unix seconds */
	uint32_t pid;
	size_t npeers;
	struct tb_status_peer *peers; /* owned */
};

int tb_status_write(const char *data, const struct tb_status *st);
int tb_status_read(const char *data, struct tb_status *st);
void tb_status_free(struct tb_status *st);

/* ---- backup files (backup.c; FORMAT.md "Backup files") ---- */

struct tb_backup_info {
	uint64_t files; /* files held */
	uint64_t bytes; /* their bytes */
	bool complete;	/* the end line was read and every hash checked */
	bool has_ledger, has_key;
};

/*
 * Writes a backup of data directory `data` (whose open store is s) to out:
 * via out.tmp (read back and checked whole) and a rename, so out is never
 * half written; *info (may be NULL) describes what was written.
 */
TB_MUST_CHECK int tb_backup_write(const char *data, struct tb_store *s, const char *out,
				  struct tb_backup_info *info);
/* Reads a backup file whole and checks it: 0, or TB_ECORRUPT, TB_EVERSION,
 * TB_ETRUNCATED, TB_ETRAILING, TB_ETOOBIG, or an I/O error. */
TB_MUST_CHECK int tb_backup_check(const char *file, struct tb_backup_info *info);
/* The same, writing its files under dir (made as needed; no file of the
 * backup may exist there yet). Callers check first and extract aside. */
TB_MUST_CHECK int tb_backup_extract(const char *file, const char *dir, struct tb_backup_info *info);
/* Tests' fault injection: dies by SIGKILL here if TALLY_CRASH_AT is where. */
void tb_node_crash_point(const char *where);

/* ---- one daemon per data directory (lock.c) ---- */

/*
 * Takes DATA/tallyd.lock with a POSIX write lock for the life of the process
 * and writes our pid in it. TB_ELOCKED if another process holds it (*holder:
 * its pid, from the kernel), or an I/O error. *fd stays open until exit.
 */
TB_MUST_CHECK int tb_daemon_lock(const char *data, int *fd, uint32_t *holder);
/* Whether a tallyd holds DATA's lock now; *pid (may be NULL) is its pid. */
bool tb_daemon_running(const char *data, uint32_t *pid);

/*
 * A sentence for a storage error at path, naming what happened: "disk full:
 * cannot write PATH (about N KiB more needed, M KiB free)" (need: bytes, 0
 * if unknown), "permission denied: cannot write PATH", else the error's
 * text.
 */
void tb_describe_storage(char *buf, size_t cap, int err, const char *path, uint64_t need);
/* The TB_E* code of an errno from a file operation. */
int tb_errno_code(int e);

#endif
