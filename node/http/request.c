/*
 * request.c: reading a request: its headers, cookies and query values, and
 * the percent-decoding of paths and values (done by us, segment by segment,
 * so an escaped '/' stays inside its segment).
 */
#include "http_int.h"

#include <microhttpd.h>
#include <string.h>

int tb_http_unescape(const char *s, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			char two[3] = {0};
			uint8_t b;
			if (len - i < 3)
				return TB_EINVAL;
			memcpy(two, s + i + 1, 2);
			if (tb_hex_decode(&b, 1, two))
				return TB_EINVAL;
			c = (char)b;
			i += 2;
		}
		if (c == '\0')
			return TB_EINVAL;
		if (o + 1 >= cap)
			return TB_ETOOLONG;
		out[o++] = c;
	}
	if (!cap)
		return TB_ETOOLONG;
	out[o] = '\0';
	return 0;
}

const char *tb_http_header(const struct tb_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *tb_http_cookie(const struct tb_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

int tb_http_query(const struct tb_http_req *req, const char *name, char *out, size_t cap)
{
	const char *v = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
	if (!v)
		return TB_ENOTFOUND;
	return tb_http_unescape(v, strlen(v), out, cap);
}

int tb_http_query_opt(const struct tb_http_req *req, struct tb_http_resp *resp, const char *name,
		      char *out, size_t cap)
{
	int err = tb_http_query(req, name, out, cap);
	if (err == TB_ENOTFOUND)
		return 0;
	if (!err)
		return 1;
	if (resp)
		tb_http_error(resp, 400, "EINVAL", "query '%s' is %s", name,
			      err == TB_ETOOLONG ? "too long"
						 : "not readable (a bad %-escape or a NUL)");
	return TB_EINVAL;
}
