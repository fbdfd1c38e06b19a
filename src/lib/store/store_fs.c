/*
 * The store's low-level file helpers, below store.c, store_blob.c,
 * store_index.c, store_gc.c and store_fsck.c: paths under the root, I/O
 * errors with their hints, locks, fsync and atomic replace. They call
 * nothing else of the store.
 */
#include "store/store_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"

char *
store_path(const berth_store *s, const char *rel)
{
	return xasprintf("%s/%s", s->root, rel);
}

/* What the user can do about a failed write to the store. */
static void
io_hint(berth_error **err, const berth_store *s, int errnum)
{
	if (errnum == ENOSPC || errnum == EDQUOT)
		berth_error_hint(err,
				 "free space on '%s' or choose another store "
				 "with --root",
				 s->root);
	else if (errnum == EACCES || errnum == EPERM || errnum == EROFS)
		berth_error_hint(err,
				 "choose a store you can write to with --root "
				 "(or BERTH_ROOT)");
}

int
store_io_error(berth_error **err, const berth_store *s, int errnum,
	       const char *what, const char *path)
{
	berth_error_set(err, BERTH_EIO, errnum, "cannot %s '%s': %s", what,
			path, strerror(errnum));
	io_hint(err, s, errnum);
	return BERTH_EIO;
}

void
store_random_hex(char *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	static atomic_uint counter;
	unsigned char raw[32];
	size_t need = (n + 1) / 2;

	assert(need <= sizeof(raw));
	if (getrandom(raw, need, GRND_NONBLOCK) != (ssize_t)need) {
		/* No entropy yet (early boot): unique enough with O_EXCL. */
		struct timespec ts;
		unsigned v;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		v = (unsigned)ts.tv_nsec ^ ((unsigned)getpid() << 16) ^
		    atomic_fetch_add(&counter, 1) * 2654435761u;
		for (size_t i = 0; i < need; i++, v = v * 1103515245u + 12345u)
			raw[i] = (unsigned char)(v >> 16);
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = hex[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	buf[n] = '\0';
}

int
store_lock(berth_store *s, const char *rel, int op, int *fd, berth_error **err)
{
	_cleanup_free_ char *path = store_path(s, rel);
	_cleanup_close_ int lfd = -1;

	lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lfd < 0)
		return store_io_error(err, s, errno, "open lock file", path);
	/*
	 * With an interrupt flag, poll: a signal handled by another thread
	 * does not end this thread's flock, and a handler installed with
	 * SA_RESTART (signal(2)) would restart it. Ever longer naps keep a
	 * short wait short and a long one cheap.
	 */
	for (long nap_ms = 1;; nap_ms = nap_ms < 50 ? nap_ms * 2 : 50) {
		struct timespec ts = {0, nap_ms * 1000000L};

		if (s->interrupt && *s->interrupt)
			goto interrupted;
		if (flock(lfd, s->interrupt ? op | LOCK_NB : op) == 0)
			break;
		if (errno == EINTR && s->interrupt == NULL)
			goto interrupted;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return store_io_error(err, s, errno, "lock", path);
		nanosleep(&ts, NULL);
	}
	/* A signal that came while the lock was being granted still counts. */
	if (s->interrupt && *s->interrupt)
		goto interrupted;
	*fd = steal_fd(&lfd);
	return 0;
interrupted:
	return berth_error_set(err, BERTH_EINTERRUPTED, EINTR,
			       "interrupted while waiting for the lock on '%s'",
			       path);
}

void
store_unlock(int *fd)
{
	closep(fd); /* closing the last descriptor releases the flock */
}

int
store_fsync_dir(berth_store *s, const char *dir, berth_error **err)
{
	int e = berth_fsync_dir(dir);

	if (e != 0)
		return store_io_error(err, s, e, "flush directory", dir);
	return 0;
}

int
store_write_file(berth_store *s, const char *rel, const char *tmp_prefix,
		 const char *data, size_t len, berth_error **err)
{
	_cleanup_free_ char *path = store_path(s, rel);
	berth_file_replace_opts o = {
		.mode = 0644,
		.sync = (s->flags & BERTH_STORE_SYNC) != 0,
		.tmp_prefix = tmp_prefix,
	};

	int r = berth_file_replace(path, data, len, &o, err);

	if (r < 0 && err && *err)
		io_hint(err, s, (*err)->sys_errno);
	return r;
}
