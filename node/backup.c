/*
 * backup.c: one backup file holds a node's data directory: a consistent,
 * compacted copy of the ledger (LMDB's own copy, taken in a read transaction
 * while tallyd goes on writing), the key files, the federation key, the peer
 * list and the configuration. The format (FORMAT.md, "Backup files") is a
 * header line, then per file a line naming its path, size and SHA-256 and
 * its bytes, then an end line with the count and the SHA-256 of all that
 * precedes it. A backup is written to FILE.tmp, read back and checked whole,
 * then renamed: a FILE is never half written. The reader trusts nothing:
 * every line is bounded, every path is one of the few a data directory
 * holds, every size capped, every hash checked before a restore uses a byte.
 */
#include "tb_file.h"
#include "tb_node.h"
#include "tb_testhooks.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "tally-backup 1\n"
#define LINE_MAX_LEN 300
#define SMALL_MAX (64u << 10)	 /* a key, peers or configuration file */
#define LEDGER_MAX (64ull << 30) /* the ledger's map size */
#define MEMBER_KEYS_MAX 100000
/* A whole backup: every file at its cap, with its line. */
#define BACKUP_MAX                                                                       \
	(LEDGER_MAX + (MEMBER_KEYS_MAX + 8) * (uint64_t)(SMALL_MAX + LINE_MAX_LEN + 1) + \
	 2 * LINE_MAX_LEN)

/* The paths a backup may hold; false for anything else. */
static bool path_ok(const char *p, uint64_t *cap)
{
	static const char *const fixed[] = {"federation.key", "peers", "tallyd.conf",
					    "keys/node.key"};
	*cap = SMALL_MAX;
	if (!strcmp(p, "ledger/data.mdb")) {
		*cap = LEDGER_MAX;
		return true;
	}
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (!strcmp(p, fixed[i]))
			return true;
	/* keys/members/<64 hex>.key */
	const char *pre = "keys/members/";
	size_t n = strlen(pre);
	if (strncmp(p, pre, n) || strlen(p) != n + 64 + 4 || strcmp(p + n + 64, ".key"))
		return false;
	for (size_t i = n; i < n + 64; i++)
		if (!strchr("0123456789abcdef", p[i]))
			return false;
	return true;
}

struct writer {
	int fd;
	struct tb_sha256_ctx all;
	size_t nfiles;
	int err;
};

static void put(struct writer *w, const void *p, size_t n)
{
	if (w->err)
		return;
	w->err = tb_fd_write_all(w->fd, p, n);
	tb_sha256_update(&w->all, p, n);
}

/* Reads the size bytes of fd from where it stands, hashing them into c and
 * appending them to w if w is not NULL. */
static int pass_over(int fd, uint64_t size, struct tb_sha256_ctx *c, struct writer *w)
{
	uint8_t buf[65536];
	for (uint64_t left = size; left;) {
		size_t n = left < sizeof buf ? (size_t)left : sizeof buf;
		int err = tb_fd_read_all(fd, buf, n);
		if (err)
			return err == TB_ETRUNCATED ? TB_EIO : err; /* it shrank meanwhile */
		if (c)
			tb_sha256_update(c, buf, n);
		if (w && (put(w, buf, n), w->err))
			return w->err;
		left -= n;
	}
	return 0;
}

/* Adds the file at src as path (missing optional files are skipped). */
static int add_file(struct writer *w, const char *src, const char *path, bool optional)
{
	uint64_t cap, size;
	TB_ASSERT(path_ok(path, &cap));
	int fd;
	int err = tb_file_open_read(src, cap, &fd, &size);
	if (err)
		return optional && err == TB_ENOTFOUND ? 0 : err;
	struct tb_sha256_ctx c;
	tb_sha256_init(&c);
	err = pass_over(fd, size, &c, NULL);
	if (!err && lseek(fd, 0, SEEK_SET))
		err = tb_errno_code(errno);
	if (!err) {
		uint8_t h[32];
		char hex[65], line[LINE_MAX_LEN];
		tb_sha256_final(&c, h);
		tb_hex_encode(hex, h, 32);
		int n = snprintf(line, sizeof line, "file %s %llu %s\n", path,
				 (unsigned long long)size, hex);
		put(w, line, (size_t)n);
		err = pass_over(fd, size, NULL, w);
		put(w, "\n", 1);
		w->nfiles++;
	}
	close(fd);
	return err ? err : w->err;
}

static int add_members(struct writer *w, const char *data)
{
	char dir[4200], src[4500], path[400];
	snprintf(dir, sizeof dir, "%s/keys/members", data);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : tb_errno_code(errno);
	int err = 0;
	size_t n = 0;
	struct dirent *de;
	while (!err && (de = readdir(d))) {
		uint64_t cap;
		snprintf(path, sizeof path, "keys/members/%.300s", de->d_name);
		if (de->d_name[0] == '.' || !path_ok(path, &cap))
			continue;
		if (++n > MEMBER_KEYS_MAX)
			err = TB_EFULL;
		snprintf(src, sizeof src, "%s/%s", dir, de->d_name);
		if (!err)
			err = add_file(w, src, path, true);
	}
	closedir(d);
	return err;
}

struct job {
	const char *data;   /* the data directory */
	const char *ledger; /* the copy of its ledger */
	struct tb_backup_info *info;
};

/* Writes the backup into fd (tb_file_write_checked's temporary). */
static int fill(void *ctx, int fd)
{
	const struct job *j = ctx;
	static const char *const small[] = {"keys/node.key", "federation.key", "peers",
					    "tallyd.conf"};
	struct writer w = {.fd = fd};
	char src[4300];
	int err = 0;
	tb_sha256_init(&w.all);
	put(&w, MAGIC, sizeof MAGIC - 1);
	for (size_t i = 0; !err && i < sizeof small / sizeof small[0]; i++) {
		snprintf(src, sizeof src, "%s/%s", j->data, small[i]);
		err = add_file(&w, src, small[i], i > 0);
	}
	if (!err)
		err = add_members(&w, j->data);
	tb_node_crash_point("backup-copy");
	if (!err)
		err = add_file(&w, j->ledger, "ledger/data.mdb", false);
	uint8_t h[32];
	char hex[65], line[LINE_MAX_LEN];
	tb_sha256_final(&w.all, h);
	tb_hex_encode(hex, h, 32);
	int n = snprintf(line, sizeof line, "end %zu %s\n", w.nfiles, hex);
	if (!err)
		put(&w, line, (size_t)n);
	return err ? err : w.err;
}

/* Read back and checked whole before it takes the name. */
static int check(void *ctx, const char *tmp)
{
	const struct job *j = ctx;
	int err = tb_backup_check(tmp, j->info);
	tb_node_crash_point("backup-written");
	return err;
}

int tb_backup_write(const char *data, struct tb_store *s, const char *out,
		    struct tb_backup_info *info)
{
	char ledger[4300];
	if (snprintf(ledger, sizeof ledger, "%s.ledger-tmp", out) >= (int)sizeof ledger)
		return TB_EINVAL;
	/* A scratch copy: LMDB's copy is not made in one pass with its size
	 * and hash known before its bytes, as the format wants. */
	int fd;
	int err = tb_file_scratch(ledger, &fd);
	if (err)
		return err;
	err = tb_store_copy(s, fd);
	close(fd);
	struct tb_backup_info local;
	struct job j = {data, ledger, info ? info : &local};
	if (!err)
		err = tb_file_write_checked(out, 0600, 0, fill, check, &j);
	unlink(ledger);
	return err;
}

/* ---- reading ---- */

static int read_line(FILE *f, char *buf, size_t cap, struct tb_sha256_ctx *all)
{
	size_t n = 0;
	int ch;
	while ((ch = fgetc(f)) != EOF) {
		if (n + 1 >= cap)
			return TB_ETOOLONG;
		buf[n++] = (char)ch;
		if (ch == '\n')
			break;
	}
	if (ferror(f))
		return TB_EIO;
	if (!n || buf[n - 1] != '\n')
		return TB_ETRUNCATED;
	if (all)
		tb_sha256_update(all, (const uint8_t *)buf, n);
	buf[n - 1] = '\0';
	return 0;
}

/* One file's bytes in a backup, checked against its hash on the way. */
struct part {
	FILE *in;
	uint64_t size;
	struct tb_sha256_ctx *all;
	const char *hex;
};

/* Streams the part to out (if not -1): TB_ECORRUPT if its hash differs, so
 * that a damaged file never takes its name. */
static int stream(void *ctx, int out)
{
	struct part *p = ctx;
	struct tb_sha256_ctx c;
	tb_sha256_init(&c);
	uint8_t buf[65536], want[32], got[32];
	for (uint64_t size = p->size; size;) {
		size_t n = size < sizeof buf ? (size_t)size : sizeof buf;
		if (fread(buf, 1, n, p->in) != n)
			return ferror(p->in) ? TB_EIO : TB_ETRUNCATED;
		tb_sha256_update(&c, buf, n);
		tb_sha256_update(p->all, buf, n);
		int err = out >= 0 ? tb_fd_write_all(out, buf, n) : 0;
		if (err)
			return err;
		size -= n;
	}
	tb_sha256_final(&c, got);
	if (tb_hex_decode(want, 32, p->hex) || memcmp(want, got, 32))
		return TB_ECORRUPT;
	return 0;
}

/* The file of a "file" line: checked, and written under dest if not NULL
 * (its directory made as needed, the file new: TB_EEXISTS if it is there). */
static int one_file(struct part *p, const char *path, const char *dest)
{
	if (!dest)
		return stream(p, -1);
	char dst[4600];
	snprintf(dst, sizeof dst, "%s/%s", dest, path);
	char *slash = strrchr(dst, '/');
	*slash = '\0';
	int err = tb_mkdir_p(dst, 0700);
	*slash = '/';
	return err ? err : tb_file_write_with(dst, 0600, TB_FILE_EXCL, stream, p);
}

/* The end line: the count and the hash of all before it. */
static int end_line(FILE *f, const char *line, struct tb_sha256_ctx *before,
		    struct tb_backup_info *info, bool *done)
{
	size_t count;
	int used = 0;
	char hex[80];
	*done = false;
	if (sscanf(line, "end %zu %64s%n", &count, hex, &used) != 2 || line[used])
		return 0;
	*done = true;
	uint8_t want[32], got[32];
	tb_sha256_final(before, got);
	if (tb_hex_decode(want, 32, hex) || memcmp(want, got, 32) || count != info->files)
		return TB_ECORRUPT;
	if (fgetc(f) != EOF)
		return TB_ETRAILING;
	info->complete = true;
	return 0;
}

static int walk_file(FILE *f, const char *dest, struct tb_backup_info *info)
{
	struct tb_sha256_ctx all;
	tb_sha256_init(&all);
	char line[LINE_MAX_LEN], path[LINE_MAX_LEN], hex[80];
	int err = read_line(f, line, sizeof line, &all);
	if (!err && strcmp(line, "tally-backup 1"))
		err = TB_EVERSION;
	while (!err) {
		struct tb_sha256_ctx before = all;
		if ((err = read_line(f, line, sizeof line, &all)))
			break;
		bool done;
		if ((err = end_line(f, line, &before, info, &done)) || done)
			break;
		unsigned long long size;
		int used = 0;
		uint64_t cap;
		if (sscanf(line, "file %255s %llu %64s%n", path, &size, hex, &used) != 3 ||
		    line[used] || strlen(hex) != 64 || !path_ok(path, &cap))
			err = TB_ECORRUPT;
		else if (size > cap)
			err = TB_ETOOBIG;
		struct part p = {f, size, &all, hex};
		if (!err)
			err = one_file(&p, path, dest);
		if (!err && (fgetc(f) != '\n'))
			err = TB_ECORRUPT;
		tb_sha256_update(&all, (const uint8_t *)"\n", 1);
		if (err)
			break;
		info->files++;
		info->bytes += size;
		if (!strcmp(path, "ledger/data.mdb"))
			info->has_ledger = true;
		if (!strcmp(path, "keys/node.key"))
			info->has_key = true;
	}
	if (!err && (!info->has_ledger || !info->has_key))
		err = TB_ECORRUPT;
	return err;
}

static int walk(const char *file, const char *dest, struct tb_backup_info *info)
{
	memset(info, 0, sizeof *info);
	int fd;
	uint64_t size;
	int err = tb_file_open_read(file, BACKUP_MAX, &fd, &size);
	if (err)
		return err;
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return TB_ENOMEM;
	}
	err = walk_file(f, dest, info);
	fclose(f);
	return err;
}

int tb_backup_check(const char *file, struct tb_backup_info *info)
{
	return walk(file, NULL, info);
}

int tb_backup_extract(const char *file, const char *dir, struct tb_backup_info *info)
{
	return walk(file, dir, info);
}

void tb_node_crash_point(const char *where)
{
	const char *at = tb_test_env("TALLY_CRASH_AT");
	if (at && !strcmp(at, where))
		raise(SIGKILL);
}
