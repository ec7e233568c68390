/*
 * lock.c: one tallyd per data directory, and storage errors described for
 * people. The daemon holds a POSIX write lock on DATA/tallyd.lock for its
 * whole life (the kernel drops it when the process dies, even by SIGKILL), so
 * a second daemon is refused and `tally peer list` can ask the kernel whether
 * a daemon runs and which pid it has, instead of trusting an old status file.
 * It never removes the lock file: unlinking it would let two daemons lock two
 * different files.
 */
#include "tb_node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

int tb_errno_code(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return TB_EDISKFULL;
	case EACCES:
	case EPERM:
	case EROFS:
		return TB_EPERM;
	case ENOENT:
		return TB_ENOTFOUND;
	case EEXIST:
		return TB_EEXISTS;
	case ENOMEM:
		return TB_ENOMEM;
	}
	return TB_EIO;
}

static void lock_path(char *out, size_t cap, const char *data)
{
	snprintf(out, cap, "%s/tallyd.lock", data);
}

int tb_daemon_lock(const char *data, int *fd, uint32_t *holder)
{
	char path[4200];
	lock_path(path, sizeof path, data);
	*fd = -1;
	*holder = 0;
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f < 0)
		return tb_errno_code(errno);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(f, F_SETLK, &fl)) {
		int e = errno;
		struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		if (!fcntl(f, F_GETLK, &q) && q.l_type != F_UNLCK)
			*holder = (uint32_t)q.l_pid;
		close(f);
		return e == EACCES || e == EAGAIN ? TB_ELOCKED : tb_errno_code(e);
	}
	char pid[24];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(f, 0) || pwrite(f, pid, (size_t)n, 0) != n) {
		int err = tb_errno_code(errno);
		close(f);
		return err;
	}
	*fd = f;
	return 0;
}

bool tb_daemon_running(const char *data, uint32_t *pid)
{
	char path[4200];
	lock_path(path, sizeof path, data);
	if (pid)
		*pid = 0;
	int f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return false;
	struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	bool running = !fcntl(f, F_GETLK, &q) && q.l_type != F_UNLCK;
	if (running && pid)
		*pid = (uint32_t)q.l_pid;
	close(f);
	return running;
}

void tb_describe_storage(char *buf, size_t cap, int err, const char *path, uint64_t need)
{
	if (err == TB_EDISKFULL) {
		char dir[4200], *slash;
		struct statvfs sv;
		snprintf(dir, sizeof dir, "%s", path);
		unsigned long long avail = 0;
		bool known = statvfs(dir, &sv) == 0;
		if (!known && (slash = strrchr(dir, '/')) && slash != dir) {
			*slash = '\0';
			known = statvfs(dir, &sv) == 0;
		}
		if (known)
			avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
		if (need)
			snprintf(buf, cap,
				 "disk full: cannot write %s (about %llu KiB more needed, %llu KiB "
				 "free)",
				 path, (unsigned long long)(need + 1023) / 1024, avail / 1024);
		else
			snprintf(buf, cap, "disk full: cannot write %s (%llu KiB free)", path,
				 avail / 1024);
	} else if (err == TB_EPERM) {
		snprintf(buf, cap, "permission denied: %s (read-only, or owned by another user)",
			 path);
	} else {
		snprintf(buf, cap, "%s: %s", path, tb_strerror(err));
	}
}
