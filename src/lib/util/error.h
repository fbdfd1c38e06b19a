/*
 * Building berth_error values inside libberth.
 *
 * The rule: a failing function returns its negative code whether or not the
 * caller asked for the error object. The code travels in return values, never
 * read back out of `*err` (which is NULL when the caller passed err == NULL):
 *
 *	if ((r = step(..., err)) < 0)
 *		return berth_error_wrap(err, r, "context");
 *
 * berth_error_set and berth_error_wrap return the code they are given;
 * berth_error_hint returns nothing, so a hint never stands in for a code.
 */
#ifndef BERTH_LIB_UTIL_ERROR_H
#define BERTH_LIB_UTIL_ERROR_H

#include "berth/common.h"

/*
 * Sets *err (when err is not NULL) to a new error and returns `code`, so a
 * failure reads `return berth_error_set(err, BERTH_EIO, errno, "...")`.
 * If *err is already set it is replaced.
 */
int berth_error_set(berth_error **err, berth_code code, int sys_errno,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Sets the hint of *err (printf-style); a no-op if err or *err is NULL. */
void berth_error_hint(berth_error **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Prefixes the message of *err (if any) with context ("pulling 'x': <msg>")
 * and returns `code`, the failing call's return value. The hint stays.
 */
int berth_error_wrap(berth_error **err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Moves *from into *to (freeing what *to held, or *from when to is NULL);
 * returns `code`.
 */
int berth_error_move(berth_error **to, berth_error **from, int code);

static inline void
berth_error_freep(berth_error **e)
{
	berth_error_free(*e);
	*e = NULL;
}

#endif
