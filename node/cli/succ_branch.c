/*
 * succ_branch.c: what `tally succession` knows of a forked own log: the
 * fork proof held, the branch this data directory holds, and a dropped
 * branch read from an export file made on a copy that holds it. It lists
 * the dropped branch's entries (so the exchanges can be recorded again in
 * the new log) and says how each payment of the forked community ends by
 * PROTOCOL.md 12.6. It writes nothing.
 */
#include "cli.h"
#include "succ.h"

#include <stdlib.h>
#include <string.h>

static int fork_cb(void *vctx, const uint8_t log_id[TB_KEY_LEN], uint64_t seq, struct tb_view a,
		   struct tb_view b)
{
	struct tb_succ_fork *f = vctx;
	if (memcmp(log_id, f->log, TB_KEY_LEN))
		return 0;
	if (a.len > TB_ENTRY_MAX || b.len > TB_ENTRY_MAX)
		return TB_ECORRUPT;
	f->found = true;
	f->seq = seq;
	f->checkpoint = a.len && a.p[0] == 0x94;
	f->proof[0] = (uint8_t)(a.len >> 8);
	f->proof[1] = (uint8_t)a.len;
	memcpy(f->proof + 2, a.p, a.len);
	memcpy(f->proof + 2 + a.len, b.p, b.len);
	f->plen = 2 + a.len + b.len;
	tb_entry_hash(f->hash_a, a.p, a.len);
	tb_entry_hash(f->hash_b, b.p, b.len);
	return 0;
}

int tb_succ_fork(struct tb_cli *cli, struct tb_succ_fork *f)
{
	memset(f, 0, sizeof *f);
	memcpy(f->log, cli->self, TB_KEY_LEN);
	int err = tb_store_head(cli->store, cli->self, &f->head);
	if (!err)
		err = tb_store_foreach_fork(cli->store, fork_cb, f);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the fork proofs held: %s",
				   tb_strerror(err));
	return 0;
}

/* ---- the dropped branch, from an export file ---- */

static int keep_record(struct tb_succ_dropped *d, struct tb_view rec, uint64_t seq)
{
	if (d->n == TB_SUCC_DROPPED_MAX)
		return TB_EFULL;
	uint8_t *copy = malloc(rec.len);
	if (!copy)
		return TB_ENOMEM;
	memcpy(copy, rec.p, rec.len);
	d->rec[d->n] = (struct tb_view){copy, rec.len};
	d->seq[d->n++] = seq;
	return 0;
}

/* Whether the held copy has this very record at its seq. */
static bool held_same(struct tb_cli *cli, const struct tb_entry *e, struct tb_view rec,
		      uint64_t kept_seq)
{
	uint8_t held[TB_ENTRY_MAX];
	size_t hlen;
	if (e->seq > kept_seq ||
	    tb_store_get_entry(cli->store, e->log_id, e->seq, held, sizeof held, &hlen))
		return false;
	return hlen == rec.len && !memcmp(held, rec.p, hlen);
}

int tb_succ_dropped_read(struct tb_cli *cli, const char *path, uint64_t kept_seq,
			 struct tb_succ_dropped *d)
{
	memset(d, 0, sizeof *d);
	size_t len;
	int err;
	uint8_t *file = tb_cli_read_file(path, &len, &err);
	if (!file)
		return tb_cli_fail(TB_EXIT_USAGE, "cannot read %s: %s", path, tb_strerror(err));
	struct tb_export_reader r;
	enum tb_export_item type;
	struct tb_view item;
	bool ours = false;
	if ((err = tb_export_open(&r, file, len)) == 0) {
		while ((err = tb_export_next(&r, &type, &item)) == 1) {
			struct tb_entry e;
			if (type != TB_EXPORT_ENTRY || tb_entry_decode(&e, item.p, item.len) ||
			    memcmp(e.log_id, cli->self, TB_KEY_LEN))
				continue;
			ours = true;
			/* From the first record the kept branch does not hold on. */
			if (!d->n && held_same(cli, &e, item, kept_seq))
				continue;
			if ((err = keep_record(d, item, e.seq)))
				break;
		}
	}
	free(file);
	if (err < 0) {
		tb_succ_dropped_free(d);
		if (err == TB_EFULL)
			return tb_cli_fail(TB_EXIT_USAGE,
					   "%s holds more than %d entries of the dropped branch",
					   path, TB_SUCC_DROPPED_MAX);
		return tb_cli_fail(TB_EXIT_USAGE, "%s is not a readable Tally export: %s", path,
				   tb_strerror(err));
	}
	if (!ours)
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"%s holds no entry of this community's log: export it with "
			"'tally export' on the copy of the data directory that holds the "
			"dropped branch",
			path);
	return 0;
}

void tb_succ_dropped_free(struct tb_succ_dropped *d)
{
	for (size_t i = 0; i < d->n; i++)
		free((void *)d->rec[i].p);
	d->n = 0;
}

/* ---- how a payment of the forked community ends (PROTOCOL.md 12.6) ---- */

bool tb_succ_completed(struct tb_cli *cli, const struct tb_xprepare *p)
{
	/* Only the decision of the prepare's to_log counts (FORMAT.md 11.3);
	 * it is looked up by prepare, as the prepare may be on the dropped
	 * branch, which this store does not hold. */
	struct tb_xdecided d;
	if (tb_store_xdecided(cli->store, p->to_log, cli->self, p->txid, &d))
		return false;
	return d.outcome == TB_XO_COMMITTED && d.minutes == p->minutes;
}

static void member_name(struct tb_cli *cli, uint64_t no, char *out, size_t cap)
{
	struct tb_member m;
	if (no == TB_COMMUNITY_ACCOUNT)
		snprintf(out, cap, "community");
	else if (!tb_store_member(cli->store, cli->self, (uint32_t)no, &m))
		snprintf(out, cap, "%s", m.name);
	else
		snprintf(out, cap, "#%llu", (unsigned long long)no);
}

static void print_one(struct tb_cli *cli, uint64_t seq, const struct tb_entry *e, bool first)
{
	char a[TB_NAME_MAX + 8], b[TB_NAME_MAX + 8], h[32], txid[2 * TB_TXID_LEN + 1];
	const char *sep = first ? "" : ",";
	switch (e->kind) {
	case TB_KIND_EXCHANGE: {
		const struct tb_exchange *x = &e->body.exchange;
		member_name(cli, x->provider, a, sizeof a);
		member_name(cli, x->receiver, b, sizeof b);
		tb_hex_encode(txid, x->txid, TB_TXID_LEN);
		tb_out_hours(h, sizeof h, (int64_t)x->minutes);
		if (cli->json)
			printf("%s{\"seq\":%llu,\"kind\":\"exchange\",\"txid\":\"%s\",\"provider\":",
			       sep, (unsigned long long)seq, txid);
		else
			printf("seq %llu  exchange %s  %llu  %s -> %s  %s hours  %.*s\n",
			       (unsigned long long)seq, txid, (unsigned long long)x->date, a, b,
			       h + 1, (int)x->category.len, (const char *)x->category.p);
		if (cli->json) {
			tb_json_str(stdout, a, strlen(a));
			printf(",\"receiver\":");
			tb_json_str(stdout, b, strlen(b));
			printf(",\"minutes\":%llu,\"date\":%llu,\"category\":",
			       (unsigned long long)x->minutes, (unsigned long long)x->date);
			tb_json_str(stdout, (const char *)x->category.p, x->category.len);
			printf("}");
		}
		return;
	}
	case TB_KIND_XPREPARE: {
		const struct tb_xprepare *x = &e->body.xprepare;
		bool done = tb_succ_completed(cli, x);
		member_name(cli, x->member, a, sizeof a);
		tb_hex_encode(txid, x->txid, TB_TXID_LEN);
		tb_out_hours(h, sizeof h, (int64_t)x->minutes);
		if (cli->json) {
			printf("%s{\"seq\":%llu,\"kind\":\"xprepare\",\"txid\":\"%s\",\"member\":",
			       sep, (unsigned long long)seq, txid);
			tb_json_str(stdout, a, strlen(a));
			printf(",\"minutes\":%llu,\"outcome\":\"%s\"}",
			       (unsigned long long)x->minutes, done ? "completed" : "released");
		} else {
			printf("seq %llu  payment %s  %s pays %.*s %s hours: %s\n",
			       (unsigned long long)seq, txid, a, (int)x->to_name.len,
			       (const char *)x->to_name.p, h + 1,
			       done ? "completed (the provider committed: carried as paid)"
				    : "released (no commit by the provider)");
		}
		return;
	}
	default:
		if (cli->json)
			printf("%s{\"seq\":%llu,\"kind\":\"%s\"}", sep, (unsigned long long)seq,
			       tb_kind_name(e->kind));
		else
			printf("seq %llu  %s\n", (unsigned long long)seq, tb_kind_name(e->kind));
		return;
	}
}

void tb_succ_dropped_print(struct tb_cli *cli, const struct tb_succ_dropped *d)
{
	if (cli->json)
		printf("[");
	else if (!d->n)
		printf("the export holds no entry of a dropped branch\n");
	else
		printf("%zu entries of the dropped branch (record the exchanges again in the "
		       "new log; payments end as shown):\n",
		       d->n);
	for (size_t i = 0; i < d->n; i++) {
		struct tb_entry e;
		if (tb_entry_decode(&e, d->rec[i].p, d->rec[i].len))
			continue;
		print_one(cli, d->seq[i], &e, i == 0);
	}
	if (cli->json)
		printf("]");
}
