/*
 * file.c: the one atomic file writer, bounded file reader and passphrase
 * reader of the command line and the daemon (tb_file.h). The writer never
 * leaves a half-written file under the final name; the reader never reads
 * more than its cap nor trusts a pipe's size; a passphrase is never cut,
 * echoed or left in a buffer after an error.
 */
#include "tb_file.h"
#include "tb_node.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

int tb_fd_write_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;
	while (len) {
		ssize_t w = write(fd, b, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? tb_errno_code(errno) : TB_EIO;
		b += w;
		len -= (size_t)w;
	}
	return 0;
}

int tb_dir_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return tb_errno_code(errno);
	int err = fsync(fd) ? tb_errno_code(errno) : 0;
	close(fd);
	return err;
}

/* Syncs the directory holding path, so a rename in it is durable. */
static int sync_dir(const char *path)
{
	char copy[4096];
	if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy)
		return TB_EINVAL;
	return tb_dir_sync(dirname(copy));
}

int tb_mkdir_p(const char *path, unsigned mode)
{
	char buf[4400];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return TB_EINVAL;
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, (mode_t)mode) && errno != EEXIST)
			return tb_errno_code(errno);
		if (!c)
			return 0;
		*p = c;
	}
}

struct bytes {
	const void *p;
	size_t len;
};

static int fill_bytes(void *ctx, int fd)
{
	const struct bytes *b = ctx;
	return tb_fd_write_all(fd, b->p, b->len);
}

static int write_tmp(const char *path, const char *tmp, unsigned mode, unsigned flags,
		     tb_file_fill_fn fn, tb_file_check_fn check, void *ctx)
{
	bool excl = flags & TB_FILE_EXCL;
	struct stat st;
	if (excl && stat(path, &st) == 0)
		return TB_EEXISTS;
	unlink(tmp); /* a temporary a crash left */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return tb_errno_code(errno);
	int err = fn(ctx, fd);
	if (!err && !(flags & TB_FILE_NOSYNC) && fsync(fd))
		err = tb_errno_code(errno);
	if (close(fd) && !err)
		err = tb_errno_code(errno);
	if (!err && check)
		err = check(ctx, tmp);
	/* excl: link fails if path appeared meanwhile; else rename replaces. */
	if (!err && (excl ? link(tmp, path) : rename(tmp, path)))
		err = tb_errno_code(errno);
	if (!err && excl)
		unlink(tmp);
	if (!err && !(flags & TB_FILE_NOSYNC))
		err = sync_dir(path);
	if (err)
		unlink(tmp);
	return err;
}

int tb_file_write_checked(const char *path, unsigned mode, unsigned flags, tb_file_fill_fn fill,
			  tb_file_check_fn check, void *ctx)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return TB_EINVAL;
	return write_tmp(path, tmp, mode, flags, fill, check, ctx);
}

int tb_file_write_with(const char *path, unsigned mode, unsigned flags, tb_file_fill_fn fn,
		       void *ctx)
{
	return tb_file_write_checked(path, mode, flags, fn, NULL, ctx);
}

int tb_file_scratch(const char *path, int *fd)
{
	unlink(path); /* one a crash left */
	*fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	return *fd < 0 ? tb_errno_code(errno) : 0;
}

int tb_file_write(const char *path, const void *p, size_t len, unsigned mode, unsigned flags)
{
	struct bytes b = {p, len};
	return tb_file_write_with(path, mode, flags, fill_bytes, &b);
}

int tb_file_open_read(const char *path, uint64_t cap, int *fd, uint64_t *size)
{
	*fd = -1;
	*size = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (f < 0)
		return tb_errno_code(errno);
	struct stat st;
	int err = fstat(f, &st) ? tb_errno_code(errno) : 0;
	if (!err && !S_ISREG(st.st_mode))
		err = TB_EINVAL;
	if (!err && (uint64_t)st.st_size > cap)
		err = TB_ETOOBIG;
	if (err) {
		close(f);
		return err;
	}
	*fd = f;
	*size = (uint64_t)st.st_size;
	return 0;
}

int tb_fd_read_all(int fd, void *p, size_t len)
{
	uint8_t *b = p;
	while (len) {
		ssize_t r = read(fd, b, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? TB_EIO : TB_ETRUNCATED;
		b += r;
		len -= (size_t)r;
	}
	return 0;
}

int tb_file_read(const char *path, size_t cap, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	int fd;
	uint64_t size;
	int err = tb_file_open_read(path, cap, &fd, &size);
	if (err)
		return err;
	uint8_t *buf = malloc((size_t)size + 1);
	if (!buf)
		err = TB_ENOMEM;
	size_t got = 0;
	/* Read one byte past the size: a file that grew meanwhile is caught. */
	while (!err && got <= (size_t)size) {
		ssize_t r = read(fd, buf + got, (size_t)size + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = tb_errno_code(errno);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!err && got != (size_t)size)
		err = got > (size_t)size ? TB_ETOOBIG : TB_EIO;
	if (err) {
		free(buf);
		return err;
	}
	buf[got] = 0;
	*out = buf;
	*len = got;
	return 0;
}

/* ---- passphrases ---- */

static int pass_file(const char *file, char *out, size_t *len)
{
	uint8_t *buf;
	size_t n;
	/* Room for the passphrase and a CR LF after it. */
	int err = tb_file_read(file, TB_PASSPHRASE_MAX + 2, &buf, &n);
	if (err)
		return err == TB_ETOOBIG ? TB_ETOOLONG : err;
	if (n && buf[n - 1] == '\n')
		n--;
	if (n && buf[n - 1] == '\r')
		n--;
	if (n > TB_PASSPHRASE_MAX || memchr(buf, 0, n))
		err = n > TB_PASSPHRASE_MAX ? TB_ETOOLONG : TB_EINVAL;
	else
		memcpy(out, buf, n);
	tb_wipe(buf, n);
	free(buf);
	*len = err ? 0 : n;
	return err;
}

static int pass_tty(const char *label, char *out, size_t *len)
{
	char line[TB_PASSPHRASE_MAX + 3];
	struct termios old, quiet;
	fprintf(stderr, "%s: ", label);
	fflush(stderr);
	int have = tcgetattr(STDIN_FILENO, &old) == 0;
	if (have) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char *r = fgets(line, (int)sizeof line, stdin);
	if (have)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	if (!r)
		return TB_ENOTFOUND;
	size_t n = strlen(line);
	int err = 0;
	if (n && line[n - 1] == '\n')
		n--;
	else if (n == sizeof line - 1)
		err = TB_ETOOLONG; /* no end of line within the longest allowed */
	if (!err && n > TB_PASSPHRASE_MAX)
		err = TB_ETOOLONG;
	if (!err)
		memcpy(out, line, n);
	tb_wipe(line, sizeof line);
	*len = err ? 0 : n;
	return err;
}

int tb_passphrase_read(const char *file, bool tty, const char *label, const char *env,
		       char out[TB_PASSPHRASE_MAX + 1], size_t *len)
{
	int err;
	*len = 0;
	if (file) {
		err = pass_file(file, out, len);
	} else if (tty && isatty(STDIN_FILENO)) {
		err = pass_tty(label, out, len);
	} else if (env && getenv(env)) {
		const char *v = getenv(env);
		*len = strlen(v);
		err = *len > TB_PASSPHRASE_MAX ? TB_ETOOLONG : 0;
		if (!err)
			memcpy(out, v, *len);
	} else {
		err = TB_ENOTFOUND;
	}
	if (!err && *len == 0)
		err = TB_EINVAL;
	if (err) {
		tb_wipe(out, TB_PASSPHRASE_MAX + 1);
		*len = 0;
		return err;
	}
	out[*len] = '\0';
	return 0;
}

/* ---- key files ---- */

int tb_keyfile_write(const char *path, const struct tb_keypair *kp, const char *pass,
		     size_t passlen, enum tb_kdf_level level)
{
	uint8_t img[TB_KEYFILE_LEN];
	int err = tb_keyfile_seal(img, kp, pass, passlen, level);
	if (!err)
		err = tb_file_write(path, img, sizeof img, 0600, TB_FILE_EXCL);
	tb_wipe(img, sizeof img);
	return err;
}

int tb_keyfile_read(const char *path, struct tb_keypair *kp, const char *pass, size_t passlen)
{
	uint8_t *img;
	size_t len;
	tb_wipe(kp, sizeof *kp);
	int err = tb_file_read(path, TB_KEYFILE_LEN, &img, &len);
	if (err)
		return err == TB_ETOOBIG || err == TB_EINVAL ? TB_EKEYFILE : err;
	err = tb_keyfile_open(kp, img, len, pass, passlen);
	tb_wipe(img, len);
	free(img);
	return err;
}
