/* The string-keyed hash table of util/hmap.h (FNV-1a, chained, growing). */
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
hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static size_t
bucket(const berth_hmap *m, const char *s)
{
	return hash(s) % m->n_buckets;
}

/* Twice the buckets, the chains spread over them. */
static void
grow(berth_hmap *m)
{
	size_t n = m->n_buckets * 2;
	entry **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < m->n_buckets; i++) {
		entry *e = m->b[i], *next;

		for (; e; e = next) {
			size_t h = hash(e->key) % n;

			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	}
	free(m->b);
	m->b = b;
	m->n_buckets = n;
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
	for (size_t i = 0; m->count && i < m->n_buckets; i++) {
		entry *e = m->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			m->count--;
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
	entry *e = xcalloc(1, sizeof(*e));
	size_t h;

	if (m->count >= 2 * m->n_buckets)
		grow(m);
	h = bucket(m, key);
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
