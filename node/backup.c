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
#include "tb_node.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
	FILE *f;
	struct tb_sha256_ctx all;
	size_t nfiles;
	int err;
};

static void put(struct writer *w, const void *p, size_t n)
{
	if (w->err)
		return;
	if (fwrite(p, 1, n, w->f) != n)
		w->err = tb_errno_code(errno);
	tb_sha256_update(&w->all, p, n);
}

/* Adds the file at src as path (missing optional files are skipped). */
static int add_file(struct writer *w, const char *src, const char *path, bool optional)
{
	FILE *in = fopen(src, "rb");
	if (!in)
		return optional && errno == ENOENT ? 0 : tb_errno_code(errno);
	struct tb_sha256_ctx c;
	tb_sha256_init(&c);
	uint8_t buf[65536];
	uint64_t size = 0;
	size_t got;
	while ((got = fread(buf, 1, sizeof buf, in)) > 0) {
		tb_sha256_update(&c, buf, got);
		size += got;
	}
	int err = ferror(in) ? TB_EIO : 0;
	uint8_t h[32];
	char hex[65], line[LINE_MAX_LEN];
	tb_sha256_final(&c, h);
	tb_hex_encode(hex, h, 32);
	uint64_t cap;
	TB_ASSERT(path_ok(path, &cap));
	if (!err && size > cap)
		err = TB_ETOOBIG;
	if (!err) {
		int n = snprintf(line, sizeof line, "file %s %llu %s\n", path,
				 (unsigned long long)size, hex);
		put(w, line, (size_t)n);
		rewind(in);
		uint64_t left = size;
		while (!w->err && left && (got = fread(buf, 1, sizeof buf, in)) > 0) {
			if (got > left)
				got = (size_t)left;
			put(w, buf, got);
			left -= got;
		}
		if (!w->err && left)
			err = TB_EIO; /* the file shrank while we read it */
		put(w, "\n", 1);
		w->nfiles++;
	}
	fclose(in);
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

int tb_backup_write(const char *data, struct tb_store *s, const char *out,
		    struct tb_backup_info *info)
{
	char tmp[4300], ledger[4300], src[4300];
	snprintf(tmp, sizeof tmp, "%s.tmp", out);
	snprintf(ledger, sizeof ledger, "%s.ledger-tmp", out);
	int fd = open(ledger, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return tb_errno_code(errno);
	int err = tb_store_copy(s, fd);
	if (!err && fsync(fd))
		err = tb_errno_code(errno);
	close(fd);
	struct writer w = {0};
	if (!err && !(w.f = fopen(tmp, "wb")))
		err = tb_errno_code(errno);
	if (!err) {
		tb_sha256_init(&w.all);
		put(&w, MAGIC, sizeof MAGIC - 1);
		static const char *const small[] = {"keys/node.key", "federation.key", "peers",
						    "tallyd.conf"};
		for (size_t i = 0; !err && i < 4; i++) {
			snprintf(src, sizeof src, "%s/%s", data, small[i]);
			err = add_file(&w, src, small[i], i > 0);
		}
		if (!err)
			err = add_members(&w, data);
		tb_node_crash_point("backup-copy");
		if (!err)
			err = add_file(&w, ledger, "ledger/data.mdb", false);
		uint8_t h[32];
		char hex[65], line[LINE_MAX_LEN];
		tb_sha256_final(&w.all, h);
		tb_hex_encode(hex, h, 32);
		int n = snprintf(line, sizeof line, "end %zu %s\n", w.nfiles, hex);
		if (!err && (fwrite(line, 1, (size_t)n, w.f) != (size_t)n || fflush(w.f) ||
			     fsync(fileno(w.f))))
			err = tb_errno_code(errno);
		if (fclose(w.f) && !err)
			err = tb_errno_code(errno);
	}
	unlink(ledger);
	/* Read back and checked before it takes the name. */
	if (!err)
		err = tb_backup_check(tmp, info);
	tb_node_crash_point("backup-written");
	if (!err && rename(tmp, out))
		err = tb_errno_code(errno);
	if (err)
		unlink(tmp);
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

/* Reads the whole file: checks every hash; calls cb per file (may be NULL)
 * with the file's bytes streamed to cb's writer. */
typedef int (*file_fn)(void *ctx, const char *path, FILE *in, uint64_t size,
		       struct tb_sha256_ctx *all, uint8_t hash[32]);

static int stream(FILE *in, uint64_t size, struct tb_sha256_ctx *all, uint8_t hash[32], FILE *out)
{
	struct tb_sha256_ctx c;
	tb_sha256_init(&c);
	uint8_t buf[65536];
	while (size) {
		size_t want = size < sizeof buf ? (size_t)size : sizeof buf;
		size_t got = fread(buf, 1, want, in);
		if (got != want)
			return ferror(in) ? TB_EIO : TB_ETRUNCATED;
		tb_sha256_update(&c, buf, got);
		tb_sha256_update(all, buf, got);
		if (out && fwrite(buf, 1, got, out) != got)
			return tb_errno_code(errno);
		size -= got;
	}
	tb_sha256_final(&c, hash);
	return 0;
}

static int walk(const char *file, const char *dest, struct tb_backup_info *info)
{
	memset(info, 0, sizeof *info);
	FILE *f = fopen(file, "rb");
	if (!f)
		return tb_errno_code(errno);
	struct tb_sha256_ctx all;
	tb_sha256_init(&all);
	char line[LINE_MAX_LEN], path[LINE_MAX_LEN], hex[80], dst[4600];
	int err = read_line(f, line, sizeof line, &all);
	if (!err && strcmp(line, "tally-backup 1"))
		err = TB_EVERSION;
	for (;;) {
		if (err)
			break;
		struct tb_sha256_ctx before = all;
		if ((err = read_line(f, line, sizeof line, &all)))
			break;
		unsigned long long size;
		size_t count;
		int used = 0;
		if (sscanf(line, "end %zu %64s%n", &count, hex, &used) == 2 && !line[used]) {
			uint8_t want[32], got[32];
			tb_sha256_final(&before, got);
			if (tb_hex_decode(want, 32, hex) || memcmp(want, got, 32) ||
			    count != info->files)
				err = TB_ECORRUPT;
			else if (fgetc(f) != EOF)
				err = TB_ETRAILING;
			else
				info->complete = true;
			break;
		}
		uint64_t cap;
		if (sscanf(line, "file %255s %llu %64s%n", path, &size, hex, &used) != 3 ||
		    line[used] || strlen(hex) != 64 || !path_ok(path, &cap)) {
			err = TB_ECORRUPT;
			break;
		}
		if (size > cap) {
			err = TB_ETOOBIG;
			break;
		}
		FILE *out = NULL;
		if (dest) {
			snprintf(dst, sizeof dst, "%s/%s", dest, path);
			char *slash = strrchr(dst, '/');
			*slash = '\0';
			err = tb_mkdirs(dst);
			*slash = '/';
			if (!err && !(out = fopen(dst, "wbx")))
				err = tb_errno_code(errno);
			if (!err)
				(void)!fchmod(fileno(out), 0600);
		}
		uint8_t want[32], got[32];
		if (!err)
			err = stream(f, size, &all, got, out);
		if (out) {
			if (!err && (fflush(out) || fsync(fileno(out))))
				err = tb_errno_code(errno);
			if (fclose(out) && !err)
				err = tb_errno_code(errno);
		}
		if (!err && (tb_hex_decode(want, 32, hex) || memcmp(want, got, 32)))
			err = TB_ECORRUPT;
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
	fclose(f);
	if (!err && (!info->has_ledger || !info->has_key))
		err = TB_ECORRUPT;
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

int tb_mkdirs(const char *path)
{
	char buf[4600];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return tb_errno_code(errno);
		if (!c)
			return 0;
		*p = c;
	}
}

void tb_node_crash_point(const char *where)
{
	const char *at = getenv("TALLY_CRASH_AT");
	if (at && !strcmp(at, where))
		raise(SIGKILL);
}
