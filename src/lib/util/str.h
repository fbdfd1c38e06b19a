/* Small string helpers shared by the library. */
#ifndef BERTH_LIB_UTIL_STR_H
#define BERTH_LIB_UTIL_STR_H

#include <stddef.h>

/*
 * The one sanitiser for text from outside (a registry's error bodies,
 * headers, platform strings, names) on its way to a message, a log line or
 * a terminal: printable ASCII and valid UTF-8 of printable characters are
 * kept; tab, CR and LF become a space; every other byte becomes '?' — C0
 * controls and DEL, C1 controls raw (0x80-0x9f) or UTF-8-encoded
 * (U+0080-U+009F), bidirectional overrides, invalid UTF-8. More than `max`
 * bytes are cut at a character boundary and end in "...". Caller frees.
 */
char *berth_str_quote(const char *s, size_t len, size_t max);

/*
 * bytes[0..len) made safe for one log line, losslessly: every byte that
 * berth_str_quote would replace (controls, C1, bidirectional overrides,
 * invalid UTF-8; the same rule) becomes "\xNN", and the backslash "\\",
 * so that no field can end a line, forge one or drive a terminal. Caller
 * frees.
 */
char *berth_str_escape_log(const char *bytes, size_t len);

/*
 * The media type of a Content-Type value, without parameters or blanks
 * ("application/json; charset=utf-8" -> "application/json"), case kept;
 * NULL when there is none. Caller frees.
 */
char *berth_str_media_type(const char *content_type);

/*
 * The length to write of a log line that snprintf(buf, size, "...\n", ...)
 * formatted and returned `n` for: a line too long for the buffer is cut,
 * but still ends in its newline (and never carries the terminating NUL).
 * 0 when snprintf failed.
 */
size_t berth_str_line_len(char *buf, size_t size, int n);

/* The value of a hexadecimal digit (either case), or -1. */
int berth_hex_digit(char c);

#endif
