/*
 * fuzz_repl.c: stateful libFuzzer target for replication and clearing: a
 * sequence of peer messages against a real store, taken by tallyd's own
 * code (the library tb_daemon: conn.c's frames and dispatch, repl.c,
 * ingest.c, admission.c, push.c, clearing.c), each message followed by the
 * scan and clearing step the node runs when its store changed; invariants
 * are checked after every message.
 *
 * Per input: a scratch store in a fresh directory (under $TMPDIR, else
 * /dev/shm, else /tmp) whose own log is community 0 ("Riverside", key
 * FUZZ_LOG_SEED; members alice, bob, carol) admitting communities 1
 * ("Hillside") and 2 ("Lakeside") with trust lines of 600 minutes to both,
 * and two own prepares, alice's to Hillside's alice (seq 9, txid 0xa1) and
 * to Lakeside's alice (seq 10, txid 0xa2). Community 3 ("Outsider") is not
 * admitted. The node is a struct tb_node on a private libuv loop; the peer
 * (this program) connects over a socket pair, runs the Noise handshake and
 * HELLO as a node would (the federation key FUZZ_PSK, node key
 * FUZZ_PEER_NODE), then, unless flag bit 0 is set, sends SYNC announcing no
 * logs. A connection the node closes is dialled again (at most RECONNECTS
 * times) when the next message is due.
 *
 * Input: a flags byte (bit 0: no automatic SYNC), then operations
 * [h][op][u16 big-endian n][n bytes] (FUZZ_REPL_DEBUG set in the
 * environment: the node's log lines, down to debug, on stderr).
 * h bits 0-1 choose the community: 0 Hillside, 1 Lakeside, 2 Outsider,
 * 3 Riverside (the own log's key, as a thief of it would).
 *  - op a ledger kind (1..63): n bytes are the body (msgpack of that kind);
 *    the peer seals the entry with the community's key and adds it to the
 *    ENTRIES message being built (sent when an operation of another kind
 *    comes, when h bit 7 is set, when full, and at the end). Its seq and
 *    prev follow the peer's copy of the log (its last entry), or h bits 2-3:
 *    1 the same seq as that last entry (a second entry there: a fork, kept
 *    as the log's fork pair), 2 a gap, 3 the node's head of the log (the
 *    peer's copy is cut back to the node's). h bit 4: prev all zero; bit 5:
 *    the members' consent re-signed (as fuzz_ledger does); bit 6: an hour
 *    earlier. Timestamps are one a minute, the first a day before the
 *    input's clock (time() when it starts); a prepare's and a decision's
 *    `expires` count from that day-old start (start + expires modulo two
 *    days), so both legs of one exchange name the same moment.
 *  - op 0xf0: n bytes are a peer message's plaintext, sent as one frame.
 *  - op 0xf1: FORK with the community's fork pair (if it has one).
 *  - op 0xf2: a CHECKPOINT of the peer's copy of the log, size 1 + b0
 *    modulo its length, its root wrong if b1 bit 0, timestamp start + b2.
 *  - op 0xf3: ENTRIES again: the peer's copy from seq 1 + b0, b1 + 1 records.
 *  - op 0xf4: the peer closes the connection.
 *  Other ops are skipped.
 *
 * Checks after each message: no storage or memory error (ASan); every entry
 * held before is held unchanged (the chain up to each old head); only the own
 * log and admitted logs are held; in every log held member and clearing
 * balances sum to 0 and nothing held is negative; every prepare addressed to
 * the own log from a community it has a trust line with is decided, and
 * every own prepare whose provider's decision is held is finished, unless the
 * node logged it as a leg it cannot record; a decision counts only from the
 * log the prepare names; the node's tables stay within their caps; and every
 * message the node sends decodes, with a log's fork proof sent at most once
 * per connection. At the end the store is re-verified from its logs
 * (tb_store_reindex) and the checks spanning logs blame no entry of the own
 * log (a dishonest community's entries may well be blamed).
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "fuzz_util.h"
#include "tb_merkle.h"
#include "tb_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCOMM 4
#define RECS_MAX 64  /* entries of the peer's copy of each log */
#define RECONNECTS 8 /* connections per input after the first */
#define OUT_CAP (1u << 20)
#define FORK_LOGS 8 /* logs whose FORK the node sent, per connection */

static const char *const g_cname[NCOMM] = {"Riverside", "Hillside", "Lakeside", "Outsider"};
static const int g_hcomm[4] = {1, 2, 3, 0}; /* h bits 0-1 -> community */

/* The peer's copy of one log. */
struct plog {
	uint64_t seq;
	uint8_t hash[TB_HASHLEN];
	uint8_t rec[RECS_MAX + 1][TB_ENTRY_MAX];
	size_t len[RECS_MAX + 1];
	uint8_t fa[TB_ENTRY_MAX], fb[TB_ENTRY_MAX]; /* the fork pair */
	size_t falen, fblen;
};

struct peer {
	int fd; /* -1: not connected */
	struct tb_noise_cipher tx, rx;
	uint8_t *out; /* frames not written yet */
	size_t outlen;
	uint8_t in[2 + TB_FRAME_MAX];
	size_t inlen;
	uint8_t forked[FORK_LOGS][TB_KEY_LEN]; /* logs whose FORK came */
	size_t nforked;
	unsigned dials;
};

static struct {
	char dir[64];  /* made once */
	char data[96]; /* the node's data directory, per input */
	bool debug;
	struct tb_keypair comm[NCOMM], member[4], peer_key;
	uint64_t start; /* the input's clock, a day back */
	uint64_t ts;	/* the last timestamp given */
	struct plog logs[NCOMM];
	struct peer p;
	struct tb_node n;
	uv_loop_t loop;
	/* entries being gathered into one ENTRIES message */
	uint8_t batch[TB_FRAME_PAYLOAD_MAX];
	size_t batchlen;
	/* heads as of the last check */
	struct tb_head old[16];
	size_t nold;
} g;

/* ---- setup ---- */

static void init_once(void)
{
	static int done;
	if (done)
		return;
	TB_ASSERT(tb_crypto_init() == 0);
	for (int i = 0; i < NCOMM; i++)
		fuzz_keypair(&g.comm[i], FUZZ_LOG_SEED + i);
	for (int i = 0; i < 4; i++)
		fuzz_keypair(&g.member[i], FUZZ_MEMBER_SEED + i);
	fuzz_keypair(&g.peer_key, FUZZ_PEER_NODE);
	fuzz_scratch_dir(g.dir, sizeof g.dir, "fuzz_repl");
	g.p.out = malloc(OUT_CAP);
	TB_ASSERT(g.p.out != NULL);
	g.debug = getenv("FUZZ_REPL_DEBUG") != NULL;
	signal(SIGPIPE, SIG_IGN);
	done = 1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void own(struct tb_store *s, uint64_t kind, const void *body)
{
	uint64_t seq;
	struct tb_reject rej;
	int err = tb_store_append_own(s, &g.comm[0], kind, body, &seq, &rej);
	if (err)
		fprintf(stderr, "fuzz_repl: setup: %s\n", rej.msg);
	TB_ASSERT(err == 0);
}

static struct tb_view cstr(const char *s)
{
	return (struct tb_view){(const uint8_t *)s, strlen(s)};
}

static void own_prepare(struct tb_store *s, int to, uint8_t txno, uint64_t minutes)
{
	struct tb_xprepare x;
	memset(&x, 0, sizeof x);
	x.txid[0] = txno;
	x.member = 1;
	memcpy(x.to_log, g.comm[to].pk.b, TB_KEY_LEN);
	x.to_name = cstr("alice");
	x.minutes = minutes;
	x.date = 20240102;
	x.expires = g.start + 86400 + 3600;
	x.attested = 1;
	own(s, TB_KIND_XPREPARE, &x);
}

/* The own log: seq 1 genesis, 2-4 members, 5-6 admissions, 7-8 trust
 * lines, 9-10 prepares. */
static void own_log(struct tb_store *s)
{
	static const char *const names[] = {"", "alice", "bob", "carol"};
	struct tb_genesis gen = {.name = cstr(g_cname[0]), .floor = -600};
	own(s, TB_KIND_GENESIS, &gen);
	for (uint32_t m = 1; m <= 3; m++) {
		struct tb_member_join j;
		memset(&j, 0, sizeof j);
		j.member = m;
		j.name = cstr(names[m]);
		memcpy(j.key, g.member[m].pk.b, TB_KEY_LEN);
		j.floor = -600;
		own(s, TB_KIND_MEMBER_JOIN, &j);
	}
	for (int i = 1; i <= 2; i++) {
		struct tb_admit a = {.name = cstr(g_cname[i]), .status = TB_ADMIT_ADMITTED};
		memcpy(a.community, g.comm[i].pk.b, TB_KEY_LEN);
		own(s, TB_KIND_ADMIT, &a);
	}
	for (int i = 1; i <= 2; i++) {
		struct tb_link l = {.limit = 600};
		memcpy(l.community, g.comm[i].pk.b, TB_KEY_LEN);
		own(s, TB_KIND_LINK, &l);
	}
	own_prepare(s, 1, 0xa1, 30);
	own_prepare(s, 2, 0xa2, 20);
}

static void node_up(void)
{
	struct tb_node *n = &g.n;
	char path[160];
	memset(n, 0, sizeof *n);
	snprintf(g.data, sizeof g.data, "%s/n", g.dir);
	snprintf(path, sizeof path, "%s/ledger", g.data);
	TB_ASSERT(mkdir(g.data, 0700) == 0 && mkdir(path, 0700) == 0);
	TB_ASSERT(tb_store_open(&n->store, path, TB_STORE_SCRATCH) == 0);
	tb_store_set_threads(n->store, 1);
	TB_ASSERT(tb_store_set_self(n->store, g.comm[0].pk.b) == 0);
	own_log(n->store);
	n->data = g.data;
	n->level = g.debug ? TB_LOG_DEBUG : TB_LOG_ERROR;
	n->key = g.comm[0];
	memcpy(n->self, g.comm[0].pk.b, TB_KEY_LEN);
	snprintf(n->name, sizeof n->name, "%s", g_cname[0]);
	fuzz_fill(n->psk, FUZZ_PSK);
	fuzz_fill(n->noise_secret, FUZZ_RESP_STATIC);
	n->lock_fd = -1;
	TB_ASSERT(uv_loop_init(&g.loop) == 0);
	n->loop = &g.loop;
	uv_timer_t *timers[] = {&n->checkpoint_timer, &n->scan_timer, &n->status_timer,
				&n->settle_timer,     &n->trim_timer, &n->restore_timer};
	for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
		uv_timer_init(n->loop, timers[i]);
		timers[i]->data = n;
	}
	tb_node_forks_changed(n);
	TB_ASSERT(tb_node_scan(n) == 0);
}

static void walk_close(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void node_down(void)
{
	struct tb_node *n = &g.n;
	n->stopping = true;
	while (n->conns)
		tb_conn_close(n->conns, "end of input");
	uv_walk(n->loop, walk_close, NULL);
	uv_run(n->loop, UV_RUN_DEFAULT);
	TB_ASSERT(uv_loop_close(n->loop) == 0);
	tb_node_free_tables(n);
	if (g.p.fd >= 0)
		close(g.p.fd);
	g.p.fd = -1;
	nftw(g.data, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- the wire ---- */

static void frame_out(const uint8_t *body, size_t len, bool encrypt)
{
	struct peer *p = &g.p;
	if (p->fd < 0 || p->outlen + 2 + len + 16 > OUT_CAP)
		return;
	size_t n = len;
	if (encrypt)
		TB_ASSERT(tb_noise_encrypt(&p->tx, body, len, p->out + p->outlen + 2, TB_FRAME_MAX,
					   &n) == 0);
	else
		memcpy(p->out + p->outlen + 2, body, len);
	p->out[p->outlen] = (uint8_t)(n >> 8);
	p->out[p->outlen + 1] = (uint8_t)n;
	p->outlen += 2 + n;
}

static void send_msg(const struct tb_peer_msg *m)
{
	static uint8_t buf[TB_FRAME_PAYLOAD_MAX + 64];
	size_t len;
	TB_ASSERT(tb_peer_msg_encode(buf, sizeof buf, &len, m) == 0);
	frame_out(buf, len, true);
}

static void seen_fork(const struct tb_fork *f)
{
	struct tb_entry e;
	TB_ASSERT(tb_entry_decode(&e, f->a.p, f->a.len) == 0);
	for (size_t i = 0; i < g.p.nforked; i++)
		TB_ASSERT(memcmp(g.p.forked[i], e.log_id, TB_KEY_LEN) != 0);
	if (g.p.nforked < FORK_LOGS)
		memcpy(g.p.forked[g.p.nforked++], e.log_id, TB_KEY_LEN);
}

/* Reads what the node sent; false once it closed. During the handshake
 * (hs not NULL) a frame is the node's handshake message. */
static bool drain(struct tb_noise_hs *hs, bool *got)
{
	struct peer *p = &g.p;
	for (;;) {
		ssize_t r = read(p->fd, p->in + p->inlen, sizeof p->in - p->inlen);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return false;
		if (r < 0)
			return true;
		*got = true;
		p->inlen += (size_t)r;
		size_t off = 0;
		struct tb_view f;
		size_t used;
		int rc;
		while ((rc = tb_frame_next(p->in + off, p->inlen - off, hs == NULL, &f, &used)) ==
		       1) {
			off += used;
			if (hs) {
				uint8_t pl[256];
				size_t pln;
				TB_ASSERT(tb_noise_read(hs, f.p, f.len, pl, sizeof pl, &pln) == 0);
				hs = NULL; /* one message from the responder */
				continue;
			}
			static uint8_t plain[TB_FRAME_MAX];
			struct tb_peer_msg m;
			TB_ASSERT(tb_frame_open(&p->rx, f.p, f.len, plain, &m) == 0);
			if (m.type == TB_MSG_FORK)
				seen_fork(&m.u.fork);
		}
		TB_ASSERT(rc >= 0);
		memmove(p->in, p->in + off, p->inlen - off);
		p->inlen -= off;
	}
}

/* Runs the node's loop and both directions until nothing moves. */
static void pump(struct tb_noise_hs *hs)
{
	struct peer *p = &g.p;
	int idle = 0;
	for (int i = 0; i < 100000 && idle < 3 && p->fd >= 0; i++) {
		bool moved = false;
		if (p->outlen) {
			ssize_t w = write(p->fd, p->out, p->outlen);
			if (w > 0) {
				memmove(p->out, p->out + w, p->outlen - (size_t)w);
				p->outlen -= (size_t)w;
				moved = true;
			} else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				p->outlen = 0;
			}
		}
		uv_run(g.n.loop, UV_RUN_NOWAIT);
		if (!drain(hs, &moved)) {
			close(p->fd);
			p->fd = -1;
			p->outlen = 0;
			break;
		}
		if (hs && !hs->live)
			break;
		idle = moved ? 0 : idle + 1;
	}
}

/* The peer dials the node: a socket pair, the handshake, HELLO, SYNC. */
static void dial(bool sync)
{
	struct peer *p = &g.p;
	int sv[2];
	TB_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	struct tb_conn *c = tb_node_conn_new(&g.n, false, "fuzz-peer");
	TB_ASSERT(c != NULL);
	snprintf(c->ip, sizeof c->ip, "127.0.0.1");
	TB_ASSERT(uv_tcp_open(&c->tcp, sv[0]) == 0);
	p->fd = sv[1];
	p->inlen = p->outlen = 0;
	p->nforked = 0;
	p->dials++;
	TB_ASSERT(tb_conn_start_inbound(c) == 0);
	struct tb_noise_hs hs;
	uint8_t s[32], e[32], msg[256], hh[32], rs[32];
	size_t len;
	fuzz_fill(s, FUZZ_INIT_STATIC);
	fuzz_fill(e, FUZZ_INIT_EPH);
	uint8_t psk[32];
	fuzz_fill(psk, FUZZ_PSK);
	TB_ASSERT(tb_noise_init(&hs, TB_NOISE_INITIATOR, (const uint8_t *)FUZZ_PROLOGUE,
				strlen(FUZZ_PROLOGUE), psk, s, e) == 0);
	TB_ASSERT(tb_noise_write(&hs, NULL, 0, msg, sizeof msg, &len) == 0);
	frame_out(msg, len, false);
	pump(&hs); /* the node's message 2 */
	TB_ASSERT(p->fd >= 0);
	TB_ASSERT(tb_noise_write(&hs, NULL, 0, msg, sizeof msg, &len) == 0);
	frame_out(msg, len, false);
	TB_ASSERT(tb_noise_split(&hs, &p->tx, &p->rx, hh, rs) == 0);
	struct tb_peer_msg m = {.type = TB_MSG_HELLO};
	uint8_t proof[33];
	memcpy(proof, hh, 32);
	proof[32] = 0; /* the initiator signs */
	m.u.hello.version = TB_PROTO_VERSION;
	memcpy(m.u.hello.node_id, g.peer_key.pk.b, TB_KEY_LEN);
	tb_sign(m.u.hello.sig, &g.peer_key, TB_CTX_HANDSHAKE, proof, sizeof proof);
	m.u.hello.name = cstr("peer");
	send_msg(&m);
	if (sync) {
		struct tb_peer_msg sm = {.type = TB_MSG_SYNC};
		send_msg(&sm);
	}
	pump(NULL);
}

static bool connected(void)
{
	if (g.p.fd >= 0)
		return true;
	if (g.p.dials > RECONNECTS)
		return false;
	dial(true);
	return g.p.fd >= 0;
}

/* ---- the peer's copies of logs ---- */

/* The node's head of a log (seq 0 if it holds none). */
static void node_head(const uint8_t *log_id, struct tb_head *h)
{
	int err = tb_store_head(g.n.store, log_id, h);
	TB_ASSERT(err == 0 || err == TB_ENOTFOUND);
	if (err)
		memset(h, 0, sizeof *h);
}

/* The peer's copy of log ci cut back to the node's (the node's entries). */
static void follow_node(int ci)
{
	struct plog *l = &g.logs[ci];
	struct tb_head h;
	node_head(g.comm[ci].pk.b, &h);
	if (h.seq > RECS_MAX)
		return;
	for (uint64_t s = 1; s <= h.seq; s++)
		TB_ASSERT(tb_store_get_entry(g.n.store, g.comm[ci].pk.b, s, l->rec[s], TB_ENTRY_MAX,
					     &l->len[s]) == 0);
	l->seq = h.seq;
	memcpy(l->hash, h.hash, TB_HASHLEN);
}

static void batch_send(void)
{
	if (!g.batchlen)
		return;
	struct tb_peer_msg m = {.type = TB_MSG_ENTRIES};
	m.u.entries.records = (struct tb_view){g.batch, g.batchlen};
	if (connected()) {
		send_msg(&m);
		pump(NULL);
	}
	g.batchlen = 0;
}

static void batch_add(const uint8_t *rec, size_t len)
{
	if (g.batchlen + 2 + len > TB_FRAME_PAYLOAD_MAX - 64)
		batch_send();
	g.batch[g.batchlen] = (uint8_t)(len >> 8);
	g.batch[g.batchlen + 1] = (uint8_t)len;
	memcpy(g.batch + g.batchlen + 2, rec, len);
	g.batchlen += 2 + len;
}

/* A ledger kind's operation: seal the entry, add it to the batch. */
static void entry_op(uint8_t h, uint64_t kind, const uint8_t *body, size_t n)
{
	const struct tb_msgdef *d = tb_kind_def(kind);
	struct tb_entry e;
	memset(&e, 0, sizeof e);
	if (!d || tb_msg_decode_exact(body, n, d, &e.body))
		return;
	int ci = g_hcomm[h & 3];
	struct plog *l = &g.logs[ci];
	unsigned mode = (h >> 2) & 3;
	if (mode == 3)
		follow_node(ci);
	e.version = TB_ENTRY_VERSION;
	e.kind = kind;
	memcpy(e.log_id, g.comm[ci].pk.b, TB_KEY_LEN);
	e.seq = mode == 1 ? l->seq : mode == 2 ? l->seq + 2 : l->seq + 1;
	if (e.seq == 0 || e.seq > RECS_MAX)
		return;
	if (mode == 1 && l->seq > 1) {
		struct tb_entry was;
		TB_ASSERT(tb_entry_decode(&was, l->rec[l->seq], l->len[l->seq]) == 0);
		memcpy(e.prev, was.prev, TB_HASHLEN);
	} else if (mode != 1) {
		memcpy(e.prev, l->hash, TB_HASHLEN);
	}
	if (h & 0x10)
		memset(e.prev, 0, TB_HASHLEN);
	g.ts += 60;
	e.timestamp = h & 0x40 ? g.ts - 3600 : g.ts;
	if (kind == TB_KIND_XPREPARE)
		e.body.xprepare.expires = g.start + e.body.xprepare.expires % 172800;
	if (kind == TB_KIND_XDECIDE)
		e.body.xdecide.expires = g.start + e.body.xdecide.expires % 172800;
	uint8_t sigs[2][TB_SIGLEN];
	if (h & 0x20)
		fuzz_consent(&e, g.member, sigs);
	static uint8_t rec[TB_ENTRY_MAX];
	size_t len;
	if (tb_entry_seal(rec, sizeof rec, &len, &e, &g.comm[ci]))
		return;
	if (mode == 1) {
		if (l->seq) { /* a second entry at the last seq: the fork pair */
			memcpy(l->fa, l->rec[l->seq], l->len[l->seq]);
			l->falen = l->len[l->seq];
			memcpy(l->fb, rec, len);
			l->fblen = len;
		}
	} else if (mode != 2) {
		memcpy(l->rec[e.seq], rec, len);
		l->len[e.seq] = len;
		l->seq = e.seq;
		tb_entry_hash(l->hash, rec, len);
	}
	batch_add(rec, len);
	if (h & 0x80)
		batch_send();
}

/* Complete subtrees of a peer's copy, for its checkpoints' roots. */
struct mtree {
	uint8_t node[8][RECS_MAX][TB_MERKLE_HASH_LEN];
};

static int mtree_get(void *ctx, unsigned level, uint64_t index, uint8_t out[TB_MERKLE_HASH_LEN])
{
	struct mtree *t = ctx;
	if (level >= 8 || index >= RECS_MAX)
		return TB_EINVAL;
	memcpy(out, t->node[level][index], TB_MERKLE_HASH_LEN);
	return 0;
}

static void checkpoint_op(uint8_t h, const uint8_t *b, size_t n)
{
	int ci = g_hcomm[h & 3];
	struct plog *l = &g.logs[ci];
	if (!l->seq)
		return;
	static struct mtree t;
	struct tb_checkpoint cp;
	memset(&cp, 0, sizeof cp);
	cp.size = 1 + (n > 0 ? b[0] : 0) % l->seq;
	for (uint64_t i = 0; i < cp.size; i++) {
		struct tb_merkle_node nodes[64];
		uint8_t leaf[TB_HASHLEN];
		tb_entry_hash(leaf, l->rec[i + 1], l->len[i + 1]);
		int k = tb_merkle_append(nodes, i, leaf, mtree_get, &t);
		TB_ASSERT(k > 0);
		for (int j = 0; j < k; j++)
			memcpy(t.node[nodes[j].level][nodes[j].index], nodes[j].hash,
			       TB_MERKLE_HASH_LEN);
	}
	TB_ASSERT(tb_merkle_root(cp.root, cp.size, mtree_get, &t) == 0);
	if (n > 1 && (b[1] & 1))
		cp.root[0] ^= 1;
	memcpy(cp.log_id, g.comm[ci].pk.b, TB_KEY_LEN);
	cp.timestamp = g.start + (n > 2 ? b[2] : 0);
	uint8_t buf[TB_CHECKPOINT_MAX];
	size_t len;
	TB_ASSERT(tb_checkpoint_seal(buf, sizeof buf, &len, &cp, &g.comm[ci]) == 0);
	struct tb_peer_msg m = {.type = TB_MSG_CHECKPOINT_MSG};
	m.u.checkpoint_msg.checkpoint = (struct tb_view){buf, len};
	send_msg(&m);
}

static void resend_op(uint8_t h, const uint8_t *b, size_t n)
{
	struct plog *l = &g.logs[g_hcomm[h & 3]];
	uint64_t from = 1 + (n > 0 ? b[0] : 0), k = 1 + (n > 1 ? b[1] : 0);
	for (uint64_t s = from; s <= l->seq && s < from + k; s++)
		batch_add(l->rec[s], l->len[s]);
	batch_send();
}

/* ---- checks ---- */

static int sum_member(void *ctx, const struct tb_member *m)
{
	TB_ASSERT(m->held >= 0);
	*(int64_t *)ctx += m->balance;
	return 0;
}

static int sum_clearing(void *ctx, const struct tb_clearing *c)
{
	TB_ASSERT(c->held >= 0);
	*(int64_t *)ctx += c->balance;
	return 0;
}

struct heads {
	struct tb_head h[16];
	size_t n;
};

static int head_one(void *ctx, const struct tb_head *h)
{
	struct heads *hs = ctx;
	/* Only the own log and admitted logs are held. */
	TB_ASSERT(tb_admitted_has(&g.n.admitted, h->log_id));
	TB_ASSERT(hs->n < 16);
	hs->h[hs->n++] = *h;
	int64_t sum = 0;
	int err = tb_store_foreach_member(g.n.store, h->log_id, sum_member, &sum);
	TB_ASSERT(err >= 0 || err == TB_ENOTFOUND);
	err = tb_store_foreach_clearing(g.n.store, h->log_id, sum_clearing, &sum);
	TB_ASSERT(err >= 0 || err == TB_ENOTFOUND);
	TB_ASSERT(sum == 0);
	return 0;
}

static bool logged_skip(const uint8_t *payer, uint64_t seq)
{
	for (size_t i = 0; i < g.n.nskips; i++)
		if (g.n.skips[i].seq == seq && !memcmp(g.n.skips[i].payer, payer, TB_KEY_LEN))
			return true;
	return g.n.nskips == TB_CLEAR_SKIPS_MAX;
}

/* After the clearing step: nothing due is left undone but what was logged. */
static int leg_one(void *ctx, const struct tb_xleg *x)
{
	(void)ctx;
	const uint8_t *self = g.n.self;
	if (x->decide_seq)
		TB_ASSERT(!memcmp(x->decider, x->provider, TB_KEY_LEN));
	if (!memcmp(x->provider, self, TB_KEY_LEN) && !x->decide_seq) {
		struct tb_clearing c;
		int err = tb_store_clearing(g.n.store, self, x->payer, &c);
		TB_ASSERT(err == 0 || err == TB_ENOTFOUND);
		if (!err && c.linked)
			TB_ASSERT(logged_skip(x->payer, x->prepare_seq));
	}
	if (!memcmp(x->payer, self, TB_KEY_LEN) && x->decide_seq && !x->final_seq)
		TB_ASSERT(logged_skip(x->payer, x->prepare_seq));
	return 0;
}

static void check(void)
{
	struct tb_node *n = &g.n;
	/* Every entry held before is held unchanged: its chain up to each old
	 * head (entries link by hash) is the one held now. */
	for (size_t i = 0; i < g.nold; i++) {
		uint8_t rec[TB_ENTRY_MAX], hash[TB_HASHLEN];
		size_t len;
		TB_ASSERT(tb_store_get_entry(n->store, g.old[i].log_id, g.old[i].seq, rec,
					     sizeof rec, &len) == 0);
		tb_entry_hash(hash, rec, len);
		TB_ASSERT(memcmp(hash, g.old[i].hash, TB_HASHLEN) == 0);
	}
	struct heads hs = {.n = 0};
	TB_ASSERT(tb_store_foreach_log(n->store, head_one, &hs) == 0);
	g.nold = 0;
	for (size_t i = 0; i < hs.n; i++)
		if (hs.h[i].seq)
			g.old[g.nold++] = hs.h[i];
	TB_ASSERT(tb_store_foreach_xleg(n->store, true, leg_one, NULL) >= 0);
	/* Tables within their caps; nothing left of a read burst. */
	TB_ASSERT(n->nconns <= 1 && n->ningest == 0 && n->ncps == 0);
	TB_ASSERT(n->nforks <= hs.n && n->nheads <= hs.n);
	for (struct tb_conn *c = n->conns; c; c = c->next)
		TB_ASSERT((!c->repl || c->repl->nknown <= TB_PEER_LOGS_MAX) &&
			  c->queued <= TB_QUEUE_CLOSE);
}

/* The node's scan (its debounced timer's work) until nothing more is due. */
static void settle(void)
{
	struct tb_node *n = &g.n;
	for (int i = 0; i < 8; i++) {
		pump(NULL);
		if (!n->scan_armed)
			break;
		n->scan_armed = false;
		uv_timer_stop(&n->scan_timer);
		(void)tb_node_scan(n);
	}
	(void)tb_node_scan(n); /* clearing runs whatever the store's events */
	pump(NULL);
}

/* The checks spanning logs may blame a dishonest log, never the own one. */
static void violation(void *ctx, const struct tb_reject *v)
{
	(void)ctx;
	if (!memcmp(v->log_id, g.n.self, TB_KEY_LEN)) {
		fprintf(stderr, "fuzz_repl: the own log breaks a rule: %s\n", v->msg);
		TB_ASSERT(0);
	}
}

static void verify(void)
{
	struct tb_reject rej;
	int err = tb_store_reindex(g.n.store, &rej);
	if (err)
		fprintf(stderr, "fuzz_repl: reindex: %s\n", rej.msg);
	TB_ASSERT(err == 0);
	struct tb_xverify_counts counts;
	TB_ASSERT(tb_store_xverify(g.n.store, violation, NULL, &counts) == 0);
}

/* ---- one input ---- */

static void operation(uint8_t h, uint8_t op, const uint8_t *b, size_t n)
{
	if (op >= 1 && op < 64) {
		entry_op(h, op, b, n);
		return;
	}
	batch_send();
	if (op == 0xf4) {
		if (g.p.fd >= 0)
			close(g.p.fd);
		g.p.fd = -1;
		pump(NULL);
		uv_run(g.n.loop, UV_RUN_NOWAIT);
		return;
	}
	if (!connected())
		return;
	int ci = g_hcomm[h & 3];
	struct tb_peer_msg m;
	switch (op) {
	case 0xf0:
		if (n)
			frame_out(b, n, true);
		break;
	case 0xf1:
		if (!g.logs[ci].falen)
			return;
		m.type = TB_MSG_FORK;
		m.u.fork.a = (struct tb_view){g.logs[ci].fa, g.logs[ci].falen};
		m.u.fork.b = (struct tb_view){g.logs[ci].fb, g.logs[ci].fblen};
		send_msg(&m);
		break;
	case 0xf2:
		checkpoint_op(h, b, n);
		break;
	case 0xf3:
		resend_op(h, b, n);
		return;
	default:
		return;
	}
	pump(NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_once();
	if (size < 1)
		return 0;
	memset(g.logs, 0, sizeof g.logs);
	g.p.fd = -1;
	g.p.dials = 0;
	g.batchlen = 0;
	g.nold = 0;
	g.start = (uint64_t)time(NULL) - 86400;
	g.ts = g.start;
	node_up();
	check();
	dial(!(data[0] & 1));
	settle();
	check();
	const uint8_t *p = data + 1;
	size_t len = size - 1;
	while (len >= 4) {
		uint8_t h = p[0], op = p[1];
		size_t n = (size_t)p[2] << 8 | p[3];
		p += 4;
		len -= 4;
		if (n > len)
			n = len;
		operation(h, op, p, n);
		p += n;
		len -= n;
		if (op >= 64 || (h & 0x80)) {
			settle();
			check();
		}
	}
	batch_send();
	settle();
	check();
	verify();
	node_down();
	return 0;
}
