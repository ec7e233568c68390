/*
 * fuzz_config.c: libFuzzer target for the data directory's config files
 * (node/config.c): the peers file (tb_peers_parse, what tb_peers_load reads)
 * and the federation key file (tb_fedkey_parse, what tb_fedkey_read reads).
 * The first byte picks the file (even: peers, odd: federation key); the rest
 * is its text. An accepted peers file gives peers with a non-empty host and
 * a port, which written back as tb_peers_add writes them parse to the same;
 * a refusal names a line. An accepted key file is exactly its canonical
 * text; a refused one leaves the key zeroed.
 */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "tb_node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tb_peer_conf g_peers[TB_PEERS_MAX], g_again[TB_PEERS_MAX];
static char g_text[TB_PEERS_MAX * 200];

static void peers(const char *text, size_t len)
{
	size_t n = 99;
	int line = -1;
	int err = tb_peers_parse(text, len, g_peers, TB_PEERS_MAX, &n, &line);
	if (err) {
		TB_ASSERT(err == TB_EINVAL || err == TB_EFULL);
		TB_ASSERT(line >= 1);
		return;
	}
	TB_ASSERT(line == 0 && n <= TB_PEERS_MAX);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		const struct tb_peer_conf *p = &g_peers[i];
		size_t hl = strnlen(p->host, sizeof p->host);
		TB_ASSERT(hl > 0 && hl < sizeof p->host && p->port != 0);
		char id[2 * TB_KEY_LEN + 1] = "";
		if (p->has_id)
			tb_hex_encode(id, p->id, TB_KEY_LEN);
		int v6 = strchr(p->host, ':') != NULL;
		int k = snprintf(g_text + w, sizeof g_text - w, "%s%s%s:%u%s%s\n", v6 ? "[" : "",
				 p->host, v6 ? "]" : "", p->port, p->has_id ? " " : "", id);
		TB_ASSERT(k > 0 && (size_t)k < sizeof g_text - w);
		w += (size_t)k;
	}
	size_t n2;
	TB_ASSERT(tb_peers_parse(g_text, w, g_again, TB_PEERS_MAX, &n2, &line) == 0);
	TB_ASSERT(n2 == n);
	for (size_t i = 0; i < n; i++) {
		TB_ASSERT(strcmp(g_again[i].host, g_peers[i].host) == 0);
		TB_ASSERT(g_again[i].port == g_peers[i].port);
		TB_ASSERT(g_again[i].has_id == g_peers[i].has_id);
		TB_ASSERT(memcmp(g_again[i].id, g_peers[i].id, TB_KEY_LEN) == 0);
	}
}

static void fedkey(const char *text, size_t len)
{
	uint8_t key[TB_FEDKEY_LEN];
	memset(key, 0xee, sizeof key);
	int err = tb_fedkey_parse(text, len, key);
	if (err) {
		TB_ASSERT(err == TB_EKEYFILE);
		for (size_t i = 0; i < sizeof key; i++)
			TB_ASSERT(key[i] == 0);
		return;
	}
	char canon[128];
	memcpy(canon, "tally-federation-v1 ", 20);
	tb_hex_encode(canon + 20, key, sizeof key);
	canon[20 + 64] = '\n';
	/* Hex digits may be in either case: compare ignoring it. */
	TB_ASSERT(len == 85);
	for (size_t i = 0; i < len; i++) {
		char a = text[i], b = canon[i];
		if (a >= 'A' && a <= 'F')
			a = (char)(a - 'A' + 'a');
		TB_ASSERT(a == b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *text = (const char *)data + 1;
	if (data[0] & 1)
		fedkey(text, size - 1);
	else
		peers(text, size - 1);
	return 0;
}
