/*
 * terms.c: what the exchange commands share (cmd_exchange.c within the
 * community, cmd_xexchange.c across communities): the options of the terms
 * (amount, memo, category, date, attest) and their checks, the parts every
 * exchange body starts from (date, txid, memo salt and hash), and a member's
 * signature over terms.
 */
#include "cli.h"

#include <string.h>

static int amount_opt(int c, const char *arg, int64_t *minutes)
{
	if (*minutes >= 0)
		return tb_cli_fail(TB_EXIT_USAGE, "give either --minutes or --hours, once");
	int err = c == 'm' ? tb_parse_minutes(arg, minutes) : tb_parse_hours(arg, minutes);
	if (err == TB_EAMOUNT)
		return tb_cli_fail(TB_EXIT_USAGE, "--hours %s is not a whole number of minutes",
				   arg);
	if (err == 0)
		return 0;
	const char *flag = c == 'm' ? "minutes" : "hours";
	const char *digits = arg[0] == '-' || arg[0] == '+' ? arg + 1 : arg;
	if (*digits && strspn(digits, "0123456789.:") == strlen(digits))
		return tb_cli_fail(TB_EXIT_USAGE,
				   "--%s: '%s' is out of range: an exchange is from 1 minute to "
				   "%d hours",
				   flag, arg, TB_MINUTES_MAX / 60);
	if (strchr(arg, ','))
		return tb_cli_fail(TB_EXIT_USAGE, "--%s: '%s' is not a number: write 1.5 or 1:30",
				   flag, arg);
	return tb_cli_fail(TB_EXIT_USAGE, "--%s: '%s' is not a number%s", flag, arg,
			   c == 'H' ? " (write 1.5 or 1:30)" : "");
}

void tb_cli_terms_init(struct tb_cli_terms *t)
{
	memset(t, 0, sizeof *t);
	t->minutes = -1;
	t->category = "";
}

int tb_cli_terms_opt(struct tb_cli_terms *t, int c, const char *arg)
{
	switch (c) {
	case 'm':
	case 'H':
		return amount_opt(c, arg, &t->minutes);
	case 'M':
		t->memo = arg;
		return 0;
	case 'c':
		t->category = arg;
		return 0;
	case 'd':
		t->date = arg;
		return 0;
	case 'a':
		t->attest = true;
		return 0;
	case 'B':
		t->backdate = true;
		return 0;
	default:
		return TB_CLI_NOT_TERMS;
	}
}

static int check_text(const char *s, size_t max, const char *what)
{
	if (strlen(s) > max)
		return tb_cli_fail(TB_EXIT_USAGE, "--%s is over %zu bytes", what, max);
	if (tb_text_check(s, strlen(s)))
		return tb_cli_fail(TB_EXIT_USAGE,
				   "--%s must be valid UTF-8 without control characters", what);
	return 0;
}

int tb_cli_terms_check(const struct tb_cli_terms *t)
{
	int rc;
	if (t->minutes == 0 || t->minutes > TB_MINUTES_MAX)
		return tb_cli_fail(TB_EXIT_REFUSED,
				   "refused: an exchange is from 1 minute to %d hours (EAMOUNT)",
				   TB_MINUTES_MAX / 60);
	if ((rc = check_text(t->memo, TB_MEMO_MAX, "memo")) ||
	    (rc = check_text(t->category, TB_CATEGORY_MAX, "category")))
		return rc;
	return 0;
}

int tb_cli_terms_base(const struct tb_cli_terms *t, struct tb_cli_base *b)
{
	if (t->date) {
		if (tb_parse_date(t->date, &b->date))
			return tb_cli_fail(TB_EXIT_USAGE, "--date: '%s' is not a date (YYYY-MM-DD)",
					   t->date);
		/* A date in the future is the ledger's date rule (EDATE); one long
		 * ago is allowed, but only on purpose. */
		if (tb_days_of(b->date) < tb_days_of(tb_today()) - TB_CLI_BACKDATE_DAYS &&
		    !t->backdate)
			return tb_cli_fail(
				TB_EXIT_USAGE,
				"--date: %s is more than %d days ago; give --backdate to "
				"record it (statements will mark it as backdated)",
				t->date, TB_CLI_BACKDATE_DAYS);
	} else {
		b->date = tb_today();
	}
	tb_random(b->txid, TB_TXID_LEN);
	tb_random(b->salt, TB_MEMO_SALT_LEN);
	tb_memo_hash(b->memo_hash, b->salt, t->memo, strlen(t->memo));
	return 0;
}

int tb_cli_sign_terms(const struct tb_msgdef *d, const void *terms, enum tb_sigctx ctx,
		      const struct tb_keypair *kp, uint8_t sig[TB_SIGLEN])
{
	uint8_t buf[TB_ENTRY_MAX];
	size_t len;
	int err = tb_terms_encode(buf, sizeof buf, &len, d, terms);
	if (err)
		return tb_cli_fail(TB_EXIT_USAGE, "cannot encode the terms: %s", tb_strerror(err));
	tb_sign(sig, kp, ctx, buf, len);
	return 0;
}
