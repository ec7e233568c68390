/*
 * cmd_import.c: `tally import timeoverflow DIR|FILE` and `tally import csv
 * FILE...`: bringing an existing time bank in. Every file is read and every
 * line checked first; any bad line is reported (file, line, reason) and
 * nothing is written. Then all entries (members joining as keyless members,
 * attested opening balances, members who left, attested exchanges) go to the
 * ledger in ONE transaction (tb_store_append_own_batch), so a crash leaves
 * all or nothing, and the ledger's own rules check each entry (a refusal
 * names the line it came from). Transaction ids are derived from the source
 * rows and members are matched by name, so a second run finds everything
 * already there and changes nothing. --dry-run does all of it but the commit.
 * Email addresses stay in a local table, never in a log.
 */
#include "cli.h"

#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "tb_text.h"

/* Largest file read, and most entries one import makes. */
#define IMPORT_FILE_MAX (64u << 20)
#define IMPORT_ITEMS_MAX 200000
#define IMPORT_FILES_MAX 64
#define BAD_SHOWN_MAX 200

struct item {
	struct tb_own_item own;
	union {
		struct tb_member_join join;
		struct tb_member_left left;
		struct tb_opening opening;
		struct tb_exchange exchange;
	} body;
	struct tb_memo memo;
	uint8_t salt[TB_MEMO_SALT_LEN];
	const char *file;
	unsigned long line;
};

/* A member the import adds (not in the ledger yet). */
struct newmember {
	char name[TB_NAME_MAX + 1];
	char folded[4 * TB_NAME_MAX + 1]; /* tb_text_fold of name */
	uint32_t no;
};

struct import {
	struct tb_cli *cli;
	struct tb_community com;
	struct item *items;
	size_t n, cap;
	struct newmember *added;
	size_t nadded;
	char **texts; /* every string the bodies point into */
	size_t ntexts;
	unsigned long bad;
	unsigned long skipped; /* rows already imported */
	unsigned long joins, openings, lefts, exchanges;
};

static const char *keep(struct import *im, const char *s)
{
	char *c = strdup(s);
	char **t = realloc(im->texts, (im->ntexts + 1) * sizeof *t);
	if (!c || !t) {
		free(c);
		if (t)
			im->texts = t;
		return NULL;
	}
	im->texts = t;
	return im->texts[im->ntexts++] = c;
}

static void badline(struct import *im, const char *file, unsigned long line, const char *fmt,
		    const char *arg)
{
	if (++im->bad > BAD_SHOWN_MAX)
		return;
	fprintf(stderr, "tally: %s:%lu: ", file, line);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
}

static struct item *add_item(struct import *im, uint64_t kind, const char *file, unsigned long line)
{
	if (im->n == im->cap)
		return NULL;
	struct item *it = &im->items[im->n++];
	memset(it, 0, sizeof *it);
	it->own.kind = kind;
	it->own.body = &it->body;
	it->file = file;
	it->line = line;
	return it;
}

/* A 16-byte id from what identifies a source row, so a second import of the
 * same row has the same txid (EDUPTX, skipped). */
static void derive_txid(struct import *im, uint8_t txid[TB_TXID_LEN], const char *what,
			const char *key)
{
	uint8_t h[TB_HASHLEN];
	struct tb_sha256_ctx c;
	tb_sha256_init(&c);
	tb_sha256_update(&c, (const uint8_t *)"tally import v1", 15);
	tb_sha256_update(&c, im->cli->self, TB_KEY_LEN);
	tb_sha256_update(&c, (const uint8_t *)what, strlen(what) + 1);
	tb_sha256_update(&c, (const uint8_t *)key, strlen(key));
	tb_sha256_final(&c, h);
	memcpy(txid, h, TB_TXID_LEN);
}

static bool txid_held(struct import *im, const uint8_t txid[TB_TXID_LEN])
{
	uint64_t seq, rev;
	return tb_store_tx(im->cli->store, im->cli->self, txid, &seq, &rev) == 0;
}

/* The member called name: in the ledger (*m), or added by this import
 * (m->no set, m->active true). 0 if found, 1 if not. */
static int find(struct import *im, const char *name, struct tb_member *m)
{
	char f1[TB_TEXT_KEY_MAX];
	if (tb_text_fold(f1, sizeof f1, NULL, name, strlen(name)))
		return 1;
	for (size_t i = 0; i < im->nadded; i++) {
		if (!strcmp(f1, im->added[i].folded)) {
			memset(m, 0, sizeof *m);
			m->no = im->added[i].no;
			m->active = true;
			snprintf(m->name, sizeof m->name, "%s", im->added[i].name);
			return 0;
		}
	}
	return tb_store_member_find(im->cli->store, im->cli->self, name, m) ? 1 : 0;
}

/* Plans the join of a keyless member called name (NFC) and returns its
 * number, or 0 if the import is over its caps. */
static uint32_t plan_join(struct import *im, const char *name, const char *email, const char *file,
			  unsigned long line)
{
	struct newmember *a = realloc(im->added, (im->nadded + 1) * sizeof *a);
	struct item *it;
	if (!a)
		return 0;
	im->added = a;
	if (!(it = add_item(im, TB_KIND_MEMBER_JOIN, file, line)))
		return 0;
	struct newmember *nm = &im->added[im->nadded++];
	snprintf(nm->name, sizeof nm->name, "%s", name);
	if (tb_text_fold(nm->folded, sizeof nm->folded, NULL, name, strlen(name)))
		nm->folded[0] = '\0';
	nm->no = im->com.members + (uint32_t)im->nadded;
	const char *kept = keep(im, name);
	if (!kept)
		return 0;
	it->body.join.member = nm->no;
	it->body.join.name = (struct tb_view){(const uint8_t *)kept, strlen(kept)};
	it->body.join.floor = im->com.floor;
	it->body.join.ceiling = im->com.ceiling;
	if (email && *email) {
		it->own.email = keep(im, email);
		it->own.email_member = nm->no;
	}
	im->joins++;
	return nm->no;
}

/* "", "true", "yes", "1", "active" are active; "false", "no", "0",
 * "inactive" are not; anything else is -1. */
static int parse_active(const char *s)
{
	static const char *const yes[] = {"", "true", "yes", "1", "active", "t", NULL};
	static const char *const no[] = {"false", "no", "0", "inactive", "f", NULL};
	for (const char *const *p = yes; *p; p++)
		if (!strcasecmp(s, *p))
			return 1;
	for (const char *const *p = no; *p; p++)
		if (!strcasecmp(s, *p))
			return 0;
	return -1;
}

static int parse_int(const char *s, int64_t *v, int64_t max)
{
	bool neg = *s == '-';
	uint64_t u;
	if (*s == '-' || *s == '+')
		s++;
	if (tb_parse_u64(s, &u) || u > (uint64_t)max)
		return -1;
	*v = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

/* One member row: name, email, active, opening minutes; key says where it
 * came from (for the opening's txid). */
static void member_row(struct import *im, const char *file, unsigned long line, const char *rawname,
		       const char *email, int active, int64_t opening, const char *key)
{
	char name[TB_NAME_MAX + 1];
	struct tb_member m;
	uint32_t no;
	bool is_new;
	if (tb_text_nfc(name, sizeof name, NULL, rawname, strlen(rawname)) || !name[0]) {
		badline(im, file, line, "the name '%s' is empty, not UTF-8 or over 64 bytes",
			rawname);
		return;
	}
	if (email && strlen(email) > TB_EMAIL_MAX) {
		badline(im, file, line, "the email address is over %s bytes", "254");
		return;
	}
	is_new = find(im, name, &m) != 0;
	no = is_new ? plan_join(im, name, email, file, line) : m.no;
	if (!no) {
		badline(im, file, line, "%s", "too many entries for one import");
		return;
	}
	if (is_new || m.active) {
		uint8_t txid[TB_TXID_LEN];
		derive_txid(im, txid, "opening", key);
		if (opening && !txid_held(im, txid)) {
			struct item *it = add_item(im, TB_KIND_OPENING, file, line);
			if (!it) {
				badline(im, file, line, "%s", "too many entries for one import");
				return;
			}
			memcpy(it->body.opening.txid, txid, TB_TXID_LEN);
			it->body.opening.member = no;
			it->body.opening.minutes = opening;
			it->body.opening.date = tb_today();
			im->openings++;
		}
	}
	if (active == 0 && (is_new || m.active)) {
		struct item *it = add_item(im, TB_KIND_MEMBER_LEFT, file, line);
		if (!it) {
			badline(im, file, line, "%s", "too many entries for one import");
			return;
		}
		it->body.left.member = no;
		im->lefts++;
	}
}

/* ---- TimeOverflow's users export ---- */

static const char *const to_uid[] = {"N", NULL};
static const char *const to_name[] = {"Name", "Username", NULL};
static const char *const to_email[] = {"Email", NULL};
static const char *const to_balance[] = {"Balance", NULL};
static const char *const to_active[] = {"Active", NULL};

static const char *field(const struct tb_csv_rec *r, int col)
{
	return col >= 0 && (size_t)col < r->n ? r->field[col] : "";
}

/* Reads TimeOverflow's users CSV (N, Name, Email, Phone, Alternative Phone,
 * Created, Last login, Locale, Balance in seconds; an Active column when the
 * export has one). */
static void timeoverflow_users(struct import *im, const char *file, const char *p, size_t len)
{
	struct tb_csv c;
	struct tb_csv_rec *r = malloc(sizeof *r), *h = malloc(sizeof *h);
	if (!r || !h) {
		badline(im, file, 0, "%s", "out of memory");
		goto out;
	}
	tb_csv_init(&c, p, len);
	if (!tb_csv_next(&c, h) || h->error) {
		badline(im, file, 1, "%s", "no header line");
		goto out;
	}
	int cu = tb_csv_column(h, to_uid), cn = tb_csv_column(h, to_name),
	    ce = tb_csv_column(h, to_email), cb = tb_csv_column(h, to_balance),
	    ca = tb_csv_column(h, to_active);
	if (cu < 0 || cn < 0 || cb < 0) {
		badline(im, file, 1, "%s",
			"not a TimeOverflow users export: the header needs "
			"the columns N, Name and Balance");
		goto out;
	}
	while (tb_csv_next(&c, r)) {
		int64_t secs = 0;
		char key[64];
		int active;
		if (r->error) {
			badline(im, file, r->line, "%s", r->error);
			continue;
		}
		if (tb_csv_blank(r))
			continue;
		const char *uid = field(r, cu), *bal = field(r, cb);
		if (!*uid || strspn(uid, "0123456789") != strlen(uid) || strlen(uid) > 18) {
			badline(im, file, r->line, "the member number N '%s' is not a number", uid);
			continue;
		}
		if (*bal && parse_int(bal, &secs, (int64_t)TB_OPENING_MAX * 60)) {
			badline(im, file, r->line,
				"the balance '%s' is not a number of seconds "
				"(or is over 100,000 hours)",
				bal);
			continue;
		}
		if (secs % 60) {
			badline(im, file, r->line, "the balance '%s' seconds is not whole minutes",
				bal);
			continue;
		}
		if ((active = parse_active(field(r, ca))) < 0) {
			badline(im, file, r->line, "Active '%s' is not true or false",
				field(r, ca));
			continue;
		}
		snprintf(key, sizeof key, "timeoverflow:%s", uid);
		size_t before = im->n;
		member_row(im, file, r->line, field(r, cn), field(r, ce), active, secs / 60, key);
		im->skipped += im->n == before;
	}
out:
	free(r);
	free(h);
}

/* ---- the simple CSV format (README, "Importing") ---- */

static const char *const c_name[] = {"name", NULL};
static const char *const c_email[] = {"email", NULL};
static const char *const c_active[] = {"active", NULL};
static const char *const c_opening[] = {"opening_minutes", "balance_minutes", NULL};
static const char *const c_date[] = {"date", NULL};
static const char *const c_prov[] = {"provider", NULL};
static const char *const c_recv[] = {"receiver", NULL};
static const char *const c_min[] = {"minutes", NULL};
static const char *const c_memo[] = {"memo", NULL};
static const char *const c_cat[] = {"category", NULL};

static void csv_members(struct import *im, const char *file, struct tb_csv *c,
			const struct tb_csv_rec *h, struct tb_csv_rec *r)
{
	int cn = tb_csv_column(h, c_name), ce = tb_csv_column(h, c_email),
	    ca = tb_csv_column(h, c_active), co = tb_csv_column(h, c_opening);
	while (tb_csv_next(c, r)) {
		int64_t opening = 0;
		int active;
		char key[TB_NAME_MAX + 16];
		if (r->error) {
			badline(im, file, r->line, "%s", r->error);
			continue;
		}
		if (tb_csv_blank(r))
			continue;
		if (*field(r, co) && parse_int(field(r, co), &opening, TB_OPENING_MAX)) {
			badline(im, file, r->line,
				"opening_minutes '%s' is not a whole number of "
				"minutes up to 6000000",
				field(r, co));
			continue;
		}
		if ((active = parse_active(field(r, ca))) < 0) {
			badline(im, file, r->line, "active '%s' is not true or false",
				field(r, ca));
			continue;
		}
		/* The opening's id: the member's folded name (one opening each). */
		if (tb_text_fold(key, sizeof key, NULL, field(r, cn), strlen(field(r, cn)))) {
			badline(im, file, r->line,
				"the name '%s' is empty, not UTF-8 or over 64 bytes", field(r, cn));
			continue;
		}
		size_t before = im->n;
		member_row(im, file, r->line, field(r, cn), field(r, ce), active, opening, key);
		im->skipped += im->n == before;
	}
}

/* The date, provider, receiver and minutes of an exchange row. */
static int exchange_terms(struct import *im, const char *file, const struct tb_csv_rec *r,
			  const int col[4], struct tb_exchange *x)
{
	struct tb_member p, q;
	int64_t min;
	if (tb_parse_date(field(r, col[0]), &x->date)) {
		badline(im, file, r->line, "the date '%s' is not YYYY-MM-DD", field(r, col[0]));
		return -1;
	}
	if (find(im, field(r, col[1]), &p)) {
		badline(im, file, r->line, "no member named '%s' (the provider)", field(r, col[1]));
		return -1;
	}
	if (find(im, field(r, col[2]), &q)) {
		badline(im, file, r->line, "no member named '%s' (the receiver)", field(r, col[2]));
		return -1;
	}
	if (parse_int(field(r, col[3]), &min, TB_MINUTES_MAX) || min < 1) {
		badline(im, file, r->line, "minutes '%s' is not a whole number from 1 to 60000",
			field(r, col[3]));
		return -1;
	}
	x->provider = p.no;
	x->receiver = q.no;
	x->minutes = (uint64_t)min;
	x->attested = 1;
	return 0;
}

static void csv_exchanges(struct import *im, const char *file, struct tb_csv *c,
			  const struct tb_csv_rec *h, struct tb_csv_rec *r)
{
	const int col[4] = {tb_csv_column(h, c_date), tb_csv_column(h, c_prov),
			    tb_csv_column(h, c_recv), tb_csv_column(h, c_min)};
	int cm = tb_csv_column(h, c_memo), cc = tb_csv_column(h, c_cat);
	char key[TB_CSV_REC_MAX + 64];
	while (tb_csv_next(c, r)) {
		struct tb_exchange x = {0};
		if (r->error) {
			badline(im, file, r->line, "%s", r->error);
			continue;
		}
		if (tb_csv_blank(r) || exchange_terms(im, file, r, col, &x))
			continue;
		const char *memo = field(r, cm), *cat = field(r, cc);
		if (strlen(memo) > TB_MEMO_MAX || strlen(cat) > TB_CATEGORY_MAX ||
		    tb_text_check(memo, strlen(memo)) || tb_text_check(cat, strlen(cat))) {
			badline(im, file, r->line, "%s",
				"the memo (1024 bytes at most) or category "
				"(32) is too long or has control characters");
			continue;
		}
		/* With the community's list, its spelling of the category. */
		char rcat[TB_CATEGORY_MAX + 1];
		int cerr = tb_store_category_resolve(im->cli->store, cat, strlen(cat), rcat,
						     sizeof rcat);
		if (cerr) {
			badline(im, file, r->line,
				cerr == TB_ENOTFOUND
					? "the category '%s' is not one of this community's categories"
					: "the category '%s' is not valid UTF-8 of at most 32 bytes",
				cat);
			continue;
		}
		/* The row's terms and its place among identical rows make its id
		 * (two identical rows are two exchanges; the same file again is
		 * the same exchanges). */
		unsigned dup = 0;
		for (size_t i = 0; i < im->n; i++) {
			const struct item *o = &im->items[i];
			const struct tb_exchange *y = &o->body.exchange;
			if (o->own.kind == TB_KIND_EXCHANGE && y->date == x.date &&
			    y->provider == x.provider && y->receiver == x.receiver &&
			    y->minutes == x.minutes && y->category.len == strlen(rcat) &&
			    !memcmp(y->category.p, rcat, y->category.len) &&
			    o->memo.len == strlen(memo) && !memcmp(o->memo.text, memo, o->memo.len))
				dup++;
		}
		snprintf(key, sizeof key, "%llu|%u|%u|%llu|%s|%s|%u", (unsigned long long)x.date,
			 (unsigned)x.provider, (unsigned)x.receiver, (unsigned long long)x.minutes,
			 cat, memo, dup);
		derive_txid(im, x.txid, "exchange", key);
		if (txid_held(im, x.txid)) {
			im->skipped++;
			continue;
		}
		struct item *it = add_item(im, TB_KIND_EXCHANGE, file, r->line);
		const char *kc = keep(im, rcat), *km = keep(im, memo);
		if (!it || !kc || !km) {
			badline(im, file, r->line, "%s", "too many entries for one import");
			continue;
		}
		x.category = (struct tb_view){(const uint8_t *)kc, strlen(kc)};
		tb_random(it->salt, TB_MEMO_SALT_LEN);
		tb_memo_hash(x.memo_hash, it->salt, km, strlen(km));
		it->memo = (struct tb_memo){it->body.exchange.txid, it->salt, km, strlen(km)};
		it->body.exchange = x;
		it->own.memo = &it->memo;
		im->exchanges++;
	}
}

/* One file of the simple format: a members file or an exchanges file, told
 * apart by its header. */
static void csv_file(struct import *im, const char *file, const char *p, size_t len)
{
	struct tb_csv c;
	struct tb_csv_rec *r = malloc(sizeof *r), *h = malloc(sizeof *h);
	if (!r || !h) {
		badline(im, file, 0, "%s", "out of memory");
	} else {
		tb_csv_init(&c, p, len);
		if (!tb_csv_next(&c, h) || h->error)
			badline(im, file, 1, "%s", "no header line");
		else if (tb_csv_column(h, c_date) >= 0 && tb_csv_column(h, c_prov) >= 0 &&
			 tb_csv_column(h, c_recv) >= 0 && tb_csv_column(h, c_min) >= 0)
			csv_exchanges(im, file, &c, h, r);
		else if (tb_csv_column(h, c_name) >= 0)
			csv_members(im, file, &c, h, r);
		else
			badline(im, file, 1, "%s",
				"the header is neither a members file (name, ...) "
				"nor an exchanges file (date, provider, receiver, "
				"minutes, ...)");
	}
	free(r);
	free(h);
}

/* ---- running an import ---- */

typedef void (*import_fn)(struct import *im, const char *file, const char *p, size_t len);

static int read_one(struct import *im, const char *path, import_fn fn)
{
	size_t len;
	int e = 0;
	uint8_t *p = tb_cli_read_file(path, &len, &e);
	if (!p)
		return tb_cli_fail(TB_EXIT_USAGE, "cannot read %s: %s", path, strerror(e));
	if (len > IMPORT_FILE_MAX) {
		free(p);
		return tb_cli_fail(TB_EXIT_USAGE, "%s is over %u MiB", path, IMPORT_FILE_MAX >> 20);
	}
	const char *name = keep(im, path);
	if (!name) {
		free(p);
		return tb_cli_fail(TB_EXIT_IO, "out of memory");
	}
	fn(im, name, (const char *)p, len);
	free(p);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory: its *.csv files in name order; of TimeOverflow's exports the
 * users file is the one with the N, Name and Balance columns, the others
 * (transfers, offers) are passed over. */
static int read_path(struct import *im, const char *path, import_fn fn)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char *names[IMPORT_FILES_MAX];
	size_t n = 0;
	int rc = 0;
	if (!d)
		return read_one(im, path, fn);
	while ((de = readdir(d)) && n < IMPORT_FILES_MAX) {
		size_t l = strlen(de->d_name);
		if (l > 4 && !strcasecmp(de->d_name + l - 4, ".csv")) {
			char full[4400];
			snprintf(full, sizeof full, "%s/%s", path, de->d_name);
			if (!(names[n] = strdup(full)))
				break;
			n++;
		}
	}
	closedir(d);
	qsort(names, n, sizeof names[0], by_name);
	for (size_t i = 0; i < n; i++) {
		if (!rc && fn == timeoverflow_users) {
			/* Only the users export: peek at its header. */
			size_t len;
			int e;
			uint8_t *p = tb_cli_read_file(names[i], &len, &e);
			struct tb_csv c;
			struct tb_csv_rec *h = malloc(sizeof *h);
			bool users = false;
			if (p && h) {
				tb_csv_init(&c, (const char *)p, len);
				users = tb_csv_next(&c, h) && !h->error &&
					tb_csv_column(h, to_uid) >= 0 &&
					tb_csv_column(h, to_balance) >= 0;
			}
			free(p);
			free(h);
			if (users)
				rc = read_one(im, names[i], fn);
			else if (!im->cli->json)
				fprintf(stderr, "tally: %s: not a users export, passed over\n",
					names[i]);
		} else if (!rc) {
			rc = read_one(im, names[i], fn);
		}
		free(names[i]);
	}
	if (!rc && n == 0)
		rc = tb_cli_fail(TB_EXIT_USAGE, "%s has no .csv file", path);
	return rc;
}

static void import_free(struct import *im)
{
	for (size_t i = 0; i < im->ntexts; i++)
		free(im->texts[i]);
	free(im->texts);
	free(im->items);
	free(im->added);
}

static int run(struct import *im, bool dry_run)
{
	struct tb_reject rej;
	size_t done = 0;
	int err = 0, rc;
	if (im->bad) {
		if (im->bad > BAD_SHOWN_MAX)
			fprintf(stderr, "tally: ... and %lu more\n", im->bad - BAD_SHOWN_MAX);
		return tb_cli_fail(TB_EXIT_USAGE, "%lu bad line%s: nothing was imported", im->bad,
				   im->bad == 1 ? "" : "s");
	}
	if (im->n && (rc = tb_cli_node_key(im->cli)))
		return rc;
	for (size_t i = 0; i < im->n; i++)
		if (im->items[i].own.kind == TB_KIND_EXCHANGE)
			im->items[i].memo.txid = im->items[i].body.exchange.txid;
	struct tb_own_item *own = malloc((im->n ? im->n : 1) * sizeof *own);
	if (!own)
		return tb_cli_fail(TB_EXIT_IO, "out of memory");
	for (size_t i = 0; i < im->n; i++) {
		own[i] = im->items[i].own;
		own[i].body = &im->items[i].body;
	}
	if (im->n)
		err = tb_store_append_own_batch(im->cli->store, &im->cli->node, own, im->n, dry_run,
						&done, &rej);
	free(own);
	if (err && done < im->n) {
		fprintf(stderr, "tally: %s:%lu: ", im->items[done].file, im->items[done].line);
		rc = tb_cli_refused(im->cli, err, &rej);
		return tb_cli_fail(rc, "nothing was imported");
	}
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "storage: %s; nothing was imported",
				   tb_strerror(err));
	if (im->cli->json)
		printf("{\"dry_run\":%s,\"entries\":%zu,\"members_added\":%lu,\"openings\":%lu,"
		       "\"members_left\":%lu,\"exchanges\":%lu,\"rows_already_imported\":%lu}\n",
		       dry_run ? "true" : "false", im->n, im->joins, im->openings, im->lefts,
		       im->exchanges, im->skipped);
	else
		printf("%s %zu entries: %lu members added, %lu opening balances, %lu members "
		       "who left, %lu exchanges; %lu rows were imported before\n",
		       dry_run ? "would append" : "appended", im->n, im->joins, im->openings,
		       im->lefts, im->exchanges, im->skipped);
	return TB_EXIT_OK;
}

static int import_cmd(struct tb_cli *cli, int argc, char **argv, const char *what, import_fn fn)
{
	static const struct option opts[] = {{"dry-run", no_argument, 0, 'n'}, {0, 0, 0, 0}};
	struct import im = {0};
	bool dry_run = false;
	int c, rc;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "import", what)) != -1) {
		if (c != 'n')
			return TB_EXIT_USAGE;
		dry_run = true;
	}
	if (optind == argc)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally import %s %s [--dry-run]", what,
				   fn == timeoverflow_users ? "DIR|FILE" : "FILE...");
	if ((rc = tb_cli_open(cli, true)))
		return rc;
	int err = tb_store_community(cli->store, cli->self, &im.com);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the community: %s", tb_strerror(err));
	im.cli = cli;
	im.cap = IMPORT_ITEMS_MAX;
	if (!(im.items = malloc(im.cap * sizeof *im.items)))
		return tb_cli_fail(TB_EXIT_IO, "out of memory");
	for (int i = optind; !rc && i < argc; i++)
		rc = read_path(&im, argv[i], fn);
	if (!rc)
		rc = run(&im, dry_run);
	import_free(&im);
	return rc;
}

int tb_cmd_import_timeoverflow(struct tb_cli *cli, int argc, char **argv)
{
	return import_cmd(cli, argc, argv, "timeoverflow", timeoverflow_users);
}

int tb_cmd_import_csv(struct tb_cli *cli, int argc, char **argv)
{
	return import_cmd(cli, argc, argv, "csv", csv_file);
}
