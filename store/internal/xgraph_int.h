/*
 * xgraph_int.h: what the route search (xroute.c) reads of the graph
 * (xgraph.c) beyond tb_xroute.h: the node count and a node's edges in
 * place, so a search walks them without copies.
 */
#ifndef TB_XGRAPH_INT_H
#define TB_XGRAPH_INT_H

#include "tb_xroute.h"

size_t tb_xgraph_nodes(const struct tb_xgraph *g);
/* Node i's edges (i < tb_xgraph_nodes), sorted by their other end. */
const struct tb_xedge *tb_xgraph_out(const struct tb_xgraph *g, uint32_t i, size_t *n);

#endif
