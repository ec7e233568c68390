/*
 * config.c: the data directory's small text files other than the ledger: the
 * peer list and the federation key. Parsing is strict and line-numbered; a
 * file is rewritten atomically (temp file, fsync, rename), never in place.
 */
#include "tb_node.h"
#include "tb_file.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tb_addr_parse(const char *s, char *host, size_t cap, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return TB_EINVAL;
	size_t hl = (size_t)(colon - s);
	const char *h = s;
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']')
			return TB_EINVAL;
		h = s + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= cap)
		return TB_EINVAL;
	char *end;
	errno = 0;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (errno || *end || colon[1] == '\0' || p == 0 || p > 65535)
		return TB_EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	for (size_t i = 0; i < hl; i++)
		if (!isalnum((unsigned char)host[i]) && !strchr(".:-", host[i]))
			return TB_EINVAL;
	*port = (uint16_t)p;
	return 0;
}

static int parse_peer_line(char *line, struct tb_peer_conf *p)
{
	char *save = NULL;
	char *addr = strtok_r(line, " \t", &save);
	char *id = strtok_r(NULL, " \t", &save);
	char *extra = strtok_r(NULL, " \t", &save);
	memset(p, 0, sizeof *p);
	if (!addr || extra)
		return TB_EINVAL;
	if (tb_addr_parse(addr, p->host, sizeof p->host, &p->port))
		return TB_EINVAL;
	if (id) {
		if (tb_hex_decode(p->id, TB_KEY_LEN, id))
			return TB_EINVAL;
		p->has_id = true;
	}
	return 0;
}

int tb_peers_parse(const char *text, size_t len, struct tb_peer_conf *out, size_t cap, size_t *n,
		   int *line)
{
	char buf[TB_PEERS_LINE_MAX + 1];
	*n = 0;
	*line = 0;
	size_t off = 0;
	while (off < len) {
		(*line)++;
		const char *nl = memchr(text + off, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - (text + off)) : len - off;
		if (ll > TB_PEERS_LINE_MAX || memchr(text + off, '\0', ll))
			return TB_EINVAL;
		memcpy(buf, text + off, ll);
		buf[ll] = '\0';
		off += ll + (nl != NULL);
		buf[strcspn(buf, "\r")] = '\0';
		char *s = buf;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			continue;
		if (*n == cap)
			return TB_EFULL;
		int err = parse_peer_line(s, &out[*n]);
		if (err)
			return err;
		(*n)++;
	}
	*line = 0;
	return 0;
}

/* A peers file is read whole; TB_PEERS_MAX lines of comments and peers. */
#define PEERS_FILE_MAX ((size_t)TB_PEERS_MAX * (TB_PEERS_LINE_MAX + 1) * 4)

int tb_peers_load(const char *data, struct tb_peer_conf *out, size_t cap, size_t *n, int *line)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/peers", data);
	*n = 0;
	*line = 0;
	uint8_t *text;
	size_t len;
	int err = tb_file_read(path, PEERS_FILE_MAX, &text, &len);
	if (err)
		return err == TB_ENOTFOUND ? 0 : err;
	err = tb_peers_parse((const char *)text, len, out, cap, n, line);
	free(text);
	return err;
}

int tb_peers_add(const char *data, const struct tb_peer_conf *p)
{
	struct tb_peer_conf *all = calloc(TB_PEERS_MAX, sizeof *all);
	char *text = malloc(TB_PEERS_MAX * 200);
	size_t n, len = 0;
	int line, err = (!all || !text) ? TB_ENOMEM : 0;
	if (!err)
		err = tb_peers_load(data, all, TB_PEERS_MAX, &n, &line);
	if (!err) {
		size_t i;
		for (i = 0; i < n; i++)
			if (!strcmp(all[i].host, p->host) && all[i].port == p->port)
				break;
		if (i == n && n == TB_PEERS_MAX)
			err = TB_EFULL;
		else
			all[i] = *p;
		if (i == n)
			n++;
		len = (size_t)snprintf(text, 200,
				       "# peers of this Tally node: HOST:PORT [NODE_ID]\n");
		for (i = 0; !err && i < n; i++) {
			char id[2 * TB_KEY_LEN + 1] = "";
			if (all[i].has_id)
				tb_hex_encode(id, all[i].id, TB_KEY_LEN);
			bool v6 = strchr(all[i].host, ':') != NULL;
			len += (size_t)snprintf(text + len, 200, "%s%s%s:%u%s%s\n", v6 ? "[" : "",
						all[i].host, v6 ? "]" : "", all[i].port,
						all[i].has_id ? " " : "", id);
		}
	}
	if (!err) {
		char path[4200];
		snprintf(path, sizeof path, "%s/peers", data);
		err = tb_file_write(path, text, len, 0600, 0);
	}
	free(all);
	free(text);
	return err;
}

#define FEDKEY_TAG "tally-federation-v1 "

int tb_fedkey_create(const char *path)
{
	uint8_t key[TB_FEDKEY_LEN];
	char text[sizeof FEDKEY_TAG + 2 * TB_FEDKEY_LEN + 2];
	tb_random(key, sizeof key);
	memcpy(text, FEDKEY_TAG, sizeof FEDKEY_TAG - 1);
	tb_hex_encode(text + sizeof FEDKEY_TAG - 1, key, sizeof key);
	strcat(text, "\n");
	tb_wipe(key, sizeof key);
	int err = tb_file_write(path, text, strlen(text), 0600, TB_FILE_EXCL);
	tb_wipe(text, sizeof text);
	return err;
}

int tb_fedkey_parse(const char *text, size_t n, uint8_t key[TB_FEDKEY_LEN])
{
	char hex[2 * TB_FEDKEY_LEN + 1];
	int err = TB_EKEYFILE;
	if (n == sizeof FEDKEY_TAG - 1 + 2 * TB_FEDKEY_LEN + 1 &&
	    !memcmp(text, FEDKEY_TAG, sizeof FEDKEY_TAG - 1) && text[n - 1] == '\n') {
		memcpy(hex, text + sizeof FEDKEY_TAG - 1, 2 * TB_FEDKEY_LEN);
		hex[2 * TB_FEDKEY_LEN] = '\0';
		if (!tb_hex_decode(key, TB_FEDKEY_LEN, hex))
			err = 0;
		tb_wipe(hex, sizeof hex);
	}
	if (err)
		tb_wipe(key, TB_FEDKEY_LEN);
	return err;
}

int tb_fedkey_read(const char *path, uint8_t key[TB_FEDKEY_LEN])
{
	uint8_t *text;
	size_t n;
	int err = tb_file_read(path, 256, &text, &n);
	if (err) {
		memset(key, 0, TB_FEDKEY_LEN);
		return err == TB_ETOOBIG || err == TB_EINVAL ? TB_EKEYFILE : err;
	}
	err = tb_fedkey_parse((const char *)text, n, key);
	tb_wipe(text, n);
	free(text);
	return err;
}

int tb_fedkey_install(const char *data, const char *from)
{
	uint8_t key[TB_FEDKEY_LEN];
	int err = tb_fedkey_read(from, key);
	if (err)
		return err;
	char path[4200], text[sizeof FEDKEY_TAG + 2 * TB_FEDKEY_LEN + 2];
	snprintf(path, sizeof path, "%s/federation.key", data);
	memcpy(text, FEDKEY_TAG, sizeof FEDKEY_TAG - 1);
	tb_hex_encode(text + sizeof FEDKEY_TAG - 1, key, sizeof key);
	strcat(text, "\n");
	err = tb_file_write(path, text, strlen(text), 0600, 0);
	tb_wipe(key, sizeof key);
	tb_wipe(text, sizeof text);
	return err;
}
