/*
 * The worker pool of util/pool.h: threads made per run, because a run
 * (one pull, one push) lasts long against the cost of starting them.
 */
#include "util/pool.h"

#include <pthread.h>

#include "berth/log.h"

typedef struct pool {
	const berth_pool_ops *ops;
	void *ud;
	size_t n;
	pthread_mutex_t mu; /* next */
	size_t next;	    /* the next item to start */
} pool;

/* The next item to run, or n when there is none or the caller stopped. */
static size_t
take(pool *p)
{
	size_t i = p->n;

	pthread_mutex_lock(&p->mu);
	if (p->next < p->n && !(p->ops->stopped && p->ops->stopped(p->ud)))
		i = p->next++;
	pthread_mutex_unlock(&p->mu);
	return i;
}

static void *
worker(void *arg)
{
	pool *p = arg;
	void *state = p->ops->enter ? p->ops->enter(p->ud) : NULL;
	size_t i;

	while ((i = take(p)) < p->n)
		p->ops->run(p->ud, state, i);
	if (p->ops->leave)
		p->ops->leave(p->ud, state);
	return NULL;
}

size_t
berth_pool_run(const berth_pool_ops *ops, void *ud, size_t n, size_t workers)
{
	pool p = {.ops = ops, .ud = ud, .n = n};
	pthread_t tids[BERTH_POOL_MAX];
	size_t started = 0;

	if (n == 0)
		return 0;
	if (workers > BERTH_POOL_MAX)
		workers = BERTH_POOL_MAX;
	if (workers > n)
		workers = n;
	pthread_mutex_init(&p.mu, NULL);
	for (size_t i = 1; i < workers; i++) {
		if (pthread_create(&tids[started], NULL, worker, &p) != 0) {
			berth_log(BERTH_LOG_DEBUG,
				  "cannot start a worker thread; continuing "
				  "with %zu",
				  started + 1);
			break;
		}
		started++;
	}
	worker(&p);
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&p.mu);
	return p.next;
}
