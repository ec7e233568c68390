/*
 * test_file.c: node/file.c, the one atomic writer, bounded reader and
 * passphrase reader of tally and tallyd, on real files in a temp dir: a
 * replaced file holds the new bytes and no temporary is left; an exclusive
 * write refuses an existing file; the reader refuses more than its cap, a
 * directory and a FIFO (without waiting on it); a passphrase file of 1023
 * bytes works and one of 1024 is refused, never cut (tallyd cut it at 1023
 * before); key files round-trip through the node's key file I/O. A checked
 * write whose check fails leaves the old file; the piecewise reader and the
 * scratch file keep the reader's rules; mkdir -p gives each directory it
 * makes the mode asked for.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *g_dir;

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", g_dir, name);
}

static void test_write_read(void **state)
{
	(void)state;
	char p[4300], tmp[4400];
	path_of(p, sizeof p, "a");
	snprintf(tmp, sizeof tmp, "%s.tmp", p);
	assert_int_equal(tb_file_write(p, "one", 3, 0600, 0), 0);
	assert_int_equal(tb_file_write(p, "second", 6, 0600, 0), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	uint8_t *buf;
	size_t len;
	assert_int_equal(tb_file_read(p, 6, &buf, &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(buf, "second", 6);
	assert_int_equal(buf[6], 0);
	free(buf);
	assert_int_equal(tb_file_read(p, 5, &buf, &len), TB_ETOOBIG);
	assert_null(buf);
	assert_int_equal(tb_file_write(p, "x", 1, 0600, TB_FILE_EXCL), TB_EEXISTS);
	assert_int_equal(tb_file_read(p, 100, &buf, &len), 0);
	assert_memory_equal(buf, "second", 6);
	free(buf);
	path_of(p, sizeof p, "nodir/b");
	assert_int_equal(tb_file_write(p, "x", 1, 0600, 0), TB_ENOTFOUND);
	assert_int_equal(tb_file_read(p, 100, &buf, &len), TB_ENOTFOUND);
	assert_int_equal(tb_file_read(g_dir, 100, &buf, &len), TB_EINVAL);
	path_of(p, sizeof p, "fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(tb_file_read(p, 100, &buf, &len), TB_EINVAL);
}

static int refuse(void *ctx, const char *tmp)
{
	/* The temporary holds the new bytes when the check sees it. */
	uint8_t *buf;
	size_t len;
	assert_int_equal(tb_file_read(tmp, 100, &buf, &len), 0);
	assert_memory_equal(buf, "new", 3);
	free(buf);
	return *(int *)ctx;
}

static int fill_new(void *ctx, int fd)
{
	(void)ctx;
	return tb_fd_write_all(fd, "new", 3);
}

static void test_checked_and_pieces(void **state)
{
	(void)state;
	char p[4300], tmp[4400];
	path_of(p, sizeof p, "c");
	snprintf(tmp, sizeof tmp, "%s.tmp", p);
	assert_int_equal(tb_file_write(p, "old", 3, 0600, 0), 0);
	int verdict = TB_ECORRUPT;
	assert_int_equal(tb_file_write_checked(p, 0600, 0, fill_new, refuse, &verdict),
			 TB_ECORRUPT);
	assert_int_equal(access(tmp, F_OK), -1);
	int fd;
	uint64_t size;
	uint8_t b[4];
	assert_int_equal(tb_file_open_read(p, 3, &fd, &size), 0);
	assert_int_equal(size, 3);
	assert_int_equal(tb_fd_read_all(fd, b, 3), 0);
	assert_memory_equal(b, "old", 3);
	assert_int_equal(tb_fd_read_all(fd, b, 1), TB_ETRUNCATED);
	close(fd);
	verdict = 0;
	assert_int_equal(tb_file_write_checked(p, 0600, 0, fill_new, refuse, &verdict), 0);
	assert_int_equal(tb_file_open_read(p, 2, &fd, &size), TB_ETOOBIG);
	assert_int_equal(fd, -1);
	assert_int_equal(tb_file_open_read(g_dir, 100, &fd, &size), TB_EINVAL);
	/* A scratch file replaces one a crash left, and is new and empty. */
	path_of(p, sizeof p, "scratch");
	assert_int_equal(tb_test_write_file(p, "left", 4), 0);
	assert_int_equal(tb_file_scratch(p, &fd), 0);
	assert_int_equal(tb_fd_write_all(fd, "ab", 2), 0);
	close(fd);
	assert_int_equal(tb_file_open_read(p, 100, &fd, &size), 0);
	assert_int_equal(size, 2);
	close(fd);
	path_of(p, sizeof p, "d1/d2/d3");
	assert_int_equal(tb_mkdir_p(p, 0700), 0);
	assert_int_equal(tb_mkdir_p(p, 0700), 0);
	struct stat st;
	path_of(p, sizeof p, "d1");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(tb_dir_sync(p), 0);
	path_of(p, sizeof p, "c/sub");
	assert_int_not_equal(tb_mkdir_p(p, 0700), 0);
}

static int pass_from(const char *text, size_t n, char out[TB_PASSPHRASE_MAX + 1], size_t *len)
{
	char p[4300];
	path_of(p, sizeof p, "pass");
	assert_int_equal(tb_test_write_file(p, text, n), 0);
	return tb_passphrase_read(p, false, NULL, NULL, out, len);
}

static void test_passphrase(void **state)
{
	(void)state;
	char out[TB_PASSPHRASE_MAX + 1], big[TB_PASSPHRASE_MAX + 3];
	size_t len;
	assert_int_equal(pass_from("secret\n", 7, out, &len), 0);
	assert_int_equal(len, 6);
	assert_string_equal(out, "secret");
	assert_int_equal(pass_from("secret\r\n", 8, out, &len), 0);
	assert_string_equal(out, "secret");
	memset(big, 'p', sizeof big);
	big[TB_PASSPHRASE_MAX] = '\n';
	assert_int_equal(pass_from(big, TB_PASSPHRASE_MAX + 1, out, &len), 0);
	assert_int_equal(len, TB_PASSPHRASE_MAX);
	big[TB_PASSPHRASE_MAX] = 'p';
	assert_int_equal(pass_from(big, TB_PASSPHRASE_MAX + 1, out, &len), TB_ETOOLONG);
	assert_int_equal(len, 0);
	assert_int_equal(pass_from(big, sizeof big, out, &len), TB_ETOOLONG);
	assert_int_equal(pass_from("\n", 1, out, &len), TB_EINVAL);
	assert_int_equal(pass_from("a\0b", 3, out, &len), TB_EINVAL);
	setenv("TB_TEST_PASS", "from env", 1);
	assert_int_equal(tb_passphrase_read(NULL, false, NULL, "TB_TEST_PASS", out, &len), 0);
	assert_string_equal(out, "from env");
	big[TB_PASSPHRASE_MAX + 1] = 0;
	setenv("TB_TEST_PASS", big, 1);
	assert_int_equal(tb_passphrase_read(NULL, false, NULL, "TB_TEST_PASS", out, &len),
			 TB_ETOOLONG);
	unsetenv("TB_TEST_PASS");
	assert_int_equal(tb_passphrase_read(NULL, false, NULL, "TB_TEST_PASS", out, &len),
			 TB_ENOTFOUND);
	char p[4300];
	path_of(p, sizeof p, "missing");
	assert_int_equal(tb_passphrase_read(p, false, NULL, NULL, out, &len), TB_ENOTFOUND);
}

static void test_keyfile(void **state)
{
	(void)state;
	struct tb_keypair kp, back;
	tb_test_keypair(&kp, 9);
	char p[4300];
	path_of(p, sizeof p, "node.key");
	assert_int_equal(tb_keyfile_write(p, &kp, "pw", 2, TB_KDF_MIN), 0);
	assert_int_equal(tb_keyfile_write(p, &kp, "pw", 2, TB_KDF_MIN), TB_EEXISTS);
	assert_int_equal(tb_keyfile_read(p, &back, "pw", 2), 0);
	assert_memory_equal(back.pk.b, kp.pk.b, TB_KEY_LEN);
	assert_int_equal(tb_keyfile_read(p, &back, "px", 2), TB_EPASSPHRASE);
	assert_int_equal(tb_file_write(p, "TALLYKEY", 8, 0600, 0), 0);
	assert_int_not_equal(tb_keyfile_read(p, &back, "pw", 2), 0);
	uint8_t big[TB_KEYFILE_LEN + 1] = {0};
	assert_int_equal(tb_file_write(p, big, sizeof big, 0600, 0), 0);
	assert_int_equal(tb_keyfile_read(p, &back, "pw", 2), TB_EKEYFILE);
}

static int setup(void **state)
{
	(void)state;
	if (tb_crypto_init())
		return -1;
	g_dir = tb_test_scratchdir("file");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tb_test_rmrf(g_dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_checked_and_pieces),
		cmocka_unit_test(test_passphrase),
		cmocka_unit_test(test_keyfile),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
