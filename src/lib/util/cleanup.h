/*
 * Scope-bound cleanup (GCC/Clang `cleanup` attribute), as in crun's utils.h:
 * every owning local starts as NULL / -1 and is released when it goes out of
 * scope unless handed out with steal_ptr() / steal_fd().
 */
#ifndef BERTH_LIB_UTIL_CLEANUP_H
#define BERTH_LIB_UTIL_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void
freep(void *p)
{
	void **pp = (void **)p;

	free(*pp);
	*pp = NULL;
}

static inline void
closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
	*fd = -1;
}

static inline void
fclosep(FILE **f)
{
	if (*f != NULL)
		fclose(*f);
	*f = NULL;
}

static inline void *
steal_ptr_impl(void *pp)
{
	void **p = (void **)pp;
	void *r = *p;

	*p = NULL;
	return r;
}
#define steal_ptr(pp) steal_ptr_impl((void *)(pp))

static inline int
steal_fd(int *fd)
{
	int r = *fd;

	*fd = -1;
	return r;
}

#define BERTH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
