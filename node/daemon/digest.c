/*
 * digest.c: members' email digests (README, "Email digests"). A member who
 * chose daily or weekly and gave an address gets, once a day at the hour
 * the operator set (digest-hour, local time) or when an admin asks, a plain
 * text summary of their notices that are new since the last one (weekly:
 * at most one every 6 days); nothing new, nothing sent. A node started
 * after the hour runs the day's digests at its first tick: the members
 * already sent theirs since that day's hour (a run before a restart) are
 * skipped, so a restart neither loses the day nor sends twice. Each message goes
 * to the operator's sendmail-compatible command (sendmail = /usr/sbin/
 * sendmail -t -i), run with uv_spawn, without a shell, one at a time, the
 * message on its standard input. A command that runs longer than
 * sendmail-timeout seconds is killed; every exit is logged, and only an
 * exit status of 0 counts as sent. The one address a member controls goes
 * into To: only after tb_email_check; every other header is the node's,
 * and the body's texts lose their control characters.
 */
#include "daemon.h"
#include "tb_notices.h"
#include "tb_testhooks.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TB_SENDMAIL_ARGS 16
#define TB_DIGEST_TICK_MS (5 * 60 * 1000)
#define TB_DIGEST_RUN_MAX 10000 /* members served by one run; the rest next time */
#define TB_DIGEST_WEEK_S (6ull * 86400)
#define TB_DIGEST_MSG_MAX (64u << 10)

struct tb_digest {
	struct tb_node *n;
	char cmd[1024]; /* the command, split in place */
	char *argv[TB_SENDMAIL_ARGS + 1];
	uint64_t timeout_ms;
	int hour;
	char from[TB_EMAIL_MAX + 1];
	uv_timer_t tick;
	int ran_day;	       /* the local day (yyyymmdd) of the last scheduled run */
	uint64_t served_since; /* a scheduled run: daily members sent since then are done */
	/* a run: the members due, the next one */
	uint32_t *due;
	size_t ndue, next;
	uint64_t started; /* unix seconds: the run's time */
	bool running;
	uint64_t runs;	       /* runs so far (the log names each) */
	size_t nsent, nfailed; /* of this run */
	/* the command running now */
	uv_process_t proc;
	uv_pipe_t in;
	uv_timer_t timer;
	uv_write_t wr;
	char *msg;
	uint32_t member;
	int closing; /* handles of the current command still closing */
	bool timed_out;
};

static void next_member(struct tb_digest *d);

static int split(struct tb_digest *d, const char *cmd)
{
	if (snprintf(d->cmd, sizeof d->cmd, "%s", cmd) >= (int)sizeof d->cmd)
		return TB_ETOOLONG;
	size_t n = 0;
	for (char *save, *w = strtok_r(d->cmd, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == TB_SENDMAIL_ARGS)
			return TB_ETOOLONG;
		d->argv[n++] = w;
	}
	d->argv[n] = NULL;
	return n && d->argv[0][0] == '/' ? 0 : TB_EINVAL;
}

/* Appends to the message; stops quietly at its cap. */
static void put(char *msg, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(char *msg, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(msg + *len, TB_DIGEST_MSG_MAX - *len, fmt, ap);
	va_end(ap);
	if (k > 0)
		*len = *len + (size_t)k < TB_DIGEST_MSG_MAX ? *len + (size_t)k
							    : TB_DIGEST_MSG_MAX - 1;
}

/* A text of a member or another community, for the body: no control
 * characters (a line break would start a line of its own). */
static const char *clean(char *s)
{
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

static void day_of(uint64_t t, char out[11])
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static void line(char *msg, size_t *len, struct tb_notice *nt)
{
	char until[11];
	day_of(nt->until, until);
	const char *who = clean(nt->who), *text = clean(nt->text);
	unsigned long long mins = (unsigned long long)nt->minutes;
	switch (nt->kind) {
	case TB_NOTICE_ANSWER:
		put(msg, len, "  - %s answered your listing \"%s\".\n", who, text);
		break;
	case TB_NOTICE_PROPOSAL:
		put(msg, len,
		    "  - %s proposes an exchange of %llu minutes with you%s%s%s; confirm "
		    "or reject it by %s.\n",
		    who, mins, text[0] ? " (your listing \"" : "", text, text[0] ? "\")" : "",
		    until);
		break;
	case TB_NOTICE_PAID:
		put(msg, len, "  - Your payment of %llu minutes to %s completed.\n", mins, who);
		break;
	case TB_NOTICE_REFUSED:
		put(msg, len, "  - Your payment of %llu minutes to %s was refused: %s.\n", mins,
		    who, text);
		break;
	case TB_NOTICE_RECEIVED:
		put(msg, len, "  - %s paid you %llu minutes.\n", who, mins);
		break;
	case TB_NOTICE_EXPIRING:
		put(msg, len,
		    "  - Your listing \"%s\" expires on %s; renew it if it still holds.\n", text,
		    until);
		break;
	}
}

/* The message for a member, or NULL when nothing is new for them. */
static char *message(struct tb_digest *d, uint32_t no, const struct tb_notice_prefs *p, size_t *len)
{
	struct tb_node *n = d->n;
	struct tb_member m;
	struct tb_notices *ns = malloc(sizeof *ns);
	char *msg = malloc(TB_DIGEST_MSG_MAX);
	size_t fresh = 0;
	if (ns && msg && !tb_store_member(n->store, n->self, no, &m) && m.active &&
	    !tb_notices_collect(n->store, n->self, no, d->started, ns))
		for (size_t i = 0; i < ns->n; i++)
			fresh += ns->v[i].time > p->sent;
	char why[160];
	if (!fresh || tb_email_check(p->email, why, sizeof why)) {
		free(ns);
		free(msg);
		return NULL;
	}
	char date[64], since[11], id[2 * 16 + 1];
	uint8_t rnd[16];
	time_t now = (time_t)d->started;
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
	tb_random(rnd, sizeof rnd);
	tb_hex_encode(id, rnd, sizeof rnd);
	*len = 0;
	put(msg, len, "From: Tally <%s>\r\nTo: <%s>\r\nSubject: Tally: %zu new for you\r\n",
	    d->from, p->email, fresh);
	put(msg, len, "Date: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n", date, id,
	    strchr(d->from, '@') + 1);
	put(msg, len,
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: "
	    "8bit\r\nAuto-Submitted: auto-generated\r\n\r\n");
	day_of(p->sent, since);
	put(msg, len, "Hello %s,\n\nNew for you at %s since %s:\n\n", clean(m.name), clean(n->name),
	    since);
	for (size_t i = 0; i < ns->n; i++)
		if (ns->v[i].time > p->sent)
			line(msg, len, &ns->v[i]);
	put(msg, len,
	    "\nYour page shows what waits for you, and there you can change or stop "
	    "this digest.\n\n-- \nTally, %s\n",
	    n->name);
	free(ns);
	return msg;
}

static void on_closed(uv_handle_t *h)
{
	struct tb_digest *d = h->data;
	if (--d->closing == 0) {
		free(d->msg);
		d->msg = NULL;
		if (!d->n->stopping)
			next_member(d);
	}
}

static void on_written(uv_write_t *w, int status)
{
	struct tb_digest *d = w->data;
	if (status)
		tb_log(d->n, TB_LOG_WARN, "digest for member #%u: writing to sendmail: %s",
		       d->member, uv_strerror(status));
	if (!uv_is_closing((uv_handle_t *)&d->in))
		uv_close((uv_handle_t *)&d->in, on_closed);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct tb_digest *d = p->data;
	uv_timer_stop(&d->timer);
	if (!status && !sig) {
		struct tb_notice_prefs pr;
		int err = tb_store_notice_prefs(d->n->store, d->member, &pr);
		pr.sent = d->started;
		if (!err)
			err = tb_store_notice_prefs_put(d->n->store, d->member, &pr);
		tb_log(d->n, err ? TB_LOG_WARN : TB_LOG_INFO, "digest for member #%u sent%s%s",
		       d->member, err ? ", but not recorded: " : "", err ? tb_strerror(err) : "");
		d->nsent++;
	} else if (d->timed_out) {
		tb_log(d->n, TB_LOG_WARN,
		       "digest for member #%u: sendmail did not finish within %llu s; killed",
		       d->member, (unsigned long long)(d->timeout_ms / 1000));
	} else if (sig) {
		tb_log(d->n, TB_LOG_WARN, "digest for member #%u: sendmail ended by signal %d",
		       d->member, sig);
	} else {
		tb_log(d->n, TB_LOG_WARN,
		       "digest for member #%u: sendmail exited with status %lld; not sent",
		       d->member, (long long)status);
	}
	d->nfailed += status || sig;
	if (!uv_is_closing((uv_handle_t *)&d->in))
		uv_close((uv_handle_t *)&d->in, on_closed);
	uv_close((uv_handle_t *)p, on_closed);
}

static void on_timeout(uv_timer_t *t)
{
	struct tb_digest *d = t->data;
	d->timed_out = true;
	(void)uv_process_kill(&d->proc, SIGKILL);
}

/* Starts the command for d->member with msg; false when it could not. */
static bool spawn(struct tb_digest *d, char *msg, size_t len)
{
	uv_pipe_init(d->n->loop, &d->in, 0);
	d->in.data = d;
	uv_stdio_container_t io[3] = {
		{.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&d->in},
		{.flags = UV_IGNORE},
		{.flags = UV_IGNORE},
	};
	uv_process_options_t po = {.exit_cb = on_exit_cb,
				   .file = d->argv[0],
				   .args = d->argv,
				   .stdio_count = 3,
				   .stdio = io};
	d->proc.data = d;
	d->msg = msg;
	d->timed_out = false;
	d->closing = 2;
	int rc = uv_spawn(d->n->loop, &d->proc, &po);
	if (rc) {
		tb_log(d->n, TB_LOG_WARN, "digest for member #%u: cannot run %s: %s", d->member,
		       d->argv[0], uv_strerror(rc));
		d->nfailed++;
		uv_close((uv_handle_t *)&d->in, on_closed);
		uv_close((uv_handle_t *)&d->proc, on_closed);
		return false;
	}
	uv_timer_start(&d->timer, on_timeout, d->timeout_ms, 0);
	uv_buf_t b = uv_buf_init(msg, (unsigned)len);
	d->wr.data = d;
	rc = uv_write(&d->wr, (uv_stream_t *)&d->in, &b, 1, on_written);
	if (rc) {
		tb_log(d->n, TB_LOG_WARN, "digest for member #%u: writing to sendmail: %s",
		       d->member, uv_strerror(rc));
		uv_close((uv_handle_t *)&d->in, on_closed);
	}
	return true;
}

/* The next member of the run with something new, or the run's end. */
static void next_member(struct tb_digest *d)
{
	while (d->next < d->ndue) {
		struct tb_notice_prefs p;
		size_t len;
		d->member = d->due[d->next++];
		if (tb_store_notice_prefs(d->n->store, d->member, &p) || p.digest == TB_DIGEST_NONE)
			continue;
		char *msg = message(d, d->member, &p, &len);
		if (msg && spawn(d, msg, len))
			return;
		if (msg)
			return; /* the handles' close goes on with the next */
	}
	if (d->running)
		tb_log(d->n, TB_LOG_INFO, "digests: run %llu done: %zu sent, %zu failed",
		       (unsigned long long)d->runs, d->nsent, d->nfailed);
	free(d->due);
	d->due = NULL;
	d->ndue = d->next = 0;
	d->running = false;
}

struct due_ctx {
	struct tb_digest *d;
};

static int due_one(void *vctx, uint32_t member, const struct tb_notice_prefs *p)
{
	struct tb_digest *d = ((struct due_ctx *)vctx)->d;
	if (d->ndue == TB_DIGEST_RUN_MAX)
		return 1;
	if (p->digest == TB_DIGEST_WEEKLY && p->sent + TB_DIGEST_WEEK_S > d->started)
		return 0;
	if (p->digest == TB_DIGEST_DAILY && d->served_since && p->sent >= d->served_since)
		return 0;
	d->due[d->ndue++] = member;
	return 0;
}

/* A run; served_since 0 for an admin's (every member due), else the time of
 * the day's hour (daily members sent since are skipped). */
static int run(struct tb_node *n, uint64_t served_since, size_t *queued)
{
	struct tb_digest *d = n->digests;
	*queued = 0;
	if (!d)
		return TB_ENOTFOUND;
	if (d->running)
		return TB_EFULL;
	d->due = malloc(TB_DIGEST_RUN_MAX * sizeof *d->due);
	if (!d->due)
		return TB_ENOMEM;
	d->started = (uint64_t)time(NULL);
	d->served_since = served_since;
	d->ndue = d->next = 0;
	struct due_ctx c = {d};
	int err = tb_store_foreach_digest(n->store, due_one, &c);
	if (err < 0) {
		free(d->due);
		d->due = NULL;
		return err;
	}
	if (err > 0)
		tb_log(n, TB_LOG_WARN, "digests: more than %d members due; the rest next time",
		       TB_DIGEST_RUN_MAX);
	*queued = d->ndue;
	d->runs++;
	d->nsent = d->nfailed = 0;
	tb_log(n, TB_LOG_INFO, "digests: run %llu: %zu members due", (unsigned long long)d->runs,
	       d->ndue);
	d->running = true;
	next_member(d);
	return 0;
}

int tb_digest_run(struct tb_node *n, size_t *queued)
{
	return run(n, 0, queued);
}

static void on_tick(uv_timer_t *t)
{
	struct tb_digest *d = t->data;
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	int day = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
	size_t queued;
	if (tm.tm_hour >= d->hour && day != d->ran_day && !d->running) {
		d->ran_day = day;
		struct tm at = tm;
		at.tm_hour = d->hour;
		at.tm_min = at.tm_sec = 0;
		at.tm_isdst = -1;
		time_t since = mktime(&at);
		int err = run(d->n, since > 0 ? (uint64_t)since : 1, &queued);
		if (err)
			tb_log(d->n, TB_LOG_WARN, "digests: %s", tb_strerror(err));
	}
}

int tb_digest_start(struct tb_node *n, const struct tb_daemon_opts *o)
{
	if (!o->sendmail[0])
		return 0;
	struct tb_digest *d = calloc(1, sizeof *d);
	if (!d)
		return TB_ENOMEM;
	d->n = n;
	if (split(d, o->sendmail)) {
		free(d);
		tb_log(n, TB_LOG_ERROR, "sendmail: not an absolute path and at most %d words",
		       TB_SENDMAIL_ARGS);
		return TB_EINVAL;
	}
	d->timeout_ms = (uint64_t)o->sendmail_timeout_s * 1000;
	d->hour = o->digest_hour;
	if (o->mail_from[0]) {
		snprintf(d->from, sizeof d->from, "%s", o->mail_from);
	} else {
		char host[200];
		size_t hl = sizeof host;
		if (uv_os_gethostname(host, &hl))
			snprintf(host, sizeof host, "localhost");
		snprintf(d->from, sizeof d->from, "tally@%s", host);
	}
	uv_timer_init(n->loop, &d->tick);
	uv_timer_init(n->loop, &d->timer);
	d->tick.data = d->timer.data = d;
	const char *tick = tb_test_env("TALLYD_DIGEST_TICK_MS");
	uint64_t ms = tick && atoll(tick) > 0 ? (uint64_t)atoll(tick) : TB_DIGEST_TICK_MS;
	uv_timer_start(&d->tick, on_tick, ms, ms);
	n->digests = d;
	tb_log(n, TB_LOG_INFO, "email digests on: %s, at %02d:00, from %s", d->argv[0], d->hour,
	       d->from);
	return 0;
}

void tb_digest_stop(struct tb_node *n)
{
	struct tb_digest *d = n->digests;
	if (d && d->closing && !uv_is_closing((uv_handle_t *)&d->proc))
		(void)uv_process_kill(&d->proc, SIGKILL);
}

void tb_digest_free(struct tb_node *n)
{
	if (!n->digests)
		return;
	free(n->digests->msg);
	free(n->digests->due);
	free(n->digests);
	n->digests = NULL;
}
