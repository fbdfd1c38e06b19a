/*
 * util/pool.c, the worker pool behind blob downloads and pushes: every
 * item runs once, per-worker state pairs up, and a stop starts no more.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

#include "util/pool.h"

#define N 200

typedef struct counts {
	atomic_int ran[N];
	atomic_int entered, left, live_states;
	atomic_bool stop;
	size_t stop_at; /* the item that asks to stop, or N */
} counts;

static void
run(void *ud, void *state, size_t i)
{
	counts *c = ud;

	if (state != NULL && *(int *)state != 42)
		atomic_store(&c->ran[i], -1000); /* wrong worker state */
	atomic_fetch_add(&c->ran[i], 1);
	if (i == c->stop_at)
		atomic_store(&c->stop, true);
}

static bool
stopped(void *ud)
{
	return atomic_load(&((counts *)ud)->stop);
}

static void *
enter(void *ud)
{
	counts *c = ud;
	int *s = malloc(sizeof(*s));

	*s = 42;
	atomic_fetch_add(&c->entered, 1);
	atomic_fetch_add(&c->live_states, 1);
	return s;
}

static void
leave(void *ud, void *state)
{
	counts *c = ud;

	atomic_fetch_add(&c->left, 1);
	atomic_fetch_sub(&c->live_states, 1);
	free(state);
}

static const berth_pool_ops all_ops = {run, stopped, enter, leave};
static const berth_pool_ops bare_ops = {.run = run};

static void
reset(counts *c, size_t stop_at)
{
	memset(c, 0, sizeof(*c));
	c->stop_at = stop_at;
}

static void
test_every_item_once(void)
{
	static const size_t workers[] = {0, 1, 2, 7, N, 1000};
	static counts c;

	for (size_t w = 0; w < sizeof(workers) / sizeof(workers[0]); w++) {
		int wrong = 0;

		reset(&c, N);
		CHECK(berth_pool_run(&all_ops, &c, N, workers[w]) == N,
		      "%zu workers: not all started", workers[w]);
		for (size_t i = 0; i < N; i++)
			wrong += atomic_load(&c.ran[i]) != 1;
		CHECK(wrong == 0, "%zu workers: %d items not run once",
		      workers[w], wrong);
		CHECK(c.entered >= 1 && c.entered == c.left &&
			      c.live_states == 0,
		      "%zu workers: entered %d, left %d", workers[w],
		      (int)c.entered, (int)c.left);
		CHECK((size_t)c.entered <= (workers[w] > BERTH_POOL_MAX
						    ? BERTH_POOL_MAX
					    : workers[w] ? workers[w]
							 : 1),
		      "%zu workers: %d started", workers[w], (int)c.entered);
	}
	reset(&c, N);
	CHECK(berth_pool_run(&bare_ops, &c, 5, 3) == 5 && c.ran[4] == 1,
	      "without the optional callbacks");
	CHECK(berth_pool_run(&all_ops, &c, 0, 3) == 0 && c.entered == 0,
	      "no items: no worker");
}

static void
test_stop_starts_no_more(void)
{
	static counts c;
	size_t started;
	int wrong = 0;

	/* One worker: exactly the items up to the one that stops. */
	reset(&c, 3);
	CHECK(berth_pool_run(&all_ops, &c, N, 1) == 4, "one worker");
	CHECK(c.ran[3] == 1 && c.ran[4] == 0, "item after the stop ran");

	/* Several: those in flight finish, and the count says which ran
	 * (how many others slipped in before the stop is up to the
	 * scheduler). */
	reset(&c, 10);
	started = berth_pool_run(&all_ops, &c, N, 4);
	CHECK(started >= 11, "started %zu", started);
	for (size_t i = 0; i < N; i++)
		wrong += atomic_load(&c.ran[i]) != (i < started ? 1 : 0);
	CHECK(wrong == 0, "%d items ran against the count", wrong);
	CHECK(c.entered == c.left, "states left behind");
}

int
main(void)
{
	test_every_item_once();
	test_stop_starts_no_more();
	return test_done("test_pool");
}
