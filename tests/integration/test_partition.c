/*
 * test_partition.c: a federation split in two and healed. Four communities
 * (real tallyd processes) in a ring A-B-C-D-A; the split {A,B} | {C,D} cuts
 * the links B-C and D-A. While split, every community keeps recording; each
 * half converges on its own and sees nothing new of the other. Healed, all
 * four nodes converge to the same heads of all four logs, the auditor finds
 * the four histories clean and every ledger verifies.
 *
 * Two ways of cutting links (tests/util/netns.h), each a test of its own:
 * - network namespaces, when the test can make them (root and iproute2):
 *   one namespace per node, a veth pair per link, each tallyd run inside its
 *   namespace with `ip netns exec`; a link is cut by setting both of its
 *   ends down. The split then stalls the TCP connections across it (shorter
 *   than the daemons' 45 s idle limit): healing resumes them.
 * - the fallback, always run (and run in place of the first where namespaces
 *   are not available, or with TB_PARTITION_FORCE_FALLBACK=1): every
 *   cross-half link goes through a TCP relay of the test on 127.0.0.1; cut,
 *   it closes its connections and refuses new ones, so the dialers redial
 *   with their backoff (250 ms doubling to 30 s) until healed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agree.h"
#include "fed.h"
#include "netns.h"
#include "tb_node.h"

#define NODES 4
#define CONVERGE_MS 30000  /* after a heal, on top of the redial bound */
#define SPLIT_RECORDS 3	   /* per community while split */
#define QUIET_MS 2000	   /* split, converged halves: time for a leak to show */
#define BACKOFF_MIN_MS 250 /* node/daemon/peers.c */
#define BACKOFF_MAX_MS 30000
#define NS_PREFIX "tbpart"

/* Node i dials node i+1 over link i; links 1 (B-C) and 3 (D-A) cross the
 * split {0,1} | {2,3}. */
static const size_t cross[] = {1, 3};

static size_t next(size_t i)
{
	return (i + 1) % NODES;
}

static size_t half(size_t i)
{
	return i < 2 ? 0 : 1;
}

struct fx {
	struct tb_fed *f;
	bool netns;
	char ns[NODES][64];
	struct tb_relay *relay[NODES]; /* the relay of link i (cross links only) */
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof *x);
	assert_non_null(x);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	tb_fed_free(x->f); /* kills the daemons first */
	for (size_t i = 0; i < NODES; i++)
		tb_relay_free(x->relay[i]);
	tb_netns_del_all();
	free(x);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tb_fed_kill_all();
	tb_netns_del_all();
	return 0;
}

/* ---- the two networks ---- */

/* The name, in a node's namespace, of its interface toward node b. */
static void ifname(char out[16], size_t b)
{
	snprintf(out, 16, "to%zu", b);
}

/* Addresses of link i: node i is 10.77.i.1, node i+1 is 10.77.i.2. Only
 * inside the test's namespaces. */
static void link_addr(char out[32], size_t link, bool dialed, bool prefix)
{
	snprintf(out, 32, "10.77.%zu.%d%s", link, dialed ? 2 : 1, prefix ? "/24" : "");
}

static void netns_build(struct fx *x)
{
	char err[1024];
	for (size_t i = 0; i < NODES; i++) {
		snprintf(x->ns[i], sizeof x->ns[i], NS_PREFIX "%ldn%zu", (long)getpid(), i);
		if (tb_netns_add(x->ns[i], err, sizeof err))
			fail_msg("creating namespace %s: %s", x->ns[i], err);
	}
	for (size_t i = 0; i < NODES; i++) {
		size_t j = next(i);
		char ia[16], ib[16], aa[32], ab[32];
		ifname(ia, j);
		ifname(ib, i);
		link_addr(aa, i, false, true);
		link_addr(ab, i, true, true);
		if (tb_netns_veth(x->ns[i], ia, aa, x->ns[j], ib, ab, err, sizeof err))
			fail_msg("link %zu-%zu: %s", i, j, err);
	}
}

/* Starts node i's tallyd in its namespace, listening on all its links and
 * dialing the next node. */
static void netns_spawn(struct fx *x, size_t i)
{
	struct tb_fed *f = x->f;
	struct tb_fed_node *nd = &f->node[i];
	char listen[64], peer[64], addr[32];
	snprintf(listen, sizeof listen, "0.0.0.0:%u", nd->port);
	link_addr(addr, i, true, false);
	snprintf(peer, sizeof peer, "%s:%u", addr, f->node[next(i)].port);
	const char *level = getenv("TB_FED_LOG_LEVEL");
	const char *argv[] = {tb_tallyd_bin(),
			      "--data",
			      nd->data,
			      "--listen",
			      listen,
			      "--log-level",
			      level && *level ? level : "info",
			      "--peer",
			      peer,
			      NULL};
	int fd = open(nd->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	dprintf(fd, "==== test: starting tallyd in namespace %s on %s, dialing %s ====\n", x->ns[i],
		listen, peer);
	pid_t pid = tb_netns_spawn(x->ns[i], argv, fd);
	close(fd);
	assert_true(pid > 0);
	nd->pid = pid; /* tb_fed_* stop, kill and watch it from here on */
}

static void start(struct fx *x)
{
	struct tb_fed *f = x->f;
	if (x->netns) {
		netns_build(x);
		for (size_t i = 0; i < NODES; i++)
			netns_spawn(x, i);
	} else {
		char peer[NODES][32];
		const char *extra[NODES][3];
		memset(extra, 0, sizeof extra);
		for (size_t i = 0; i < NODES; i++) {
			bool through_relay = i == cross[0] || i == cross[1];
			if (!through_relay) {
				tb_fed_link(f, i, next(i));
				continue;
			}
			if (tb_relay_start(&x->relay[i], tb_fed_free_port(), f->node[next(i)].port))
				fail_msg("cannot start the relay of link %zu", i);
			snprintf(peer[i], sizeof peer[i], "127.0.0.1:%u",
				 tb_relay_port(x->relay[i]));
			extra[i][0] = "--peer";
			extra[i][1] = peer[i];
		}
		for (size_t i = 0; i < NODES; i++)
			tb_fed_spawn(f, i, extra[i][0] ? extra[i] : NULL);
	}
	for (size_t i = 0; i < NODES; i++)
		tb_fed_wait_up(f, i);
}

/* Cuts (up false) or mends the two links across the split. */
static void cross_links(struct fx *x, bool up)
{
	char err[1024];
	for (size_t k = 0; k < 2; k++) {
		size_t a = cross[k], b = next(a);
		if (x->netns) {
			char ia[16], ib[16];
			ifname(ia, b);
			ifname(ib, a);
			if (tb_netns_link_set(x->ns[a], ia, up, err, sizeof err) ||
			    tb_netns_link_set(x->ns[b], ib, up, err, sizeof err))
				fail_msg("setting link %zu-%zu %s: %s", a, b, up ? "up" : "down",
					 err);
		} else if (up ? tb_relay_mend(x->relay[a]) : tb_relay_cut(x->relay[a])) {
			fail_msg("%s the relay of link %zu-%zu failed", up ? "mending" : "cutting",
				 a, b);
		}
	}
}

/* ---- checks ---- */

/* Every node's `tally logs --json` lists the four logs, its own marked own,
 * none forked. */
static void check_logs_json(struct tb_fed *f, size_t i)
{
	assert_int_equal(TB_FED_TALLY(f, i, "logs", "--json"), 0);
	for (size_t j = 0; j < f->n; j++) {
		char want[200], id[2 * TB_KEY_LEN + 1];
		tb_hex_encode(id, f->node[j].id, TB_KEY_LEN);
		snprintf(want, sizeof want, "\"log\":\"%s\",\"community_name\":\"%s\"", id,
			 f->node[j].name);
		char *at = strstr(f->res.out, want);
		if (!at)
			fail_msg("node %zu's logs lack %s: %s", i, f->node[j].name, f->res.out);
		char *end = strchr(at, '}');
		assert_non_null(end);
		*end = '\0';
		if (!strstr(at, j == i ? "\"own\":true" : "\"own\":false") ||
		    !strstr(at, "\"forked\":false"))
			fail_msg("node %zu's entry for %s: %s", i, f->node[j].name, at);
		*end = '}';
	}
}

/* While split: node i holds the other half's logs exactly as before the
 * split (seq and hash), and its own half's at their owners' heads. */
static void check_split(struct tb_fed *f, size_t i, const struct tb_fed_heads *before)
{
	struct tb_fed_heads hs;
	char nm[24];
	tb_fed_heads(f, i, &hs);
	for (size_t j = 0; j < NODES; j++) {
		const struct tb_head *h = tb_fed_find(&hs, f->node[j].id);
		if (!h)
			fail_msg("node %zu lost %s's log during the split", i, f->node[j].name);
		if (half(j) == half(i)) {
			uint64_t own = tb_fed_own_seq(f, j);
			if (h->seq != own)
				fail_msg(
					"node %zu holds %s (same half) at seq %llu, its owner at %llu",
					i, f->node[j].name, (unsigned long long)h->seq,
					(unsigned long long)own);
			continue;
		}
		const struct tb_head *b = tb_fed_find(before, f->node[j].id);
		assert_non_null(b);
		if (h->seq != b->seq || memcmp(h->hash, b->hash, TB_HASHLEN)) {
			tb_fed_print_tail(f, i, 4000);
			fail_msg(
				"the split leaks: node %zu holds %s at seq %llu, it was at %llu when "
				"the halves were cut apart",
				i, tb_fed_log_name(f, f->node[j].id, nm),
				(unsigned long long)h->seq, (unsigned long long)b->seq);
		}
	}
}

/* The links were really used: through the namespaces' addresses, or
 * through the relays. */
static void check_paths(struct fx *x)
{
	struct tb_fed *f = x->f;
	for (size_t i = 0; i < NODES; i++) {
		if (x->netns) {
			char addr[32];
			link_addr(addr, i, true, false);
			if (!tb_fed_log_has(f, i, addr, "open: node")) {
				tb_fed_print_tail(f, i, 4000);
				fail_msg("node %zu never opened its link to %s", i, addr);
			}
		} else if (x->relay[i] && tb_relay_accepted(x->relay[i]) == 0) {
			fail_msg("nothing went through the relay of link %zu", i);
		}
	}
}

static void record_round(struct tb_fed *f, size_t rounds)
{
	for (size_t r = 0; r < rounds; r++)
		for (size_t i = 0; i < NODES; i++)
			tb_fed_record(f, i);
}

/* ---- the test ---- */

static void run_partition(struct fx *x)
{
	const char *mode = x->netns ? "network namespaces" : "relays on 127.0.0.1";
	struct tb_fed *f = x->f = tb_fed_new(x->netns ? "part-ns" : "part-relay", NODES);
	snprintf(f->note, sizeof f->note, "partition test, links by %s", mode);
	uint64_t base[NODES];
	for (size_t i = 0; i < NODES; i++)
		base[i] = tb_fed_own_seq(f, i);
	tb_fed_record(f, 0); /* before any daemon runs */
	start(x);
	for (size_t i = 1; i < NODES; i++)
		tb_fed_record(f, i);
	tb_fed_wait_converged(f, NULL, 0, CONVERGE_MS);
	check_paths(x);
	struct tb_fed_heads before;
	tb_fed_heads(f, 0, &before);

	/* Split; both halves go on recording. */
	uint64_t t_split = tb_fed_now_ms();
	cross_links(x, false);
	record_round(f, SPLIT_RECORDS);
	static const size_t ab[] = {0, 1}, cd[] = {2, 3};
	tb_fed_wait_converged(f, ab, 2, CONVERGE_MS);
	tb_fed_wait_converged(f, cd, 2, CONVERGE_MS);
	tb_fed_sleep_ms(QUIET_MS);
	for (size_t i = 0; i < NODES; i++)
		check_split(f, i, &before);

	/* Heal, recording on. A dialer cut off has been redialing with a
	 * doubling backoff since the split, (or its TCP retransmitting with a
	 * doubling timeout): its next try comes at most about as long after
	 * the heal as the split lasted, 25% jitter on top, 30 s cap. */
	uint64_t split_ms = tb_fed_now_ms() - t_split;
	uint64_t bound = split_ms + BACKOFF_MIN_MS;
	if (bound > BACKOFF_MAX_MS)
		bound = BACKOFF_MAX_MS;
	bound += bound / 4;
	cross_links(x, true);
	uint64_t t_heal = tb_fed_now_ms();
	tb_fed_record(f, 1);
	tb_fed_record(f, 3);
	tb_fed_wait_converged(f, NULL, 0, (unsigned)(CONVERGE_MS + bound));
	uint64_t healed_ms = tb_fed_now_ms() - t_heal;
	print_message("links by %s: split for %llu ms, converged %llu ms after the heal (bound "
		      "%llu ms + %u ms)\n",
		      mode, (unsigned long long)split_ms, (unsigned long long)healed_ms,
		      (unsigned long long)bound, CONVERGE_MS);
	check_paths(x);

	/* Every community's entries are all there, at every node. */
	struct tb_fed_heads hs;
	tb_fed_heads(f, 2, &hs);
	assert_int_equal(hs.n, NODES);
	for (size_t i = 0; i < NODES; i++) {
		uint64_t want = base[i] + 1 + SPLIT_RECORDS + (i % 2 ? 1 : 0);
		const struct tb_head *h = tb_fed_find(&hs, f->node[i].id);
		assert_non_null(h);
		if (h->seq != want)
			fail_msg("%s's log is at seq %llu, want %llu", f->node[i].name,
				 (unsigned long long)h->seq, (unsigned long long)want);
	}

	tb_fed_stop_all(f);
	for (size_t i = 0; i < NODES; i++) {
		check_logs_json(f, i);
		if (TB_FED_TALLY(f, i, "verify"))
			fail_msg("tally verify at node %zu: %s%s", i, f->res.out, f->res.err);
		assert_true(tb_fed_agrees(f, i));
	}
	int rc = TB_FED_TALLY(f, 0, "audit", f->node[0].data, f->node[1].data, f->node[2].data,
			      f->node[3].data);
	uint64_t recorded = 0;
	for (size_t i = 0; i < NODES; i++)
		recorded += f->node[i].recorded;
	char want[64];
	snprintf(want, sizeof want, "%u logs,", NODES);
	char want_x[64];
	snprintf(want_x, sizeof want_x, " %llu exchanges", (unsigned long long)recorded);
	if (rc || strncmp(f->res.out, "clean:", 6) || !strstr(f->res.out, " 0 violations") ||
	    !strstr(f->res.out, want) || !strstr(f->res.out, want_x))
		fail_msg("tally audit of the four data directories: exit %d: %s%s", rc, f->res.out,
			 f->res.err);
	print_message("audit: %s", f->res.out);
}

static void test_partition_netns(void **state)
{
	struct fx *x = *state;
	char why[1024];
	const char *force = getenv("TB_PARTITION_FORCE_FALLBACK");
	if (force && *force && strcmp(force, "0"))
		snprintf(why, sizeof why, "TB_PARTITION_FORCE_FALLBACK is set");
	else
		x->netns = tb_netns_available(why, sizeof why);
	if (!x->netns)
		print_message("network namespaces not available (%s): using the fallback of "
			      "stopping and starting links\n",
			      why);
	run_partition(x);
}

static void test_partition_fallback(void **state)
{
	struct fx *x = *state;
	x->netns = false;
	run_partition(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_partition_netns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partition_fallback, setup, teardown),
	};
	if (tb_crypto_init())
		return 1;
	size_t stale = tb_netns_sweep(NS_PREFIX);
	if (stale)
		print_message("removed %zu namespaces left by an earlier run\n", stale);
	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
