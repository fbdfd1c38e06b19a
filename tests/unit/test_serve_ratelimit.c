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

int
main(void)
{
	test_bucket_per_address();
	test_sweep_keeps_busy_addresses();
	return test_done("test_serve_ratelimit");
}
