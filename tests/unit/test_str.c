/* String helpers of util/str.h: log lines cut to their buffer. */
#include "test.h"

#include <stdio.h>
#include <string.h>

#include "util/str.h"

static void
test_line_len(void)
{
	/* Not a literal, so the compiler does not see the cut coming. */
	const char *volatile long_text = "a line much longer than the buffer";
	char buf[16];
	size_t n;

	n = berth_str_line_len(buf, sizeof(buf),
			       snprintf(buf, sizeof(buf), "short %d\n", 1));
	CHECK(n == 8 && memcmp(buf, "short 1\n", 8) == 0, "fits: %zu", n);

	/* Exactly the buffer less the NUL still fits whole. */
	n = berth_str_line_len(
		buf, sizeof(buf),
		snprintf(buf, sizeof(buf), "%s\n", "fourteen chars"));
	CHECK(n == 15 && memcmp(buf, "fourteen chars\n", 15) == 0,
	      "fits exactly: %zu", n);

	/* Too long: cut, ending in the newline, with no NUL written out. */
	n = berth_str_line_len(buf, sizeof(buf),
			       snprintf(buf, sizeof(buf), "%s\n", long_text));
	CHECK(n == sizeof(buf) - 1, "cut to %zu", n);
	CHECK(buf[n - 1] == '\n', "ends in a newline");
	CHECK(memchr(buf, '\0', n) == NULL, "no NUL in the line");
	CHECK(memcmp(buf, "a line much l", 13) == 0, "the start is kept");

	CHECK(berth_str_line_len(buf, sizeof(buf), -1) == 0, "snprintf failed");
}

int
main(void)
{
	test_line_len();
	return test_done("str");
}
