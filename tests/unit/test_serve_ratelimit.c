/*
 * berth serve's request-rate guard (server/access/ratelimit.c), with the
 * clock given: token buckets per address, kept in util/hmap.
 */
#include "test.h"

#include <stdint.h>
#include <stdio.h>

#include "server/access/ratelimit.h"

static void
test_bucket_per_address(void)
{
	berth_rate *r = berth_rate_new(5);
	int ok = 0;

	for (int i = 0; i < 5; i++)
		ok += berth_rate_take(r, "10.0.0.1", 1000);
	CHECK(ok == 5, "a full bucket allows 5, got %d", ok);
	CHECK(!berth_rate_take(r, "10.0.0.1", 1000), "the 6th at once");
	CHECK(berth_rate_take(r, "10.0.0.2", 1000), "another address");
	CHECK(berth_rate_take(r, "10.0.0.1", 1200), "one token in 200 ms");
	CHECK(!berth_rate_take(r, "10.0.0.1", 1200), "... and only one");
	CHECK(!berth_rate_take(r, "10.0.0.1", 900), "the clock going back");
	berth_rate_free(r);
}

/* Past the sweep threshold idle addresses go; busy ones keep their state. */
static void
test_sweep_keeps_busy_addresses(void)
{
	berth_rate *r = berth_rate_new(2);
	char a[32];
	int ok = 0;

	berth_rate_take(r, "busy", 0);
	berth_rate_take(r, "busy", 0);
	for (int i = 0; i < 70000; i++) {
		snprintf(a, sizeof(a), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
			 i & 255);
		ok += berth_rate_take(r, a, 0);
	}
	CHECK(ok == 70000, "first requests of new addresses: %d", ok);
	CHECK(!berth_rate_take(r, "busy", 0), "busy address still empty");
	berth_rate_free(r);
}

/* Failed logins: a burst of `count`, then one per window/count. */
static void
test_failed_logins(void)
{
	berth_limit l = {.count = 3, .window = 60};
	berth_limit off = {.count = -1, .window = 1};
	berth_fails *f = berth_fails_new(&l), *none = berth_fails_new(&off);
	long wait;

	for (int i = 0; i < 3; i++) {
		CHECK(berth_fails_blocked(f, "user:a", 1000) == 0,
		      "failure %d allowed", i + 1);
		berth_fails_add(f, "user:a", 1000);
	}
	wait = berth_fails_blocked(f, "user:a", 1000);
	CHECK(wait > 0 && wait <= 21, "blocked after 3, retry in %ld s", wait);
	CHECK(berth_fails_blocked(f, "user:b", 1000) == 0, "another key");
	CHECK(berth_fails_blocked(f, "user:a", 1000 + 20 * 1000 + 1) == 0,
	      "one failure leaked after window/count");
	berth_fails_add(f, "user:a", 21001);
	CHECK(berth_fails_blocked(f, "user:a", 21001) > 0, "... and only one");
	berth_fails_clear(f, "user:a");
	CHECK(berth_fails_blocked(f, "user:a", 21001) == 0,
	      "a good login clears");
	for (int i = 0; i < 100; i++)
		berth_fails_add(none, "user:a", 1000);
	CHECK(berth_fails_blocked(none, "user:a", 1000) == 0, "unlimited");
	berth_fails_free(f);
	berth_fails_free(none);
}

/* A reload changes the limits in place: the counts stay. */
static void
test_limits_change_in_place(void)
{
	berth_limit l = {.count = 3, .window = 60},
		    more = {.count = 5, .window = 60};
	berth_fails *f = berth_fails_new(&l);
	berth_rate *r = berth_rate_new(0);
	int ok = 0;

	for (int i = 0; i < 100; i++)
		ok += berth_rate_take(r, "10.0.0.1", 1000);
	CHECK(ok == 100, "rate 0 is off: %d of 100 allowed", ok);
	berth_rate_set(r, 2);
	ok = 0;
	for (int i = 0; i < 5; i++)
		ok += berth_rate_take(r, "10.0.0.1", 1000);
	CHECK(ok == 2, "turned on at 2 per second: %d of 5 allowed", ok);
	berth_rate_set(r, 0);
	CHECK(berth_rate_take(r, "10.0.0.1", 1000), "and off again");
	berth_rate_free(r);

	for (int i = 0; i < 3; i++)
		berth_fails_add(f, "user:a", 1000);
	CHECK(berth_fails_blocked(f, "user:a", 1000) > 0, "blocked after 3");
	berth_fails_set_limit(f, &more);
	CHECK(berth_fails_blocked(f, "user:a", 1000) == 0,
	      "a higher limit lets the 4th try");
	berth_fails_add(f, "user:a", 1000);
	berth_fails_add(f, "user:a", 1000);
	CHECK(berth_fails_blocked(f, "user:a", 1000) > 0,
	      "the 3 failures before still count: blocked after 5");
	berth_fails_free(f);
}

int
main(void)
{
	test_limits_change_in_place();
	test_failed_logins();
	test_bucket_per_address();
	test_sweep_keeps_busy_addresses();
	return test_done("test_serve_ratelimit");
}
