/*
 * replay.c: runs a fuzz target's LLVMFuzzerTestOneInput over files, so every
 * fuzz target doubles as a corpus-replay test in the normal build (no
 * libFuzzer needed). Arguments are files or directories (walked recursively,
 * dot files skipped); each input is read into a buffer of exactly its size so
 * a sanitizer build catches any read past its end. A missing path, or a
 * directory without a single input, fails: a lost corpus must not pass.
 * A path after --if-present may be missing or empty: tests/fuzz/crashes/<name>/,
 * where scripts/fuzz saves crashing inputs, so that they fail the suite
 * until fixed (then they move to the corpus).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Largest input replayed: far above any -max_len the targets are run with. */
#define REPLAY_MAX (64u << 20)

static int replay_file(const char *path, size_t *count)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > REPLAY_MAX) {
		fprintf(stderr, "replay: %s: unreadable or over %u bytes\n", path, REPLAY_MAX);
		fclose(f);
		return -1;
	}
	size_t len = (size_t)st.st_size;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf || fread(buf, 1, len, f) != len) {
		fprintf(stderr, "replay: %s: read failed\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	(*count)++;
	return 0;
}

static int replay_path(const char *path, size_t *count, int optional);

static int replay_dir(const char *path, size_t *count, int may_be_empty)
{
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t before = *count;
	int err = 0;
	struct dirent *de;
	while (!err && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		size_t n = strlen(path) + strlen(de->d_name) + 2;
		char *sub = malloc(n);
		if (!sub) {
			err = -1;
			break;
		}
		snprintf(sub, n, "%s/%s", path, de->d_name);
		err = replay_path(sub, count, 0);
		free(sub);
	}
	closedir(d);
	if (!err && *count == before && !may_be_empty) {
		fprintf(stderr, "replay: %s: no inputs\n", path);
		err = -1;
	}
	return err;
}

static int replay_path(const char *path, size_t *count, int optional)
{
	struct stat st;
	if (optional && stat(path, &st) != 0 && errno == ENOENT)
		return 0;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return replay_dir(path, count, optional);
	if (S_ISREG(st.st_mode))
		return replay_file(path, count);
	fprintf(stderr, "replay: %s: not a file or directory\n", path);
	return -1;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: %s [--if-present] FILE|DIR...\n", argv[0]);
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		int optional = !strcmp(argv[i], "--if-present");
		if (optional && ++i == argc) {
			fprintf(stderr, "replay: --if-present needs a path\n");
			return 1;
		}
		if (replay_path(argv[i], &count, optional) != 0)
			return 1;
	}
	printf("replayed %zu inputs\n", count);
	return 0;
}
