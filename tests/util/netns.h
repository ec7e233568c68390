/*
 * netns.h: links a test can cut and mend, for the partition tests.
 *
 * Two ways. Network namespaces (iproute2, needs root): the test creates its
 * own namespaces, joins them with veth pairs created inside them (so nothing
 * is ever added to the host's namespace), gives the ends addresses there,
 * runs daemons inside with `ip netns exec`, and cuts a link by setting both
 * of its ends down. Every namespace this process created is removed by
 * tb_netns_del_all, which also runs at exit; tb_netns_sweep removes those a
 * killed earlier run left behind (their names carry its pid).
 *
 * Where namespaces are not available, a relay (struct tb_relay): a thread of
 * the test that listens on 127.0.0.1 and forwards the bytes of every
 * connection it accepts to a target port on 127.0.0.1. Cut, it closes every
 * connection and its listening socket (new connections are refused); mended,
 * it listens on the same port again. Every descriptor is close-on-exec, so a
 * process the test starts never keeps a cut connection open.
 */
#ifndef TB_NETNS_H
#define TB_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Path of iproute2's ip (searched in $PATH, then /usr/sbin and /sbin), or
 * NULL. */
const char *tb_netns_ip_bin(void);

/* Runs `ip args...` (NULL-terminated): 0, or -1 with its stderr (or why it
 * could not run) in err. */
int tb_netns_ip(char *err, size_t cap, const char *const *args);
#define TB_NETNS_IP(err, cap, ...) tb_netns_ip(err, cap, (const char *const[]){__VA_ARGS__, NULL})

/* True if this process can create namespaces joined by a veth pair (tried
 * with two throwaway ones); else false with the reason in why. */
bool tb_netns_available(char *why, size_t cap);

/* Removes namespaces named prefix<pid>... whose process <pid> is gone (left
 * by a run killed before its cleanup). Returns how many. */
size_t tb_netns_sweep(const char *prefix);

/* Creates namespace name (recorded for removal) with its loopback up. */
int tb_netns_add(const char *name, char *err, size_t cap);
/* Removes it (and forgets it). */
int tb_netns_del(const char *name);
/* Removes every namespace this process created. */
void tb_netns_del_all(void);

/* A veth pair: if_a in ns_a with address addr_a ("10.77.0.1/24"), if_b in
 * ns_b with addr_b, both up. */
int tb_netns_veth(const char *ns_a, const char *if_a, const char *addr_a, const char *ns_b,
		  const char *if_b, const char *addr_b, char *err, size_t cap);
/* Sets interface ifname of namespace ns up or down. */
int tb_netns_link_set(const char *ns, const char *ifname, bool up, char *err, size_t cap);

/* Starts `ip netns exec NS argv...` (argv[0] a path): stdin /dev/null,
 * stdout and stderr to out_fd, killed if the test process dies. ip execs the
 * program in place, so the pid is the program's. Returns the pid or -1. */
pid_t tb_netns_spawn(const char *ns, const char *const *argv, int out_fd);

/* ---- the relay ---- */

struct tb_relay;

/* Listens on 127.0.0.1:port (0: any free port) and forwards to
 * 127.0.0.1:target. 0 or -1. */
int tb_relay_start(struct tb_relay **out, uint16_t port, uint16_t target);
/* The port it listens on. */
uint16_t tb_relay_port(const struct tb_relay *r);
/* Closes every connection and stops listening; returns once done. */
int tb_relay_cut(struct tb_relay *r);
/* Listens again on the same port; returns once it does (0) or cannot (-1). */
int tb_relay_mend(struct tb_relay *r);
/* Connections accepted and forwarded so far. */
uint64_t tb_relay_accepted(const struct tb_relay *r);
/* Stops the thread, closes everything, frees r (NULL is fine). */
void tb_relay_free(struct tb_relay *r);

#endif
