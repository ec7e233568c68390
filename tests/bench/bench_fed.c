/*
 * bench_fed.c: replication between real tallyd processes on 127.0.0.1
 * (DESIGN.md section 8), three measurements:
 *
 *  1. Catch-up: node A holds N entries of its own log (attested exchanges
 *     between its two members, sealed here and appended through the library
 *     in groups of 1000 before A starts); an empty node (B, then one more
 *     per run) is started with --peer A and timed from its start until its
 *     ledger holds A's head. Reported in entries/s against an ingest of the
 *     same records into a fresh local store just before each run (best of
 *     the runs for both; also against bench_ingest's all-core attested
 *     figure when given), and in bytes on the wire per entry (the new node's
 *     status file). The same local ingest in groups of one ENTRIES frame's
 *     records shows what tallyd's commit size costs.
 *  2. An in-sync round: B restarted while in sync, through a counting proxy
 *     in this process, so that every frame of the new connection is seen
 *     (the status file counts the same bytes, and is reported too); then one
 *     exchange recorded at A and the bytes its push cost beyond the record.
 *  3. Propagation: 32 nodes in a random connected topology (each dials two
 *     random earlier nodes), in sync; an exchange recorded at one node with
 *     the command line, timed until all 32 ledgers hold the new head. Five
 *     times; median and max.
 *
 * Heads are read from each node's ledger opened read-only in this process,
 * polled every few milliseconds. Every daemon dies with this process
 * (fed.c), and every one started is killed, and the node trees removed, at
 * exit or on SIGINT, SIGTERM or SIGHUP ($TB_KEEP keeps the trees). It prints
 * a table and one `FIGURE name value unit target` line per figure for
 * scripts/bench. Any unexpected error exits non-zero; a missed target does
 * not.
 *
 * Binaries: $TALLY_BIN and $TALLYD_BIN, else ../node/tally and
 * ../node/tallyd next to this executable (the build tree's layout). They
 * must be built from the same sources as this benchmark: it writes A's log
 * with the library linked here into a ledger `tally init` made, so a stale
 * tally shows up as "stored data is corrupt" when A is filled.
 *
 * Usage: bench_fed [entries [ingest_rate [runs]]]
 *   entries      A's log for the catch-up (default 100000)
 *   ingest_rate  bench_ingest's ingest_attested_allcores figure (entries/s),
 *                for a second ratio (0: none); the in-run ingest is always
 *                measured
 *   runs         catch-ups, each by a fresh node, each after a local ingest
 *                of the same records (default 2): best of each
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "fed.h"
#include "procmem.h"
#include "tb_node.h"
#include "tb_store.h"
#include "testutil.h"

#define DEFAULT_ENTRIES 100000
#define DEFAULT_RUNS 2
#define GROUP 1000
#define REC_BOUND 512
#define POLL_US 2000
#define CATCHUP_MS 600000
#define PROP_NODES 32
#define PROP_TRIALS 5
#define PROP_MS 30000
#define HANDSHAKE_BYTES 214	 /* PROTOCOL.md 3.4 */
#define FRAME_RECORD_BYTES 64936 /* record bytes tallyd puts in one ENTRIES frame */

#define TARGET_CATCHUP_RATIO 0.90
#define TARGET_PUSH_OVERHEAD 100
#define TARGET_PROP_MS 1000

/* The topology's own generator (tb_bench_xorshift; fed.c uses rand()). */
static uint64_t rng_state;

/* ---- ledgers and status files ---- */

/* One peer's line of a status file. */
struct peer_stat {
	bool found, connected, synced;
	uint64_t in, out;
	uint64_t mtime_ns; /* of the file */
	uint32_t pid;
};

/* The peer of node `data` with address addr (if not NULL) or id. */
static struct peer_stat status_peer(const char *data, const char *addr, const uint8_t *id)
{
	struct peer_stat p;
	memset(&p, 0, sizeof p);
	char path[TB_FED_PATH + 32];
	snprintf(path, sizeof path, "%s/status", data);
	struct stat st;
	if (stat(path, &st))
		return p;
	p.mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
	struct tb_status s;
	if (tb_status_read(data, &s))
		return p;
	p.pid = s.pid;
	for (size_t i = 0; i < s.npeers; i++) {
		const struct tb_status_peer *sp = &s.peers[i];
		if (addr ? strcmp(sp->addr, addr) != 0
			 : !sp->has_id || memcmp(sp->id, id, TB_KEY_LEN) != 0)
			continue;
		p.found = true;
		p.connected = sp->connected;
		/* The status file lists only the logs a peer lags on: in sync
		 * is connected, heard from, and behind on none. */
		p.synced = sp->connected && sp->has_id && sp->bytes_in > 0 && sp->nbehind == 0;
		p.in = sp->bytes_in;
		p.out = sp->bytes_out;
		break;
	}
	tb_status_free(&s);
	return p;
}

/* ---- records of A's log ---- */

struct recs {
	uint8_t *buf;
	size_t len, cap;
	struct tb_view *v;
	size_t n, cap_n;
};

static void recs_init(struct recs *r, size_t n)
{
	memset(r, 0, sizeof *r);
	r->cap = n * REC_BOUND;
	r->cap_n = n;
	r->buf = malloc(r->cap);
	r->v = calloc(n, sizeof *r->v);
	if (!r->buf || !r->v)
		tb_bench_die("malloc", TB_ENOMEM);
}

static void recs_free(struct recs *r)
{
	free(r->buf);
	free(r->v);
	memset(r, 0, sizeof *r);
}

/*
 * Appends n attested exchanges between members m1 and m2 (alternating
 * direction, so balances stay within half an hour of zero) to r, continuing
 * the chain at head h with key kp.
 */
static void gen_exchanges(struct recs *r, size_t n, const struct tb_keypair *kp,
			  const struct tb_head *h, uint32_t m1, uint32_t m2)
{
	uint8_t prev[TB_HASHLEN];
	memcpy(prev, h->hash, TB_HASHLEN);
	uint64_t seq = h->seq, date = tb_bench_today(false), ts = (uint64_t)time(NULL);
	for (size_t k = 0; k < n; k++) {
		TB_ASSERT(r->n < r->cap_n);
		struct tb_exchange x;
		tb_bench_exchange(&x, "fbench-x", k, kp, m1, m2, date, false);
		uint8_t *out = r->buf + r->len;
		size_t len = tb_bench_seal_exchange(out, r->cap - r->len, kp, &seq, prev, ts, &x);
		r->v[r->n++] = (struct tb_view){out, len};
		r->len += len;
	}
}

/* Appends views [from, to) in groups of `group`; returns the seconds taken. */
static double append_groups_of(struct tb_store *s, const struct tb_view *v, size_t from, size_t to,
			       size_t group, const char *what)
{
	double t0 = tb_bench_now();
	for (size_t off = from; off < to; off += group) {
		size_t k = to - off < group ? to - off : group, acc = 0;
		struct tb_reject rej;
		int err = tb_store_append(s, v + off, k, &acc, &rej);
		if (err || acc != k) {
			fprintf(stderr,
				"bench_fed: %s: group at %zu: %zu of %zu accepted: %s (seq %" PRIu64
				": %s)\n",
				what, off, acc, k, tb_strerror(err), rej.seq, rej.msg);
			exit(1);
		}
	}
	return tb_bench_now() - t0;
}

static double append_groups(struct tb_store *s, const struct tb_view *v, size_t from, size_t to,
			    const char *what)
{
	return append_groups_of(s, v, from, to, GROUP, what);
}

/* ---- a counting TCP proxy (for the in-sync round) ---- */

#define PROXY_FRAMES 4096

struct pframe {
	double t;
	int dir;      /* 0: dialer to listener (B to A), 1: back */
	uint32_t len; /* bytes on the wire, prefix included */
};

struct proxy {
	int lfd, pipe[2];
	uint16_t port, target;
	pthread_t th;
	pthread_mutex_t mu;
	double t0;
	uint64_t bytes[2];
	unsigned conns;
	struct pframe frames[PROXY_FRAMES];
	size_t nframes;
	/* frame parser, per direction */
	uint8_t hdr[2][2];
	size_t hdr_have[2];
	size_t body_left[2];
};

static void proxy_count(struct proxy *p, int dir, const uint8_t *b, size_t n)
{
	pthread_mutex_lock(&p->mu);
	p->bytes[dir] += n;
	for (size_t i = 0; i < n;) {
		if (p->body_left[dir]) {
			size_t k = n - i < p->body_left[dir] ? n - i : p->body_left[dir];
			p->body_left[dir] -= k;
			i += k;
			continue;
		}
		p->hdr[dir][p->hdr_have[dir]++] = b[i++];
		if (p->hdr_have[dir] == 2) {
			size_t len = (size_t)p->hdr[dir][0] << 8 | p->hdr[dir][1];
			p->hdr_have[dir] = 0;
			p->body_left[dir] = len;
			if (p->nframes < PROXY_FRAMES)
				p->frames[p->nframes++] = (struct pframe){tb_bench_now() - p->t0,
									  dir, (uint32_t)(len + 2)};
		}
	}
	pthread_mutex_unlock(&p->mu);
}

static int write_all(int fd, const uint8_t *b, size_t n)
{
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Forwards one connection until either side closes. */
static void proxy_pipe(struct proxy *p, int cfd)
{
	int sfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons(p->target);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sfd < 0 || connect(sfd, (struct sockaddr *)&a, sizeof a)) {
		if (sfd >= 0)
			close(sfd);
		close(cfd);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->conns++;
	p->hdr_have[0] = p->hdr_have[1] = 0;
	p->body_left[0] = p->body_left[1] = 0;
	pthread_mutex_unlock(&p->mu);
	uint8_t buf[65536];
	for (;;) {
		struct pollfd pf[3] = {{cfd, POLLIN, 0}, {sfd, POLLIN, 0}, {p->pipe[0], POLLIN, 0}};
		if (poll(pf, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[2].revents)
			break;
		bool done = false;
		for (int d = 0; d < 2 && !done; d++) {
			if (!pf[d].revents)
				continue;
			ssize_t r = read(pf[d].fd, buf, sizeof buf);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				done = true;
				break;
			}
			proxy_count(p, d, buf, (size_t)r);
			if (write_all(d == 0 ? sfd : cfd, buf, (size_t)r))
				done = true;
		}
		if (done)
			break;
	}
	close(cfd);
	close(sfd);
}

static void *proxy_main(void *arg)
{
	struct proxy *p = arg;
	for (;;) {
		struct pollfd pf[2] = {{p->lfd, POLLIN, 0}, {p->pipe[0], POLLIN, 0}};
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents)
			break;
		int cfd = accept(p->lfd, NULL, NULL);
		if (cfd < 0)
			continue;
		fcntl(cfd, F_SETFD, FD_CLOEXEC);
		proxy_pipe(p, cfd);
	}
	return NULL;
}

static void proxy_start(struct proxy *p, uint16_t target)
{
	p->target = target;
	p->t0 = tb_bench_now();
	p->nframes = 0;
	p->conns = 0;
	p->bytes[0] = p->bytes[1] = 0;
	pthread_mutex_init(&p->mu, NULL);
	p->port = tb_fed_free_port();
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons(p->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int one = 1;
	setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&a, sizeof a) || listen(p->lfd, 8) ||
	    pipe(p->pipe))
		tb_bench_die("proxy: cannot listen", TB_EIO);
	fcntl(p->pipe[0], F_SETFD, FD_CLOEXEC);
	fcntl(p->pipe[1], F_SETFD, FD_CLOEXEC);
	if (pthread_create(&p->th, NULL, proxy_main, p))
		tb_bench_die("proxy: pthread_create", TB_ENOMEM);
}

static void proxy_stop(struct proxy *p)
{
	if (write(p->pipe[1], "x", 1) != 1)
		tb_bench_die("proxy: cannot stop", TB_EIO);
	pthread_join(p->th, NULL);
	close(p->lfd);
	close(p->pipe[0]);
	close(p->pipe[1]);
	pthread_mutex_destroy(&p->mu);
}

static void proxy_snapshot(struct proxy *p, uint64_t bytes[2])
{
	pthread_mutex_lock(&p->mu);
	bytes[0] = p->bytes[0];
	bytes[1] = p->bytes[1];
	pthread_mutex_unlock(&p->mu);
}

/* ---- 1. catch-up ---- */

struct catchup_out {
	struct tb_fed *f;
	double rec_bytes; /* mean record length */
};

/* CPU seconds of the last local_ingest. */
static double local_ingest_cpu;

/* The records into a fresh durable store (all cores) in groups; seconds. */
static double local_ingest(const struct recs *r, size_t group)
{
	char *dir = tb_test_tmpdir("fbench-ingest");
	struct tb_store *s;
	int err = tb_store_open(&s, dir, 0);
	if (err)
		tb_bench_die("tb_store_open (local ingest)", err);
	tb_store_set_threads(s, 0);
	double c0 = tb_bench_cpu_self();
	double secs = append_groups_of(s, r->v, 0, r->n, group, "local ingest");
	local_ingest_cpu = tb_bench_cpu_self() - c0;
	tb_store_free(s);
	tb_test_rmrf(dir);
	return secs;
}

struct catchup_run {
	double secs, up, first, xfer; /* from start: done; up; first entries */
	double cpu_a, cpu_b;	      /* CPU seconds of A and the new node */
	uint64_t in, out;	      /* the new node's status: bytes from/to A */
};

/* Starts empty node b dialing a, times it until it holds a's head (total
 * entries, hash want), then reads its status file. */
static void catchup_once(struct tb_fed *f, size_t a, size_t b, uint64_t total,
			 const uint8_t want[TB_HASHLEN], struct catchup_run *cr)
{
	tb_fed_link(f, b, a);
	struct tb_store *bs = tb_bench_open_ledger(f->node[b].data, TB_STORE_RDONLY);
	uint8_t got[TB_HASHLEN];
	double cpu_a0 = tb_bench_proc_cpu(f->node[a].pid);
	double t0 = tb_bench_now(), t_up = 0, t_first = 0, t_done = 0;
	tb_fed_spawn(f, b, NULL);
	uint64_t last_check = 0;
	for (;;) {
		double t = tb_bench_now();
		uint64_t q = tb_bench_held_seq(bs, f->node[a].id, got);
		if (q && !t_first)
			t_first = t;
		if (q >= total) {
			if (memcmp(got, want, TB_HASHLEN))
				tb_bench_die("the new node holds another head of A's log",
					     TB_ECORRUPT);
			t_done = t;
			cr->cpu_b = tb_bench_proc_cpu(f->node[b].pid);
			cr->cpu_a = tb_bench_proc_cpu(f->node[a].pid) - cpu_a0;
			break;
		}
		if (!t_up) {
			struct tb_status st;
			if (tb_status_read(f->node[b].data, &st) == 0) {
				if (st.pid == (uint32_t)f->node[b].pid)
					t_up = tb_bench_now();
				tb_status_free(&st);
			}
		}
		if ((uint64_t)((t - t0) * 10) != last_check) { /* every 100 ms */
			last_check = (uint64_t)((t - t0) * 10);
			tb_bench_check_alive(f, a);
			tb_bench_check_alive(f, b);
		}
		if (t - t0 > CATCHUP_MS / 1000.0) {
			fprintf(stderr,
				"bench_fed: node %zu holds %" PRIu64 " of %" PRIu64
				" entries after %d s\n",
				b, q, total, CATCHUP_MS / 1000);
			exit(1);
		}
		tb_bench_sleep_us(POLL_US);
	}
	tb_store_free(bs);
	tb_fed_wait_up(f, b);
	cr->secs = t_done - t0;
	cr->up = (t_up ? t_up : t_first) - t0;
	cr->first = t_first - t0;
	cr->xfer = t_done - t_first;
	/* The status file is written a second after the last change. */
	tb_fed_sleep_ms(1500);
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%u", f->node[a].port);
	struct peer_stat bp = status_peer(f->node[b].data, addr, NULL);
	if (!bp.found || !bp.in)
		tb_bench_die("the new node's status file has no bytes for A", TB_ENOTFOUND);
	cr->in = bp.in;
	cr->out = bp.out;
}

static void bench_catchup(size_t n, double ingest_arg, int runs, struct catchup_out *co)
{
	printf("\n== 1. catch-up: an empty node from node A holding %zu entries, %d run(s)\n", n,
	       runs);
	struct tb_fed *f = tb_bench_fed_new("fbench-catchup", 1 + (size_t)runs);
	const size_t A = 0;

	/* A's log, built through the library while A is not running. */
	struct tb_store *s = tb_bench_open_ledger(f->node[A].data, 0);
	struct tb_keypair kp;
	tb_bench_node_key(f->node[A].data, &kp);
	struct tb_head h;
	int err;
	if ((err = tb_store_head(s, f->node[A].id, &h)))
		tb_bench_die("tb_store_head (A)", err);
	struct tb_member m1, m2;
	if ((err = tb_store_member_by_name(s, f->node[A].id, "m1", &m1)) ||
	    (err = tb_store_member_by_name(s, f->node[A].id, "m2", &m2)))
		tb_bench_die("member m1/m2 of A", err);
	struct recs r;
	recs_init(&r, (size_t)h.seq + n);
	for (uint64_t q = 1; q <= h.seq; q++) { /* genesis and joins, for the local ingest */
		size_t len;
		if ((err = tb_store_get_entry(s, f->node[A].id, q, r.buf + r.len, r.cap - r.len,
					      &len)))
			tb_bench_die("tb_store_get_entry (A)", err);
		r.v[r.n++] = (struct tb_view){r.buf + r.len, len};
		r.len += len;
	}
	size_t prefix = r.n;
	double g0 = tb_bench_now();
	gen_exchanges(&r, n, &kp, &h, m1.no, m2.no);
	double gen_s = tb_bench_now() - g0;
	double fill_s = append_groups(s, r.v, prefix, r.n, "filling A");
	uint64_t a_bytes = 0;
	(void)!tb_store_size(s, &a_bytes);
	tb_store_free(s);
	tb_keypair_wipe(&kp);
	uint64_t total = r.n;
	co->rec_bytes = (double)(r.len - (size_t)(r.v[prefix].p - r.buf)) / (double)n;
	printf("A's log: %" PRIu64 " entries (%zu of init, %zu attested exchanges of %.0f bytes): "
	       "sealed in %.1f s, appended in %.1f s (%.0f/s), store %.0f MiB\n",
	       total, prefix, n, co->rec_bytes, gen_s, fill_s, (double)n / fill_s,
	       (double)a_bytes / 1048576.0);

	tb_fed_start(f, A);
	uint8_t want[TB_HASHLEN];
	struct tb_store *as = tb_bench_open_ledger(f->node[A].data, TB_STORE_RDONLY);
	if (tb_bench_held_seq(as, f->node[A].id, want) != total)
		tb_bench_die("A's head is not where it was written", TB_ECORRUPT);
	tb_store_free(as);

	/* Each run: the same records into a fresh local store (this moment's
	 * ingest rate), then a fresh node's catch-up. Best of the runs each. */
	double ing_best = 0, ing_worst = 0;
	struct catchup_run best = {0}, cr;
	double worst = 0;
	for (int k = 0; k < runs; k++) {
		double l = tb_bench_load_avg();
		double ing_s = local_ingest(&r, GROUP), ing_cpu = local_ingest_cpu;
		ing_best = ing_best == 0 || ing_s < ing_best ? ing_s : ing_best;
		ing_worst = ing_s > ing_worst ? ing_s : ing_worst;
		size_t b = 1 + (size_t)k;
		catchup_once(f, A, b, total, want, &cr);
		printf("run %d (load average %.2f): local ingest %.2f s (%.0f/s, cpu %.1f s, %.2f "
		       "cores); node %zu caught up in %.2f s (%.0f/s): up %.2f s, first entries "
		       "%.2f s, transfer %.2f s; cpu: it %.1f s (%.2f cores), A %.1f s\n",
		       k + 1, l, ing_s, (double)total / ing_s, ing_cpu, ing_cpu / ing_s, b, cr.secs,
		       (double)total / cr.secs, cr.up, cr.first - cr.up, cr.xfer, cr.cpu_b,
		       cr.cpu_b / cr.secs, cr.cpu_a);
		if (best.secs == 0 || cr.secs < best.secs)
			best = cr;
		worst = cr.secs > worst ? cr.secs : worst;
		if (b != 1)
			tb_fed_stop(f, b); /* node 1 (B) stays, for part 2 */
	}
	/* The daemon appends what one read brought: at most one full ENTRIES
	 * frame (PROTOCOL.md 10.4). The same local ingest in groups of that. */
	size_t frame_recs = FRAME_RECORD_BYTES / (size_t)(co->rec_bytes + 2.5);
	double fr_s = local_ingest(&r, frame_recs);
	double frame_rate = (double)total / fr_s;
	printf("local ingest in groups of %zu (one full ENTRIES frame, as tallyd appends): "
	       "%.2f s, %.0f entries/s (cpu %.1f s, %.2f cores)\n",
	       frame_recs, fr_s, frame_rate, local_ingest_cpu, local_ingest_cpu / fr_s);
	recs_free(&r);

	double ingest_rate = (double)total / ing_best, rate = (double)total / best.secs;
	printf("local ingest (groups of %d, sync on, all cores): best %.2f s of %.2f..%.2f: "
	       "%.0f entries/s\n",
	       GROUP, ing_best, ing_best, ing_worst, ingest_rate);
	printf("catch-up: best %.2f s of %.2f..%.2f: %.0f entries/s from the node's start "
	       "(%.0f/s over the transfer alone)\n",
	       best.secs, best.secs, worst, rate, (double)total / best.xfer);
	struct tb_procmem am, bm;
	tb_procmem_read(f->node[A].pid, false, &am);
	tb_procmem_read(f->node[1].pid, false, &bm);
	struct peer_stat ap = status_peer(f->node[A].data, NULL, f->node[1].id);
	double wire = (double)best.in / (double)total;
	printf("wire: the new node received %" PRIu64 " bytes and sent %" PRIu64 ": %.1f bytes "
	       "per entry received, record %.1f: overhead %.1f bytes per entry (A's status "
	       "file says it sent B %" PRIu64 ")\n",
	       best.in, best.out, wire, co->rec_bytes, wire - co->rec_bytes, ap.out);
	printf("daemons after the catch-up: A rss %.1f MiB (anon %.1f), B rss %.1f MiB "
	       "(anon %.1f)\n",
	       am.rss / 1024.0, am.anon / 1024.0, bm.rss / 1024.0, bm.anon / 1024.0);

	double ratio = tb_bench_rounded(rate / ingest_rate, 2);
	printf("catch-up / local ingest: %.2f (target %.2f) %s\n", ratio, TARGET_CATCHUP_RATIO,
	       ratio >= TARGET_CATCHUP_RATIO ? "MET" : "NOT MET");
	tb_bench_figure("catchup_entries", (double)total, "entries", 0, NULL, 0);
	tb_bench_figure("catchup_rate", rate, "entries/s", 0, NULL, 0);
	tb_bench_figure("catchup_rate_transfer_only", (double)total / best.xfer, "entries/s", 0,
			NULL, 0);
	tb_bench_figure("catchup_local_ingest_rate", ingest_rate, "entries/s", 0, NULL, 0);
	tb_bench_figure("catchup_local_ingest_rate_frame_groups", frame_rate, "entries/s", 0, NULL,
			0);
	tb_bench_figure("catchup_ratio_local_ingest", ratio, "x_ingest", 2,
			">=", TARGET_CATCHUP_RATIO);
	if (ingest_arg > 0) {
		double r2 = rate / ingest_arg;
		printf("catch-up / bench_ingest's all-core attested figure (%.0f/s): %.2f\n",
		       ingest_arg, r2);
		tb_bench_figure("catchup_ratio_bench_ingest", r2, "x_ingest", 2,
				">=", TARGET_CATCHUP_RATIO);
	}
	tb_bench_figure("catchup_wire_bytes_per_entry", wire, "bytes", 1, NULL, 0);
	tb_bench_figure("catchup_wire_overhead_per_entry", wire - co->rec_bytes, "bytes", 1, NULL,
			0);
	tb_bench_figure("tallyd_rss_after_catchup_A", am.rss / 1024.0, "MiB", 1, NULL, 0);
	co->f = f;
}

/* ---- 2. an in-sync round ---- */

static void print_frames(struct proxy *p, double from, double to)
{
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->nframes; i++) {
		const struct pframe *fr = &p->frames[i];
		if (fr->t < from || fr->t >= to)
			continue;
		printf("    %8.1f ms  %s  %5u bytes\n", fr->t * 1000, fr->dir ? "A->B" : "B->A",
		       fr->len);
	}
	pthread_mutex_unlock(&p->mu);
}

static void bench_insync(struct catchup_out *co)
{
	printf("\n== 2. in-sync round: B restarted while in sync, then one exchange at A\n");
	struct tb_fed *f = co->f;
	const size_t A = 0, B = 1;
	const size_t ab[2] = {A, B};
	tb_fed_wait_converged(f, ab, 2, 60000);
	tb_fed_stop(f, B);

	/* B dials A through the proxy now. */
	struct proxy *px = calloc(1, sizeof *px);
	if (!px)
		tb_bench_die("calloc", TB_ENOMEM);
	f->node[B].dials[A] = false;
	proxy_start(px, f->node[A].port);
	char paddr[64];
	snprintf(paddr, sizeof paddr, "127.0.0.1:%u", px->port);
	const char *extra[] = {"--peer", paddr, NULL};
	double t0 = tb_bench_now();
	px->t0 = t0;
	tb_fed_spawn(f, B, extra);
	struct peer_stat s1;
	for (;;) {
		s1 = status_peer(f->node[B].data, paddr, NULL);
		if (s1.synced)
			break;
		tb_bench_check_alive(f, A);
		tb_bench_check_alive(f, B);
		if (tb_bench_now() - t0 > 30)
			tb_bench_die("B did not sync with A again within 30 s", 0);
		tb_bench_sleep_us(5000);
	}
	double t_status = tb_bench_now() - t0;
	tb_fed_wait_up(f, B);
	/* Let B's own start-up checkpoint (1 s after start) go out. */
	while (tb_bench_now() - t0 < 2.5)
		tb_bench_sleep_us(10000);
	uint64_t c0[2];
	proxy_snapshot(px, c0);

	/* Frames: B dialed, so B is the initiator. */
	pthread_mutex_lock(&px->mu);
	size_t k[2] = {0, 0};
	uint64_t hs = 0, hello = 0, sync = 0, rest = 0;
	double t_synced = 0;
	for (size_t i = 0; i < px->nframes; i++) {
		const struct pframe *fr = &px->frames[i];
		size_t idx = k[fr->dir]++;
		/* B->A: msg1, msg3, HELLO, SYNC; A->B: msg2, HELLO, SYNC. */
		size_t nhs = fr->dir ? 1 : 2;
		if (idx < nhs)
			hs += fr->len;
		else if (idx == nhs)
			hello += fr->len;
		else if (idx == nhs + 1) {
			sync += fr->len;
			if (fr->t > t_synced)
				t_synced = fr->t;
		} else
			rest += fr->len;
	}
	pthread_mutex_unlock(&px->mu);
	uint64_t round = c0[0] + c0[1];
	printf("reconnect: B started at 0 ms; frames of the new connection in its first 2.5 s "
	       "(through the proxy):\n");
	print_frames(px, 0, 2.5);
	printf("  handshake %" PRIu64 " bytes (PROTOCOL.md: %d), HELLOs %" PRIu64 ", SYNCs %" PRIu64
	       " (in sync %.1f ms after B's start), then %" PRIu64 " bytes more (checkpoints)\n",
	       hs, HANDSHAKE_BYTES, hello, sync, t_synced * 1000, rest);
	printf("  total %" PRIu64 " bytes (B->A %" PRIu64 ", A->B %" PRIu64 "); B's status file "
	       "when it first showed A synced (%.2f s after start): in %" PRIu64 " + out %" PRIu64
	       " = %" PRIu64 " bytes\n",
	       round, c0[0], c0[1], t_status, s1.in, s1.out, s1.in + s1.out);
	tb_bench_figure("insync_reconnect_bytes_status", (double)(s1.in + s1.out), "bytes", 0, NULL,
			0);
	tb_bench_figure("insync_reconnect_bytes_proxy", (double)round, "bytes", 0, NULL, 0);
	tb_bench_figure("insync_reconnect_handshake_hello", (double)(hs + hello), "bytes", 0, NULL,
			0);
	tb_bench_figure("insync_reconnect_beyond_hello", (double)(round - hs - hello), "bytes", 0,
			NULL, 0);

	/* One exchange at A: what its push costs. */
	struct peer_stat sb = status_peer(f->node[B].data, paddr, NULL);
	struct tb_store *bs = tb_bench_open_ledger(f->node[B].data, TB_STORE_RDONLY);
	uint64_t a0 = tb_bench_held_seq(bs, f->node[A].id, NULL);
	double r0 = tb_bench_now();
	tb_fed_record(f, A);
	double r1 = tb_bench_now();
	double t_held = 0;
	for (;;) {
		if (tb_bench_held_seq(bs, f->node[A].id, NULL) > a0) {
			t_held = tb_bench_now();
			break;
		}
		tb_bench_check_alive(f, A);
		tb_bench_check_alive(f, B);
		if (tb_bench_now() - r1 > 30)
			tb_bench_die("B did not receive A's new exchange within 30 s", 0);
		tb_bench_sleep_us(POLL_US);
	}
	tb_store_free(bs);
	struct tb_store *as = tb_bench_open_ledger(f->node[A].data, TB_STORE_RDONLY);
	uint8_t rec[TB_ENTRY_MAX];
	size_t rlen = 0;
	int err = tb_store_get_entry(as, f->node[A].id, a0 + 1, rec, sizeof rec, &rlen);
	tb_store_free(as);
	if (err)
		tb_bench_die("reading A's new entry", err);
	tb_fed_sleep_ms(300);
	uint64_t c1[2];
	proxy_snapshot(px, c1);
	uint64_t push = (c1[0] - c0[0]) + (c1[1] - c0[1]);
	printf("push: the record command took %.0f ms; B held the entry %.0f ms after it "
	       "returned\n",
	       (r1 - r0) * 1000, (t_held - r1) * 1000);
	print_frames(px, r0 - t0, tb_bench_now() - t0);
	printf("  %" PRIu64 " bytes (A->B %" PRIu64 ", B->A %" PRIu64 ") for a %zu-byte record: "
	       "%" PRId64 " bytes beyond it\n",
	       push, c1[1] - c0[1], c1[0] - c0[0], rlen, (int64_t)push - (int64_t)rlen);
	/* The status file: rewritten a second after B's heads moved. */
	struct peer_stat sa;
	double w0 = tb_bench_now();
	do {
		tb_fed_sleep_ms(50);
		sa = status_peer(f->node[B].data, paddr, NULL);
	} while (sa.mtime_ns == sb.mtime_ns && tb_bench_now() - w0 < 5);
	printf("  B's status file: %" PRIu64 " bytes between its last write before the record "
	       "and the next one\n",
	       (sa.in + sa.out) - (sb.in + sb.out));
	tb_bench_figure("insync_push_bytes", (double)push, "bytes", 0, NULL, 0);
	tb_bench_figure("insync_push_overhead", (double)((int64_t)push - (int64_t)rlen), "bytes", 0,
			"<=", TARGET_PUSH_OVERHEAD);
	tb_bench_figure("insync_push_latency_1hop", (t_held - r1) * 1000, "ms", 0, NULL, 0);

	tb_bench_fed_free(f);
	co->f = NULL;
	proxy_stop(px);
	free(px);
}

/* ---- 3. propagation in 32 nodes ---- */

/* Hop distances from src over the (undirected) dial graph. */
static void bfs(const struct tb_fed *f, size_t src, int dist[])
{
	size_t q[TB_FED_MAX_NODES], qh = 0, qt = 0;
	for (size_t i = 0; i < f->n; i++)
		dist[i] = -1;
	dist[src] = 0;
	q[qt++] = src;
	while (qh < qt) {
		size_t u = q[qh++];
		for (size_t v = 0; v < f->n; v++) {
			bool edge = f->node[u].dials[v] || f->node[v].dials[u];
			if (edge && dist[v] < 0) {
				dist[v] = dist[u] + 1;
				q[qt++] = v;
			}
		}
	}
}

static void bench_propagation(void)
{
	printf("\n== 3. propagation: one exchange to all of %d nodes\n", PROP_NODES);
	uint64_t seed = tb_bench_seed();
	rng_state = seed ? seed : 1;
	setenv("TB_FED_LOG_LEVEL", "warn", 1);
	double c0 = tb_bench_now();
	struct tb_fed *f = tb_bench_fed_new("fbench-prop", PROP_NODES);
	printf("created %d nodes in %.1f s; topology seed %" PRIu64 " (BENCH_SEED to repeat)\n",
	       PROP_NODES, tb_bench_now() - c0, seed);
	tb_bench_link_random(f, &rng_state);
	double s0 = tb_bench_now();
	tb_bench_start_all(f);
	tb_fed_wait_converged(f, NULL, 0, 180000);
	printf("started and in sync in %.1f s\n", tb_bench_now() - s0);

	/* Idle cost of the 32 daemons, in sync. */
	tb_fed_sleep_ms(1000);
	double cpu0 = 0, cpu1 = 0;
	for (size_t i = 0; i < f->n; i++)
		cpu0 += tb_bench_proc_cpu(f->node[i].pid);
	double i0 = tb_bench_now();
	tb_fed_sleep_ms(3000);
	for (size_t i = 0; i < f->n; i++)
		cpu1 += tb_bench_proc_cpu(f->node[i].pid);
	double idle_pct = (cpu1 - cpu0) / (tb_bench_now() - i0) * 100;
	long rss_sum = 0, rss_max = 0;
	for (size_t i = 0; i < f->n; i++) {
		struct tb_procmem m;
		tb_procmem_read(f->node[i].pid, false, &m);
		rss_sum += m.rss;
		rss_max = m.rss > rss_max ? m.rss : rss_max;
	}
	printf("idle: %d daemons used %.2f%% of one core over 3 s; rss %.1f MiB in all, "
	       "%.1f MiB the largest\n",
	       PROP_NODES, idle_pct, rss_sum / 1024.0, rss_max / 1024.0);

	struct tb_store *st[TB_FED_MAX_NODES];
	for (size_t i = 0; i < f->n; i++)
		st[i] = tb_bench_open_ledger(f->node[i].data, TB_STORE_RDONLY);
	double lat[PROP_TRIALS], lat_cli[PROP_TRIALS];
	printf("load average: %.2f\n", tb_bench_load_avg());
	for (int trial = 0; trial < PROP_TRIALS; trial++) {
		size_t o = (size_t)(tb_bench_xorshift(&rng_state) % f->n);
		int dist[TB_FED_MAX_NODES];
		bfs(f, o, dist);
		uint64_t target = tb_bench_held_seq(st[o], f->node[o].id, NULL) + 1;
		double arrive[TB_FED_MAX_NODES] = {0};
		size_t left = f->n;
		double r0 = tb_bench_now();
		tb_fed_record(f, o);
		double r1 = tb_bench_now();
		uint64_t checks = 0;
		while (left) {
			double t = tb_bench_now();
			for (size_t i = 0; i < f->n; i++) {
				if (arrive[i] == 0 &&
				    tb_bench_held_seq(st[i], f->node[o].id, NULL) >= target) {
					arrive[i] = t;
					left--;
				}
			}
			if (!left)
				break;
			if (++checks % 50 == 0)
				for (size_t i = 0; i < f->n; i++)
					tb_bench_check_alive(f, i);
			if (t - r1 > PROP_MS / 1000.0) {
				fprintf(stderr,
					"bench_fed: %zu nodes lack the exchange after %d s\n", left,
					PROP_MS / 1000);
				exit(1);
			}
			tb_bench_sleep_us(POLL_US);
		}
		double last = 0;
		int maxd = 0;
		for (size_t i = 0; i < f->n; i++) {
			last = arrive[i] > last ? arrive[i] : last;
			maxd = dist[i] > maxd ? dist[i] : maxd;
		}
		lat[trial] = (last - r1) * 1000;
		lat_cli[trial] = (last - r0) * 1000;
		printf("trial %d: at node %2zu (%d hops to the farthest): all %d hold it %.0f ms after "
		       "the record command returned (%.0f ms after it started; it took %.0f ms)\n",
		       trial + 1, o, maxd, PROP_NODES, lat[trial], lat_cli[trial],
		       (r1 - r0) * 1000);
		printf("         by hops from it, last arrival (ms after the command returned):");
		for (int d = 1; d <= maxd; d++) {
			double m = -1e9;
			for (size_t i = 0; i < f->n; i++)
				if (dist[i] == d && (arrive[i] - r1) * 1000 > m)
					m = (arrive[i] - r1) * 1000;
			printf(" %d:%.0f", d, m);
		}
		printf("\n");
		tb_fed_sleep_ms(500);
	}
	for (size_t i = 0; i < f->n; i++)
		tb_store_free(st[i]);
	qsort(lat, PROP_TRIALS, sizeof *lat, tb_bench_cmp_double);
	qsort(lat_cli, PROP_TRIALS, sizeof *lat_cli, tb_bench_cmp_double);
	printf("propagation to %d nodes: median %.0f ms, max %.0f ms after the command returned "
	       "(from its start: median %.0f, max %.0f)\n",
	       PROP_NODES, lat[PROP_TRIALS / 2], lat[PROP_TRIALS - 1], lat_cli[PROP_TRIALS / 2],
	       lat_cli[PROP_TRIALS - 1]);
	tb_bench_figure("prop32_median_ms", lat[PROP_TRIALS / 2], "ms", 0, "<=", TARGET_PROP_MS);
	tb_bench_figure("prop32_max_ms", lat[PROP_TRIALS - 1], "ms", 0, "<=", TARGET_PROP_MS);
	tb_bench_figure("prop32_from_cli_start_median_ms", lat_cli[PROP_TRIALS / 2], "ms", 0, NULL,
			0);
	tb_bench_figure("idle32_cpu_pct", idle_pct, "%core", 2, NULL, 0);
	tb_bench_figure("idle32_rss_max", rss_max / 1024.0, "MiB", 1, NULL, 0);
	tb_bench_fed_free(f);
}

int main(int argc, char **argv)
{
	tb_bench_init("bench_fed",
		      "[entries (20..100000000) [ingest_rate (0: none) [runs (1..5)]]]");
	size_t n = argc > 1 ? (size_t)tb_bench_arg(argv[1], 20, 100000000ull) : DEFAULT_ENTRIES;
	double ingest_arg = argc > 2 ? (double)tb_bench_arg(argv[2], 0, 1000000000ull) : 0;
	int runs = argc > 3 ? (int)tb_bench_arg(argv[3], 1, 5) : DEFAULT_RUNS;
	if (argc > 4)
		tb_bench_usage();
	tb_bench_setup(TB_BENCH_DAEMONS);

	printf("bench_fed: %zu entries for the catch-up, %d nodes for propagation; %u cores, "
	       "load average %.2f\ntally %s\ntallyd %s\n",
	       n, PROP_NODES, tb_cpu_count(), tb_bench_load_avg(), getenv("TALLY_BIN"),
	       getenv("TALLYD_BIN"));
	struct catchup_out co = {0};
	bench_catchup(n, ingest_arg, runs, &co);
	bench_insync(&co);
	bench_propagation();
	printf("\nload average at the end: %.2f\n", tb_bench_load_avg());
	tb_bench_print_figures(12);
	return 0;
}
