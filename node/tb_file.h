/*
 * tb_file.h: the files of a data directory outside the ledger, written and
 * read one way for the command line and the daemon alike: an atomic writer
 * (a temporary beside the file, fsync, rename, fsync of the directory), a
 * bounded reader (regular files only, never more than the caller's cap) and
 * the passphrase reader (a file, the terminal or the environment; a
 * passphrase too long is an error, never cut).
 */
#ifndef TB_FILE_H
#define TB_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tb_crypto.h"
#include "tb_err.h"

enum {
	TB_FILE_EXCL = 1,   /* fail with TB_EEXISTS if the file exists */
	TB_FILE_NOSYNC = 2, /* no fsync: a file rewritten often that a crash
			     * may take back to its previous version */
};

/*
 * Replaces path with len bytes, or creates it with mode: they are written to
 * "path.tmp" (removed first if a crash left one), synced, renamed over path
 * (linked to it with TB_FILE_EXCL) and the directory synced, so a crash
 * leaves the old file or the new one. 0 or TB_EIO, TB_EDISKFULL, TB_EPERM,
 * TB_EEXISTS, TB_ENOTFOUND (no such directory); on error path is as it was
 * and no temporary is left.
 */
TB_MUST_CHECK int tb_file_write(const char *path, const void *p, size_t len, unsigned mode,
				unsigned flags);
/* The same with the bytes written by fn to the temporary's descriptor
 * (fn returns 0 or a TB_E* code). */
typedef int (*tb_file_fill_fn)(void *ctx, int fd);
TB_MUST_CHECK int tb_file_write_with(const char *path, unsigned mode, unsigned flags,
				     tb_file_fill_fn fn, void *ctx);
/* The same, and check (if not NULL) is given the temporary's path after it
 * is written and synced, before it takes the name: a file that must be read
 * back whole before it replaces anything. An error from check leaves path as
 * it was. */
typedef int (*tb_file_check_fn)(void *ctx, const char *tmp);
TB_MUST_CHECK int tb_file_write_checked(const char *path, unsigned mode, unsigned flags,
					tb_file_fill_fn fill, tb_file_check_fn check, void *ctx);
/* Writes all of p to fd (EINTR retried): 0 or TB_EIO / TB_EDISKFULL. */
TB_MUST_CHECK int tb_fd_write_all(int fd, const void *p, size_t len);

/*
 * Reads a whole regular file of at most cap bytes into a malloc'd buffer
 * (*out, NUL-terminated one past *len, so cap + 1 bytes at most). 0 or
 * TB_ENOTFOUND (no such file), TB_EINVAL (not a regular file: a pipe or a
 * device says nothing of its size), TB_ETOOBIG (over cap), TB_EPERM, TB_EIO,
 * TB_ENOMEM. *out is NULL on error.
 */
TB_MUST_CHECK int tb_file_read(const char *path, size_t cap, uint8_t **out, size_t *len);
/* The same checks for a file too big to hold in memory, read in pieces:
 * 0 with *fd open for reading (the caller closes it) and *size its size,
 * or the errors above; *fd is -1 on error. */
TB_MUST_CHECK int tb_file_open_read(const char *path, uint64_t cap, int *fd, uint64_t *size);
/* Reads exactly len bytes from fd (EINTR retried): 0, TB_ETRUNCATED (the
 * file ended first) or TB_EIO. */
TB_MUST_CHECK int tb_fd_read_all(int fd, void *p, size_t len);

/*
 * A scratch file at path, made empty and new (one a crash left is removed
 * first) with mode 0600, open for reading and writing in *fd; never synced,
 * the caller unlinks it. 0 or the writer's errors.
 */
TB_MUST_CHECK int tb_file_scratch(const char *path, int *fd);

/* ---- directories ---- */

/* Syncs directory dir, so that a rename or a new name in it is durable. */
TB_MUST_CHECK int tb_dir_sync(const char *dir);
/* mkdir -p: each directory it makes gets mode. 0 or a TB_E* code. */
TB_MUST_CHECK int tb_mkdir_p(const char *path, unsigned mode);

/* ---- passphrases ---- */

#define TB_PASSPHRASE_MAX 1023

/*
 * A key's passphrase, from the first of: the file (if not NULL; one
 * trailing newline, or CR LF, is not part of it); the terminal, when tty
 * and stdin is one (label as the prompt on stderr, echo off); the
 * environment variable env (if not NULL). 0 with out NUL-terminated, or
 * TB_ENOTFOUND (no source, or the file is missing), TB_ETOOLONG (over
 * TB_PASSPHRASE_MAX bytes), TB_EINVAL (empty, or the file is not a regular
 * file), TB_EIO. out is wiped on error.
 */
TB_MUST_CHECK int tb_passphrase_read(const char *file, bool tty, const char *label, const char *env,
				     char out[TB_PASSPHRASE_MAX + 1], size_t *len);

/* ---- key files (the bytes: crypto/keyfile.c) ---- */

/* Seals kp under pass into a new key file at path (mode 0600, written as
 * tb_file_write with TB_FILE_EXCL: TB_EEXISTS if one is there). */
TB_MUST_CHECK int tb_keyfile_write(const char *path, const struct tb_keypair *kp, const char *pass,
				   size_t passlen, enum tb_kdf_level level);
/* Opens the key file at path: TB_ENOTFOUND, TB_EKEYFILE (not one),
 * TB_EPASSPHRASE, or the reader's errors; kp is zeroed on error. */
TB_MUST_CHECK int tb_keyfile_read(const char *path, struct tb_keypair *kp, const char *pass,
				  size_t passlen);

#endif
