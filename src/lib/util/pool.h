/*
 * A small fixed-size pool of worker threads for a list of independent
 * items (blob downloads, blob uploads): workers take the next item in
 * order until none is left or the caller says stop.
 */
#ifndef BERTH_LIB_UTIL_POOL_H
#define BERTH_LIB_UTIL_POOL_H

#include <stdbool.h>
#include <stddef.h>

/* The most threads one berth_pool_run starts. */
#define BERTH_POOL_MAX 64

typedef struct berth_pool_ops {
	/* Runs item i; `state` is what enter returned for this worker. */
	void (*run)(void *ud, void *state, size_t i);
	/* Optional: true when no further item should start (a failure);
	 * asked before each item, under the pool's lock. */
	bool (*stopped)(void *ud);
	/* Optional: a worker's own state (an HTTP handle), made when it
	 * starts and given back to leave when it ends. */
	void *(*enter)(void *ud);
	void (*leave)(void *ud, void *state);
} berth_pool_ops;

/*
 * Runs ops->run for items 0..n-1 on up to `workers` threads (at least 1,
 * at most BERTH_POOL_MAX and n), the calling thread being one of them, so
 * the work gets done even when no thread can be started. Returns when
 * every started item has finished, with the number of items started: the
 * items from there on never ran because ops->stopped said so.
 */
size_t berth_pool_run(const berth_pool_ops *ops, void *ud, size_t n,
		      size_t workers);

#endif
