/*
 * lists.c: the vocabulary's lists, each one object holding one array
 * (docs/API.md, "Vocabulary"): the members, the pending proposals, the
 * trust lines, the logs held, their fork proofs, the newest checkpoint of
 * each log and the console's coordinators. GET /api/v1/members,
 * /exchanges/pending, /links, /logs, /forks, /checkpoints and
 * /coordinators answer with them, and `tally --json member list`,
 * `exchange pending`, `link list`, `logs`, `forks` and `coordinator list`
 * print them, built by these same functions. Nothing here writes.
 */
#include "tb_json.h"
#include "tb_ops.h"

#include <string.h>
#include <time.h>

struct list_ctx {
	struct tb_store *s;
	const uint8_t *self;
	struct tb_json *arr;
	bool all; /* members: also those who left */
	int err;
};

static void cname(struct list_ctx *l, const uint8_t id[TB_KEY_LEN], char out[TB_NAME_MAX + 1])
{
	struct tb_ops o = {l->s, l->self, NULL, NULL};
	tb_op_community_name(&o, id, out, TB_NAME_MAX + 1);
}

/* Pushes v (NULL: out of memory); 1 stops the walk on failure. */
static int push(struct list_ctx *l, struct tb_json *v)
{
	return (l->err = tb_json_push(l->arr, v)) ? 1 : 0;
}

/* {key: the array}, or NULL with *err set: the walk's error, the
 * callbacks', or out of memory. A positive or TB_ENOTFOUND walk result is
 * an empty or stopped walk, not an error. */
static struct tb_json *wrap(struct list_ctx *l, const char *key, int walk, int *err)
{
	int e = walk == TB_ENOTFOUND || walk > 0 ? 0 : walk;
	if (!e)
		e = l->err;
	if (e || !l->arr) {
		tb_json_free(l->arr);
		*err = e ? e : TB_ENOMEM;
		return NULL;
	}
	struct tb_json *o = tb_json_object();
	/* The array is the object's now, also when this fails. */
	if ((e = tb_json_set(o, key, l->arr))) {
		tb_json_free(o);
		*err = e;
		return NULL;
	}
	*err = 0;
	return o;
}

static int member_one(void *vctx, const struct tb_member *m)
{
	struct list_ctx *l = vctx;
	if (!m->active && !l->all)
		return 0;
	return push(l, tb_vocab_member(m));
}

struct tb_json *tb_vocab_members(struct tb_store *s, const uint8_t self[TB_KEY_LEN], bool all,
				 int *err)
{
	struct list_ctx l = {s, self, tb_json_array(), all, 0};
	int walk = l.arr ? tb_store_foreach_member(s, self, member_one, &l) : 0;
	return wrap(&l, "members", walk, err);
}

static int pending_one(void *vctx, struct tb_view msg)
{
	struct list_ctx *l = vctx;
	struct tb_proposal p;
	if ((l->err = tb_msg_decode_exact(msg.p, msg.len, &tb_def_proposal, &p)))
		return 1;
	if (tb_pending_expired(&p, (uint64_t)time(NULL)))
		return 0;
	return push(l, tb_vocab_proposal(l->s, l->self, &p));
}

struct tb_json *tb_vocab_pending(struct tb_store *s, const uint8_t self[TB_KEY_LEN], int *err)
{
	struct list_ctx l = {s, self, tb_json_array(), false, 0};
	int walk = l.arr ? tb_store_foreach_pending(s, pending_one, &l) : 0;
	return wrap(&l, "pending", walk, err);
}

static int link_one(void *vctx, const struct tb_clearing *c)
{
	struct list_ctx *l = vctx;
	char name[TB_NAME_MAX + 1];
	cname(l, c->other, name);
	struct tb_clearing t;
	int err = tb_store_clearing(l->s, c->other, l->self, &t);
	if (err && err != TB_ENOTFOUND)
		return l->err = err;
	return push(l, tb_vocab_link(c, name, err ? NULL : &t));
}

struct tb_json *tb_vocab_links(struct tb_store *s, const uint8_t self[TB_KEY_LEN], int *err)
{
	struct list_ctx l = {s, self, tb_json_array(), false, 0};
	int walk = l.arr ? tb_store_foreach_clearing(s, self, link_one, &l) : 0;
	return wrap(&l, "links", walk, err);
}

static int log_one(void *vctx, const struct tb_head *h)
{
	struct list_ctx *l = vctx;
	char name[TB_NAME_MAX + 1];
	cname(l, h->log_id, name);
	return push(l, tb_vocab_log(h, name, !memcmp(h->log_id, l->self, TB_KEY_LEN)));
}

struct tb_json *tb_vocab_logs(struct tb_store *s, const uint8_t self[TB_KEY_LEN], int *err)
{
	struct list_ctx l = {s, self, tb_json_array(), false, 0};
	int walk = l.arr ? tb_store_foreach_log(s, log_one, &l) : 0;
	return wrap(&l, "logs", walk, err);
}

static int fork_one(void *vctx, const uint8_t log_id[TB_KEY_LEN], uint64_t seq, struct tb_view a,
		    struct tb_view b)
{
	struct list_ctx *l = vctx;
	char name[TB_NAME_MAX + 1];
	cname(l, log_id, name);
	return push(l, tb_vocab_fork(log_id, name, seq, a, b));
}

struct tb_json *tb_vocab_forks(struct tb_store *s, const uint8_t self[TB_KEY_LEN], int *err)
{
	struct list_ctx l = {s, self, tb_json_array(), false, 0};
	int walk = l.arr ? tb_store_foreach_fork(s, fork_one, &l) : 0;
	return wrap(&l, "forks", walk, err);
}

static int checkpoint_one(void *vctx, const struct tb_head *h)
{
	struct list_ctx *l = vctx;
	uint8_t buf[TB_CHECKPOINT_MAX];
	size_t len;
	struct tb_checkpoint cp;
	int err = tb_store_checkpoint_get(l->s, h->log_id, buf, sizeof buf, &len);
	if (err == TB_ENOTFOUND)
		return 0;
	if (err || (err = tb_checkpoint_open(&cp, buf, len)))
		return l->err = err;
	char name[TB_NAME_MAX + 1];
	cname(l, h->log_id, name);
	return push(l, tb_vocab_checkpoint(&cp, name));
}

struct tb_json *tb_vocab_checkpoints(struct tb_store *s, const uint8_t self[TB_KEY_LEN], int *err)
{
	struct list_ctx l = {s, self, tb_json_array(), false, 0};
	int walk = l.arr ? tb_store_foreach_log(s, checkpoint_one, &l) : 0;
	return wrap(&l, "checkpoints", walk, err);
}

static int coord_one(void *vctx, const struct tb_coord *c)
{
	return push(vctx, tb_vocab_coordinator(c));
}

struct tb_json *tb_vocab_coordinators(struct tb_store *s, int *err)
{
	struct list_ctx l = {s, NULL, tb_json_array(), false, 0};
	int walk = l.arr ? tb_store_foreach_coord(s, coord_one, &l) : 0;
	return wrap(&l, "coordinators", walk, err);
}

static int category_one(void *vctx, const char *name)
{
	return push(vctx, tb_json_string(name));
}

struct tb_json *tb_vocab_categories(struct tb_store *s, const char *category, const char *what,
				    bool done, int *err)
{
	struct list_ctx l = {s, NULL, tb_json_array(), false, 0};
	int walk = l.arr ? tb_store_foreach_category(s, category_one, &l) : 0;
	int e = walk > 0 ? 0 : walk;
	if (!e)
		e = l.err ? l.err : l.arr ? 0 : TB_ENOMEM;
	if (e) {
		tb_json_free(l.arr);
		*err = e;
		return NULL;
	}
	/* The change first, then the list, as the API has always answered.
	 * Each set takes its value, also when it fails. */
	struct tb_json *o = tb_json_object();
	if (category) {
		e = tb_json_set(o, "category", tb_json_string(category));
		e |= tb_json_set(o, what, tb_json_bool(done));
	}
	e |= tb_json_set(o, "categories", l.arr);
	if (e) {
		tb_json_free(o);
		o = NULL;
	}
	*err = e;
	return o;
}
