/*
 * One growable byte buffer, always NUL-terminated, with a hard cap so a
 * hostile peer cannot make us allocate without bound (libgit2 git_str,
 * curl dynbuf).
 */
#ifndef BERTH_LIB_UTIL_BUF_H
#define BERTH_LIB_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "berth/common.h"

typedef struct berth_buf {
	char *ptr;  /* NUL-terminated; NULL until the first append */
	size_t len; /* bytes used, not counting the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* hard limit on len; 0 means BERTH_BUF_DEFAULT_MAX */
} berth_buf;

#define BERTH_BUF_INIT                                                         \
	{                                                                      \
		NULL, 0, 0, 0                                                  \
	}
#define BERTH_BUF_DEFAULT_MAX ((size_t)64 << 20)

void berth_buf_init(berth_buf *b, size_t max);
void berth_buf_release(berth_buf *b);
void berth_buf_clear(berth_buf *b);

/* Appends; fails with BERTH_ETOOBIG (no change) past the cap. */
int berth_buf_put(berth_buf *b, const void *p, size_t len, berth_error **err);
int berth_buf_puts(berth_buf *b, const char *s, berth_error **err);
int berth_buf_printf(berth_buf *b, berth_error **err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Hands the bytes to the caller (never NULL) and resets the buffer. */
char *berth_buf_detach(berth_buf *b);

/* A valid empty C string even before the first append. */
static inline const char *
berth_buf_cstr(const berth_buf *b)
{
	return b->ptr ? b->ptr : "";
}

#define _cleanup_buf_ __attribute__((cleanup(berth_buf_release)))

#endif
