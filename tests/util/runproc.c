/*
 * runproc.c: fork/exec with captured output for tests. The child's stdin is
 * /dev/null so no command can wait for a terminal prompt.
 */
#include "runproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *tb_tally_bin(void)
{
	const char *b = getenv("TALLY_BIN");
	return b && *b ? b : "tally";
}

int tb_run_tally(struct tb_proc_result *r, const char *data, const char *const *args)
{
	const char *argv[40];
	int n = 0;

	argv[n++] = tb_tally_bin();
	argv[n++] = "--data";
	argv[n++] = data;
	for (size_t i = 0; args[i] && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (tb_run(r, argv))
		return -1;
	return r->code >= 126 ? -1 : r->code;
}

int tb_run(struct tb_proc_result *r, const char *const argv[])
{
	int po[2], pe[2];
	memset(r, 0, sizeof *r);
	if (pipe(po) || pipe(pe))
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	size_t no = 0, ne = 0;
	struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
	int open_fds = 2;
	while (open_fds) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP)))
				continue;
			char *buf = i ? r->err : r->out;
			size_t cap = i ? sizeof r->err : sizeof r->out;
			size_t *n = i ? &ne : &no;
			char tmp[4096];
			ssize_t got = read(fds[i].fd, tmp, sizeof tmp);
			if (got <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			size_t take = (size_t)got;
			if (take > cap - 1 - *n)
				take = cap - 1 - *n;
			memcpy(buf + *n, tmp, take);
			*n += take;
		}
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}
