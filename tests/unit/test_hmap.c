/*
 * util/hmap.c, the hash table of the server's pull limits and request-rate
 * guard: lookups, collisions, growth, filtered removal and freeing.
 */
#include "test.h"

#include "util/hmap.h"
#include "util/xalloc.h"

static int freed;

static void
count_free(void *v)
{
	freed++;
	free(v);
}

static int *
num(int n)
{
	int *p = xmalloc(sizeof(*p));

	*p = n;
	return p;
}

/* Drops the odd values, freeing them. */
static bool
drop_odd(void *ud, const char *key, void *value)
{
	int *seen = ud;
	int v = *(int *)value;
	char want[16];

	snprintf(want, sizeof(want), "k%d", v);
	if (strcmp(key, want) != 0)
		(*seen) = -1000; /* the key does not go with its value */
	(*seen)++;
	if (v % 2 == 0)
		return false;
	free(value);
	return true;
}

static void
run_table(size_t buckets)
{
	berth_hmap *m = berth_hmap_new(buckets);
	char key[16];
	int seen = 0, missing = 0, wrong = 0;

	CHECK(berth_hmap_count(m) == 0 && berth_hmap_get(m, "k1") == NULL,
	      "%zu buckets: empty", buckets);
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		berth_hmap_put(m, key, num(i));
	}
	CHECK(berth_hmap_count(m) == 1000, "%zu buckets: count %zu", buckets,
	      berth_hmap_count(m));
	for (int i = 0; i < 1000; i++) {
		int *v;

		snprintf(key, sizeof(key), "k%d", i);
		v = berth_hmap_get(m, key);
		missing += v == NULL;
		wrong += v != NULL && *v != i;
	}
	CHECK(missing == 0 && wrong == 0, "%zu buckets: %d missing, %d wrong",
	      buckets, missing, wrong);
	CHECK(berth_hmap_get(m, "k1000") == NULL &&
		      berth_hmap_get(m, "") == NULL,
	      "%zu buckets: absent keys found", buckets);

	berth_hmap_filter(m, drop_odd, &seen);
	CHECK(seen == 1000, "%zu buckets: filter saw %d", buckets, seen);
	CHECK(berth_hmap_count(m) == 500, "%zu buckets: %zu after filter",
	      buckets, berth_hmap_count(m));
	CHECK(berth_hmap_get(m, "k7") == NULL && berth_hmap_get(m, "k8") &&
		      *(int *)berth_hmap_get(m, "k8") == 8,
	      "%zu buckets: filter removed the wrong entries", buckets);
	berth_hmap_put(m, "k7", num(7));
	CHECK(berth_hmap_get(m, "k7") && berth_hmap_count(m) == 501,
	      "%zu buckets: put after removal", buckets);

	freed = 0;
	berth_hmap_free(m, count_free);
	CHECK(freed == 501, "%zu buckets: freed %d values", buckets, freed);
}

static void
test_tables(void)
{
	run_table(16384); /* as the rate limiter uses it */
	run_table(1);	  /* grows from one chain, rehashing 9 times */
	run_table(0);	  /* taken as 1 */
	berth_hmap_free(NULL, count_free);
}

int
main(void)
{
	test_tables();
	return test_done("test_hmap");
}
