/*
 * A hash table from strings to the caller's values: chaining, the
 * buckets doubled when the entries reach twice their number, no locking
 * (the caller holds its own lock). Keys are copied; values are the
 * caller's to free.
 */
#ifndef BERTH_LIB_UTIL_HMAP_H
#define BERTH_LIB_UTIL_HMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct berth_hmap berth_hmap;

/* A table of `buckets` chains at first (at least 1). */
berth_hmap *berth_hmap_new(size_t buckets);

/* Frees the table, calling free_value (when not NULL) on each value. */
void berth_hmap_free(berth_hmap *m, void (*free_value)(void *value));

/* The value stored under key, or NULL. */
void *berth_hmap_get(const berth_hmap *m, const char *key);

/* Stores value under key, which must not be in the table yet. */
void berth_hmap_put(berth_hmap *m, const char *key, void *value);

/* How many entries the table holds. */
size_t berth_hmap_count(const berth_hmap *m);

/*
 * Calls fn on every entry; an entry for which fn returns true is removed
 * (fn frees its value then, if it must). fn must not change the table.
 */
void berth_hmap_filter(berth_hmap *m,
		       bool (*fn)(void *ud, const char *key, void *value),
		       void *ud);

#endif
