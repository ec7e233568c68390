/*
 * benchutil.h: what the benchmarks in tests/bench share. The program's name
 * for messages and its usage line; a monotonic clock, sleeps, load average
 * and CPU time from /proc; quantiles and a small random generator; the table
 * of figures and its `FIGURE name value unit target` lines (scripts/bench
 * reads them); and, for the benchmarks that run tallyds: finding tally and
 * tallyd ($TALLY_BIN, $TALLYD_BIN), federations whose daemons are killed and
 * whose trees are removed at exit and on SIGINT, SIGTERM or SIGHUP ($TB_KEEP
 * keeps the trees), a daemon's unexpected exit, a node's ledger and key, a
 * random topology. The federations themselves are tests/util/fed.h's, a
 * process's memory tests/util/procmem.h's.
 *
 * Every failure here prints "PROG: ..." to stderr and exits 1 (a usage error
 * exits 2).
 */
#ifndef TB_BENCHUTIL_H
#define TB_BENCHUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tb_entry;
struct tb_exchange;
struct tb_fed;
struct tb_head;
struct tb_keypair;
struct tb_store;

/* ---- the program ---- */

/* Flags of tb_bench_setup. */
#define TB_BENCH_DAEMONS 0x1u	/* tallyds: tb_bench_find_binaries, cleanup */
#define TB_BENCH_RM_KEPT 0x2u	/* on a signal, remove the trees even with $TB_KEEP */
#define TB_BENCH_DIE_TAILS 0x4u /* tb_bench_die shows every node's tallyd.log tail */
#define TB_BENCH_LOG_WARN 0x8u	/* $TB_FED_LOG_LEVEL defaults to warn */

/* Names the program in messages and its arguments in the usage line
 * ("usage: PROG ARGS"): first thing in main. */
void tb_bench_init(const char *prog, const char *args);
/* Line-buffered stdout and tb_crypto_init. With TB_BENCH_DAEMONS also
 * tb_bench_find_binaries, and the daemons of every federation of
 * tb_bench_fed_new (and the tb_bench_scratch directory) die with this
 * process: at exit and on SIGINT, SIGTERM and SIGHUP; SIGPIPE is ignored. */
void tb_bench_setup(unsigned flags);
/* Prints the usage line and exits 2. */
_Noreturn void tb_bench_usage(void);
/* A decimal argument in min..max, else the usage. */
unsigned long long tb_bench_arg(const char *arg, unsigned long long min, unsigned long long max);
/* "PROG: what: error (err)" and exit 1. */
_Noreturn void tb_bench_die(const char *what, int err);

/* ---- small things ---- */

/* Seconds of a monotonic clock. */
double tb_bench_now(void);
void tb_bench_sleep_us(unsigned us);
/* The load average over the last minute, -1 if unknown. */
double tb_bench_load_avg(void);
/* User + system CPU seconds of this process (all threads), of process pid. */
double tb_bench_cpu_self(void);
double tb_bench_proc_cpu(pid_t pid);
/* Today as YYYYMMDD, in UTC or in local time. */
uint32_t tb_bench_today(bool utc);

/* qsort comparison of doubles. */
int tb_bench_cmp_double(const void *a, const void *b);
/* The q-quantile of sorted v[0..n-1] (nearest rank); 0 if empty. */
double tb_bench_quantile(const double *v, size_t n, double q);
/* xorshift64* on *state (never 0). */
uint64_t tb_bench_xorshift(uint64_t *state);
/* $BENCH_SEED, else one from the time and the pid. */
uint64_t tb_bench_seed(void);

/* ---- entries ---- */

/* Attested exchange number k between members a and b, as `tally exchange
 * record --attest` writes one: 30 minutes of gardening on date, a the
 * provider when k is even, b when odd. Its txid: the first bytes of
 * SHA-256(tag (8 bytes), k (big-endian) and, if kp, the first 8 bytes of
 * kp's key); its memo hash: SHA-256 of the txid, or with memo_of_digest of
 * that whole digest. */
void tb_bench_exchange(struct tb_exchange *x, const char *tag, uint64_t k,
		       const struct tb_keypair *kp, uint32_t a, uint32_t b, uint64_t date,
		       bool memo_of_digest);
/* Exchange k of a log with members 1..members (at least 2): pairs of
 * members take turns and each pair's second exchange goes back the other
 * way, so every balance stays within two hours of zero whatever the log's
 * length; 15 to 120 minutes, six categories, dates over a year. Its txid:
 * the first bytes of SHA-256(tag (8 bytes), k (big-endian)), random-looking
 * as the command line's are, so the txid index takes inserts all over its
 * tree. Deterministic; attested. */
void tb_bench_exchange_mix(struct tb_exchange *x, const char *tag, uint64_t k, uint32_t members);
/* Entry i (from 0) of a synthetic community log of kp: the genesis named
 * bank (no limits), then members joins (member-00001 on, keys mk[], names
 * written into name, which the entry points into), then
 * tb_bench_exchange_mix exchanges (txids from tag); seq i + 1 after prev
 * (TB_HASHLEN bytes), stamped 1740000000 + i. */
void tb_bench_log_entry(struct tb_entry *e, size_t i, uint32_t members, const char *bank,
			const char *tag, const struct tb_keypair *kp, const struct tb_keypair *mk,
			const uint8_t *prev, char name[32]);
/* Seals exchange x as the entry after (*seq, prev) of kp's own log, stamped
 * ts, into out (cap bytes); advances *seq and prev (TB_HASHLEN bytes) to it.
 * Returns the record's length. */
size_t tb_bench_seal_exchange(uint8_t *out, size_t cap, const struct tb_keypair *kp, uint64_t *seq,
			      uint8_t *prev, uint64_t ts, const struct tb_exchange *x);

/* ---- figures ---- */

/* v as printed with prec digits after the point: targets are judged on
 * that, as scripts/bench judges the FIGURE lines. */
double tb_bench_rounded(double v, int prec);
/* A figure (value rounded to prec digits); op ">=", "<=" or NULL (no target). */
void tb_bench_figure(const char *name, double value, const char *unit, int prec, const char *op,
		     double target);
/* The table (unit column unit_width wide), then one `FIGURE name value unit
 * target` line per figure (target ">=x", "<=x" or "-"). */
void tb_bench_print_figures(int unit_width);

/* ---- daemons ---- */

/* $TALLY_BIN and $TALLYD_BIN, else ../node/tally and ../node/tallyd next to
 * this executable (set in the environment then); exits unless executable. */
void tb_bench_find_binaries(void);
/* tb_fed_new and tb_fed_free of a federation tb_bench_setup's cleanup
 * knows (up to 4 at a time). */
struct tb_fed *tb_bench_fed_new(const char *tag, size_t n);
void tb_bench_fed_free(struct tb_fed *f);
/* A fresh temporary directory the cleanup removes too (one at a time: the
 * previous one is removed first); tb_bench_scratch_free removes it now. */
const char *tb_bench_scratch(const char *tag);
void tb_bench_scratch_free(void);
/* Exits with the tail of its tallyd.log if node i's daemon has exited (does
 * not reap it). */
void tb_bench_check_alive(struct tb_fed *f, size_t i);
/* Adds coordinator name of role to node i's data (`tally coordinator add`),
 * its password pw written to a file of the federation's root. */
void tb_bench_coordinator(struct tb_fed *f, size_t i, const char *name, const char *role,
			  const char *pw);
/* Starts node i's tallyd with its console on a free port of 127.0.0.1 and
 * waits until it serves it: the port. */
uint16_t tb_bench_start_console(struct tb_fed *f, size_t i);
/* DATA/ledger opened with flags. */
struct tb_store *tb_bench_open_ledger(const char *data, unsigned flags);
/* DATA/keys/node.key unlocked with the federation's passphrase. */
void tb_bench_node_key(const char *data, struct tb_keypair *kp);
/* Seq of log_id held by s (0 if none); its hash into hash (TB_HASHLEN
 * bytes) unless NULL. */
uint64_t tb_bench_held_seq(struct tb_store *s, const uint8_t *log_id, uint8_t *hash);
/* The head of log_id in s and the numbers of its members m1 and m2 (fed.c's
 * two members); dies with what unless all are there. */
void tb_bench_head_members(struct tb_store *s, const uint8_t *log_id, struct tb_head *h,
			   uint32_t *m1, uint32_t *m2, const char *what);
/* A random connected topology from *rng: each node dials a random earlier
 * one and, from node 2 on, a second. */
void tb_bench_link_random(struct tb_fed *f, uint64_t *rng);
/* Starts every daemon, four at a time (each unlocks its key with Argon2id),
 * waiting until each is up. */
void tb_bench_start_all(struct tb_fed *f);

#endif
