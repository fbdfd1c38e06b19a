/* Building berth_error values inside libberth. */
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

/* Sets the hint of an existing error (printf-style); returns its code. */
int berth_error_hint(berth_error **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Prefixes the message of *err with context ("pulling 'x': <msg>") and
 * returns its code unchanged. The hint stays.
 */
int berth_error_wrap(berth_error **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Returns (*err)->code, or BERTH_EGENERIC if err or *err is NULL. */
int berth_error_code(berth_error **err);

/* Moves *from into *to (freeing what *to held); returns its code. */
int berth_error_move(berth_error **to, berth_error **from);

static inline void
berth_error_freep(berth_error **e)
{
	berth_error_free(*e);
	*e = NULL;
}

#endif
