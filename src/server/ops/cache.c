/*
 * The cache object: the upstreams in effect, replaced whole on SIGHUP
 * (requests and fetches in flight keep the set they started with), and
 * when each tag was last seen upstream.
 */
#include "server/ops/cache_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

/* Validation times kept: beyond this the table is emptied (it is only a
 * cache of HEADs; the next request of each tag re-validates). */
#define VALID_MAX 100000

typedef struct cache_valid {
	char digest[BERTH_DIGEST_MAX];
	int64_t when;
} cache_valid;

static void
set_interrupts(srv_cache *c, srv_upstreams *u)
{
	for (size_t i = 0; u && i < u->n; i++)
		berth_registry_set_interrupt(u->v[i].reg, &c->stop);
}

srv_cache *
srv_cache_new(srv_upstreams *u)
{
	srv_cache *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->ended, NULL);
	c->valid = berth_hmap_new(1024);
	set_interrupts(c, u);
	c->ups = u;
	return c;
}

void
srv_cache_free(srv_cache *c)
{
	if (c == NULL)
		return;
	assert(c->running == 0); /* srv_cache_stop first */
	srv_upstreams_put(c->ups);
	berth_hmap_free(c->valid, free);
	pthread_cond_destroy(&c->ended);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void
srv_cache_swap(srv_cache *c, srv_upstreams *u)
{
	srv_upstreams *old;

	set_interrupts(c, u);
	pthread_mutex_lock(&c->mu);
	old = c->ups;
	c->ups = u;
	/* Other upstreams may say other things about the same names. */
	berth_hmap_free(c->valid, free);
	c->valid = berth_hmap_new(1024);
	pthread_mutex_unlock(&c->mu);
	srv_upstreams_put(old);
}

srv_upstreams *
srv_cache_upstreams(srv_cache *c)
{
	srv_upstreams *u;

	pthread_mutex_lock(&c->mu);
	u = srv_upstreams_ref(c->ups);
	pthread_mutex_unlock(&c->mu);
	return u;
}

static char *
valid_key(const char *repo, const char *tag)
{
	return xasprintf("%s\n%s", repo, tag);
}

int64_t
srv_cache_validated(srv_cache *c, const char *repo, const char *tag,
		    const char *digest)
{
	_cleanup_free_ char *key = valid_key(repo, tag);
	cache_valid *v;
	int64_t when = 0;

	pthread_mutex_lock(&c->mu);
	v = berth_hmap_get(c->valid, key);
	if (v && strcmp(v->digest, digest) == 0)
		when = v->when;
	pthread_mutex_unlock(&c->mu);
	return when;
}

void
srv_cache_note_valid(srv_cache *c, const char *repo, const char *tag,
		     const char *digest)
{
	_cleanup_free_ char *key = valid_key(repo, tag);
	cache_valid *v;

	pthread_mutex_lock(&c->mu);
	v = berth_hmap_get(c->valid, key);
	if (v == NULL) {
		if (berth_hmap_count(c->valid) >= VALID_MAX) {
			berth_hmap_free(c->valid, free);
			c->valid = berth_hmap_new(1024);
		}
		v = xcalloc(1, sizeof(*v));
		berth_hmap_put(c->valid, key, v);
	}
	snprintf(v->digest, sizeof(v->digest), "%s", digest);
	v->when = (int64_t)time(NULL);
	pthread_mutex_unlock(&c->mu);
}
