/*
 * flags.c: tallyd's options, in one table: the name, whether it takes a
 * value, its help, and how it is applied to struct tb_daemon_opts. The
 * usage text comes from the same table, so a flag is described where it is
 * defined; the configuration file (conffile.c) applies its keys, which are
 * the flags' names, through the same table and checks. The man page is made
 * from this usage text.
 */
#include "daemon.h"
#include "tb_notices.h"
#include "tb_testhooks.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int set_data(struct tb_daemon_opts *o, const char *v)
{
	return snprintf(o->data, sizeof o->data, "%s", v) < (int)sizeof o->data ? 0 : TB_ETOOLONG;
}

static int set_listen(struct tb_daemon_opts *o, const char *v)
{
	char host[TB_ADDR_MAX];
	uint16_t port;
	if (tb_addr_parse(v, host, sizeof host, &port))
		return TB_EINVAL;
	snprintf(o->listen, sizeof o->listen, "%s", v);
	return 0;
}

static int set_peer(struct tb_daemon_opts *o, const char *v)
{
	if (o->npeers == TB_PEERS_MAX)
		return TB_EFULL;
	struct tb_peer_conf *p = &o->peers[o->npeers];
	if (tb_addr_parse(v, p->host, sizeof p->host, &p->port))
		return TB_EINVAL;
	o->npeers++;
	return 0;
}

static int set_level(struct tb_daemon_opts *o, const char *v)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	for (int i = 0; i < 4; i++)
		if (!strcmp(v, names[i])) {
			o->level = (enum tb_loglevel)i;
			return 0;
		}
	return TB_EINVAL;
}

static int set_pass(struct tb_daemon_opts *o, const char *v)
{
	return snprintf(o->pass_file, sizeof o->pass_file, "%s", v) < (int)sizeof o->pass_file
		       ? 0
		       : TB_ETOOLONG;
}

static int set_restore_wait(struct tb_daemon_opts *o, const char *v)
{
	char *end;
	errno = 0;
	unsigned long s = strtoul(v, &end, 10);
	if (!*v || *end || errno || s > 86400 || v[0] == '-')
		return TB_EINVAL;
	o->restore_wait_ms = (uint64_t)s * 1000;
	return 0;
}

static int set_http(struct tb_daemon_opts *o, const char *v)
{
	o->http_given = true;
	return tb_http_parse_addr(&o->http, v);
}

static int set_insecure(struct tb_daemon_opts *o, const char *v)
{
	(void)v;
	o->http.insecure = true;
	return 0;
}

static int set_root(struct tb_daemon_opts *o, const char *v)
{
	return snprintf(o->http.web_root, sizeof o->http.web_root, "%s", v) <
			       (int)sizeof o->http.web_root
		       ? 0
		       : TB_ETOOLONG;
}

static int set_sendmail(struct tb_daemon_opts *o, const char *v)
{
	/* An absolute path, then at most 15 arguments (digest.c runs it without
	 * a shell). */
	size_t words = 0;
	for (const char *p = v; *p;) {
		p += strspn(p, " \t");
		if (*p)
			words++;
		p += strcspn(p, " \t");
	}
	if (v[0] != '/' || words > 16 || strpbrk(v, "\r\n"))
		return TB_EINVAL;
	return snprintf(o->sendmail, sizeof o->sendmail, "%s", v) < (int)sizeof o->sendmail
		       ? 0
		       : TB_ETOOLONG;
}

static int set_number(const char *v, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	if (!*v || *end || errno || v[0] == '-' || x < lo || x > hi)
		return TB_EINVAL;
	*out = x;
	return 0;
}

static int set_sendmail_timeout(struct tb_daemon_opts *o, const char *v)
{
	unsigned long x;
	int err = set_number(v, 1, 3600, &x);
	o->sendmail_timeout_s = err ? o->sendmail_timeout_s : (uint32_t)x;
	return err;
}

static int set_digest_hour(struct tb_daemon_opts *o, const char *v)
{
	unsigned long x;
	int err = set_number(v, 0, 23, &x);
	o->digest_hour = err ? o->digest_hour : (int)x;
	return err;
}

static int set_mail_from(struct tb_daemon_opts *o, const char *v)
{
	char why[160];
	if (tb_email_check(v, why, sizeof why))
		return TB_EINVAL;
	snprintf(o->mail_from, sizeof o->mail_from, "%s", v);
	return 0;
}

const struct tb_flag tb_flags[] = {
	{"data", "DIR", "the data directory (default $TALLY_DATA, else ~/.tally)", set_data},
	{"listen", "ADDR:PORT", "where peers connect (default 127.0.0.1:7411)", set_listen},
	{"peer", "HOST:PORT", "a peer to dial, besides DATA/peers (repeatable)", set_peer},
	{"log-level", "LEVEL", "error, warn, info (default) or debug", set_level},
	{"passphrase-file", "FILE",
	 "the community key's passphrase (else the systemd credential 'passphrase', else "
	 "$TALLY_PASSPHRASE)",
	 set_pass},
	{"restore-wait", "SECONDS",
	 "after a restore, how long to wait for every configured peer once one synced "
	 "(default 60)",
	 set_restore_wait},
	{"http", "ADDR:PORT", "the web console and API (default " TB_HTTP_DEFAULT "; 'off')",
	 set_http},
	{"http-insecure", NULL,
	 "allow session cookies over plain HTTP from other machines (use a TLS proxy instead)",
	 set_insecure},
	{"web-root", "DIR", "the console's files (default: found beside the program)", set_root},
	{"sendmail", "COMMAND",
	 "members' email digests through this sendmail-compatible command, e.g. "
	 "'/usr/sbin/sendmail -t -i' (default: none, no digests)",
	 set_sendmail},
	{"sendmail-timeout", "SECONDS", "kill a sendmail still running after this (default 60)",
	 set_sendmail_timeout},
	{"digest-hour", "HOUR", "the local hour (0-23) the daily digests go out (default 6)",
	 set_digest_hour},
	{"mail-from", "ADDRESS", "the digests' From address (default tally@ this host's name)",
	 set_mail_from},
};
const size_t tb_nflags = sizeof tb_flags / sizeof tb_flags[0];

void tb_flags_defaults(struct tb_daemon_opts *o)
{
	memset(o, 0, sizeof *o);
	const char *env = getenv("TALLY_DATA"), *home = getenv("HOME");
	if (env && *env)
		snprintf(o->data, sizeof o->data, "%s", env);
	else
		snprintf(o->data, sizeof o->data, "%s/.tally", home ? home : ".");
	snprintf(o->listen, sizeof o->listen, "127.0.0.1:%d", TB_DEFAULT_PORT);
	o->level = TB_LOG_INFO;
	o->restore_wait_ms = 60000;
	o->sendmail_timeout_s = 60;
	o->digest_hour = 6;
	(void)tb_http_parse_addr(&o->http, TB_HTTP_DEFAULT);
	tb_http_default_root(o->http.web_root, sizeof o->http.web_root);
}

int tb_flag_apply(struct tb_daemon_opts *o, const char *name, const char *value)
{
	for (size_t i = 0; i < tb_nflags; i++)
		if (!strcmp(tb_flags[i].name, name))
			return tb_flags[i].apply(o, value);
	return TB_ENOTFOUND;
}

void tb_flags_usage(FILE *f)
{
	fputs("usage: tallyd [OPTION]...\n\n"
	      "The Tally node daemon: serves this community's ledger to its peers,\n"
	      "replicates theirs, and serves the web console and JSON API.\n"
	      "Peers come from DATA/peers ('tally peer add') and --peer.\n"
	      "A ledger restored from a backup signs nothing until the peers gave back its\n"
	      "own log's later entries (all configured peers, or --restore-wait seconds\n"
	      "after the first).\n\n",
	      f);
	for (size_t i = 0; i < tb_nflags; i++) {
		char left[64];
		snprintf(left, sizeof left, "--%s%s%s", tb_flags[i].name,
			 tb_flags[i].arg ? " " : "", tb_flags[i].arg ? tb_flags[i].arg : "");
		fprintf(f, "  %-28s ", left);
		/* The help, wrapped at 79 columns under its column. */
		const char *h = tb_flags[i].help;
		while (strlen(h) > 48) {
			int cut = 48;
			while (cut > 0 && h[cut] != ' ')
				cut--;
			fprintf(f, "%.*s\n%31s", cut, h, "");
			h += cut + 1;
		}
		fprintf(f, "%s\n", h);
	}
	fputs("\nEach option is also a key of the configuration file (NAME = VALUE; yes or\n"
	      "no for those without a value), in its top part or a [tallyd] section.\n\n"
	      "  --config FILE                read the configuration file first; flags\n"
	      "                               given as well override it, peer keys add\n"
	      "  --check-config               check the file and the flags, then exit\n"
	      "  --version                    print the version\n"
	      "  --help                       this help\n\n"
	      "Exit codes: 0 stopped cleanly, 2 bad settings or no passphrase, 3 the data\n"
	      "directory cannot be used (or another tallyd holds it).\n",
	      f);
}

/* --config FILE, wherever it stands. */
static const char *config_arg(int argc, char **argv)
{
	const char *file = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			file = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			file = argv[i] + 9;
	}
	return file;
}

int tb_flags_parse(struct tb_daemon_opts *o, int argc, char **argv)
{
	struct option opts[32];
	TB_ASSERT(tb_nflags + 5 <= sizeof opts / sizeof opts[0]);
	size_t n = 0;
	for (; n < tb_nflags; n++)
		opts[n] = (struct option){tb_flags[n].name,
					  tb_flags[n].arg ? required_argument : no_argument, 0,
					  (int)n + 256};
	opts[n++] = (struct option){"help", no_argument, 0, 'h'};
	opts[n++] = (struct option){"config", required_argument, 0, 'c'};
	opts[n++] = (struct option){"check-config", no_argument, 0, 'k'};
	opts[n++] = (struct option){"version", no_argument, 0, 'V'};
	opts[n] = (struct option){0, 0, 0, 0};
	const char *file = config_arg(argc, argv);
	if (file) {
		char why[4400];
		snprintf(o->config, sizeof o->config, "%s", file);
		if (tb_conf_file(o, file, why, sizeof why)) {
			fprintf(stderr, "tallyd: %s\n", why);
			return 2;
		}
	}
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			tb_flags_usage(stdout);
			return 1;
		}
		if (c == 'V') {
			printf("tallyd %s%s\n", TB_VERSION,
			       tb_test_hooks() ? " (test build: reads TALLY_TEST_CLOCK and the "
						 "other test hooks)"
					       : "");
			return 1;
		}
		if (c == 'c')
			continue;
		if (c == 'k') {
			o->check_only = true;
			continue;
		}
		if (c < 256 || c >= 256 + (int)tb_nflags) {
			tb_flags_usage(stderr);
			return 2;
		}
		const struct tb_flag *fl = &tb_flags[c - 256];
		int err = fl->apply(o, optarg);
		if (err) {
			fprintf(stderr, "tallyd: --%s%s%s: %s%s\n", fl->name, optarg ? " " : "",
				optarg ? optarg : "",
				err == TB_EINVAL ? "not a valid " : tb_strerror(err),
				err == TB_EINVAL ? (fl->arg ? fl->arg : "use") : "");
			return 2;
		}
	}
	if (optind != argc) {
		tb_flags_usage(stderr);
		return 2;
	}
	return 0;
}
