/*
 * The pool of idle HTTP handles a registry client reuses (each keeps its
 * connections), below everything that sends requests.
 */
#include "registry/registry.h"

#include <pthread.h>

berth_http *
reg_handle_get(berth_registry *r)
{
	berth_http *h = NULL;

	pthread_mutex_lock(&r->pool_mu);
	if (r->n_pool > 0)
		h = r->pool[--r->n_pool];
	pthread_mutex_unlock(&r->pool_mu);
	return h ? h : berth_http_new(&r->hopts);
}

void
reg_handle_put(berth_registry *r, berth_http *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&r->pool_mu);
	if (r->n_pool < REG_POOL_MAX) {
		r->pool[r->n_pool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&r->pool_mu);
	berth_http_free(h);
}
