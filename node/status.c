/*
 * status.c: the status file tallyd writes (atomically) whenever its view of
 * peers changes, so that `tally peer list` can show connections and lag
 * without talking to the daemon. A line-oriented text format; the reader
 * checks every field and caps every count.
 */
#include "tb_node.h"
#include "tb_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TB_STATUS_V1_LOGS_MAX 100000
/* Far above what tallyd writes (TB_PEERS_MAX peers of TB_STATUS_LOGS_MAX
 * logs, lines under 300 bytes): a bigger file is not one of its. */
#define STATUS_FILE_MAX (16u << 20)

int tb_status_write(const char *data, const struct tb_status *st)
{
	char path[4200], hex[2 * TB_KEY_LEN + 1];
	snprintf(path, sizeof path, "%s/status", data);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return TB_ENOMEM;
	tb_hex_encode(hex, st->node_id, TB_KEY_LEN);
	fprintf(f, "tally-status 2\nnode %s %u %llu %s\n", hex, st->pid,
		(unsigned long long)st->written, st->listen);
	for (size_t i = 0; i < st->npeers; i++) {
		const struct tb_status_peer *p = &st->peers[i];
		if (p->has_id)
			tb_hex_encode(hex, p->id, TB_KEY_LEN);
		fprintf(f, "peer %s %s %d %d %llu %llu %llu %zu %zu %s\n", p->addr,
			p->has_id ? hex : "-", p->connected, p->outbound,
			(unsigned long long)p->last_contact, (unsigned long long)p->bytes_in,
			(unsigned long long)p->bytes_out, p->nbehind, p->nlogs, p->name);
		for (size_t k = 0; k < p->nlogs; k++) {
			tb_hex_encode(hex, p->logs[k].log_id, TB_KEY_LEN);
			fprintf(f, "log %s %llu\n", hex, (unsigned long long)p->logs[k].peer_seq);
		}
	}
	int err = ferror(f) ? TB_ENOMEM : 0;
	if (fclose(f))
		err = TB_ENOMEM;
	/* Rewritten often and only informative: a crash may take it back. */
	if (!err)
		err = tb_file_write(path, text, len, 0644, TB_FILE_NOSYNC);
	free(text);
	return err;
}

void tb_status_free(struct tb_status *st)
{
	for (size_t i = 0; i < st->npeers; i++)
		free(st->peers[i].logs);
	free(st->peers);
	memset(st, 0, sizeof *st);
}

/* Room for one more peer in st (at most TB_PEERS_MAX * 4). */
static int status_grow(struct tb_status *st, size_t *cap)
{
	if (st->npeers == TB_PEERS_MAX * 4)
		return TB_ECORRUPT;
	if (st->npeers < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *np = realloc(st->peers, ncap * sizeof *st->peers);
	if (!np)
		return TB_ENOMEM;
	st->peers = np;
	*cap = ncap;
	return 0;
}

/* One "peer" line of a version-1 or -2 file (in line) and the "log" lines
 * after it (read from f), as st's next peer. */
static int status_peer(FILE *f, char *line, size_t cap, int version, struct tb_status *st)
{
	char hex[80], addr[TB_ADDR_MAX];
	int conn, out, used = 0;
	size_t nlogs, nbehind;
	unsigned long long a, b, bin, bout;
	/* Version 1 (an older tallyd) listed every log the peer claimed and no
	 * count of those behind. */
	if (version == 1) {
		if (sscanf(line, "peer %79s %64s %d %d %llu %llu %llu %zu %n", addr, hex, &conn,
			   &out, &a, &bin, &bout, &nlogs, &used) != 8 ||
		    nlogs > TB_STATUS_V1_LOGS_MAX)
			return TB_ECORRUPT;
		nbehind = nlogs;
	} else if (sscanf(line, "peer %79s %64s %d %d %llu %llu %llu %zu %zu %n", addr, hex, &conn,
			  &out, &a, &bin, &bout, &nbehind, &nlogs, &used) != 9 ||
		   nlogs > TB_STATUS_LOGS_MAX || nlogs > nbehind) {
		return TB_ECORRUPT;
	}
	struct tb_status_peer *cur = &st->peers[st->npeers++];
	memset(cur, 0, sizeof *cur);
	snprintf(cur->addr, sizeof cur->addr, "%s", addr);
	if (strcmp(hex, "-")) {
		if (tb_hex_decode(cur->id, TB_KEY_LEN, hex))
			return TB_ECORRUPT;
		cur->has_id = true;
	}
	cur->connected = conn;
	cur->outbound = out;
	cur->last_contact = a;
	cur->bytes_in = bin;
	cur->bytes_out = bout;
	cur->nbehind = nbehind;
	snprintf(cur->name, sizeof cur->name, "%s", line + used);
	cur->logs = calloc(nlogs ? nlogs : 1, sizeof *cur->logs);
	if (!cur->logs)
		return TB_ENOMEM;
	for (size_t k = 0; k < nlogs; k++) {
		if (!fgets(line, (int)cap, f) || sscanf(line, "log %64s %llu", hex, &b) != 2 ||
		    tb_hex_decode(cur->logs[k].log_id, TB_KEY_LEN, hex))
			return TB_ECORRUPT;
		cur->logs[k].peer_seq = b;
		cur->nlogs++;
	}
	return 0;
}

int tb_status_read(const char *data, struct tb_status *st)
{
	char path[4200], line[512], hex[80];
	memset(st, 0, sizeof *st);
	snprintf(path, sizeof path, "%s/status", data);
	uint8_t *text;
	size_t len;
	int err = tb_file_read(path, STATUS_FILE_MAX, &text, &len);
	if (err)
		return err;
	FILE *f = len ? fmemopen(text, len, "r") : NULL;
	if (!f) {
		free(text);
		return len ? TB_ENOMEM : TB_ECORRUPT;
	}
	err = TB_ECORRUPT;
	unsigned long long a, b;
	int version = 0;
	if (!fgets(line, sizeof line, f) || sscanf(line, "tally-status %d", &version) != 1 ||
	    (version != 1 && version != 2))
		goto out;
	if (!fgets(line, sizeof line, f) ||
	    sscanf(line, "node %64s %llu %llu %79s", hex, &a, &b, st->listen) != 4 ||
	    tb_hex_decode(st->node_id, TB_KEY_LEN, hex))
		goto out;
	st->pid = (uint32_t)a;
	st->written = b;
	size_t cap = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "peer ", 5)) {
			if ((err = status_grow(st, &cap)) ||
			    (err = status_peer(f, line, sizeof line, version, st)))
				goto out;
			err = TB_ECORRUPT;
		} else if (line[0]) {
			goto out;
		}
	}
	err = 0;
out:
	fclose(f);
	free(text);
	if (err)
		tb_status_free(st);
	return err;
}
