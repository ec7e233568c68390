/*
 * verify_pool.c: signature checks that run while the caller does other work.
 * Ingest checks rules on one thread; the pool's workers verify the batch's
 * signatures at the same time (and the next group's while this one is
 * committed), and the caller joins in when it waits if it counts as one of
 * the verifying threads, so a batch costs about max(rules, signatures /
 * cores) instead of their sum.
 * Jobs are handed over as ranges through a capped ring under one mutex, and
 * taken at most TB_POOL_CHUNK at a time, so however large a range a caller
 * submits, every worker (and the caller in wait) shares it; a worker writes
 * only the results of the jobs it took. The pool never reports a
 * job done before its result is written.
 */
#include "tb_crypto.h"

#include <pthread.h>
#include <stdlib.h>

#define TB_POOL_MAX_THREADS 64
#define TB_POOL_RING 4096
/* Jobs taken at once: small enough that a caller with nothing left to take
 * seldom idles while one worker finishes a long run, large enough that the
 * mutex is taken once per ~1.5 ms of verifying. */
#define TB_POOL_CHUNK 32

struct range {
	struct tb_verify_job *jobs;
	size_t n;
};

struct tb_verify_pool {
	pthread_mutex_t mu;
	pthread_cond_t work;
	pthread_cond_t done;
	struct range ring[TB_POOL_RING];
	size_t head, count;
	size_t pending; /* jobs submitted and not yet verified */
	int stop;
	bool helps; /* the caller verifies in wait */
	unsigned nthreads;
	pthread_t tids[TB_POOL_MAX_THREADS];
};

static void run(struct range r)
{
	for (size_t i = 0; i < r.n; i++)
		r.jobs[i].result = tb_verify(r.jobs[i].sig, r.jobs[i].pk, r.jobs[i].ctx,
					     r.jobs[i].msg, r.jobs[i].len);
}

/* Takes at most TB_POOL_CHUNK jobs of the first range; the caller holds
 * the mutex. The rest of a range stays first, and another worker is woken
 * for it. */
static int pop(struct tb_verify_pool *p, struct range *r)
{
	if (!p->count)
		return 0;
	struct range *first = &p->ring[p->head];
	*r = *first;
	if (first->n > TB_POOL_CHUNK) {
		r->n = TB_POOL_CHUNK;
		first->jobs += TB_POOL_CHUNK;
		first->n -= TB_POOL_CHUNK;
		pthread_cond_signal(&p->work);
		return 1;
	}
	p->head = (p->head + 1) % TB_POOL_RING;
	p->count--;
	return 1;
}

static void finished(struct tb_verify_pool *p, size_t n)
{
	p->pending -= n;
	if (!p->pending)
		pthread_cond_broadcast(&p->done);
}

static void *worker(void *arg)
{
	struct tb_verify_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct range r;
		while (!p->stop && !pop(p, &r))
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		pthread_mutex_unlock(&p->mu);
		run(r);
		pthread_mutex_lock(&p->mu);
		finished(p, r.n);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int tb_verify_pool_new(struct tb_verify_pool **out, unsigned workers, bool helps)
{
	*out = NULL;
	struct tb_verify_pool *p = calloc(1, sizeof *p);
	if (!p)
		return TB_ENOMEM;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	if (workers > TB_POOL_MAX_THREADS)
		workers = TB_POOL_MAX_THREADS;
	for (unsigned i = 0; i < workers; i++) {
		if (pthread_create(&p->tids[p->nthreads], NULL, worker, p))
			break; /* fewer workers: the caller does more in wait */
		p->nthreads++;
	}
	/* Without a worker the caller verifies everything in wait. */
	p->helps = helps || !p->nthreads;
	*out = p;
	return 0;
}

void tb_verify_pool_free(struct tb_verify_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->tids[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p);
}

void tb_verify_pool_submit(struct tb_verify_pool *p, struct tb_verify_job *jobs, size_t n)
{
	if (!n)
		return;
	pthread_mutex_lock(&p->mu);
	if (p->count == TB_POOL_RING) {
		pthread_mutex_unlock(&p->mu);
		run((struct range){jobs, n});
		return;
	}
	p->ring[(p->head + p->count) % TB_POOL_RING] = (struct range){jobs, n};
	p->count++;
	p->pending += n;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
}

void tb_verify_pool_cancel(struct tb_verify_pool *p)
{
	pthread_mutex_lock(&p->mu);
	struct range r;
	while (pop(p, &r))
		finished(p, r.n);
	pthread_mutex_unlock(&p->mu);
	tb_verify_pool_wait(p);
}

void tb_verify_pool_wait(struct tb_verify_pool *p)
{
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct range r;
		if (p->helps && pop(p, &r)) {
			pthread_mutex_unlock(&p->mu);
			run(r);
			pthread_mutex_lock(&p->mu);
			finished(p, r.n);
			continue;
		}
		if (!p->pending)
			break;
		pthread_cond_wait(&p->done, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
}
