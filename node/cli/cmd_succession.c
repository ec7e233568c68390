/*
 * cmd_succession.c: `tally succession`, recovering a community whose log
 * forked (README, "Recovering a forked community"; FORMAT.md 7.11, PROTOCOL.md
 * 8b and 12.6). Without options it shows the fork and the branches; with
 * --keep BRANCH it starts the community's new log under a new key: genesis,
 * the succession signed by the old key with the fork proof, and the state of
 * the branch kept carried over (members, balances, trust lines, the
 * communities it admits), all in one
 * transaction; then the data directory runs as the new log. With --dropped
 * FILE it lists the entries of a dropped branch from an export. A crash
 * part-way is finished by running the same command again.
 */
#include "cli.h"
#include "succ.h"
#include "tb_node.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct carry {
	struct tb_member *m; /* members 1..n at index 0..n-1 */
	size_t n, cap;
	struct tb_clearing links[256];
	size_t nlinks;
	struct tb_admit_rec *adm; /* the old log's admissions, latest each */
	size_t nadm, capadm;
	size_t completed, released;
};

static int carry_member(void *ctx, const struct tb_member *m)
{
	struct carry *c = ctx;
	if (m->no == TB_COMMUNITY_ACCOUNT)
		return 0;
	if (m->no > c->cap)
		return TB_ECORRUPT;
	c->m[m->no - 1] = *m;
	if (m->no > c->n)
		c->n = m->no;
	return 0;
}

static int carry_link(void *ctx, const struct tb_clearing *cl)
{
	struct carry *c = ctx;
	if (!cl->linked)
		return 0;
	if (c->nlinks == sizeof c->links / sizeof c->links[0])
		return TB_EFULL;
	c->links[c->nlinks++] = *cl;
	return 0;
}

/* The new log admits what the old one did, removals included (a removal
 * overrides a voucher's admission): else the node would stop holding the
 * logs of every community it trades with. */
static int carry_admit(void *ctx, const struct tb_admit_rec *a)
{
	struct carry *c = ctx;
	if (c->nadm == TB_ADMITTED_MAX)
		return TB_EFULL;
	if (c->nadm == c->capadm) {
		size_t nc = c->capadm ? c->capadm * 2 : 16;
		struct tb_admit_rec *q = realloc(c->adm, nc * sizeof *q);
		if (!q)
			return TB_ENOMEM;
		c->adm = q;
		c->capadm = nc;
	}
	c->adm[c->nadm++] = *a;
	return 0;
}

/* A payment the provider committed is paid; the member pays it. */
static void pay(struct carry *c, uint64_t member, uint64_t minutes)
{
	if (member >= 1 && member <= c->n)
		c->m[member - 1].balance -= (int64_t)minutes;
}

struct open_ctx {
	struct tb_cli *cli;
	struct carry *c;
};

/* Holds of the kept branch with no final leg: completed or released. */
static int carry_hold(void *vctx, const struct tb_xleg *x)
{
	struct open_ctx *o = vctx;
	if (memcmp(x->payer, o->cli->self, TB_KEY_LEN) || !x->prepare_seq || x->final_seq)
		return 0;
	uint8_t rec[TB_ENTRY_MAX];
	size_t len;
	struct tb_entry e;
	int err = tb_store_get_entry(o->cli->store, o->cli->self, x->prepare_seq, rec, sizeof rec,
				     &len);
	if (err)
		return err;
	if (tb_entry_decode(&e, rec, len) || e.kind != TB_KIND_XPREPARE)
		return TB_ECORRUPT;
	if (tb_succ_completed(o->cli, &e.body.xprepare)) {
		pay(o->c, e.body.xprepare.member, e.body.xprepare.minutes);
		o->c->completed++;
	} else {
		o->c->released++;
	}
	return 0;
}

static int gather(struct tb_cli *cli, const struct tb_community *com,
		  const struct tb_succ_dropped *d, struct carry *c)
{
	c->cap = com->members;
	c->m = calloc(c->cap ? c->cap : 1, sizeof *c->m);
	if (!c->m)
		return TB_ENOMEM;
	int err = tb_store_foreach_member(cli->store, cli->self, carry_member, c);
	if (!err)
		err = tb_store_foreach_clearing(cli->store, cli->self, carry_link, c);
	if (err == TB_ENOTFOUND)
		err = 0;
	if (!err)
		err = tb_store_foreach_admit(cli->store, cli->self, carry_admit, c);
	struct open_ctx o = {cli, c};
	if (!err)
		err = tb_store_foreach_xleg(cli->store, true, carry_hold, &o);
	for (size_t i = 0; !err && d && i < d->n; i++) {
		struct tb_entry e;
		if (tb_entry_decode(&e, d->rec[i].p, d->rec[i].len) || e.kind != TB_KIND_XPREPARE)
			continue;
		if (tb_succ_completed(cli, &e.body.xprepare)) {
			pay(c, e.body.xprepare.member, e.body.xprepare.minutes);
			c->completed++;
		} else {
			c->released++;
		}
	}
	return err;
}

/* The entries of the new log: genesis, succession, members, trust lines. */
struct plan {
	struct tb_genesis gen;
	struct tb_succession succ;
	struct tb_member_join *join;
	struct tb_opening *open;
	struct tb_member_left *left;
	struct tb_link *link;
	struct tb_admit *admit;
	struct tb_own_item *items;
	size_t n;
};

static void opening_txid(uint8_t txid[TB_TXID_LEN], const uint8_t old[TB_KEY_LEN], uint32_t no)
{
	static const char tag[] = "tally succession";
	uint8_t buf[sizeof tag - 1 + TB_KEY_LEN + 4], h[TB_HASHLEN];
	memcpy(buf, tag, sizeof tag - 1);
	memcpy(buf + sizeof tag - 1, old, TB_KEY_LEN);
	tb_be32_put(buf + sizeof tag - 1 + TB_KEY_LEN, no);
	tb_sha256(h, buf, sizeof buf);
	memcpy(txid, h, TB_TXID_LEN);
}

static void item(struct plan *p, uint64_t kind, const void *body)
{
	memset(&p->items[p->n], 0, sizeof p->items[0]);
	p->items[p->n].kind = kind;
	p->items[p->n++].body = body;
}

static int build_plan(struct tb_cli *cli, const struct tb_community *com, const struct carry *c,
		      struct plan *p)
{
	size_t cap = 2 + 3 * c->n + c->nlinks + c->nadm;
	p->join = calloc(c->n + 1, sizeof *p->join);
	p->open = calloc(c->n + 1, sizeof *p->open);
	p->left = calloc(c->n + 1, sizeof *p->left);
	p->link = calloc(c->nlinks + 1, sizeof *p->link);
	p->admit = calloc(c->nadm + 1, sizeof *p->admit);
	p->items = calloc(cap, sizeof *p->items);
	if (!p->join || !p->open || !p->left || !p->link || !p->admit || !p->items)
		return TB_ENOMEM;
	p->gen.name = (struct tb_view){(const uint8_t *)com->name, strlen(com->name)};
	p->gen.floor = com->floor;
	p->gen.ceiling = com->ceiling;
	item(p, TB_KIND_GENESIS, &p->gen);
	item(p, TB_KIND_SUCCESSION, &p->succ);
	for (size_t i = 0; i < c->n; i++) {
		const struct tb_member *m = &c->m[i];
		if (m->no != i + 1)
			return TB_ECORRUPT; /* a member number not held */
		struct tb_member_join *j = &p->join[i];
		j->member = m->no;
		j->name = (struct tb_view){(const uint8_t *)m->name, strlen(m->name)};
		memcpy(j->key, m->key, TB_KEY_LEN);
		j->floor = m->floor;
		j->ceiling = m->ceiling;
		item(p, TB_KIND_MEMBER_JOIN, j);
		if (m->balance) {
			struct tb_opening *o = &p->open[i];
			opening_txid(o->txid, cli->self, m->no);
			o->member = m->no;
			o->minutes = m->balance;
			o->date = tb_today();
			item(p, TB_KIND_OPENING, o);
		}
		if (!m->active) {
			p->left[i].member = m->no;
			item(p, TB_KIND_MEMBER_LEFT, &p->left[i]);
		}
	}
	for (size_t i = 0; i < c->nlinks; i++) {
		memcpy(p->link[i].community, c->links[i].other, TB_KEY_LEN);
		p->link[i].limit = c->links[i].limit;
		item(p, TB_KIND_LINK, &p->link[i]);
	}
	for (size_t i = 0; i < c->nadm; i++) {
		struct tb_admit *a = &p->admit[i];
		memcpy(a->community, c->adm[i].id, TB_KEY_LEN);
		a->name = (struct tb_view){(const uint8_t *)c->adm[i].name, strlen(c->adm[i].name)};
		a->status = c->adm[i].status;
		item(p, TB_KIND_ADMIT, a);
	}
	return 0;
}

static void plan_free(struct plan *p, struct carry *c)
{
	free(p->join);
	free(p->open);
	free(p->left);
	free(p->link);
	free(p->admit);
	free(p->items);
	free(c->m);
	free(c->adm);
	c->adm = NULL;
}

/* ---- keys: the old one signs, the new one becomes the node's ---- */

struct keys {
	struct tb_keypair old, new;
	char pass[TB_PASSPHRASE_MAX + 1];
	size_t plen;
	char node[4300], next[4300], kept[4400];
};

static void keys_wipe(struct keys *k)
{
	tb_keypair_wipe(&k->old);
	tb_keypair_wipe(&k->new);
	tb_wipe(k->pass, sizeof k->pass);
}

/* Unlocks the old key and makes (or, after a crash, reopens) the new one,
 * sealed under the same passphrase in keys/successor.key. */
static int keys_get(struct tb_cli *cli, struct keys *k)
{
	char hex[17];
	tb_hex_encode(hex, cli->self, 8);
	snprintf(k->node, sizeof k->node, "%s/keys/node.key", cli->data);
	snprintf(k->next, sizeof k->next, "%s/keys/successor.key", cli->data);
	snprintf(k->kept, sizeof k->kept, "%s/keys/forked-%s.key", cli->data, hex);
	int err = tb_passphrase_get(cli->pass_file, "TALLY_PASSPHRASE", "the community key", false,
				    k->pass, sizeof k->pass, &k->plen);
	if (err)
		return err; /* said why */
	err = tb_keyfile_read(k->node, &k->old, k->pass, k->plen);
	if (err == TB_EPASSPHRASE)
		return tb_cli_fail(TB_EXIT_USAGE, "wrong passphrase for the community key (%s)",
				   k->node);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the community key %s: %s", k->node,
				   tb_strerror(err));
	if (memcmp(k->old.pk.b, cli->self, TB_KEY_LEN))
		return tb_cli_fail(TB_EXIT_IO, "%s is not the key of this community's log",
				   k->node);
	err = tb_keyfile_read(k->next, &k->new, k->pass, k->plen);
	if (err == TB_ENOTFOUND) {
		tb_keypair_generate(&k->new);
		err = tb_keyfile_write(k->next, &k->new, k->pass, k->plen, TB_KDF_INTERACTIVE);
	}
	if (err)
		return tb_cli_storage_fail(cli, err, k->next);
	return 0;
}

/* The old key file is kept aside (it signed the succession; keep it safe or
 * destroy it), the new one becomes keys/node.key. */
static int keys_swap(struct tb_cli *cli, struct keys *k)
{
	char dir[4300];
	snprintf(dir, sizeof dir, "%s/keys", cli->data);
	if (rename(k->node, k->kept) || rename(k->next, k->node))
		return tb_cli_storage_fail(cli, tb_errno_code(errno), dir);
	int err = tb_dir_sync(dir);
	return err ? tb_cli_storage_fail(cli, err, dir) : 0;
}

static void sign_succession(struct tb_succession *s, const struct keys *k)
{
	struct tb_succession_terms t;
	uint8_t buf[256];
	size_t len;
	tb_succession_terms_of(&t, k->new.pk.b, s);
	TB_ASSERT(tb_terms_encode(buf, sizeof buf, &len, &tb_def_succession_terms, &t) == 0);
	tb_sign(s->old_sig, &k->old, TB_CTX_SUCCESSION, buf, len);
}

/* ---- the command ---- */

static void show(struct tb_cli *cli, const struct tb_succ_fork *f)
{
	char id[2 * TB_KEY_LEN + 1], held[2 * TB_HASHLEN + 1], other[2 * TB_HASHLEN + 1];
	uint8_t rec[TB_ENTRY_MAX], h[TB_HASHLEN];
	size_t len;
	tb_hex_encode(id, f->log, TB_KEY_LEN);
	tb_hex_encode(held, f->head.hash, TB_HASHLEN);
	/* The proof's record that is not the one held at the fork's seq. */
	const uint8_t *o = f->hash_b;
	if (!tb_store_get_entry(cli->store, f->log, f->seq, rec, sizeof rec, &len)) {
		tb_entry_hash(h, rec, len);
		if (!memcmp(h, f->hash_b, TB_HASHLEN))
			o = f->hash_a;
	}
	tb_hex_encode(other, o, TB_HASHLEN);
	if (cli->json) {
		printf("{\"log\":\"%s\",\"forked\":true,\"fork_seq\":%llu,\"held_seq\":%llu,"
		       "\"held_hash\":\"%s\",\"other_hash\":\"%s\"}\n",
		       id, (unsigned long long)f->seq, (unsigned long long)f->head.seq, held,
		       other);
		return;
	}
	printf("the community's log %.16s... forked at seq %llu: its key signed two histories\n"
	       "branch held here: %llu entries, the last with hash %.16s\n"
	       "the other branch: its entry %llu has hash %.16s (from the fork proof)\n"
	       "to continue with the branch held here:  tally succession --keep %.16s\n"
	       "to keep the other one, run that on a copy of the data directory that holds it;\n"
	       "to list the other branch's entries, export them there ('tally export --out "
	       "FILE') and run: tally succession --dropped FILE\n",
	       id, (unsigned long long)f->seq, (unsigned long long)f->head.seq, held,
	       (unsigned long long)f->seq, other, held);
}

/* Which branch --keep names: only the one held here can be carried. */
static int check_keep(const struct tb_succ_fork *f, const char *keep)
{
	char held[2 * TB_HASHLEN + 1], a[2 * TB_HASHLEN + 1], b[2 * TB_HASHLEN + 1];
	size_t n = strlen(keep);
	tb_hex_encode(held, f->head.hash, TB_HASHLEN);
	tb_hex_encode(a, f->hash_a, TB_HASHLEN);
	tb_hex_encode(b, f->hash_b, TB_HASHLEN);
	if (n < 8 || n > 2 * TB_HASHLEN)
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"--keep takes the hash (8 to 64 hex digits) of the last entry of "
			"the branch to keep, as 'tally succession' shows it");
	if (!strncasecmp(held, keep, n))
		return 0;
	if (!strncasecmp(a, keep, n) || !strncasecmp(b, keep, n))
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"refused: %s is the other branch; this data directory holds the "
			"branch ending with %.16s. Run the succession on a copy that holds "
			"the branch to keep",
			keep, held);
	return tb_cli_fail(TB_EXIT_USAGE,
			   "no branch ends with an entry of hash %s here; the branch held ends "
			   "with %.16s ('tally succession' shows the branches)",
			   keep, held);
}

/* Refusals before anything is unlocked or written. */
static int preconditions(struct tb_cli *cli, const struct tb_succ_fork *f, bool make)
{
	uint32_t pid;
	uint64_t rseq;
	if (make && tb_daemon_running(cli->data, &pid))
		return tb_cli_fail(TB_EXIT_USAGE,
				   "refused: tallyd (pid %u) is running on %s; stop it first, then "
				   "start it again after the succession",
				   (unsigned)pid, cli->data);
	if (!(f->head.flags & TB_LOG_FORKED))
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"refused: the community's log is not forked (it has one history); "
			"a succession is only for a log whose key signed two histories");
	if (!f->found)
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"refused: the log is frozen but no fork proof of it is held here");
	if (f->checkpoint)
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"refused: the fork proof held is a checkpoint's, which cannot "
			"travel in a succession; sync with a node that holds the other "
			"branch's entries to get a proof of two entries ('tally forks')");
	if (make && tb_store_restored(cli->store, &rseq) == 0)
		return tb_cli_fail(
			TB_EXIT_REFUSED,
			"refused: this data directory was restored from a backup and has "
			"not synced yet; start tallyd until its peers gave its entries back "
			"(ERESTORED)");
	return 0;
}

/* A store that already made the succession (a crash before the keys were
 * swapped): *again to finish it. 0 or the exit code of a refusal. */
static int made_already(struct tb_cli *cli, const struct keys *k, bool *again)
{
	struct tb_successor s;
	size_t n;
	*again = false;
	int err = tb_store_successor(cli->store, cli->self, &s, &n);
	if (err == TB_ENOTFOUND)
		return 0;
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the logs held: %s", tb_strerror(err));
	if (!memcmp(s.new_log, k->new.pk.b, TB_KEY_LEN)) {
		*again = true;
		return 0;
	}
	char id[2 * TB_KEY_LEN + 1];
	tb_hex_encode(id, s.new_log, TB_KEY_LEN);
	return tb_cli_fail(TB_EXIT_REFUSED,
			   "refused: the community's log was already succeeded by log %s; a second "
			   "succession would split the community again (ESUCCESSION)",
			   id);
}

static int append_plan(struct tb_cli *cli, const struct tb_succ_fork *f, struct keys *k,
		       const struct tb_succ_dropped *d, struct carry *c)
{
	struct tb_community com;
	struct plan p;
	memset(&p, 0, sizeof p);
	int err = tb_store_community(cli->store, cli->self, &com);
	if (!err)
		err = gather(cli, &com, d, c);
	if (!err)
		err = build_plan(cli, &com, c, &p);
	if (err) {
		plan_free(&p, c);
		return tb_cli_fail(TB_EXIT_IO, "cannot read the branch kept: %s", tb_strerror(err));
	}
	memcpy(p.succ.old_log, cli->self, TB_KEY_LEN);
	p.succ.kept_seq = f->head.seq;
	memcpy(p.succ.kept_hash, f->head.hash, TB_HASHLEN);
	p.succ.fork_proof = (struct tb_view){f->proof, f->plen};
	sign_succession(&p.succ, k);
	size_t done = 0;
	struct tb_reject rej;
	memset(&rej, 0, sizeof rej);
	err = tb_store_append_own_batch(cli->store, &k->new, p.items, p.n, false, &done, &rej);
	plan_free(&p, c);
	if (err) {
		fprintf(stderr, "tally: the new log was not started (entry %zu of %zu refused)\n",
			done + 1, p.n);
		return tb_cli_refused(cli, err, &rej);
	}
	return 0;
}

static int make(struct tb_cli *cli, const struct tb_succ_fork *f, const char *keep,
		struct tb_succ_dropped *d)
{
	struct keys k;
	struct carry c;
	memset(&k, 0, sizeof k);
	memset(&c, 0, sizeof c);
	int rc = preconditions(cli, f, true);
	if (!rc)
		rc = check_keep(f, keep);
	if (!rc)
		rc = keys_get(cli, &k);
	bool again = false;
	if (!rc)
		rc = made_already(cli, &k, &again);
	if (!rc && !again)
		rc = append_plan(cli, f, &k, d, &c);
	int err = 0;
	if (!rc && (err = tb_store_replace_self(cli->store, k.new.pk.b)))
		rc = tb_cli_storage_fail(cli, err, cli->ledger);
	if (!rc)
		rc = keys_swap(cli, &k);
	if (!rc) {
		char old[2 * TB_KEY_LEN + 1], new[2 * TB_KEY_LEN + 1];
		tb_hex_encode(old, cli->self, TB_KEY_LEN);
		tb_hex_encode(new, k.new.pk.b, TB_KEY_LEN);
		if (cli->json)
			printf("{\"old_log\":\"%s\",\"new_log\":\"%s\",\"kept_seq\":%llu,"
			       "\"completed\":%zu,\"released\":%zu}\n",
			       old, new, (unsigned long long)f->head.seq, c.completed, c.released);
		else
			printf("the community continues in log %s (its new node id), which "
			       "succeeds the forked log %.16s... keeping its first %llu entries.\n"
			       "Members, balances and trust lines were carried over; %zu open "
			       "payments completed, %zu released (PROTOCOL.md 12.6).\n"
			       "The old key is kept in %s: keep it offline or destroy it.\n"
			       "Start tallyd: its peers take the new log and stop waiting on the "
			       "old one. Tell the communities you trade with the new node id.\n",
			       new, old, (unsigned long long)f->head.seq, c.completed, c.released,
			       k.kept);
		memcpy(cli->self, k.new.pk.b, TB_KEY_LEN);
	}
	keys_wipe(&k);
	return rc;
}

/* After a succession this node's log is the new one: list against the old. */
static bool succeeded(struct tb_cli *cli, struct tb_successor *s)
{
	uint8_t rec[TB_ENTRY_MAX];
	size_t len, n;
	struct tb_entry e;
	if (tb_store_get_entry(cli->store, cli->self, 2, rec, sizeof rec, &len) ||
	    tb_entry_decode(&e, rec, len) || e.kind != TB_KIND_SUCCESSION)
		return false;
	return tb_store_successor(cli->store, e.body.succession.old_log, s, &n) == 0 &&
	       !memcmp(s->new_log, cli->self, TB_KEY_LEN);
}

int tb_cmd_succession(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"keep", required_argument, 0, 'k'},
					     {"dropped", required_argument, 0, 'd'},
					     {0, 0, 0, 0}};
	const char *keep = NULL, *dropped = NULL;
	int ch;
	optind = 1;
	while ((ch = tb_cli_getopt(argc, argv, opts, NULL, "succession")) != -1) {
		if (ch == 'k')
			keep = optarg;
		else if (ch == 'd')
			dropped = optarg;
		else
			return TB_EXIT_USAGE;
	}
	if (optind != argc)
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"usage: tally succession [--keep BRANCH] [--dropped EXPORT_FILE]");
	int rc = tb_cli_open(cli, keep != NULL);
	if (rc)
		return rc;
	struct tb_successor s;
	bool after = succeeded(cli, &s);
	if (after && keep) {
		char old[2 * TB_KEY_LEN + 1];
		tb_hex_encode(old, s.old_log, TB_KEY_LEN);
		return tb_cli_fail(
			TB_EXIT_REFUSED,
			"refused: this community already continues in this log, which "
			"succeeded the forked log %s; a second succession would split the "
			"community again (ESUCCESSION)",
			old);
	}
	if (after) /* done already: tell it, and list against the old log */
		memcpy(cli->self, s.old_log, TB_KEY_LEN);
	struct tb_succ_fork f;
	if ((rc = tb_succ_fork(cli, &f)))
		return rc;
	struct tb_succ_dropped *d = NULL;
	if (dropped) {
		if (!(d = calloc(1, sizeof *d)))
			return tb_cli_fail(TB_EXIT_IO, "out of memory");
		if ((rc = tb_succ_dropped_read(cli, dropped, after ? s.kept_seq : f.head.seq, d))) {
			free(d);
			return rc;
		}
	}
	if (keep)
		rc = make(cli, &f, keep, d);
	else if (!dropped && after) {
		char old[2 * TB_KEY_LEN + 1];
		tb_hex_encode(old, s.old_log, TB_KEY_LEN);
		printf("this community's log succeeds the forked log %s, keeping its first %llu "
		       "entries (the old log forked at seq %llu)\n",
		       old, (unsigned long long)s.kept_seq, (unsigned long long)s.fork_seq);
	} else if (!dropped && !(rc = preconditions(cli, &f, false)))
		show(cli, &f);
	if (!rc && d) {
		/* The dropped branch is the old log's (make moved self on). */
		memcpy(cli->self, f.log, TB_KEY_LEN);
		tb_succ_dropped_print(cli, d);
		if (cli->json)
			printf("\n");
	}
	if (d) {
		tb_succ_dropped_free(d);
		free(d);
	}
	return rc;
}
