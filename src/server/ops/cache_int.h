/* The cache object's insides, shared by ops/cache*.c. */
#ifndef BERTH_SERVER_OPS_CACHE_INT_H
#define BERTH_SERVER_OPS_CACHE_INT_H

#include <pthread.h>
#include <signal.h>

#include "server/ops/cache.h"
#include "util/hmap.h"

typedef struct cache_fetch cache_fetch; /* cache_blob.c */

struct srv_cache {
	pthread_mutex_t mu; /* everything below */
	srv_upstreams *ups;
	berth_hmap *valid; /* "repo\ntag" -> cache_valid */
	cache_fetch *fetches;
	int running;		    /* fetch threads not yet ended */
	pthread_cond_t ended;	    /* signalled when one ends */
	volatile sig_atomic_t stop; /* the upstream clients' interrupt */
};

#endif
