/*
 * static.c: the console's files, from the web root only. A path is decoded
 * segment by segment and refused (404) if any segment is empty, starts with
 * a dot ("..", hidden files) or holds a NUL or a backslash; the file's real
 * path (symbolic links resolved) must still lie under the web root's. Only
 * regular files are sent, with a content type from a fixed table (unknown
 * extensions are application/octet-stream), an ETag of size and
 * modification time, and "no-cache" so browsers revalidate (a 304 costs one
 * round trip). It never lists a directory.
 */
#include "http_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *ext, *type;
} types[] = {
	{".html", "text/html; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".mjs", "text/javascript; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".json", "application/json; charset=utf-8"},
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".ico", "image/x-icon"},
	{".woff2", "font/woff2"},
	{".txt", "text/plain; charset=utf-8"},
	{".map", "application/json; charset=utf-8"},
};

static const char *type_of(const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		size_t e = strlen(types[i].ext);
		if (n > e && !strcmp(path + n - e, types[i].ext))
			return types[i].type;
	}
	return "application/octet-stream";
}

/* Builds root + decoded path; 0, or TB_ENOTFOUND for anything refused. */
static int local_path(const char *root, const char *url, char *out, size_t cap)
{
	size_t o = (size_t)snprintf(out, cap, "%s", root);
	if (o >= cap)
		return TB_ENOTFOUND;
	if (!strcmp(url, "/"))
		url = "/index.html";
	while (*url == '/') {
		url++;
		size_t sl = strcspn(url, "/");
		char seg[256];
		if (!sl || tb_http_unescape(url, sl, seg, sizeof seg) || seg[0] == '.' ||
		    strchr(seg, '/') || strchr(seg, '\\'))
			return TB_ENOTFOUND;
		size_t n = (size_t)snprintf(out + o, cap - o, "/%s", seg);
		if (n >= cap - o)
			return TB_ENOTFOUND;
		o += n;
		url += sl;
	}
	return *url ? TB_ENOTFOUND : 0;
}

static void send_file(struct tb_http_req *req, struct tb_http_resp *resp, int fd,
		      const struct stat *st, const char *path)
{
	snprintf(resp->etag, sizeof resp->etag, "\"%llx-%llx\"", (unsigned long long)st->st_size,
		 (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
			 (unsigned long long)st->st_mtim.tv_nsec);
	resp->cache = "no-cache";
	resp->type = type_of(path);
	const char *inm = tb_http_header(req, "If-None-Match");
	if (inm && !strcmp(inm, resp->etag)) {
		close(fd);
		resp->status = 304;
		return;
	}
	resp->status = 200;
	resp->fd = fd;
	resp->len = (size_t)st->st_size;
}

void tb_http_static(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp)
{
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		tb_http_error(resp, 405, "EMETHOD", "%s is not allowed on the console's files",
			      req->method);
		snprintf(resp->allow, sizeof resp->allow, "GET, HEAD");
		return;
	}
	char path[4400], real[4096];
	if (!h->web_real[0] || local_path(h->web_real, req->path, path, sizeof path) ||
	    !realpath(path, real)) {
		tb_http_error(resp, 404, "ENOTFOUND", "no such file");
		return;
	}
	size_t rl = strlen(h->web_real);
	if (strncmp(real, h->web_real, rl) || (real[rl] != '/' && real[rl] != '\0')) {
		tb_http_error(resp, 404, "ENOTFOUND", "no such file");
		return;
	}
	int fd = open(real, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		tb_http_error(resp, 404, "ENOTFOUND", "no such file");
		return;
	}
	send_file(req, resp, fd, &st, real);
}
