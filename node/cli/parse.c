/*
 * parse.c: strict parsing of what users type: hours and minutes, dates, ids
 * and numbers. Anything not exactly understood is an error, never a guess.
 */
#include "cli.h"
#include "tb_ops.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int tb_parse_u64(const char *s, uint64_t *v)
{
	if (!*s || strlen(s) > 19)
		return TB_EINVAL;
	uint64_t x = 0;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return TB_EINVAL;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*v = x;
	return 0;
}

int tb_parse_minutes(const char *s, int64_t *minutes)
{
	uint64_t v;
	if (tb_parse_u64(s, &v) || v > TB_LIMIT_MAX)
		return TB_EINVAL;
	*minutes = (int64_t)v;
	return 0;
}

/* "2", "1.5", "0.25", "1:30". Must be a whole number of minutes. */
int tb_parse_hours(const char *s, int64_t *minutes)
{
	char whole[24], frac[24] = "";
	const char *sep = strpbrk(s, ".:");
	size_t wl = sep ? (size_t)(sep - s) : strlen(s);
	if (wl == 0 || wl >= sizeof whole)
		return TB_EINVAL;
	memcpy(whole, s, wl);
	whole[wl] = '\0';
	uint64_t h, f = 0;
	if (tb_parse_u64(whole, &h) || h > TB_LIMIT_MAX / 60)
		return TB_EINVAL;
	int64_t m = (int64_t)h * 60;
	if (sep) {
		size_t fl = strlen(sep + 1);
		if (fl == 0 || fl > 6)
			return TB_EINVAL;
		memcpy(frac, sep + 1, fl + 1);
		if (tb_parse_u64(frac, &f))
			return TB_EINVAL;
		if (*sep == ':') {
			if (fl != 2 || f >= 60)
				return TB_EINVAL;
			m += (int64_t)f;
		} else {
			uint64_t scale = 1;
			for (size_t i = 0; i < fl; i++)
				scale *= 10;
			if ((f * 60) % scale)
				return TB_EAMOUNT; /* not a whole number of minutes */
			m += (int64_t)(f * 60 / scale);
		}
	}
	*minutes = m;
	return 0;
}

int tb_parse_date(const char *s, uint64_t *yyyymmdd)
{
	return tb_date_parse(s, yyyymmdd);
}

uint64_t tb_today(void)
{
	return tb_date_today();
}

int tb_parse_txid(const char *s, uint8_t txid[TB_TXID_LEN])
{
	return tb_hex_decode(txid, TB_TXID_LEN, s);
}

int64_t tb_days_of(uint64_t yyyymmdd)
{
	/* Howard Hinnant's days_from_civil. */
	int64_t y = (int64_t)(yyyymmdd / 10000), m = (int64_t)(yyyymmdd / 100 % 100),
		d = (int64_t)(yyyymmdd % 100);
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool tb_cli_backdated(uint64_t yyyymmdd, uint64_t timestamp)
{
	return tb_days_of(yyyymmdd) < (int64_t)(timestamp / 86400) - TB_CLI_BACKDATE_DAYS;
}
