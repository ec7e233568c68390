/*
 * netns.c: network namespaces made and removed by a test, and the TCP relay
 * that stands in for them where they are not available (see netns.h). Test
 * code only.
 */
#define _GNU_SOURCE /* accept4, pipe2 */
#include "netns.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runproc.h"

/* ---- ip ---- */

const char *tb_netns_ip_bin(void)
{
	static char found[1024];
	if (found[0])
		return found;
	const char *path = getenv("PATH");
	char dirs[2048];
	snprintf(dirs, sizeof dirs, "%s:/usr/sbin:/sbin:/usr/bin:/bin", path ? path : "");
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		char p[1024];
		if (!*d || snprintf(p, sizeof p, "%s/ip", d) >= (int)sizeof p)
			continue;
		if (access(p, X_OK) == 0) {
			snprintf(found, sizeof found, "%s", p);
			return found;
		}
	}
	return NULL;
}

int tb_netns_ip(char *err, size_t cap, const char *const *args)
{
	static struct tb_proc_result r; /* large: not on the stack */
	const char *ip = tb_netns_ip_bin();
	if (err && cap)
		err[0] = '\0';
	if (!ip) {
		if (err)
			snprintf(err, cap, "no ip command (iproute2 is not installed)");
		return -1;
	}
	const char *argv[32];
	size_t n = 0;
	argv[n++] = ip;
	for (size_t i = 0; args[i]; i++) {
		if (n == sizeof argv / sizeof *argv - 1) {
			if (err)
				snprintf(err, cap, "too many arguments");
			return -1;
		}
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	if (tb_run(&r, argv)) {
		if (err)
			snprintf(err, cap, "cannot run %s: %s", ip, strerror(errno));
		return -1;
	}
	if (r.code) {
		if (err) {
			size_t len = strlen(r.err);
			while (len && r.err[len - 1] == '\n')
				r.err[--len] = '\0';
			snprintf(err, cap, "ip");
			for (size_t i = 0; args[i]; i++)
				snprintf(err + strlen(err), cap - strlen(err), " %s", args[i]);
			snprintf(err + strlen(err), cap - strlen(err), ": exit %d: %s", r.code,
				 r.err[0] ? r.err : "(no message)");
		}
		return -1;
	}
	return 0;
}

/* ---- namespaces ---- */

#define MAX_NS 32

static char made[MAX_NS][64];
static size_t nmade;

static void del_all_at_exit(void)
{
	tb_netns_del_all();
}

int tb_netns_add(const char *name, char *err, size_t cap)
{
	static bool hooked;
	if (strlen(name) >= sizeof made[0] || nmade == MAX_NS) {
		snprintf(err, cap, "namespace name too long, or too many namespaces");
		return -1;
	}
	if (!hooked) {
		atexit(del_all_at_exit);
		hooked = true;
	}
	if (TB_NETNS_IP(err, cap, "netns", "add", name))
		return -1;
	snprintf(made[nmade++], sizeof made[0], "%s", name);
	return TB_NETNS_IP(err, cap, "-n", name, "link", "set", "lo", "up");
}

int tb_netns_del(const char *name)
{
	for (size_t i = 0; i < nmade; i++) {
		if (!strcmp(made[i], name)) {
			memmove(made[i], made[i + 1], (nmade - i - 1) * sizeof made[0]);
			nmade--;
			break;
		}
	}
	char err[512];
	int rc = TB_NETNS_IP(err, sizeof err, "netns", "del", name);
	if (rc)
		fprintf(stderr, "netns: %s\n", err);
	return rc;
}

void tb_netns_del_all(void)
{
	while (nmade) {
		char name[64];
		snprintf(name, sizeof name, "%s", made[nmade - 1]);
		tb_netns_del(name);
	}
}

size_t tb_netns_sweep(const char *prefix)
{
	size_t removed = 0, plen = strlen(prefix);
	DIR *d = opendir("/run/netns");
	if (!d)
		d = opendir("/var/run/netns");
	if (!d)
		return 0;
	char stale[MAX_NS][256];
	size_t nstale = 0;
	for (struct dirent *e; (e = readdir(d)) && nstale < MAX_NS;) {
		if (strncmp(e->d_name, prefix, plen) || e->d_name[plen] < '0' ||
		    e->d_name[plen] > '9')
			continue;
		long pid = strtol(e->d_name + plen, NULL, 10);
		if (pid <= 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* its run is still going */
		snprintf(stale[nstale++], sizeof stale[0], "%s", e->d_name);
	}
	closedir(d);
	for (size_t i = 0; i < nstale; i++) {
		char err[512];
		if (TB_NETNS_IP(err, sizeof err, "netns", "del", stale[i]) == 0)
			removed++;
		else
			fprintf(stderr, "netns: %s\n", err);
	}
	return removed;
}

int tb_netns_veth(const char *ns_a, const char *if_a, const char *addr_a, const char *ns_b,
		  const char *if_b, const char *addr_b, char *err, size_t cap)
{
	/* Made inside ns_a with its other end straight in ns_b: the host's
	 * namespace never sees either end. */
	if (TB_NETNS_IP(err, cap, "-n", ns_a, "link", "add", if_a, "type", "veth", "peer", "name",
			if_b, "netns", ns_b) ||
	    TB_NETNS_IP(err, cap, "-n", ns_a, "addr", "add", addr_a, "dev", if_a) ||
	    TB_NETNS_IP(err, cap, "-n", ns_b, "addr", "add", addr_b, "dev", if_b) ||
	    TB_NETNS_IP(err, cap, "-n", ns_a, "link", "set", if_a, "up") ||
	    TB_NETNS_IP(err, cap, "-n", ns_b, "link", "set", if_b, "up"))
		return -1;
	return 0;
}

int tb_netns_link_set(const char *ns, const char *ifname, bool up, char *err, size_t cap)
{
	return TB_NETNS_IP(err, cap, "-n", ns, "link", "set", ifname, up ? "up" : "down");
}

bool tb_netns_available(char *why, size_t cap)
{
	if (geteuid() != 0) {
		snprintf(why, cap, "not root (euid %u)", (unsigned)geteuid());
		return false;
	}
	if (!tb_netns_ip_bin()) {
		snprintf(why, cap, "no ip command (iproute2 is not installed)");
		return false;
	}
	char a[64], b[64], err[512];
	snprintf(a, sizeof a, "tbprobe%ldx", (long)getpid());
	snprintf(b, sizeof b, "tbprobe%ldy", (long)getpid());
	tb_netns_sweep("tbprobe");
	bool ok = tb_netns_add(a, err, sizeof err) == 0 && tb_netns_add(b, err, sizeof err) == 0 &&
		  tb_netns_veth(a, "p0", "10.254.0.1/30", b, "p1", "10.254.0.2/30", err,
				sizeof err) == 0;
	if (!ok)
		snprintf(why, cap, "%s", err);
	tb_netns_del(b);
	tb_netns_del(a);
	return ok;
}

pid_t tb_netns_spawn(const char *ns, const char *const *argv, int out_fd)
{
	const char *ip = tb_netns_ip_bin();
	if (!ip)
		return -1;
	const char *full[64];
	size_t n = 0;
	full[n++] = ip;
	full[n++] = "netns";
	full[n++] = "exec";
	full[n++] = ns;
	for (size_t i = 0; argv[i]; i++) {
		if (n == sizeof full / sizeof *full - 1)
			return -1;
		full[n++] = argv[i];
	}
	full[n] = NULL;
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* Dies with the test process; the setting survives exec (ip is not
	 * set-user-ID). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	int nul = open("/dev/null", O_RDONLY);
	dup2(nul, 0);
	dup2(out_fd, 1);
	dup2(out_fd, 2);
	execv(full[0], (char *const *)full);
	_exit(127);
}

/* ---- the relay ---- */

#define PAIRS 16
#define BUF 65536

struct pair {
	int fd[2];     /* 0: accepted, 1: to the target; -1 if unused */
	size_t len[2]; /* bytes read from fd[d], waiting for fd[1 - d] */
	size_t off[2]; /* of them already written */
	uint8_t buf[2][BUF];
};

struct tb_relay {
	uint16_t port, target;
	int lfd;
	int cmd[2], ack[2]; /* pipes: commands in, answers out */
	pthread_t thread;
	bool running;
	atomic_uint_fast64_t accepted;
	struct pair pair[PAIRS];
};

static int listen_on(uint16_t port, uint16_t *bound)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {0};
	socklen_t len = sizeof a;
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		close(fd);
		return -1;
	}
	*bound = ntohs(a.sin_port);
	return fd;
}

/* A connection to 127.0.0.1:port (blocking connect: on loopback it is
 * answered at once), then non-blocking; -1 if refused. */
static int dial(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int rc;
	do
		rc = connect(fd, (struct sockaddr *)&a, sizeof a);
	while (rc < 0 && errno == EINTR);
	if (rc < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void pair_close(struct pair *p)
{
	for (int d = 0; d < 2; d++) {
		if (p->fd[d] >= 0)
			close(p->fd[d]);
		p->fd[d] = -1;
		p->len[d] = p->off[d] = 0;
	}
}

static void close_all(struct tb_relay *r)
{
	for (size_t i = 0; i < PAIRS; i++)
		pair_close(&r->pair[i]);
	if (r->lfd >= 0)
		close(r->lfd);
	r->lfd = -1;
}

static void on_accept(struct tb_relay *r)
{
	for (;;) {
		int fd = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct pair *p = NULL;
		for (size_t i = 0; i < PAIRS && !p; i++)
			if (r->pair[i].fd[0] < 0)
				p = &r->pair[i];
		int to = p ? dial(r->target) : -1;
		if (to < 0) {
			close(fd); /* full, or the target is down: as a refusal */
			continue;
		}
		p->fd[0] = fd;
		p->fd[1] = to;
		p->len[0] = p->len[1] = p->off[0] = p->off[1] = 0;
		atomic_fetch_add(&r->accepted, 1);
	}
}

/* Moves what it can of a pair's bytes; false once either side is done. */
static bool pair_io(struct pair *p, const short revents[2])
{
	for (int d = 0; d < 2; d++) {
		if (p->len[d] == 0 && (revents[d] & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t got = read(p->fd[d], p->buf[d], BUF);
			if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
				return false;
			if (got > 0) {
				p->len[d] = (size_t)got;
				p->off[d] = 0;
			}
		}
		int o = 1 - d; /* writes what came from the other side */
		if (p->len[o] && (revents[d] & (POLLOUT | POLLERR))) {
			ssize_t w = send(p->fd[d], p->buf[o] + p->off[o], p->len[o] - p->off[o],
					 MSG_NOSIGNAL);
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				return false;
			if (w > 0) {
				p->off[o] += (size_t)w;
				if (p->off[o] == p->len[o])
					p->len[o] = p->off[o] = 0;
			}
		}
	}
	return true;
}

static void *relay_main(void *arg)
{
	struct tb_relay *r = arg;
	struct pollfd pfd[2 + 2 * PAIRS];
	for (;;) {
		size_t n = 0;
		pfd[n++] = (struct pollfd){r->cmd[0], POLLIN, 0};
		pfd[n++] = (struct pollfd){r->lfd, POLLIN, 0}; /* ignored when -1 */
		for (size_t i = 0; i < PAIRS; i++) {
			struct pair *p = &r->pair[i];
			for (int d = 0; d < 2; d++) {
				short ev = 0;
				if (p->fd[d] >= 0) {
					if (p->len[d] == 0)
						ev |= POLLIN;
					if (p->len[1 - d])
						ev |= POLLOUT;
				}
				pfd[n++] = (struct pollfd){p->fd[d], ev, 0};
			}
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		if (pfd[0].revents) {
			char c = 0, ok = 0;
			if (read(r->cmd[0], &c, 1) != 1)
				c = 'q';
			if (c == 'c') {
				close_all(r);
			} else if (c == 'm') {
				uint16_t bound = 0;
				if (r->lfd < 0)
					r->lfd = listen_on(r->port, &bound);
				ok = r->lfd < 0 ? 1 : 0;
			} else {
				close_all(r);
				(void)!write(r->ack[1], &ok, 1);
				return NULL;
			}
			(void)!write(r->ack[1], &ok, 1);
			continue;
		}
		if (r->lfd >= 0 && pfd[1].revents)
			on_accept(r);
		for (size_t i = 0; i < PAIRS; i++) {
			struct pair *p = &r->pair[i];
			if (p->fd[0] < 0)
				continue;
			short rev[2] = {pfd[2 + 2 * i].revents, pfd[3 + 2 * i].revents};
			if ((rev[0] || rev[1]) && !pair_io(p, rev))
				pair_close(p);
		}
	}
}

int tb_relay_start(struct tb_relay **out, uint16_t port, uint16_t target)
{
	struct tb_relay *r = calloc(1, sizeof *r);
	if (!r)
		return -1;
	r->cmd[0] = r->cmd[1] = r->ack[0] = r->ack[1] = -1;
	for (size_t i = 0; i < PAIRS; i++)
		r->pair[i].fd[0] = r->pair[i].fd[1] = -1;
	r->target = target;
	r->lfd = listen_on(port, &r->port);
	if (r->lfd < 0 || pipe2(r->cmd, O_CLOEXEC) || pipe2(r->ack, O_CLOEXEC) ||
	    pthread_create(&r->thread, NULL, relay_main, r)) {
		tb_relay_free(r);
		return -1;
	}
	r->running = true;
	*out = r;
	return 0;
}

uint16_t tb_relay_port(const struct tb_relay *r)
{
	return r->port;
}

uint64_t tb_relay_accepted(const struct tb_relay *r)
{
	return atomic_load(&((struct tb_relay *)r)->accepted);
}

/* Sends a command and waits for the thread's answer (0 done). */
static int command(struct tb_relay *r, char c)
{
	char ok = 1;
	if (!r->running || write(r->cmd[1], &c, 1) != 1)
		return -1;
	ssize_t got;
	do
		got = read(r->ack[0], &ok, 1);
	while (got < 0 && errno == EINTR);
	return got == 1 && ok == 0 ? 0 : -1;
}

int tb_relay_cut(struct tb_relay *r)
{
	return command(r, 'c');
}

int tb_relay_mend(struct tb_relay *r)
{
	return command(r, 'm');
}

void tb_relay_free(struct tb_relay *r)
{
	if (!r)
		return;
	if (r->running) {
		(void)command(r, 'q');
		pthread_join(r->thread, NULL);
	}
	close_all(r);
	for (int i = 0; i < 2; i++) {
		if (r->cmd[i] >= 0)
			close(r->cmd[i]);
		if (r->ack[i] >= 0)
			close(r->ack[i]);
	}
	free(r);
}
