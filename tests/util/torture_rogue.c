/*
 * torture_rogue.c: the dishonest community of scripts/torture. It holds one
 * community's data directory and key (as that community's operator does)
 * and, one attack per call, does with them what issue 11 found a member
 * community able to do; an honest node must shrug each off. Attacks:
 *
 *   reuse-txid DATA PASS VICTIM_DATA  a prepare to the victim reusing a
 *                                     txid of the victim's own log
 *   flood DATA PASS VICTIM_ID N       N prepares to the victim for a member
 *                                     it does not have (each to be refused)
 *   decide-others DATA PASS           a refusal, in the own log, of every
 *                                     open prepare between two other
 *                                     communities (not ours to decide)
 *   outsider PORT FEDKEY N            a community nobody admitted: its log,
 *                                     N checkpoints and a fork proof of it
 *   checkpoints PORT FEDKEY DATA PASS N  N checkpoints of the own log and
 *                                     N of logs nobody holds
 *   noread PORT FEDKEY N SECONDS      N peers that authenticate, ask for
 *                                     every log and never read
 *
 * PASS is the file holding the community key's passphrase; FEDKEY the
 * federation key file. Prints one line saying what it did; exit 0, or 1
 * when the attack could not even be attempted (no such log, no connection).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fed.h"
#include "tb_file.h"
#include "tb_node.h"
#include "tb_store.h"

static struct tb_store *g_store;
static struct tb_keypair g_key;
static uint8_t g_self[TB_KEY_LEN];

static int die(const char *what)
{
	fprintf(stderr, "torture_rogue: %s\n", what);
	return 1;
}

/* The community of DATA: its store (read-write) and key. */
static int open_community(const char *data, const char *passfile)
{
	char path[4200], pass[TB_PASSPHRASE_MAX + 1];
	size_t len;
	snprintf(path, sizeof path, "%s/ledger", data);
	if (tb_store_open(&g_store, path, 0) || tb_store_self(g_store, g_self))
		return die("cannot open the community's ledger");
	if (tb_passphrase_read(passfile, false, NULL, NULL, pass, &len))
		return die("cannot read the passphrase");
	snprintf(path, sizeof path, "%s/keys/node.key", data);
	int err = tb_keyfile_read(path, &g_key, pass, len);
	tb_wipe(pass, sizeof pass);
	return err ? die("cannot unlock the community key") : 0;
}

static uint64_t today(void)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	return (uint64_t)(tm.tm_year + 1900) * 10000 + (uint64_t)(tm.tm_mon + 1) * 100 +
	       (uint64_t)tm.tm_mday;
}

static int prepare(const uint8_t *to, const uint8_t txid[TB_TXID_LEN], const char *to_name,
		   uint32_t member)
{
	struct tb_xprepare x;
	memset(&x, 0, sizeof x);
	memcpy(x.txid, txid, TB_TXID_LEN);
	x.member = member;
	memcpy(x.to_log, to, TB_KEY_LEN);
	x.to_name = (struct tb_view){(const uint8_t *)to_name, strlen(to_name)};
	x.minutes = 1;
	x.date = today();
	x.expires = (uint64_t)time(NULL) + 15;
	x.attested = 1;
	uint64_t seq;
	struct tb_reject rej;
	return tb_store_append_own(g_store, &g_key, TB_KIND_XPREPARE, &x, &seq, &rej);
}

struct last_txid {
	uint8_t txid[TB_TXID_LEN];
	bool found;
};

static int txid_of(void *ctx, uint64_t seq, struct tb_view rec)
{
	(void)seq;
	struct last_txid *l = ctx;
	struct tb_entry e;
	if (tb_entry_decode(&e, rec.p, rec.len))
		return 0;
	if (e.kind == TB_KIND_EXCHANGE || e.kind == TB_KIND_XPREPARE) {
		memcpy(l->txid,
		       e.kind == TB_KIND_EXCHANGE ? e.body.exchange.txid : e.body.xprepare.txid,
		       TB_TXID_LEN);
		l->found = true;
	}
	return 0;
}

static int reuse_txid(const char *victim_data)
{
	char path[4200];
	struct tb_store *v;
	uint8_t vid[TB_KEY_LEN];
	snprintf(path, sizeof path, "%s/ledger", victim_data);
	if (tb_store_open(&v, path, TB_STORE_RDONLY) || tb_store_self(v, vid))
		return die("cannot read the victim's ledger");
	struct last_txid l = {.found = false};
	(void)tb_store_foreach_entry(v, vid, 1, txid_of, &l);
	tb_store_free(v);
	if (!l.found)
		return die("the victim's log has no txid yet");
	int err = prepare(vid, l.txid, "m1", 1);
	printf("reuse-txid: prepare reusing a txid of the victim: %s\n",
	       err ? tb_errname(err) : "recorded");
	return 0;
}

static int flood(const char *victim_hex, long n)
{
	uint8_t vid[TB_KEY_LEN];
	if (strlen(victim_hex) != 2 * TB_KEY_LEN || tb_hex_decode(vid, TB_KEY_LEN, victim_hex))
		return die("bad victim log id");
	long kept = 0;
	for (long i = 0; i < n; i++) {
		uint8_t txid[TB_TXID_LEN];
		tb_random(txid, sizeof txid);
		if (!prepare(vid, txid, "nobody-here", 1 + (uint32_t)(i % 3)))
			kept++;
	}
	printf("flood: %ld of %ld prepares for a member the victim lacks recorded\n", kept, n);
	return 0;
}

struct others {
	struct tb_xleg x[64];
	size_t n;
};

static int other_leg(void *ctx, const struct tb_xleg *x)
{
	struct others *o = ctx;
	if (x->decide_seq || !memcmp(x->payer, g_self, TB_KEY_LEN) ||
	    !memcmp(x->provider, g_self, TB_KEY_LEN) || o->n == 64)
		return 0;
	o->x[o->n++] = *x;
	return 0;
}

/* A refusal of a prepare between two other communities, in our log. */
static int refuse(const struct tb_xleg *x)
{
	uint8_t rec[TB_ENTRY_MAX];
	size_t len;
	struct tb_entry p;
	int err = tb_store_get_entry(g_store, x->payer, x->prepare_seq, rec, sizeof rec, &len);
	if (err || tb_entry_decode(&p, rec, len) || p.kind != TB_KIND_XPREPARE)
		return err ? err : TB_ECORRUPT;
	const struct tb_xprepare *xp = &p.body.xprepare;
	struct tb_member payer;
	if ((err = tb_store_member(g_store, x->payer, (uint32_t)xp->member, &payer)))
		return err;
	struct tb_xdecide d;
	tb_xdecide_of(&d, xp, x->payer, x->prepare_seq,
		      (struct tb_view){(const uint8_t *)payer.name, strlen(payer.name)});
	d.outcome = 2; /* trust limit reached */
	uint64_t seq;
	struct tb_reject rej;
	return tb_store_append_own(g_store, &g_key, TB_KIND_XDECIDE, &d, &seq, &rej);
}

static int decide_others(void)
{
	static struct others o;
	o.n = 0;
	(void)tb_store_foreach_xleg(g_store, true, other_leg, &o);
	size_t kept = 0;
	for (size_t i = 0; i < o.n; i++)
		if (!refuse(&o.x[i]))
			kept++;
	printf("decide-others: %zu of %zu refusals of others' prepares recorded\n", kept, o.n);
	return 0;
}

/* ---- attacks over the wire ---- */

static uint8_t g_psk[32];

static int connect_to(struct tb_fake *p, const char *port, const char *fedkey, uint32_t keyno)
{
	long pn = atol(port);
	if (pn <= 0 || pn > 65535 || tb_fedkey_read(fedkey, g_psk))
		return die("bad port or federation key");
	if (tb_fake_try_open(p, (uint16_t)pn, g_psk, keyno, 3000) || tb_fake_sync(p))
		return die("cannot connect as a peer");
	return 0;
}

static void send_checkpoint(struct tb_fake *p, const struct tb_keypair *kp, uint64_t size,
			    const uint8_t root[TB_HASHLEN], uint64_t ts)
{
	struct tb_checkpoint cp;
	memset(&cp, 0, sizeof cp);
	memcpy(cp.log_id, kp->pk.b, TB_KEY_LEN);
	cp.size = size;
	memcpy(cp.root, root, TB_HASHLEN);
	cp.timestamp = ts;
	uint8_t buf[TB_CHECKPOINT_MAX];
	size_t len;
	if (tb_checkpoint_seal(buf, sizeof buf, &len, &cp, kp))
		return;
	struct tb_peer_msg m = {.type = TB_MSG_CHECKPOINT_MSG};
	m.u.checkpoint_msg.checkpoint = (struct tb_view){buf, len};
	(void)tb_fake_send(p, &m);
}

static size_t genesis(uint8_t *out, const struct tb_keypair *kp, const char *name)
{
	struct tb_entry e;
	memset(&e, 0, sizeof e);
	e.version = TB_ENTRY_VERSION;
	memcpy(e.log_id, kp->pk.b, TB_KEY_LEN);
	e.seq = 1;
	e.timestamp = (uint64_t)time(NULL);
	e.kind = TB_KIND_GENESIS;
	e.body.genesis.name = (struct tb_view){(const uint8_t *)name, strlen(name)};
	e.body.genesis.floor = -600;
	size_t len = 0;
	return tb_entry_seal(out, TB_ENTRY_MAX, &len, &e, kp) ? 0 : len;
}

static int outsider(const char *port, const char *fedkey, long n)
{
	struct tb_fake *p = calloc(1, sizeof *p);
	if (!p || connect_to(p, port, fedkey, 901))
		return 1;
	struct tb_keypair kp;
	uint8_t seed[TB_SEED_LEN];
	tb_random(seed, sizeof seed);
	tb_keypair_from_seed(&kp, seed);
	static uint8_t a[TB_ENTRY_MAX], b[TB_ENTRY_MAX];
	size_t alen = genesis(a, &kp, "Interloper"), blen = genesis(b, &kp, "Interloper too");
	struct tb_view rec = {a, alen};
	(void)tb_fake_entries(p, &rec, 1);
	uint8_t root[TB_HASHLEN];
	tb_entry_hash(root, a, alen);
	for (long i = 0; i < n; i++)
		send_checkpoint(p, &kp, 1, root, (uint64_t)time(NULL) + (uint64_t)i);
	struct tb_peer_msg m = {.type = TB_MSG_FORK};
	m.u.fork.a = (struct tb_view){a, alen};
	m.u.fork.b = (struct tb_view){b, blen};
	(void)tb_fake_send(p, &m);
	struct tb_peer_msg r;
	int got = tb_fake_expect(p, TB_MSG_REFUSED, &r, 2000);
	printf("outsider: log, %ld checkpoints and a fork proof sent; %s\n", n,
	       got == 1 ? "refused" : "no refusal heard");
	tb_fake_close(p);
	free(p);
	return 0;
}

static int checkpoints(const char *port, const char *fedkey, long n)
{
	struct tb_head h;
	uint8_t root[TB_HASHLEN];
	if (tb_store_head(g_store, g_self, &h) || !h.seq ||
	    tb_store_root(g_store, g_self, h.seq, root))
		return die("the own log is empty");
	struct tb_fake *p = calloc(1, sizeof *p);
	if (!p || connect_to(p, port, fedkey, 902))
		return 1;
	for (long i = 0; i < n; i++) {
		send_checkpoint(p, &g_key, h.seq, root, (uint64_t)time(NULL) + (uint64_t)i);
		struct tb_keypair nobody;
		uint8_t seed[TB_SEED_LEN];
		tb_random(seed, sizeof seed);
		tb_keypair_from_seed(&nobody, seed);
		send_checkpoint(p, &nobody, 1 + (uint64_t)i, root, (uint64_t)time(NULL));
	}
	(void)tb_fake_drain(p);
	printf("checkpoints: %ld of the own log and %ld of logs nobody holds sent\n", n, n);
	tb_fake_close(p);
	free(p);
	return 0;
}

static int noread(const char *port, const char *fedkey, long n, long secs)
{
	if (n < 1 || n > 64)
		return die("noread: 1 to 64 peers");
	struct tb_fake *p = calloc((size_t)n, sizeof *p);
	if (!p)
		return die("out of memory");
	long open = 0;
	for (long i = 0; i < n; i++) {
		/* Our SYNC claims no logs: the node sends us all it holds. */
		if (!connect_to(&p[i], port, fedkey, 910 + (uint32_t)i))
			open++;
	}
	printf("noread: %ld peers open that never read, for %ld s\n", open, secs);
	fflush(stdout);
	sleep((unsigned)secs);
	for (long i = 0; i < n; i++)
		if (p[i].fd > 0)
			tb_fake_close(&p[i]);
	free(p);
	return 0;
}

int main(int argc, char **argv)
{
	if (tb_crypto_init())
		return die("cannot initialise libsodium");
	const char *a = argc > 1 ? argv[1] : "";
	if (!strcmp(a, "reuse-txid") && argc == 5)
		return open_community(argv[2], argv[3]) ? 1 : reuse_txid(argv[4]);
	if (!strcmp(a, "flood") && argc == 6)
		return open_community(argv[2], argv[3]) ? 1 : flood(argv[4], atol(argv[5]));
	if (!strcmp(a, "decide-others") && argc == 4)
		return open_community(argv[2], argv[3]) ? 1 : decide_others();
	if (!strcmp(a, "outsider") && argc == 5)
		return outsider(argv[2], argv[3], atol(argv[4]));
	if (!strcmp(a, "checkpoints") && argc == 7)
		return open_community(argv[4], argv[5])
			       ? 1
			       : checkpoints(argv[2], argv[3], atol(argv[6]));
	if (!strcmp(a, "noread") && argc == 6)
		return noread(argv[2], argv[3], atol(argv[4]), atol(argv[5]));
	fprintf(stderr, "usage: torture_rogue ATTACK ARGS... (see its header)\n");
	return 2;
}
