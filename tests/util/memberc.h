/*
 * memberc.h: a member's browser, for the API tests: sign-in with the
 * member's own key (FORMAT.md 6.6), read from their key file in a test
 * federation's data directory (passphrase TB_FED_MEMBER_PASS).
 */
#ifndef TB_MEMBERC_H
#define TB_MEMBERC_H

#include <stdint.h>

#include "httpc.h"
#include "tb_crypto.h"

/* Signs in as the member `name` of the node whose data directory is data,
 * serving the API on port: fills s (cookie and CSRF token) and kp (the
 * member's key). Fails the test unless the node answers 200. */
void tb_member_signin(uint16_t port, const char *data, const char *name, struct tb_httpc_session *s,
		      struct tb_keypair *kp);

#endif
