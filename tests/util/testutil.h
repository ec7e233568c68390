/*
 * testutil.h: helpers shared by the tests: temporary directories that are
 * removed afterwards, deterministic keys from a seed, and running the tally
 * binary. Tests use real LMDB in a temp dir and real libsodium, no mocks.
 */
#ifndef TB_TESTUTIL_H
#define TB_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tb_crypto.h"

/* Creates a fresh directory under $TMPDIR (or /tmp); returns a malloc'd path. */
char *tb_test_tmpdir(const char *tag);
/* Removes a directory tree (best effort) and frees path. */
void tb_test_rmrf(char *path);
/* Key pair number `n` of a fixed deterministic series. */
void tb_test_keypair(struct tb_keypair *kp, uint32_t n);
/* Reads a whole file into a malloc'd buffer; NULL on error. */
uint8_t *tb_test_read_file(const char *path, size_t *len);

#endif
