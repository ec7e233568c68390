/*
 * session.c: the sessions of coordinators and members, and the throttles of
 * failed attempts, all fixed tables (TB_SESSIONS_MAX, TB_THROTTLE_MAX) that
 * never grow. A session is found by the SHA-256 of its cookie's random token
 * (compared in constant time), ends after TB_SESSION_IDLE_S unused or
 * TB_SESSION_LIFE_S in all, and carries the CSRF token state-changing
 * requests must echo. A session is a coordinator's or a member's
 * (who.member set), never both. One principal holds at most
 * TB_SESSIONS_PER_PRINCIPAL (a new one ends their own least recently used),
 * and a member's new session never ends a coordinator's while a member's is
 * there to end, so nobody signs in often enough to end everyone else's.
 * Failures are counted per client address in a table of their own kind
 * (coordinators' logins, members' sign-ins, invitations), so one kind's
 * success never clears another's count, and coordinators' logins per name as
 * well; past TB_THROTTLE_FREE failures each attempt must wait twice as long
 * as the one before (up to TB_THROTTLE_CAP_S). When a table is full the
 * entry used least recently goes.
 */
#include "http_int.h"

#include <string.h>
#include <time.h>

static uint64_t now_s(void)
{
	return (uint64_t)time(NULL);
}

static void hex(char *out, const uint8_t *p, size_t n)
{
	tb_hex_encode(out, p, n);
}

static bool expired(const struct tb_http *h, const struct tb_session *s, uint64_t now)
{
	return now >= s->created + h->session_life_s || now >= s->used + h->session_idle_s;
}

struct tb_session *tb_session_find(struct tb_http *h, const char *token)
{
	if (strlen(token) != 64)
		return NULL;
	uint8_t th[32];
	tb_sha256(th, (const uint8_t *)token, 64);
	uint64_t now = now_s();
	struct tb_session *found = NULL;
	for (size_t i = 0; i < TB_SESSIONS_MAX; i++) {
		struct tb_session *s = &h->sessions[i];
		if (s->live && !tb_memcmp_ct(s->token_hash, th, sizeof th))
			found = s;
	}
	if (found && expired(h, found, now)) {
		tb_session_end(found);
		return NULL;
	}
	if (found) {
		found->used = now;
		found->touched = ++h->session_uses;
	}
	return found;
}

static bool same_principal(const struct tb_principal *a, const struct tb_principal *b)
{
	return a->member == b->member && (a->member || !strcmp(a->name, b->name));
}

/* The slot for a new session of who: the least recently used of who's own
 * once they hold TB_SESSIONS_PER_PRINCIPAL, else a free one, else the least
 * recently used of all, a member's first (a member never ends a
 * coordinator's session while a member's is there to end). */
static struct tb_session *session_slot(struct tb_http *h, const struct tb_principal *who,
				       uint64_t now)
{
	struct tb_session *free_slot = NULL, *own = NULL, *member = NULL, *any = NULL;
	size_t n_own = 0;
	for (size_t i = 0; i < TB_SESSIONS_MAX; i++) {
		struct tb_session *s = &h->sessions[i];
		if (s->live && expired(h, s, now))
			tb_session_end(s);
		if (!s->live) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (same_principal(&s->who, who)) {
			n_own++;
			if (!own || s->touched < own->touched)
				own = s;
		}
		if (s->who.member && (!member || s->touched < member->touched))
			member = s;
		if (!any || s->touched < any->touched)
			any = s;
	}
	if (n_own >= TB_SESSIONS_PER_PRINCIPAL)
		return own;
	if (free_slot)
		return free_slot;
	return who->member && member ? member : any;
}

struct tb_session *tb_session_new(struct tb_http *h, const struct tb_principal *who, char token[65])
{
	uint64_t now = now_s();
	struct tb_session *slot = session_slot(h, who, now);
	uint8_t raw[32];
	tb_random(raw, sizeof raw);
	hex(token, raw, sizeof raw);
	memset(slot, 0, sizeof *slot);
	tb_sha256(slot->token_hash, (const uint8_t *)token, 64);
	tb_random(raw, sizeof raw);
	hex(slot->csrf, raw, sizeof raw);
	tb_wipe(raw, sizeof raw);
	slot->who = *who;
	slot->created = slot->used = now;
	slot->touched = ++h->session_uses;
	slot->live = true;
	return slot;
}

void tb_session_end(struct tb_session *s)
{
	tb_wipe(s, sizeof *s);
}

void tb_session_end_name(struct tb_http *h, const char *name)
{
	for (size_t i = 0; i < TB_SESSIONS_MAX; i++)
		if (h->sessions[i].live && !h->sessions[i].who.member &&
		    !strcmp(h->sessions[i].who.name, name))
			tb_session_end(&h->sessions[i]);
}

/* The entry of key, or (add) a fresh one in place of the least recent. */
static struct tb_throttle *throttle_of(struct tb_throttle *tab, const char *key, bool add,
				       uint64_t now)
{
	struct tb_throttle *oldest = &tab[0];
	for (size_t i = 0; i < TB_THROTTLE_MAX; i++) {
		if (tab[i].key[0] && !strcmp(tab[i].key, key))
			return &tab[i];
		if (!tab[i].key[0] || (oldest->key[0] && tab[i].last < oldest->last))
			oldest = &tab[i];
	}
	if (!add)
		return NULL;
	memset(oldest, 0, sizeof *oldest);
	snprintf(oldest->key, sizeof oldest->key, "%s", key);
	oldest->last = now;
	return oldest;
}

/* The tables a kind of attempt counts in: by address (its own kind's), and
 * by name for coordinators' logins only (a password can be guessed; a
 * member's signature or an invitation's token cannot). */
static void tables_of(struct tb_http *h, enum tb_throttle_kind kind, const char *name,
		      const char *addr, bool add, uint64_t now, struct tb_throttle *t[2])
{
	TB_ASSERT(kind < TB_THROTTLE_KINDS);
	t[0] = name && kind == TB_THROTTLE_LOGIN ? throttle_of(h->by_name, name, add, now) : NULL;
	t[1] = throttle_of(h->by_addr[kind], addr, add, now);
}

uint64_t tb_throttle_wait(struct tb_http *h, enum tb_throttle_kind kind, const char *name,
			  const char *addr)
{
	uint64_t now = tb_http_now_ms(h), wait = 0;
	struct tb_throttle *t[2];
	tables_of(h, kind, name, addr, false, now, t);
	for (int i = 0; i < 2; i++)
		if (t[i] && t[i]->until > now && t[i]->until - now > wait)
			wait = t[i]->until - now;
	return (wait + 999) / 1000;
}

static void failed_one(struct tb_throttle *t, uint64_t now)
{
	if (!t)
		return;
	t->failures++;
	t->last = now;
	if (t->failures < TB_THROTTLE_FREE)
		return;
	uint32_t k = t->failures - TB_THROTTLE_FREE;
	uint64_t s = k >= 10 ? TB_THROTTLE_CAP_S : (uint64_t)1 << k;
	if (s > TB_THROTTLE_CAP_S)
		s = TB_THROTTLE_CAP_S;
	t->until = now + s * 1000;
}

void tb_throttle_failed(struct tb_http *h, enum tb_throttle_kind kind, const char *name,
			const char *addr)
{
	uint64_t now = tb_http_now_ms(h);
	struct tb_throttle *t[2];
	tables_of(h, kind, name, addr, true, now, t);
	failed_one(t[0], now);
	failed_one(t[1], now);
}

void tb_throttle_passed(struct tb_http *h, enum tb_throttle_kind kind, const char *name,
			const char *addr)
{
	uint64_t now = tb_http_now_ms(h);
	struct tb_throttle *t[2];
	tables_of(h, kind, name, addr, false, now, t);
	for (int i = 0; i < 2; i++)
		if (t[i])
			memset(t[i], 0, sizeof *t[i]);
}
