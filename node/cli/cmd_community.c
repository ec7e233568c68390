/*
 * cmd_community.c: `tally community list|admit|remove`, which other
 * communities this node stores and relays (PROTOCOL.md, "Admission"). An
 * admission is an ADMIT entry of the own log: the community's node id, its
 * name as admitted, and whether it also vouches for the communities it
 * admits itself. `list` shows the admitted set and, so that a coordinator
 * can admit them by name, the communities that admitted neighbours admit
 * but this one does not. A name that is the same name as one admitted
 * already (NFC, case, look-alike letters) is refused. The ledger rule
 * (store/admit.c) decides the rest; this file asks and shows.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tb_text.h"

#define ID_HEX (2 * TB_KEY_LEN)
#define KNOWN_MAX 1024

/* A community known through an admitted neighbour's ADMIT entries. */
struct known {
	uint8_t id[TB_KEY_LEN];
	char name[TB_NAME_MAX + 1];
	uint8_t by[TB_KEY_LEN]; /* the neighbour that admitted it */
};

struct census {
	struct tb_cli *cli;
	struct tb_admitted adm;
	struct known *k;
	size_t nk;
	const uint8_t *by;
};

static int known_one(void *ctx, const struct tb_admit_rec *a)
{
	struct census *c = ctx;
	if (a->status == TB_ADMIT_REMOVED || tb_admitted_has(&c->adm, a->id) || c->nk == KNOWN_MAX)
		return 0;
	for (size_t i = 0; i < c->nk; i++)
		if (!memcmp(c->k[i].id, a->id, TB_KEY_LEN))
			return 0;
	struct known *k = &c->k[c->nk++];
	memcpy(k->id, a->id, TB_KEY_LEN);
	memcpy(k->name, a->name, sizeof k->name);
	memcpy(k->by, c->by, TB_KEY_LEN);
	return 0;
}

static int census_take(struct tb_cli *cli, struct census *c)
{
	memset(c, 0, sizeof *c);
	c->cli = cli;
	int err = tb_store_admitted(cli->store, &c->adm);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the admissions: %s", tb_strerror(err));
	c->k = calloc(KNOWN_MAX, sizeof *c->k);
	if (!c->k) {
		tb_admitted_free(&c->adm);
		return tb_cli_fail(TB_EXIT_IO, "out of memory");
	}
	for (size_t i = 0; !err && i < c->adm.n; i++) {
		c->by = c->adm.v[i].id;
		err = tb_store_foreach_admit(cli->store, c->by, known_one, c);
	}
	if (err) {
		free(c->k);
		tb_admitted_free(&c->adm);
		return tb_cli_fail(TB_EXIT_IO, "cannot read the admissions: %s", tb_strerror(err));
	}
	return 0;
}

/* {key: arr}, taking arr (NULL: out of memory). */
static int print_list(struct tb_json *arr, const char *key)
{
	struct tb_json *o = tb_json_object();
	if (tb_json_set(o, key, arr)) {
		tb_json_free(o);
		o = NULL;
	}
	return tb_cli_print_json(o, 0, "the communities");
}

static void census_free(struct census *c)
{
	free(c->k);
	tb_admitted_free(&c->adm);
}

/* One row of the list: printed, or pushed onto arr with --json (arr is
 * NULL once a push failed). */
static void print_row(struct tb_cli *cli, struct tb_json **arr, const char *name, const uint8_t *id,
		      const char *status, const uint8_t *by)
{
	char hex[ID_HEX + 1], byname[TB_CLI_CNAME_MAX] = "";
	tb_hex_encode(hex, id, TB_KEY_LEN);
	struct tb_head h;
	bool held = tb_store_head(cli->store, id, &h) == 0 && h.seq > 0;
	if (by)
		tb_cli_community_name(cli, by, byname, sizeof byname);
	if (cli->json) {
		if (*arr && tb_json_push(*arr, tb_vocab_known_community(id, name, status, held,
									by ? byname : NULL)))
			*arr = NULL; /* the push freed it */
		return;
	}
	printf("  ");
	tb_cli_pad(stdout, name, 20);
	printf(" %s  %-9s %-4s %s\n", hex, status, held ? "yes" : "no", byname);
}

int tb_cmd_community_list(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, "community", "list") != -1)
		return TB_EXIT_USAGE;
	if (optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "community list: unexpected argument '%s'",
				   argv[optind]);
	struct census c;
	int rc = tb_cli_open(cli, false);
	if (rc || (rc = census_take(cli, &c)))
		return rc;
	struct tb_json *arr = cli->json ? tb_json_array() : NULL;
	if (!cli->json)
		printf("  %-20s %-64s  %-9s %-4s %s\n", "community", "id", "status", "held",
		       "admitted by");
	for (size_t i = 0; i < c.adm.n; i++) {
		const struct tb_admitted_one *o = &c.adm.v[i];
		const char *st = !o->direct			  ? "vouched"
				 : o->status == TB_ADMIT_VOUCHING ? "vouching"
								  : "admitted";
		print_row(cli, &arr, o->name, o->id, st, o->direct ? cli->self : o->via);
	}
	for (size_t i = 0; i < c.nk; i++)
		print_row(cli, &arr, c.k[i].name, c.k[i].id, "known", c.k[i].by);
	if (cli->json) {
		census_free(&c);
		return print_list(arr, "communities");
	}
	if (!c.adm.n && !c.nk)
		printf("  (no community admitted: 'tally community admit NODE_ID --name NAME')\n");
	else if (c.nk)
		printf("known: admitted by a neighbour, not here ('tally community admit NAME' "
		       "admits one)\n");
	census_free(&c);
	return TB_EXIT_OK;
}

/* ---- admit and remove ---- */

struct target {
	uint8_t id[TB_KEY_LEN];
	char name[TB_NAME_MAX + 1];
	char key[TB_ADMIT_KEY_MAX]; /* tb_admit_name_key of the name */
};

/* The genesis name of a held log, "" if not held. */
static void held_name(struct tb_cli *cli, const uint8_t *id, char out[TB_NAME_MAX + 1])
{
	struct tb_community cm;
	out[0] = 0;
	if (tb_store_community(cli->store, id, &cm) == 0)
		memcpy(out, cm.name, TB_NAME_MAX + 1);
}

static int same(const char *a, const char *b)
{
	return tb_text_same_name(a, strlen(a), b, strlen(b)) == 1;
}

/* ARG is NODE_ID, NODE_ID=NAME, or the name of a known community. */
static int resolve(struct tb_cli *cli, const struct census *c, const char *arg, const char *given,
		   struct target *t)
{
	memset(t, 0, sizeof *t);
	const char *eq = strchr(arg, '=');
	size_t idlen = eq ? (size_t)(eq - arg) : strlen(arg);
	char hex[ID_HEX + 1];
	if (idlen == ID_HEX) {
		memcpy(hex, arg, ID_HEX);
		hex[ID_HEX] = 0;
	}
	if (idlen == ID_HEX && tb_hex_decode(t->id, TB_KEY_LEN, hex) == 0) {
		const char *name = eq ? eq + 1 : given;
		if (name && tb_cli_name_nfc(name, t->name, "a community name"))
			return TB_EXIT_USAGE;
		if (!name) {
			for (size_t i = 0; i < c->nk; i++)
				if (!memcmp(c->k[i].id, t->id, TB_KEY_LEN))
					memcpy(t->name, c->k[i].name, sizeof t->name);
			const struct tb_admitted_one *o = tb_admitted_find(&c->adm, t->id);
			if (o)
				memcpy(t->name, o->name, sizeof t->name);
			if (!t->name[0])
				held_name(cli, t->id, t->name);
		}
		if (!t->name[0])
			return tb_cli_fail(TB_EXIT_USAGE,
					   "the name of community %.16s... is not known here: give "
					   "it (--name NAME, or NODE_ID=NAME)",
					   hex);
		return 0;
	}
	if (eq)
		return tb_cli_fail(TB_EXIT_USAGE, "'%s': before '=' comes a 64-digit node id", arg);
	size_t n = 0;
	for (size_t i = 0; i < c->nk; i++) {
		if (!same(c->k[i].name, arg))
			continue;
		if (n++ == 0) {
			memcpy(t->id, c->k[i].id, TB_KEY_LEN);
			memcpy(t->name, c->k[i].name, sizeof t->name);
		}
	}
	for (size_t i = 0; i < c->adm.n; i++) {
		if (!same(c->adm.v[i].name, arg))
			continue;
		if (n++ == 0) {
			memcpy(t->id, c->adm.v[i].id, TB_KEY_LEN);
			memcpy(t->name, c->adm.v[i].name, sizeof t->name);
		}
	}
	if (n == 1)
		return 0;
	if (n > 1)
		return tb_cli_fail(TB_EXIT_USAGE,
				   "'%s' names %zu communities; give the node id ('tally community "
				   "list' shows them)",
				   arg, n);
	return tb_cli_fail(TB_EXIT_USAGE,
			   "no community '%s' is known here: give its node id and name "
			   "(NODE_ID --name NAME); 'tally community list' shows those admitted by "
			   "neighbours",
			   arg);
}

/* Refuses what the ledger rule cannot judge: the name of another community
 * (compared by folded key, NFC, case and look-alikes, as tallyd does). */
static int check_target(struct tb_cli *cli, const struct census *c, struct target *t,
			const struct target *before, size_t nbefore)
{
	char hex[ID_HEX + 1], held[TB_NAME_MAX + 1], own[TB_NAME_MAX + 1];
	tb_hex_encode(hex, t->id, TB_KEY_LEN);
	if (!memcmp(t->id, cli->self, TB_KEY_LEN))
		return tb_cli_fail(TB_EXIT_REFUSED, "refused: %.16s... is this community (EADMIT)",
				   hex);
	struct tb_text_verdict v;
	if (tb_text_check_name(&v, t->name, strlen(t->name)))
		return tb_cli_fail(TB_EXIT_USAGE, "the name '%s' %s", t->name,
				   tb_text_flaw_str(v.flaw));
	tb_admit_name_key(t->key, t->name);
	held_name(cli, t->id, held);
	if (held[0] && !same(held, t->name))
		return tb_cli_fail(TB_EXIT_REFUSED,
				   "refused: community %.16s... is named '%s' in its log, not '%s' "
				   "(EADMIT)",
				   hex, held, t->name);
	held_name(cli, cli->self, own);
	if (same(own, t->name))
		return tb_cli_fail(TB_EXIT_REFUSED,
				   "refused: '%s' is the same name as this community's (EADMIT)",
				   t->name);
	for (size_t i = 0; i < nbefore; i++) {
		if (!memcmp(before[i].id, t->id, TB_KEY_LEN))
			return tb_cli_fail(TB_EXIT_USAGE, "community %.16s... is given twice", hex);
		if (!strcmp(before[i].key, t->key))
			return tb_cli_fail(TB_EXIT_REFUSED,
					   "refused: '%s' and '%s' are the same name (EADMIT)",
					   before[i].name, t->name);
	}
	for (size_t i = 0; i < c->adm.n; i++) {
		const struct tb_admitted_one *o = &c->adm.v[i];
		if (memcmp(o->id, t->id, TB_KEY_LEN) && !strcmp(o->key, t->key)) {
			char other[ID_HEX + 1];
			tb_hex_encode(other, o->id, TB_KEY_LEN);
			return tb_cli_fail(TB_EXIT_REFUSED,
					   "refused: '%s' is the same name as admitted community "
					   "'%s' (%.16s...); names must not be mistaken for each "
					   "other (EADMIT)",
					   t->name, o->name, other);
		}
	}
	return 0;
}

/* Appends one ADMIT per target in one transaction (all or none), then
 * says what was recorded. */
static int record(struct tb_cli *cli, const struct target *t, size_t n, unsigned status)
{
	struct tb_admit *a = calloc(n, sizeof *a);
	struct tb_own_item *it = calloc(n, sizeof *it);
	if (!a || !it) {
		free(a);
		free(it);
		return tb_cli_fail(TB_EXIT_IO, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(a[i].community, t[i].id, TB_KEY_LEN);
		a[i].name.p = (const uint8_t *)t[i].name;
		a[i].name.len = strlen(t[i].name);
		a[i].status = status;
		it[i].kind = TB_KIND_ADMIT;
		it[i].body = &a[i];
	}
	struct tb_reject rej;
	size_t done = 0;
	int err = tb_store_append_own_batch(cli->store, &cli->node, it, n, false, &done, &rej);
	if (err) {
		free(a);
		free(it);
		return tb_cli_refused(cli, err, &rej);
	}
	const char *what = status == TB_ADMIT_REMOVED	 ? "removed"
			   : status == TB_ADMIT_VOUCHING ? "vouching"
							 : "admitted";
	struct tb_json *arr = cli->json ? tb_json_array() : NULL;
	for (size_t i = 0; i < n; i++) {
		char hex[ID_HEX + 1];
		tb_hex_encode(hex, t[i].id, TB_KEY_LEN);
		if (!cli->json)
			printf("%s %s (%s) (entry %llu)\n", what, t[i].name, hex,
			       (unsigned long long)it[i].seq);
		else if (arr &&
			 tb_json_push(arr, tb_vocab_admitted(t[i].id, t[i].name, what, it[i].seq)))
			arr = NULL; /* the push freed it */
	}
	free(a);
	free(it);
	return cli->json ? print_list(arr, "admissions") : TB_EXIT_OK;
}

static int change(struct tb_cli *cli, int argc, char **argv, bool admit)
{
	static const struct option opts[] = {
		{"name", required_argument, 0, 'n'}, {"vouch", no_argument, 0, 'v'}, {0, 0, 0, 0}};
	const char *name = NULL;
	bool vouch = false;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "community", admit ? "admit" : "remove")) !=
	       -1) {
		if (c == 'n' && admit)
			name = optarg;
		else if (c == 'v' && admit)
			vouch = true;
		else
			return TB_EXIT_USAGE;
	}
	if (optind == argc)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: %s",
				   tb_cmd_find("community", admit ? "admit" : "remove")->usage);
	if (name && argc - optind != 1)
		return tb_cli_fail(TB_EXIT_USAGE, "--name goes with one community; give several as "
						  "NODE_ID=NAME");
	struct census cs;
	int rc = tb_cli_open(cli, true);
	if (rc || (rc = census_take(cli, &cs)))
		return rc;
	size_t n = (size_t)(argc - optind);
	struct target *t = calloc(n, sizeof *t);
	if (!t) {
		census_free(&cs);
		return tb_cli_fail(TB_EXIT_IO, "out of memory");
	}
	for (size_t i = 0; !rc && i < n; i++) {
		rc = resolve(cli, &cs, argv[optind + (int)i], name, &t[i]);
		if (!rc && admit)
			rc = check_target(cli, &cs, &t[i], t, i);
		if (!rc && !admit && !tb_admitted_has(&cs.adm, t[i].id))
			rc = tb_cli_fail(TB_EXIT_REFUSED,
					 "refused: '%s' is not admitted here (EADMIT)",
					 argv[optind + (int)i]);
	}
	if (!rc)
		rc = tb_cli_node_key(cli);
	unsigned status = !admit ? TB_ADMIT_REMOVED : vouch ? TB_ADMIT_VOUCHING : TB_ADMIT_ADMITTED;
	if (!rc)
		rc = record(cli, t, n, status);
	free(t);
	census_free(&cs);
	return rc;
}

int tb_cmd_community_admit(struct tb_cli *cli, int argc, char **argv)
{
	return change(cli, argc, argv, true);
}

int tb_cmd_community_remove(struct tb_cli *cli, int argc, char **argv)
{
	return change(cli, argc, argv, false);
}
