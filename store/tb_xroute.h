/*
 * tb_xroute.h: the trust-line graph of the federation and routes over it
 * (PROTOCOL.md 12.7), the store module's public header for them.
 *
 * A node knows the graph from the logs it holds: every link entry (kind 7)
 * of a held log Y toward X is an edge X -> Y ("a member of X may pay into
 * Y"), and Y's clearing account toward X gives its room: Y's limit for X,
 * minus what X already owes Y, minus what X's open prepares toward Y hold
 * (when X's log is held). The graph is cached per log: a refresh re-reads
 * only the logs whose head moved since the last one. A search finds up to
 * k routes of at most TB_XROUTE_HOPS_MAX hops whose every edge has room for
 * the amount, shortest first, then most room, then by community id; and the
 * nearest routes that fail, each hop saying why. Nothing here writes.
 */
#ifndef TB_XROUTE_H
#define TB_XROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tb_store.h"

/* Longest route searched (issue 17: six hops). */
#define TB_XROUTE_HOPS_MAX 6
/* Routes found at most, and failing routes explained at most, per search. */
#define TB_XROUTE_K_MAX 8
/* Longest failing route looked at (to say "too long"). */
#define TB_XROUTE_LOOK_MAX (2 * TB_XROUTE_HOPS_MAX)
/* Communities (held logs and the ones their links name) and trust lines
 * (clearing accounts of held logs) in one graph; past them the rest is
 * left out and counted in tb_xgraph_stats.dropped. */
#define TB_XGRAPH_NODES_MAX 65536
#define TB_XGRAPH_LINES_MAX 524288

/* What a node of the graph is, as far as the logs held show. */
enum tb_xnode_state {
	TB_XNODE_OK = 0,	  /* held and admitted here */
	TB_XNODE_UNKNOWN = 1,	  /* only named by others' links: its log is not held */
	TB_XNODE_NOTADMITTED = 2, /* held, but not admitted here (removed) */
	TB_XNODE_FORKED = 3,	  /* its log forked (no successor held) */
	TB_XNODE_SUCCEEDED = 4,	  /* its log forked and a successor took over */
};

struct tb_xnode {
	uint8_t id[TB_KEY_LEN];
	char name[TB_NAME_MAX + 1]; /* genesis name; "" when not held */
	uint8_t state;		    /* enum tb_xnode_state */
};

/* One hop X -> Y: a member of X pays a member of Y. */
struct tb_xedge {
	uint32_t from, to;
	uint64_t limit; /* Y's trust limit for X */
	int64_t owed;	/* minutes X owes Y now (negative: Y owes X) */
	int64_t held;	/* minutes X's open prepares toward Y hold (0: X not held) */
	int64_t room;	/* limit - owed - held: what one more exchange may carry */
	bool back;	/* X has a trust line to Y (needed to prepare), or X not held */
};

struct tb_xgraph;

TB_MUST_CHECK int tb_xgraph_new(struct tb_xgraph **out);
void tb_xgraph_free(struct tb_xgraph *g);

/* Brings the graph up to the store's logs: re-reads the logs whose head
 * moved (or that are new), drops those no longer held, recomputes the
 * admitted set and the forked states, and rebuilds the edges. 0 or a store
 * error (the graph is then empty). */
TB_MUST_CHECK int tb_xgraph_refresh(struct tb_xgraph *g, struct tb_store *s);

/* Synthetic graphs (tests, benchmarks): the log id with its name, state and
 * clearing accounts (copied), in place of any earlier put of that id; then
 * tb_xgraph_build. TB_EFULL past the caps, TB_ENOMEM. */
TB_MUST_CHECK int tb_xgraph_put(struct tb_xgraph *g, const uint8_t id[TB_KEY_LEN], const char *name,
				uint8_t state, const struct tb_clearing *c, size_t n);
TB_MUST_CHECK int tb_xgraph_build(struct tb_xgraph *g);

struct tb_xgraph_stats {
	size_t nodes, edges;
	size_t logs;	/* held logs read */
	size_t reread;	/* logs read again by the last refresh */
	size_t dropped; /* trust lines or communities left out by the caps */
};
void tb_xgraph_stats(const struct tb_xgraph *g, struct tb_xgraph_stats *out);
/* Node i (i < nodes), or NULL. */
const struct tb_xnode *tb_xgraph_node(const struct tb_xgraph *g, uint32_t i);
/* The node of a log id: 0 and *i, or TB_ENOTFOUND. */
TB_MUST_CHECK int tb_xgraph_find(const struct tb_xgraph *g, const uint8_t id[TB_KEY_LEN],
				 uint32_t *i);
/* The edge from -> to, or NULL when there is no trust line that way. */
const struct tb_xedge *tb_xgraph_edge(const struct tb_xgraph *g, uint32_t from, uint32_t to);

/* Why a hop of a route cannot carry the amount (the first that applies). */
enum tb_xhop_why {
	TB_XHOP_OK = 0,
	TB_XHOP_NOTADMITTED = 1, /* the hop's community is not admitted here */
	TB_XHOP_FORKED = 2,	 /* its log forked */
	TB_XHOP_SUCCEEDED = 3,	 /* its log was succeeded by another */
	TB_XHOP_NOBACK = 4,	 /* the paying side has no trust line to it */
	TB_XHOP_FULL = 5,	 /* room < amount */
};
/* "line full", "not admitted here"...; never NULL. */
const char *tb_xhop_text(int why);

struct tb_xhop {
	uint32_t from, to;
	int64_t room;
	uint8_t why; /* enum tb_xhop_why */
};

struct tb_xroute {
	size_t nhops;
	struct tb_xhop hop[TB_XROUTE_LOOK_MAX];
	int64_t room;  /* the smallest room of its hops */
	bool too_long; /* more hops than the search allowed */
	size_t bad;    /* hops that cannot carry the amount */
};

/* Why no route at all could be looked at. */
enum tb_xnone {
	TB_XNONE_SOME = 0,    /* there are candidates */
	TB_XNONE_SAME = 1,    /* from = to */
	TB_XNONE_UNKNOWN = 2, /* the payee's community's log is not held here */
	TB_XNONE_NOLINES = 3, /* the payee's community trusts no one */
	TB_XNONE_NOPATH = 4,  /* no chain of trust lines from here reaches it */
};

struct tb_xroute_query {
	const uint8_t *from, *to; /* log ids */
	uint64_t minutes;
	unsigned max_hops; /* 1..TB_XROUTE_HOPS_MAX (0: TB_XROUTE_HOPS_MAX) */
	unsigned k;	   /* 1..TB_XROUTE_K_MAX (0: 5) */
};

struct tb_xroute_result {
	struct tb_xroute found[TB_XROUTE_K_MAX]; /* every hop OK, best first */
	size_t nfound;
	/* The nearest routes that fail (fewest failing hops, then shortest,
	 * then most room), none of them in found. */
	struct tb_xroute refused[TB_XROUTE_K_MAX];
	size_t nrefused;
	uint8_t none; /* enum tb_xnone */
};

/* Searches routes for q in g. 0 (nfound may be 0), TB_ENOTFOUND when
 * q->from is not in the graph, TB_EINVAL for a bad query, TB_ENOMEM. */
TB_MUST_CHECK int tb_xroute_find(const struct tb_xgraph *g, const struct tb_xroute_query *q,
				 struct tb_xroute_result *out);

#endif
