/*
 * util/duration.c, the durations of settings (gc-grace, retention's
 * delays, event endpoints' timeouts): units, fractions, bounds, and what
 * is refused.
 */
#include "test.h"

#include "util/duration.h"
#include "util/error.h"

TEST(seconds)
{
	static const struct {
		const char *in;
		int64_t want; /* -1: refused */
	} cases[] = {
		{"0", 0},
		{"90", 90},
		{"90s", 90},
		{"2m", 120},
		{"1.5m", 90},
		{"36h", 129600},
		{"30d", 2592000},
		{"1w", 604800},
		{"2w", 1209600},
		{"", -1},
		{"h", -1},
		{"-1s", -1},
		{"-1d", -1},
		{"+1s", -1},
		{"1x", -1},
		{"1y", -1},
		{"1hh", -1},
		{"1dd", -1},
		{" 1s", -1},
		{"1s ", -1},
		{"1.5s", -1},
		{"500ms", -1},
		{"1.", -1},
		{".5h", -1},
		{"1e3", -1},
		{"0x10", -1},
		{"inf", -1},
		{"99999999999w", -1},
		{"99999999999d", -1},
		{"999999999999999999999999999999", -1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		berth_error *err = NULL;
		int64_t got = -1;
		int r = berth_duration_parse(cases[i].in, &got, &err);

		CHECK(cases[i].want < 0 ? r == BERTH_EUSAGE && err &&
						  strstr(err->msg, "duration")
					: r == 0 && got == cases[i].want,
		      "'%s': r %d, got %lld", cases[i].in, r, (long long)got);
		berth_error_free(err);
	}
	CHECK(berth_duration_parse(NULL, &(int64_t){0}, NULL) == BERTH_EUSAGE,
	      "NULL refused");
}

TEST(milliseconds)
{
	static const struct {
		const char *in;
		int64_t want; /* -1: refused */
	} cases[] = {
		{"500ms", 500},	   {"1.5s", 1500}, {"0.25s", 250},
		{"2", 2000},	   {"1m", 60000},  {"1h", 3600000},
		{"0.0004s", 0},	   {"0.0005s", 1}, {"1.2.3s", -1},
		{"5 parsecs", -1}, {"ms", -1},	   {"1sm", -1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = -1;
		int r = berth_duration_parse_ms(cases[i].in, &got, NULL);

		CHECK(cases[i].want < 0 ? r == BERTH_EUSAGE
					: r == 0 && got == cases[i].want,
		      "'%s': r %d, got %lld", cases[i].in, r, (long long)got);
	}
}

TEST_MAIN("test_duration")
