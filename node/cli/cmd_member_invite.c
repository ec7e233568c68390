/*
 * cmd_member_invite.c: `tally member invite NAME [--valid DURATION] [--host
 * HOST]`: a one-time link for a new member to join with a key their own
 * browser makes (docs/API.md, "Invitations"), printed with its QR code
 * drawn in the terminal with UTF-8 half blocks (the modules from node/qr.c).
 * The token is printed once and never stored (only its hash).
 */
#include "cli.h"
#include "tb_json.h"
#include "tb_ops.h"
#include "tb_qr.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "7d", "12h", "30m", "45s" or a number of days, into seconds (0: bad). */
static uint64_t duration_of(const char *s)
{
	char *end;
	unsigned long long n = strtoull(s, &end, 10);
	if (end == s || n == 0 || n > TB_INVITE_VALID_MAX)
		return 0;
	uint64_t mul = !*end || !strcmp(end, "d") ? 86400
		       : !strcmp(end, "h")	  ? 3600
		       : !strcmp(end, "m")	  ? 60
		       : !strcmp(end, "s")	  ? 1
						  : 0;
	return mul && n * mul <= TB_INVITE_VALID_MAX ? n * mul : 0;
}

/* Two rows of modules per line: upper half, lower half, both, or none
 * (light text on a dark terminal reads as the code's dark modules would on
 * paper, so the light modules are the drawn ones). */
static int print_qr(const char *text)
{
	struct tb_qr q;
	if (tb_qr_make(&q, text))
		return -1;
	int n = q.size;
	for (int y = 0; y < n; y += 2) {
		for (int x = 0; x < n; x++) {
			bool top = !tb_qr_is_dark(&q, x, y),
			     bottom = y + 1 < n ? !tb_qr_is_dark(&q, x, y + 1) : false;
			fputs(top && bottom ? "\u2588"
			      : top	    ? "\u2580"
			      : bottom	    ? "\u2584"
					    : " ",
			      stdout);
		}
		putchar('\n');
	}
	tb_qr_free(&q);
	return 0;
}

int tb_cmd_member_invite(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"valid", required_argument, 0, 'v'},
					     {"host", required_argument, 0, 'H'},
					     {"no-qr", no_argument, 0, 'Q'},
					     {0, 0, 0, 0}};
	uint64_t valid = 7 * 86400;
	const char *host = "127.0.0.1:7480";
	bool qr = true;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "member", "invite")) != -1) {
		switch (c) {
		case 'v':
			if (!(valid = duration_of(optarg)))
				return tb_cli_fail(TB_EXIT_USAGE,
						   "--valid: '%s' is not 1s to 30d (like 7d, 12h)",
						   optarg);
			break;
		case 'H':
			host = optarg;
			break;
		case 'Q':
			qr = false;
			break;
		default:
			return TB_EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: %s",
				   tb_cmd_find("member", "invite")->usage);
	char name[TB_NAME_MAX + 1];
	int rc = tb_cli_check_name(argv[optind], "a member name");
	if (rc || (rc = tb_cli_name_nfc(argv[optind], name, "a member name")) ||
	    (rc = tb_cli_open(cli, true)))
		return rc;
	if (strchr(name, '@') || strlen(host) > 255 || strpbrk(host, " /#?"))
		return tb_cli_fail(TB_EXIT_USAGE, "%s",
				   strchr(name, '@') ? "a member name may not contain '@'"
						     : "--host wants HOST or HOST:PORT");
	struct tb_ops o = {cli->store, cli->self, cli->data, NULL};
	char token[65], link[400];
	uint64_t expires;
	struct tb_reject rej = {0};
	int err = tb_op_invite(&o, name, valid, token, &expires, &rej);
	if (err == TB_ENAME || err == TB_EUTF8)
		return tb_cli_fail(TB_EXIT_REFUSED, "refused: %s (%s)", rej.msg, tb_errname(err));
	if (err == TB_EFULL)
		return tb_cli_fail(TB_EXIT_REFUSED,
				   "%d invitations are waiting: wait for some to be used or expire",
				   TB_INVITES_MAX);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot keep the invitation: %s", tb_strerror(err));
	snprintf(link, sizeof link, "%s%s/member.html#/join/%s",
		 strncmp(host, "127.", 4) && strncmp(host, "localhost", 9) ? "https://" : "http://",
		 host, token);
	if (cli->json) { /* POST /api/v1/invites */
		struct tb_json *j = tb_json_object();
		tb_json_set(j, "name", tb_json_string(name));
		tb_json_set(j, "token", tb_json_string(token));
		tb_json_set(j, "link", tb_json_string(link));
		tb_json_set(j, "expires", tb_json_time(expires));
		if (qr && !tb_json_qr_set(j, link))
			fprintf(stderr, "tally: could not draw the QR code\n");
		tb_wipe(token, sizeof token);
		tb_json_print(j, stdout);
		tb_json_free(j);
		return TB_EXIT_OK;
	}
	tb_wipe(token, sizeof token);
	char when[32];
	struct tm tm;
	time_t t = (time_t)expires;
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	printf("Invitation for %s, valid once until %s:\n%s\n", name, when, link);
	if (qr && print_qr(link))
		fprintf(stderr, "tally: could not draw the QR code\n");
	return TB_EXIT_OK;
}
