/*
 * A minimal unit-test harness: each check prints one TAP-like line, and the
 * program exits non-zero if any failed. tests/run-unit.sh sums them up.
 */
#ifndef BERTH_TEST_H
#define BERTH_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_passed, test_failed;

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (cond) {                                               \
			test_passed++;                                    \
		} else {                                                  \
			test_failed++;                                    \
			printf("not ok %s:%d: %s: ", __FILE__, __LINE__,  \
			       #cond);                                    \
			printf(__VA_ARGS__);                              \
			printf("\n");                                     \
		}                                                         \
	} while (0)

#define CHECK_STR(got, want)                                              \
	do {                                                              \
		const char *g_ = (got), *w_ = (want);                     \
		CHECK((g_ == NULL && w_ == NULL) ||                       \
			      (g_ && w_ && strcmp(g_, w_) == 0),          \
		      "got '%s', want '%s'", g_ ? g_ : "(null)",          \
		      w_ ? w_ : "(null)");                                \
	} while (0)

/* Prints the summary line tests/run-unit.sh reads; use as main's return. */
static inline int
test_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, test_passed, test_failed);
	return test_failed ? 1 : 0;
}

#endif
