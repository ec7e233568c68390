/*
 * verify_batch.c: checks many signatures at once on several threads, for
 * catching up on a peer's log. The jobs are cut into contiguous chunks, one
 * per thread; the calling thread takes the last chunk itself. A thread writes
 * only the result fields of its own chunk and reads nothing another thread
 * writes, so there is no locking and no shared mutable state. Never report
 * the batch as verified unless every job's own result is 0.
 */
#include "tb_crypto.h"

#include <limits.h>
#include <pthread.h>
#include <unistd.h>

/* Below this many jobs, threads cost more than they save. */
#define TB_BATCH_INLINE_MAX 64
/* Upper bound on threads for one batch (and on the chunk table's size). */
#define TB_BATCH_MAX_THREADS 64

struct tb_batch_chunk {
	struct tb_verify_job *jobs;
	size_t n;
};

unsigned tb_cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	if ((unsigned long)n > UINT_MAX)
		return UINT_MAX;
	return (unsigned)n;
}

static void tb_batch_run(struct tb_verify_job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		jobs[i].result =
			tb_verify(jobs[i].sig, jobs[i].pk, jobs[i].ctx, jobs[i].msg, jobs[i].len);
}

static void *tb_batch_thread(void *arg)
{
	struct tb_batch_chunk *c = arg;

	tb_batch_run(c->jobs, c->n);
	return NULL;
}

/* EBADSIG if any job failed to verify, else the first other error, else 0. */
static int tb_batch_result(const struct tb_verify_job *jobs, size_t n)
{
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		if (jobs[i].result == TB_EBADSIG)
			return TB_EBADSIG;
		if (jobs[i].result != 0 && ret == 0)
			ret = jobs[i].result;
	}
	return ret;
}

int tb_verify_batch(struct tb_verify_job *jobs, size_t n, unsigned nthreads)
{
	struct tb_batch_chunk chunks[TB_BATCH_MAX_THREADS];
	pthread_t tids[TB_BATCH_MAX_THREADS];
	int started[TB_BATCH_MAX_THREADS];
	size_t nt, base, extra, off = 0;

	if (n == 0)
		return 0;
	TB_ASSERT(jobs != NULL);
	if (nthreads == 0)
		nthreads = tb_cpu_count();
	nt = nthreads;
	if (nt > TB_BATCH_MAX_THREADS)
		nt = TB_BATCH_MAX_THREADS;
	if (nt > n)
		nt = n;
	if (n < TB_BATCH_INLINE_MAX || nt <= 1) {
		tb_batch_run(jobs, n);
		return tb_batch_result(jobs, n);
	}

	/* Chunk sizes differ by at most one job. */
	base = n / nt;
	extra = n % nt;
	for (size_t t = 0; t < nt; t++) {
		chunks[t].jobs = jobs + off;
		chunks[t].n = base + (t < extra ? 1 : 0);
		off += chunks[t].n;
	}
	TB_ASSERT(off == n);

	/* Threads for all chunks but the last, which this thread verifies. */
	for (size_t t = 0; t + 1 < nt; t++)
		started[t] = pthread_create(&tids[t], NULL, tb_batch_thread, &chunks[t]) == 0;
	tb_batch_run(chunks[nt - 1].jobs, chunks[nt - 1].n);
	for (size_t t = 0; t + 1 < nt; t++) {
		if (started[t]) {
			int rc = pthread_join(tids[t], NULL);

			TB_ASSERT(rc == 0);
		} else {
			/* No thread to be had: do that chunk here. */
			tb_batch_run(chunks[t].jobs, chunks[t].n);
		}
	}
	return tb_batch_result(jobs, n);
}
