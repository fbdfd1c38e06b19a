/*
 * Blobs: reading and writing them. Bytes go to a staging file in
 * ROOT/ingest/ while they are hashed; at commit the size and digest are
 * checked and the file is renamed to ROOT/blobs/<alg>/<hex>. A blob that
 * is visible is therefore complete and verified whenever the process
 * dies; with BERTH_STORE_SYNC the data and the directory entry are
 * flushed first, so it survives power loss too.
 *
 * Each staging file has a unique name (pid and 64 random bits, created
 * with O_EXCL) and is flocked by its writer for its whole life, so fsck
 * and gc can tell abandoned files from files being written.
 */
#include "store/store_int.h"
#include "store/store.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"

/* Below this, preallocating costs more than it saves. */
#define PREALLOC_MIN ((int64_t)1 << 20)

struct berth_blob_writer {
	berth_store *s;
	int fd;	    /* -1 once committed or after a failed commit */
	char *path; /* the staging file, NULL when there is none */
	berth_hasher *h;
	berth_digest_alg alg;
	bool has_expect;
	berth_digest expect;
	int64_t expect_size; /* or -1 */
	int64_t written;
	bool failed; /* a write failed half-way: the file is unusable */
	bool committed;
	bool keep; /* a resumable partial file: leave it for the next pull */
};

char *
berth_store_blob_path(berth_store *s, const berth_digest *d)
{
	return xasprintf("%s/blobs/%s/%s", s->root,
			 berth_digest_alg_name(d->alg), berth_digest_hex(d));
}

bool
berth_store_has_blob(int64_t *size, berth_store *s, const berth_digest *d)
{
	_cleanup_free_ char *path = berth_store_blob_path(s, d);
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	if (size)
		*size = (int64_t)st.st_size;
	return true;
}

int
berth_store_read_blob(char **out, size_t *len, berth_store *s,
		      const berth_digest *d, size_t max, berth_error **err)
{
	_cleanup_free_ char *path = berth_store_blob_path(s, d);
	_cleanup_free_ char *data = NULL;
	berth_digest got;
	size_t off;
	int r = berth_file_read(&data, &off, path, max, err);

	if (r == BERTH_ENOTFOUND)
		return berth_error_set(err, BERTH_ENOTFOUND, ENOENT,
				       "blob '%s' is not in store '%s'", d->str,
				       s->root);
	if (r == BERTH_ETOOBIG)
		return berth_error_set(err, BERTH_ETOOBIG, 0,
				       "blob '%s' is %zu bytes, over the limit "
				       "of %zu",
				       d->str, off, max);
	if (r < 0)
		return r;
	berth_digest_of(&got, d->alg, data, off);
	if (strcmp(got.str, d->str) != 0) {
		berth_error_set(err, BERTH_ECORRUPT, 0,
				"blob '%s' in store '%s' is corrupt: content "
				"is %s",
				d->str, s->root, got.str);
		berth_error_hint(err, "run 'berth fsck' to remove damaged "
				      "blobs, then pull the image again");
		return BERTH_ECORRUPT;
	}
	*out = steal_ptr(&data);
	if (len)
		*len = off;
	return 0;
}

/* Creates and locks a new staging file. */
static int
staging_create(berth_store *s, const berth_digest *label, berth_digest_alg alg,
	       int64_t prealloc, int *fd_out, char **path_out,
	       berth_error **err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	char rnd[17], hint[13];

	snprintf(hint, sizeof(hint), "%s",
		 label ? berth_digest_hex(label) : "new");
	for (int attempt = 0; fd < 0; attempt++) {
		free(path);
		store_random_hex(rnd, 16);
		path = xasprintf("%s/" STORE_INGEST_DIR "/" STORE_STAGING_PREFIX
				 "%s-%s-%d-%s",
				 s->root, berth_digest_alg_name(alg), hint,
				 (int)getpid(), rnd);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0)
			break;
		if (errno == ENOENT && attempt == 0) {
			_cleanup_free_ char *dir =
				store_path(s, STORE_INGEST_DIR);

			if (mkdir(dir, 0755) < 0 && errno != EEXIST)
				return store_io_error(err, s, errno,
						      "create directory", dir);
			continue;
		}
		if (errno != EEXIST || attempt > 8)
			return store_io_error(err, s, errno, "create", path);
	}
	/* Nobody else knows the name yet: this cannot block. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		unlink(path);
		return store_io_error(err, s, e, "lock", path);
	}
	/* Fail before downloading, not at 95%, when the disk is full. */
	if (prealloc >= PREALLOC_MIN &&
	    fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)prealloc) < 0 &&
	    (errno == ENOSPC || errno == EDQUOT)) {
		int e = errno;

		unlink(path);
		return store_io_error(err, s, e, "write", path);
	}
	*fd_out = steal_fd(&fd);
	*path_out = steal_ptr(&path);
	return 0;
}

static int
write_all(berth_store *s, int fd, const char *path, const void *p, size_t len,
	  berth_error **err)
{
	int e = berth_write_full(fd, p, len);

	return e ? store_io_error(err, s, e, "write", path) : 0;
}

/*
 * Moves a verified staging file to blobs/<alg>/<hex>. Unless `replace`, a
 * blob that is already there (same size) stays and the staging file is
 * dropped. On failure the staging file is left for the caller to remove.
 */
static int
publish(berth_store *s, int fd, const char *staging, const berth_digest *d,
	int64_t size, bool replace, berth_error **err)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_free_ char *target = berth_store_blob_path(s, d);
	struct stat st;

	if ((s->flags & BERTH_STORE_SYNC) && fdatasync(fd) < 0)
		return store_io_error(err, s, errno, "flush", staging);
	if (!replace && stat(target, &st) == 0 && S_ISREG(st.st_mode) &&
	    (int64_t)st.st_size == size) {
		unlink(staging);
		return 0;
	}
	dir = xasprintf("%s/blobs/%s", s->root, berth_digest_alg_name(d->alg));
	if (rename(staging, target) < 0) {
		if (errno != ENOENT ||
		    (mkdir(dir, 0755) < 0 && errno != EEXIST) ||
		    rename(staging, target) < 0)
			return store_io_error(err, s, errno, "store blob in",
					      target);
	}
	if (s->flags & BERTH_STORE_SYNC)
		return store_fsync_dir(s, dir, err);
	return 0;
}

/* True when the stored blob holds exactly these bytes. */
static bool
same_content(berth_store *s, const berth_digest *d, const void *p, size_t len)
{
	_cleanup_free_ char *path = berth_store_blob_path(s, d);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[65536];
	const char *c = p;
	size_t off = 0;

	if (fd < 0)
		return false;
	while (off < len) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (size_t)n > len - off ||
		    memcmp(buf, c + off, (size_t)n) != 0)
			return false;
		off += (size_t)n;
	}
	return true;
}

int
berth_store_put_blob(berth_digest *out, berth_store *s,
		     const berth_digest *expect, const void *p, size_t len,
		     berth_error **err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	berth_digest got;
	int64_t have;
	int r;

	berth_digest_of(&got, expect ? expect->alg : BERTH_DIGEST_SHA256, p,
			len);
	if (expect && strcmp(expect->str, got.str) != 0)
		return berth_error_set(err, BERTH_EDIGEST, 0,
				       "digest mismatch for blob '%s': content "
				       "is %s",
				       expect->str, got.str);
	if (out)
		*out = got;
	/* Small in-memory blobs (manifests) are compared, so a damaged copy
	 * is replaced rather than trusted. */
	if (berth_store_has_blob(&have, s, &got) && have == (int64_t)len &&
	    same_content(s, &got, p, len))
		return 0;
	r = staging_create(s, &got, got.alg, (int64_t)len, &fd, &path, err);
	if (r < 0)
		return r;
	r = write_all(s, fd, path, p, len, err);
	if (r == 0)
		r = publish(s, fd, path, &got, (int64_t)len, true, err);
	if (r < 0)
		unlink(path);
	return r;
}

int
berth_store_blob_begin(berth_blob_writer **out, berth_store *s,
		       const berth_digest *expect, int64_t expect_size,
		       berth_error **err)
{
	berth_blob_writer *w = xcalloc(1, sizeof(*w));
	int r;

	w->s = s;
	w->fd = -1;
	w->alg = expect ? expect->alg : BERTH_DIGEST_SHA256;
	w->has_expect = expect != NULL;
	if (expect)
		w->expect = *expect;
	w->expect_size = expect_size >= 0 ? expect_size : -1;
	r = staging_create(s, expect, w->alg, w->expect_size, &w->fd, &w->path,
			   err);
	if (r < 0) {
		free(w);
		return r;
	}
	w->h = berth_hasher_new(w->alg);
	*out = w;
	return 0;
}

/* "blob 'sha256:…'" when the digest is known, else "blob". */
static const char *
label(const berth_blob_writer *w, char *buf, size_t n)
{
	if (w->has_expect)
		snprintf(buf, n, "blob '%s'", w->expect.str);
	else
		snprintf(buf, n, "blob");
	return buf;
}

static int
closed_error(const berth_blob_writer *w, berth_error **err)
{
	char l[BERTH_DIGEST_MAX + 8];

	return berth_error_set(err, BERTH_EGENERIC, 0,
			       "writer for %s is closed (reset it to start "
			       "again)",
			       label(w, l, sizeof(l)));
}

int
berth_blob_writer_write(berth_blob_writer *w, const void *p, size_t len,
			berth_error **err)
{
	char l[BERTH_DIGEST_MAX + 8];
	int r;

	assert(!w->committed);
	if (w->fd < 0 || w->failed)
		return closed_error(w, err);
	if (w->expect_size >= 0 &&
	    (uint64_t)len > (uint64_t)(w->expect_size - w->written))
		return berth_error_set(err, BERTH_EDIGEST, 0,
				       "%s is larger than expected: got more "
				       "than %lld bytes",
				       label(w, l, sizeof(l)),
				       (long long)w->expect_size);
	berth_hasher_update(w->h, p, len);
	r = write_all(w->s, w->fd, w->path, p, len, err);
	if (r < 0) {
		w->failed = true;
		return r;
	}
	w->written += (int64_t)len;
	return 0;
}

const char *
store_blob_writer_path(const berth_blob_writer *w)
{
	return w->committed || w->fd < 0 ? NULL : w->path;
}

int64_t
berth_blob_writer_written(const berth_blob_writer *w)
{
	return w->written;
}

/* Removes the staging file and closes it: nothing of the blob remains
 * (unless it is a partial file worth keeping). */
static void
discard(berth_blob_writer *w)
{
	/* An empty partial file has nothing to resume. */
	if (w->path && !w->committed &&
	    !(w->keep && !w->failed && w->written > 0))
		unlink(w->path);
	free(w->path);
	w->path = NULL;
	closep(&w->fd);
}

int
berth_blob_writer_reset(berth_blob_writer *w, berth_error **err)
{
	assert(!w->committed);
	if (w->fd < 0) {
		int r = staging_create(w->s, w->has_expect ? &w->expect : NULL,
				       w->alg, w->expect_size, &w->fd, &w->path,
				       err);
		if (r < 0)
			return r;
	} else if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0) {
		return store_io_error(err, w->s, errno, "truncate", w->path);
	}
	berth_hasher_reset(w->h);
	w->written = 0;
	w->failed = false;
	return 0;
}

int
berth_blob_writer_commit(berth_digest *out, berth_blob_writer *w,
			 berth_error **err)
{
	char l[BERTH_DIGEST_MAX + 8];
	berth_digest got;
	int r;

	assert(!w->committed);
	if (w->fd < 0 || w->failed) {
		r = w->fd < 0
			    ? closed_error(w, err)
			    : berth_error_set(err, BERTH_EIO, 0,
					      "%s was not stored: an earlier "
					      "write to '%s' failed",
					      label(w, l, sizeof(l)), w->path);
		discard(w);
		return r;
	}
	if (w->expect_size >= 0 && w->written != w->expect_size) {
		/* A partial file keeps what arrived, for the next pull. */
		discard(w);
		return berth_error_set(
			err, BERTH_EDIGEST, 0,
			"%s is truncated: got %lld of %lld bytes",
			label(w, l, sizeof(l)), (long long)w->written,
			(long long)w->expect_size);
	}
	berth_hasher_final(&got, w->h);
	if (w->has_expect && strcmp(got.str, w->expect.str) != 0) {
		w->keep = false;
		discard(w);
		return berth_error_set(err, BERTH_EDIGEST, 0,
				       "digest mismatch for blob '%s': content "
				       "is %s",
				       w->expect.str, got.str);
	}
	r = publish(w->s, w->fd, w->path, &got, w->written, false, err);
	if (r < 0) {
		discard(w);
		return r;
	}
	w->committed = true;
	discard(w);
	if (out)
		*out = got;
	return 0;
}

void
berth_blob_writer_free(berth_blob_writer *w)
{
	if (w == NULL)
		return;
	discard(w);
	berth_hasher_free(w->h);
	free(w);
}

/* Hashes the bytes already in a partial file; false on a read error. */
static bool
rehash(int fd, berth_hasher *h, int64_t n)
{
	char buf[1 << 16];
	int64_t off = 0;

	while (off < n) {
		size_t want = n - off < (int64_t)sizeof(buf) ? (size_t)(n - off)
							     : sizeof(buf);
		ssize_t k = pread(fd, buf, want, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		berth_hasher_update(h, buf, (size_t)k);
		off += k;
	}
	return true;
}

int
store_blob_resume(berth_blob_writer **out, berth_store *s,
		  const berth_digest *d, int64_t size, berth_error **err)
{
	_cleanup_free_ char *dir = store_path(s, STORE_INGEST_DIR);
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	berth_blob_writer *w;
	struct stat st, now;

	path = xasprintf("%s/" STORE_PARTIAL_PREFIX "%s-%s", dir,
			 berth_digest_alg_name(d->alg), berth_digest_hex(d));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 && errno == ENOENT) {
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return store_io_error(err, s, errno, "create directory",
					      dir);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			  0644);
	}
	/* Another pull writes this blob now, or the file was cleaned
	 * between our open and our lock: stage a copy of our own. */
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0 ||
	    stat(path, &now) < 0 || now.st_ino != st.st_ino)
		return berth_store_blob_begin(out, s, d, size, err);
	w = xcalloc(1, sizeof(*w));
	w->s = s;
	w->alg = d->alg;
	w->has_expect = true;
	w->expect = *d;
	w->expect_size = size;
	w->keep = true;
	w->h = berth_hasher_new(w->alg);
	w->written = (int64_t)st.st_size;
	if (w->written > size || !rehash(fd, w->h, w->written)) {
		/* Longer than the blob, or unreadable: start over. */
		berth_hasher_reset(w->h);
		w->written = 0;
		if (ftruncate(fd, 0) < 0) {
			berth_hasher_free(w->h);
			free(w);
			return store_io_error(err, s, errno, "truncate", path);
		}
	}
	if (lseek(fd, 0, SEEK_END) < 0) {
		berth_hasher_free(w->h);
		free(w);
		return store_io_error(err, s, errno, "seek", path);
	}
	w->fd = steal_fd(&fd);
	w->path = steal_ptr(&path);
	*out = w;
	return 0;
}

void
store_blob_forget(berth_blob_writer *w)
{
	w->keep = false;
}

size_t
store_partial_clean(berth_store *s, long max_age)
{
	_cleanup_free_ char *ingest = store_path(s, STORE_INGEST_DIR);
	time_t now = time(NULL);
	size_t n = 0;
	struct dirent *e;
	DIR *d = opendir(ingest);

	while (d && (e = readdir(d)) != NULL) {
		_cleanup_close_ int fd = -1;
		struct stat st;

		if (strncmp(e->d_name, STORE_PARTIAL_PREFIX,
			    strlen(STORE_PARTIAL_PREFIX)) != 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			    0 ||
		    !S_ISREG(st.st_mode) || now - st.st_mtime < max_age)
			continue;
		fd = openat(dirfd(d), e->d_name,
			    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
			continue; /* a pull is continuing it */
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
	}
	if (d)
		closedir(d);
	return n;
}
