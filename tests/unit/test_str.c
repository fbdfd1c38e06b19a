/* String helpers of util/str.h: log lines cut to their buffer and escaped. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
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

/* The escaped form of a literal (with its length, NULs allowed). */
#define ESC(lit) berth_str_escape_log(lit, sizeof(lit) - 1)

static void
check_esc(char *got, const char *want)
{
	CHECK_STR(got, want);
	free(got);
}

static void
test_escape_log(void)
{
	check_esc(ESC("GET /v2/ok"), "GET /v2/ok");
	check_esc(ESC("a\nb\r\tc"), "a\\x0ab\\x0d\\x09c");
	check_esc(ESC("nul\0x"), "nul\\x00x");
	check_esc(ESC("\x1b]0;title\x07 \x7f"), "\\x1b]0;title\\x07 \\x7f");
	/* C1 controls as UTF-8 (U+009B, 8-bit CSI) and as raw bytes. */
	check_esc(ESC("\xc2\x9b"
		      "31m"),
		  "\\xc2\\x9b31m");
	check_esc(ESC("\x9b"
		      "31m"),
		  "\\x9b31m");
	/* Other UTF-8 stays; invalid sequences are escaped byte by byte. */
	check_esc(ESC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3"),
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3");
	check_esc(ESC("\xc3(\xe2\x82\xc0\x80\xed\xa0\x80"),
		  "\\xc3(\\xe2\\x82\\xc0\\x80\\xed\\xa0\\x80");
	check_esc(ESC("\xe2\x82"), "\\xe2\\x82");
	/* A backslash is doubled: a literal "\x0a" is not a newline. */
	check_esc(ESC("a\\x0a"), "a\\\\x0a");
}

/* berth_str_quote: the one sanitiser of outside text. */
static void
test_quote(void)
{
	static const struct {
		const char *in, *want;
		size_t max;
	} c[] = {
		{"plain text", "plain text", 100},
		{"a\tb\nc\rd", "a b c d", 100},
		/* C0, DEL: an OSC title and a CSI colour. */
		{"\033]0;pwned\007x", "?]0;pwned?x", 100},
		{"\033[31mred\177", "?[31mred?", 100},
		/* C1 raw (8-bit CSI, OSC) and UTF-8-encoded (U+009B, U+0085).
		 */
		{"\x9b"
		 "31m\x9d"
		 "0;t",
		 "?31m?0;t", 100},
		{"\xc2\x9b"
		 "31m\xc2\x85",
		 "??31m??", 100},
		/* Printable UTF-8 is kept: é, €, a CJK character, an emoji. */
		{"caf\xc3\xa9 \xe2\x82\xac \xe4\xb8\xad \xf0\x9f\x90\xb3",
		 "caf\xc3\xa9 \xe2\x82\xac \xe4\xb8\xad \xf0\x9f\x90\xb3", 100},
		/* Bidi override U+202E, isolate U+2066. */
		{"a\xe2\x80\xae"
		 "b\xe2\x81\xa6",
		 "a???b???", 100},
		/* Invalid UTF-8: overlong '/', a surrogate, a lone lead byte,
		 * a sequence cut short at the end. */
		{"\xc0\xaf|\xed\xa0\x80|\xe2|\xe2\x82", "??|???|?|??", 100},
		/* Cut at `max`, never inside a character. */
		{"abcdef", "abc...", 3},
		{"ab\xc3\xa9", "ab...", 3},
		{"", "", 10},
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *q = berth_str_quote(c[i].in, strlen(c[i].in), c[i].max);

		CHECK(strcmp(q, c[i].want) == 0,
		      "case %zu: got '%s', want '%s'", i, q, c[i].want);
		free(q);
	}
	/* Bytes after a NUL are still looked at (len, not strlen). */
	{
		char *q = berth_str_quote("a\0b", 3, 10);

		CHECK(strcmp(q, "a?b") == 0, "NUL: got '%s'", q);
		free(q);
	}
}

int
main(void)
{
	test_line_len();
	test_escape_log();
	test_quote();
	return test_done("str");
}
