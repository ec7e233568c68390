/*
 * events.c: live updates as server-sent events (GET /api/v1/events). Each
 * stream has a fixed buffer; an announcement is queued to every stream as
 * one "event: entry" record, a comment keeps idle streams (and proxies)
 * alive every 15 seconds, and a stream whose reader falls a whole buffer
 * behind is ended rather than buffered without bound. At most
 * TB_STREAMS_MAX streams at once, TB_STREAMS_MEMBERS_MAX of them members'
 * (so members cannot take every stream from the coordinators), and
 * TB_STREAMS_PER_PRINCIPAL of one coordinator or member: a newer one ends
 * their oldest with "event: replaced" (often a tab closed whose connection
 * the server has not seen go). Members' sessions have streams too: they
 * get the same announcements (which log grew, never whose entry) and
 * "notice" events meant for them alone, never another member's.
 */
#include "http_int.h"

#include <stdlib.h>
#include <string.h>

static void queue(struct tb_stream *st, const char *text, size_t len)
{
	if (st->overflow)
		return;
	if (len > TB_STREAM_BUF - st->len) {
		st->overflow = true;
	} else {
		memcpy(st->buf + st->len, text, len);
		st->len += len;
	}
	tb_stream_wake(st);
}

void tb_stream_push(struct tb_http *h, const char *text, size_t len)
{
	for (struct tb_stream *st = h->streams; st; st = st->next)
		queue(st, text, len);
}

void tb_stream_push_member(struct tb_http *h, uint32_t member, const char *text, size_t len)
{
	for (struct tb_stream *st = h->streams; st; st = st->next)
		if (st->member == member)
			queue(st, text, len);
}

void tb_http_notice(struct tb_http *h, uint32_t member)
{
	static const char rec[] = "event: notice\ndata: {}\n\n";
	if (h && member)
		tb_stream_push_member(h, member, rec, sizeof rec - 1);
}

static void on_keepalive(uv_timer_t *t)
{
	static const char ka[] = ": keepalive\n\n";
	tb_stream_push(t->data, ka, sizeof ka - 1);
}

/* Queues one record "event: KIND" whose data names the log (its community,
 * whether it is ours) and one count, FIELD. */
static void announce(struct tb_http *h, const char *kind, const uint8_t log_id[TB_KEY_LEN],
		     const char *field, uint64_t value)
{
	if (!h || !h->streams)
		return;
	struct tb_community c;
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "log", tb_json_bytes(log_id, TB_KEY_LEN));
	tb_json_set(o, "community_name",
		    tb_store_community(h->host.store, log_id, &c) ? tb_json_null()
								  : tb_json_string(c.name));
	tb_json_set(o, "own", tb_json_bool(!memcmp(log_id, h->host.self, TB_KEY_LEN)));
	tb_json_set(o, field, tb_json_int((int64_t)value));
	size_t len;
	char *data = tb_json_dump(o, &len);
	tb_json_free(o);
	if (!data)
		return;
	char rec[1024];
	/* The dump ends in a newline: one data line, then the blank line. */
	int n = snprintf(rec, sizeof rec, "event: %s\ndata: %s\n", kind, data);
	free(data);
	if (n > 0 && (size_t)n < sizeof rec)
		tb_stream_push(h, rec, (size_t)n);
}

void tb_http_announce(struct tb_http *h, const uint8_t log_id[TB_KEY_LEN], uint64_t seq)
{
	announce(h, "entry", log_id, "seq", seq);
}

void tb_http_announce_checkpoint(struct tb_http *h, const uint8_t log_id[TB_KEY_LEN], uint64_t size)
{
	announce(h, "checkpoint", log_id, "size", size);
}

static bool same_principal(const struct tb_stream *st, const struct tb_principal *who)
{
	return st->member == who->member && (who->member || !strcmp(st->name, who->name));
}

/* Ends a stream with a last record that tells the page to poll instead of
 * reconnecting (which would end another of its principal's in turn). */
static void replace(struct tb_stream *st)
{
	static const char rec[] = "event: replaced\ndata: {}\n\n";
	queue(st, rec, sizeof rec - 1);
	st->ending = true;
	st->overflow = true;
	tb_stream_wake(st);
}

/* Room for one more stream of who: their oldest ended past their share;
 * false when the node's or the members' share is full. */
static bool make_room(struct tb_http *h, const struct tb_principal *who)
{
	size_t own = 0, members = 0;
	struct tb_stream *oldest = NULL; /* the list is newest first */
	for (struct tb_stream *st = h->streams; st; st = st->next) {
		if (st->ending)
			continue;
		if (st->member)
			members++;
		if (same_principal(st, who)) {
			own++;
			oldest = st;
		}
	}
	if (own >= TB_STREAMS_PER_PRINCIPAL && oldest) {
		replace(oldest);
		return h->nstreams < TB_STREAMS_MAX + TB_STREAMS_PER_PRINCIPAL;
	}
	return h->nstreams < TB_STREAMS_MAX && (!who->member || members < TB_STREAMS_MEMBERS_MAX);
}

static void events(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	if (!make_room(h, &req->who)) {
		resp->retry_after = 5;
		tb_http_error(resp, 503, "EFULL", "too many event streams open (%d, %d of members)",
			      TB_STREAMS_MAX, TB_STREAMS_MEMBERS_MAX);
		return;
	}
	struct tb_stream *st = calloc(1, sizeof *st);
	if (!st) {
		tb_http_fail(resp, TB_ENOMEM, NULL);
		return;
	}
	st->h = h;
	st->member = tb_http_member(req);
	if (!st->member)
		snprintf(st->name, sizeof st->name, "%s", req->who.name);
	static const char hello[] = ": tally events\nretry: 2000\n\n";
	memcpy(st->buf, hello, sizeof hello - 1);
	st->len = sizeof hello - 1;
	if (tb_stream_respond(h, req, st)) {
		free(st);
		tb_http_fail(resp, TB_ENOMEM, NULL);
		return;
	}
	st->next = h->streams;
	h->streams = st;
	h->nstreams++;
	if (!uv_is_active((uv_handle_t *)&h->keepalive))
		uv_timer_start(&h->keepalive, on_keepalive, TB_STREAM_KEEPALIVE_MS,
			       TB_STREAM_KEEPALIVE_MS);
	resp->stream = true;
}

int tb_api_events_routes(struct tb_http *h)
{
	const struct tb_route r = {"GET",	   "/api/v1/events", TB_ROUTE_MEMBER,
				   TB_ROLE_VIEWER, events,	     h};
	return tb_http_route(h, &r);
}
