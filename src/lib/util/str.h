/* Small string helpers shared by the library. */
#ifndef BERTH_LIB_UTIL_STR_H
#define BERTH_LIB_UTIL_STR_H

#include <stddef.h>

/*
 * Quotes untrusted bytes for a one-line message: non-printable bytes become
 * '?', and more than `max` bytes are cut and end in "...". Caller frees.
 */
char *berth_str_quote(const char *s, size_t len, size_t max);

/*
 * bytes[0..len) made safe for one log line, losslessly: control bytes
 * (below 0x20, DEL), the C1 controls U+0080..U+009F, bytes that are not
 * UTF-8 and the backslash become "\xNN" ("\\" for the backslash), so
 * that no field can end a line, forge one or drive a terminal. Other
 * UTF-8 stays as it is. Caller frees.
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

#endif
