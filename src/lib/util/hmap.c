/* The string-keyed hash table of util/hmap.h (FNV-1a, chained). */
#include "util/hmap.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

typedef struct entry {
	struct entry *next;
	char *key;
	void *value;
} entry;

struct berth_hmap {
	size_t n_buckets, count;
	entry **b;
};

static size_t
bucket(const berth_hmap *m, const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h % m->n_buckets;
}

berth_hmap *
berth_hmap_new(size_t buckets)
{
	berth_hmap *m = xcalloc(1, sizeof(*m));

	m->n_buckets = buckets ? buckets : 1;
	m->b = xcalloc(m->n_buckets, sizeof(*m->b));
	return m;
}

void
berth_hmap_free(berth_hmap *m, void (*free_value)(void *value))
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_buckets; i++) {
		entry *e = m->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			if (free_value)
				free_value(e->value);
			free(e->key);
			free(e);
		}
	}
	free(m->b);
	free(m);
}

void *
berth_hmap_get(const berth_hmap *m, const char *key)
{
	for (entry *e = m->b[bucket(m, key)]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e->value;
	return NULL;
}

void
berth_hmap_put(berth_hmap *m, const char *key, void *value)
{
	size_t h = bucket(m, key);
	entry *e = xcalloc(1, sizeof(*e));

	e->key = xstrdup(key);
	e->value = value;
	e->next = m->b[h];
	m->b[h] = e;
	m->count++;
}

size_t
berth_hmap_count(const berth_hmap *m)
{
	return m->count;
}

void
berth_hmap_filter(berth_hmap *m,
		  bool (*fn)(void *ud, const char *key, void *value), void *ud)
{
	for (size_t i = 0; i < m->n_buckets; i++) {
		entry **pp = &m->b[i], *e;

		while ((e = *pp) != NULL) {
			if (fn(ud, e->key, e->value)) {
				*pp = e->next;
				free(e->key);
				free(e);
				m->count--;
				continue;
			}
			pp = &e->next;
		}
	}
}
