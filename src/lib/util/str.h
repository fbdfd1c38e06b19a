/* Small string helpers shared by the library. */
#ifndef BERTH_UTIL_STR_H
#define BERTH_UTIL_STR_H

#include <stddef.h>

/*
 * Quotes untrusted bytes for a one-line message: non-printable bytes become
 * '?', and more than `max` bytes are cut and end in "...". Caller frees.
 */
char *berth_str_quote(const char *s, size_t len, size_t max);

#endif
