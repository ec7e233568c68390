/*
 * known.c: what each peer is known to hold of every log (its replication
 * state's sorted records, looked up by binary search and merged in one
 * pass), and our own heads as of the last scan. Plain data: it calls
 * nothing else of the daemon, so every part of replication may use it.
 * Nothing a peer sends makes this side hold more than TB_PEER_LOGS_MAX
 * records for it.
 */
#include "daemon.h"

#include <stdlib.h>
#include <string.h>

const struct tb_head *tb_node_head(const struct tb_node *n, const uint8_t *log_id)
{
	size_t lo = 0, hi = n->nheads;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = memcmp(n->heads[mid].log_id, log_id, TB_KEY_LEN);
		if (cmp == 0)
			return &n->heads[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static size_t known_find(const struct tb_repl *r, const uint8_t *log_id, bool *found)
{
	size_t lo = 0, hi = r->nknown;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = memcmp(r->known[mid].log_id, log_id, TB_KEY_LEN);
		if (cmp == 0) {
			*found = true;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

uint64_t tb_known_get(const struct tb_conn *c, const uint8_t *log_id)
{
	const struct tb_repl *r = c->repl;
	bool found;
	if (!r)
		return 0;
	size_t i = known_find(r, log_id, &found);
	return found ? r->known[i].seq : 0;
}

struct tb_known *tb_known_at(struct tb_conn *c, const uint8_t *log_id, bool create)
{
	struct tb_repl *r = c->repl;
	bool found;
	if (!r)
		return NULL;
	size_t i = known_find(r, log_id, &found);
	if (found)
		return &r->known[i];
	if (!create || r->nknown >= TB_PEER_LOGS_MAX)
		return NULL;
	if (r->nknown == r->capknown) {
		size_t cap = r->capknown ? r->capknown * 2 : 16;
		void *k = realloc(r->known, cap * sizeof *r->known);
		if (!k)
			return NULL;
		r->known = k;
		r->capknown = cap;
	}
	/* One insertion: head records go through tb_known_merge instead. */
	memmove(&r->known[i + 1], &r->known[i], (r->nknown - i) * sizeof *r->known);
	memset(&r->known[i], 0, sizeof r->known[i]);
	memcpy(r->known[i].log_id, log_id, TB_KEY_LEN);
	r->nknown++;
	return &r->known[i];
}

int tb_known_raise(struct tb_conn *c, const uint8_t *log_id, uint64_t seq)
{
	struct tb_known *k = tb_known_at(c, log_id, true);
	if (!k)
		return TB_EFULL;
	if (seq > k->seq)
		k->seq = seq;
	return 0;
}

int tb_known_merge(struct tb_conn *c, const struct tb_known *in, size_t k)
{
	struct tb_repl *r = c->repl;
	size_t cap = r->nknown + k;
	if (!k)
		return 0;
	struct tb_known *out = malloc(cap * sizeof *out);
	if (!out)
		return TB_ENOMEM;
	size_t i = 0, j = 0, o = 0;
	while (i < r->nknown || j < k) {
		int cmp = i == r->nknown ? 1
			  : j == k	 ? -1
					 : memcmp(r->known[i].log_id, in[j].log_id, TB_KEY_LEN);
		if (cmp < 0) {
			out[o++] = r->known[i++];
		} else if (cmp > 0) {
			out[o++] = in[j++];
		} else {
			out[o] = r->known[i++];
			if (in[j].seq > out[o].seq)
				out[o].seq = in[j].seq;
			o++;
			j++;
		}
	}
	if (o > TB_PEER_LOGS_MAX) {
		free(out);
		return TB_EFULL;
	}
	free(r->known);
	r->known = out;
	r->nknown = o;
	r->capknown = cap;
	return 0;
}

size_t tb_repl_free(struct tb_conn *c)
{
	struct tb_repl *r = c->repl;
	if (!r)
		return 0;
	size_t bytes =
		sizeof *r + r->capknown * sizeof *r->known + r->nsnapshot * sizeof *r->snapshot;
	free(r->known);
	free(r->snapshot);
	free(r);
	c->repl = NULL;
	return bytes;
}

bool tb_repl_synced(const struct tb_conn *c)
{
	return c->state == TB_CONN_OPEN && c->repl && c->repl->synced;
}
