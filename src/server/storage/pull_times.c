/*
 * When tags and manifests were last pulled, for retention. A manifest GET
 * must stay a read, so the times are gathered in memory (one entry per
 * tag or manifest, the latest time) and written in one transaction by
 * srv_storage_flush_pulls, which the server calls every few seconds and
 * at shutdown. The table is bounded: past PULL_TIMES_MAX entries between
 * two flushes further pulls go unrecorded (counted, and logged at the
 * flush), which only makes retention see them as older than they are.
 */
#include "server/storage/storage.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "util/error.h"
#include "util/hmap.h"
#include "util/xalloc.h"

#define PULL_TIMES_MAX 16384
#define PULL_TIMES_BUCKETS 4096

struct srv_pull_times {
	pthread_mutex_t mu;
	berth_hmap *map; /* "repo@digest" or "repo:tag" -> int64_t * */
	long dropped;
};

srv_pull_times *
srv_pull_times_new(void)
{
	srv_pull_times *p = xcalloc(1, sizeof(*p));

	pthread_mutex_init(&p->mu, NULL);
	p->map = berth_hmap_new(PULL_TIMES_BUCKETS);
	return p;
}

void
srv_pull_times_free(srv_pull_times *p)
{
	if (p == NULL)
		return;
	berth_hmap_free(p->map, free);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* Neither ':' nor '@' can be in a repository name, so the key splits. */
static void
note(srv_pull_times *p, const char *repo, char sep, const char *ref,
     int64_t when)
{
	char *key = xasprintf("%s%c%s", repo, sep, ref);
	int64_t *v = berth_hmap_get(p->map, key);

	if (v != NULL) {
		if (*v < when)
			*v = when;
	} else if (berth_hmap_count(p->map) >= PULL_TIMES_MAX) {
		p->dropped++;
	} else {
		v = xmalloc(sizeof(*v));
		*v = when;
		berth_hmap_put(p->map, key, v);
	}
	free(key);
}

void
srv_storage_note_pull(srv_storage *st, const char *repo, const char *tag,
		      const char *digest, int64_t when)
{
	srv_pull_times *p = st->pull_times;

	pthread_mutex_lock(&p->mu);
	if (tag)
		note(p, repo, ':', tag, when);
	if (digest)
		note(p, repo, '@', digest, when);
	pthread_mutex_unlock(&p->mu);
}

typedef struct collect {
	berth_meta_pull_time *rows;
	char **keys;
	size_t n;
} collect;

static bool
take(void *ud, const char *key, void *value)
{
	collect *c = ud;
	char *k = xstrdup(key);
	size_t at = strcspn(k, ":@");
	berth_meta_pull_time *row;

	c->rows = xreallocarray(c->rows, c->n + 1, sizeof(*c->rows));
	c->keys = xreallocarray(c->keys, c->n + 1, sizeof(*c->keys));
	row = &c->rows[c->n];
	row->repo = k;
	row->tag = k[at] == ':' ? k + at + 1 : NULL;
	row->digest = k[at] == '@' ? k + at + 1 : NULL;
	row->when = *(int64_t *)value;
	k[at] = '\0';
	c->keys[c->n++] = k;
	free(value);
	return true;
}

int
srv_storage_flush_pulls(srv_storage *st, berth_error **err)
{
	srv_pull_times *p = st->pull_times;
	collect c = {0};
	long dropped;
	size_t i;
	int r;

	pthread_mutex_lock(&p->mu);
	berth_hmap_filter(p->map, take, &c);
	dropped = p->dropped;
	p->dropped = 0;
	pthread_mutex_unlock(&p->mu);
	if (dropped > 0)
		berth_log(BERTH_LOG_WARN,
			  "%ld pulls were not recorded for retention: more "
			  "than %d tags and manifests pulled between two "
			  "saves",
			  dropped, PULL_TIMES_MAX);
	r = berth_meta_pulls_record(st->meta, c.rows, c.n, err);
	for (i = 0; i < c.n; i++)
		free(c.keys[i]);
	free(c.keys);
	free(c.rows);
	return r;
}
