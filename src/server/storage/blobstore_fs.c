/*
 * The blob store on a local file system. See blobstore.h for the layout.
 *
 * Upload sessions are plain files appended to by one writer at a time
 * (flock). While bytes arrive they are hashed with sha256 so that closing
 * the session does not read them back; when that running hash is missing
 * (after a restart, or for a sha512 digest) the file is hashed again at
 * commit, so correctness never depends on memory that a crash can lose.
 */
#include "server/storage/blobstore.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/log.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define FS_IO_CHUNK ((size_t)256 << 10)

/* A running hash of an upload session, kept between requests. */
typedef struct fs_hash_state {
	char id[64];
	berth_hasher *h;
	int64_t hashed; /* bytes fed to h; -1 when h is no longer usable */
	/* upload_verify's verdict: the first `verified` bytes are `got`
	 * (-1: none yet), so the commit need not hash them again. */
	int64_t verified;
	berth_digest got;
	struct fs_hash_state *next;
} fs_hash_state;

typedef struct fs_store {
	berth_blobstore base;
	char *root;
	pthread_mutex_t mu; /* guards states */
	fs_hash_state *states;
} fs_store;

typedef struct fs_writer {
	berth_bs_writer base;
	fs_store *s;
	int fd;
	int64_t start; /* the session's size when opened */
	int64_t off;
	fs_hash_state *st;
} fs_writer;

bool
berth_upload_id_valid(const char *id)
{
	size_t n = 0;

	if (id == NULL)
		return false;
	for (; id[n]; n++)
		if (!((id[n] >= '0' && id[n] <= '9') ||
		      (id[n] >= 'a' && id[n] <= 'f')))
			return false;
	return n >= 16 && n <= 64;
}

int
berth_upload_id_new(char buf[33], berth_error **err)
{
	unsigned char raw[16];
	size_t i;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return berth_error_set(
			err, BERTH_EIO, errno,
			"cannot read random bytes for an upload id");
	for (i = 0; i < sizeof(raw); i++)
		snprintf(buf + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

static int
mkdir_p(const char *path, berth_error **err)
{
	_cleanup_free_ char *p = xstrdup(path);
	char *s;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return berth_error_set(
				err, BERTH_EIO, errno,
				"cannot create directory '%s': %s", p,
				strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot create directory '%s': %s", p,
				       strerror(errno));
	return 0;
}

static int
fsync_dir(const char *dir, berth_error **err)
{
	int e = berth_fsync_dir(dir);

	if (e != 0)
		return berth_error_set(err, BERTH_EIO, e,
				       "cannot sync directory '%s': %s", dir,
				       strerror(e));
	return 0;
}

static char *
blob_dir(fs_store *s, const berth_digest *d)
{
	const char *hex = berth_digest_hex(d);

	return xasprintf("%s/blobs/%s/%.2s", s->root,
			 berth_digest_alg_name(d->alg), hex);
}

static char *
blob_path(fs_store *s, const berth_digest *d)
{
	const char *hex = berth_digest_hex(d);

	return xasprintf("%s/blobs/%s/%.2s/%s", s->root,
			 berth_digest_alg_name(d->alg), hex, hex);
}

char *
berth_blobstore_fs_path(berth_blobstore *bs, const berth_digest *d)
{
	return blob_path((fs_store *)bs, d);
}

static char *
upload_path(fs_store *s, const char *id)
{
	return xasprintf("%s/uploads/%s", s->root, id);
}

static int
write_all(int fd, const void *p, size_t len, const char *what,
	  berth_error **err)
{
	int e = berth_write_full(fd, p, len);

	if (e == 0)
		return 0;
	berth_error_set(err, BERTH_EIO, e, "cannot write '%s': %s", what,
			strerror(e));
	if (e == ENOSPC)
		berth_error_hint(err, "free space on the registry's storage "
				      "volume");
	return BERTH_EIO;
}

static int
fs_stat(berth_blobstore *bs, const berth_digest *d, int64_t *size,
	berth_error **err)
{
	_cleanup_free_ char *path = blob_path((fs_store *)bs, d);
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return berth_error_set(err, BERTH_ENOTFOUND, 0,
					       "blob '%s' is not stored",
					       d->str);
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot stat '%s': %s", path,
				       strerror(errno));
	}
	*size = st.st_size;
	return 0;
}

/* A range of a blob file: read with pread, or handed out for sendfile. */
typedef struct fs_reader {
	berth_bs_reader base;
	int64_t pos; /* next byte, relative to base.off */
} fs_reader;

static const struct berth_blobstore_ops fs_ops;

static int
fs_open_range(berth_blobstore *bs, berth_bs_reader **out, const berth_digest *d,
	      int64_t off, int64_t len, berth_error **err)
{
	_cleanup_free_ char *path = blob_path((fs_store *)bs, d);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	fs_reader *r;

	if (fd < 0) {
		if (errno == ENOENT)
			return berth_error_set(err, BERTH_ENOTFOUND, 0,
					       "blob '%s' is not stored",
					       d->str);
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot open '%s': %s", path,
				       strerror(errno));
	}
	if (fstat(fd, &st) < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot stat '%s': %s", path,
				       strerror(errno));
	if (off < 0 || off > st.st_size)
		off = st.st_size;
	if (len < 0 || len > st.st_size - off)
		len = st.st_size - off;
	r = xcalloc(1, sizeof(*r));
	r->base.ops = &fs_ops;
	r->base.size = st.st_size;
	r->base.off = off;
	r->base.len = len;
	r->base.fd = steal_fd(&fd);
	r->base.fd_off = off;
	*out = &r->base;
	return 0;
}

static ssize_t
fs_reader_read(berth_bs_reader *br, void *buf, size_t n, berth_error **err)
{
	fs_reader *r = (fs_reader *)br;
	ssize_t got;

	assert(br->fd >= 0); /* not read after its file was handed on */
	if ((int64_t)n > br->len - r->pos)
		n = (size_t)(br->len - r->pos);
	if (n == 0)
		return 0;
	do
		got = pread(br->fd, buf, n, br->fd_off + r->pos);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot read blob: %s", strerror(errno));
	if (got == 0)
		return berth_error_set(err, BERTH_EIO, 0,
				       "cannot read blob: file shrank");
	r->pos += got;
	return got;
}

static void
fs_reader_close(berth_bs_reader *br)
{
	if (br->fd >= 0)
		close(br->fd);
	free(br->redirect);
	free(br);
}

/* Renames a durable file into place as blob d and syncs its directory. */
static int
publish(fs_store *s, const char *from, const berth_digest *d, berth_error **err)
{
	_cleanup_free_ char *dir = blob_dir(s, d);
	_cleanup_free_ char *path = blob_path(s, d);
	int r;

	if ((r = mkdir_p(dir, err)) < 0)
		return r;
	if (rename(from, path) < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot move blob '%s' into place: %s",
				       d->str, strerror(errno));
	return fsync_dir(dir, err);
}

static int
fs_put(berth_blobstore *bs, const berth_digest *d, const void *p, size_t len,
       berth_error **err)
{
	fs_store *s = (fs_store *)bs;
	_cleanup_free_ char *path = blob_path(s, d);
	_cleanup_free_ char *dir = blob_dir(s, d);
	_cleanup_free_ char *tmp = xasprintf("%s/tmp", s->root);
	/* The temporary file in tmp/, where the sweep finds leftovers. */
	berth_file_replace_opts o = {.mode = 0644,
				     .sync = true,
				     .tmp_dir = tmp,
				     .tmp_prefix = "put."};
	berth_digest got;
	struct stat st;
	int r;

	berth_digest_of(&got, d->alg, p, len);
	if (strcmp(got.str, d->str) != 0)
		return berth_error_set(err, BERTH_EDIGEST, 0,
				       "content is '%s', not '%s'", got.str,
				       d->str);
	if (stat(path, &st) == 0 && st.st_size == (off_t)len)
		return 0; /* content-addressed: already there */
	if ((r = mkdir_p(dir, err)) < 0)
		return r;
	r = berth_file_replace(path, p, len, &o, err);
	if (r < 0 && err && *err && (*err)->sys_errno == ENOSPC)
		berth_error_hint(err, "free space on the registry's storage "
				      "volume");
	return r;
}

static int
fs_remove(berth_blobstore *bs, const berth_digest *d, berth_error **err)
{
	_cleanup_free_ char *path = blob_path((fs_store *)bs, d);

	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return berth_error_set(err, BERTH_ENOTFOUND, 0,
					       "blob '%s' is not stored",
					       d->str);
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot remove '%s': %s", path,
				       strerror(errno));
	}
	return 0;
}

/* Hash states: found or created under the store's lock. */
static fs_hash_state *
state_get(fs_store *s, const char *id, bool create)
{
	fs_hash_state *st;

	pthread_mutex_lock(&s->mu);
	for (st = s->states; st; st = st->next)
		if (strcmp(st->id, id) == 0)
			break;
	if (st == NULL && create) {
		st = xcalloc(1, sizeof(*st));
		snprintf(st->id, sizeof(st->id), "%s", id);
		st->h = berth_hasher_new(BERTH_DIGEST_SHA256);
		st->verified = -1;
		st->next = s->states;
		s->states = st;
	}
	pthread_mutex_unlock(&s->mu);
	return st;
}

static void
state_drop(fs_store *s, const char *id)
{
	fs_hash_state **pp, *st;

	pthread_mutex_lock(&s->mu);
	for (pp = &s->states; (st = *pp) != NULL; pp = &st->next) {
		if (strcmp(st->id, id) == 0) {
			*pp = st->next;
			berth_hasher_free(st->h);
			free(st);
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
}

/* Opens a session file and takes its lock; BERTH_EEXIST when busy. */
static int
session_lock(fs_store *s, const char *id, int flags, int *fdp,
	     berth_error **err)
{
	_cleanup_free_ char *path = upload_path(s, id);
	_cleanup_close_ int fd = -1;

	if (!berth_upload_id_valid(id))
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "upload '%s' is unknown", id);
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return berth_error_set(err, BERTH_ENOTFOUND, 0,
					       "upload '%s' is unknown", id);
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot open '%s': %s", path,
				       strerror(errno));
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return berth_error_set(
				err, BERTH_EEXIST, 0,
				"upload '%s' is in use by another "
				"request",
				id);
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot lock '%s': %s", path,
				       strerror(errno));
	}
	*fdp = steal_fd(&fd);
	return 0;
}

static int
fs_upload_create(berth_blobstore *bs, const char *id, berth_error **err)
{
	fs_store *s = (fs_store *)bs;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *dir = xasprintf("%s/uploads", s->root);
	_cleanup_close_ int fd = -1;

	if (!berth_upload_id_valid(id))
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid upload id '%s'", id);
	path = upload_path(s, id);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot create '%s': %s", path,
				       strerror(errno));
	/* The session must outlive a crash, like its metadata row. */
	return fsync_dir(dir, err);
}

/* The stat of upload id's file; BERTH_ENOTFOUND for an unknown upload. */
static int
upload_stat(berth_blobstore *bs, const char *id, struct stat *st,
	    berth_error **err)
{
	_cleanup_free_ char *path = NULL;

	if (!berth_upload_id_valid(id))
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "upload '%s' is unknown", id);
	path = upload_path((fs_store *)bs, id);
	if (stat(path, st) < 0) {
		if (errno == ENOENT)
			return berth_error_set(err, BERTH_ENOTFOUND, 0,
					       "upload '%s' is unknown", id);
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot stat '%s': %s", path,
				       strerror(errno));
	}
	return 0;
}

static int
fs_upload_size(berth_blobstore *bs, const char *id, int64_t *size,
	       berth_error **err)
{
	struct stat st;
	int r = upload_stat(bs, id, &st, err);

	if (r == 0)
		*size = st.st_size;
	return r;
}

static int
fs_upload_active(berth_blobstore *bs, const char *id, int64_t *when,
		 berth_error **err)
{
	struct stat st;
	int r = upload_stat(bs, id, &st, err);

	if (r == 0)
		*when = (int64_t)st.st_mtime;
	return r;
}

static int
fs_upload_open(berth_blobstore *bs, const char *id, berth_bs_writer **out,
	       berth_error **err)
{
	fs_store *s = (fs_store *)bs;
	_cleanup_close_ int fd = -1;
	fs_writer *w;
	off_t end;
	int r;

	if ((r = session_lock(s, id, O_WRONLY, &fd, err)) < 0)
		return r;
	end = lseek(fd, 0, SEEK_END);
	if (end < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot seek upload '%s': %s", id,
				       strerror(errno));
	/* The file's mtime is the session's last activity (upload_active),
	 * so even a request that brings no bytes keeps it alive. */
	if (futimens(fd, NULL) < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot mark upload '%s' active: %s", id,
				       strerror(errno));
	w = xcalloc(1, sizeof(*w));
	w->base.ops = &fs_ops;
	w->s = s;
	w->fd = steal_fd(&fd);
	w->start = end;
	w->off = end;
	w->st = state_get(s, id, true);
	*out = &w->base;
	return 0;
}

static int
fs_writer_write(berth_bs_writer *bw, const void *p, size_t len,
		berth_error **err)
{
	fs_writer *w = (fs_writer *)bw;

	w->st->verified = -1;
	if (write_all(w->fd, p, len, "upload", err) < 0) {
		/* Part of it may be on disk: the running hash is stale. */
		w->st->hashed = -1;
		w->off = lseek(w->fd, 0, SEEK_END);
		return BERTH_EIO;
	}
	if (w->st->hashed == w->off) {
		berth_hasher_update(w->st->h, p, len);
		w->st->hashed += (int64_t)len;
	}
	w->off += (int64_t)len;
	return 0;
}

static int64_t
fs_writer_offset(berth_bs_writer *bw)
{
	return ((fs_writer *)bw)->off;
}

static void
fs_writer_close(berth_bs_writer *bw)
{
	fs_writer *w = (fs_writer *)bw;

	if (w->fd >= 0)
		close(w->fd); /* releases the flock */
	free(w);
}

static int
fs_writer_abort(berth_bs_writer *bw, berth_error **err)
{
	fs_writer *w = (fs_writer *)bw;
	int r = 0;

	w->st->verified = -1;
	if (w->off != w->start) {
		/* The running hash has seen the dropped bytes: hash again at
		 * commit. */
		if (w->st->hashed > w->start)
			w->st->hashed = -1;
		if (ftruncate(w->fd, w->start) < 0)
			r = berth_error_set(err, BERTH_EIO, errno,
					    "cannot drop a refused chunk of "
					    "an upload: %s",
					    strerror(errno));
	}
	fs_writer_close(bw);
	return r;
}

static int
hash_file(int fd, berth_digest_alg alg, int64_t size, berth_digest *out,
	  berth_error **err)
{
	berth_hasher *h = berth_hasher_new(alg);
	_cleanup_free_ char *buf = xmalloc(FS_IO_CHUNK);
	int64_t off = 0;

	while (off < size) {
		ssize_t n = pread(fd, buf, FS_IO_CHUNK, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			berth_hasher_free(h);
			return berth_error_set(
				err, BERTH_EIO, n < 0 ? errno : 0,
				"cannot read upload: %s",
				n < 0 ? strerror(errno) : "file shrank");
		}
		berth_hasher_update(h, buf, (size_t)n);
		off += n;
	}
	berth_hasher_final(out, h);
	berth_hasher_free(h);
	return 0;
}

/*
 * The digest of the locked session fd (sb its stat): the running hash when
 * it saw every byte, a verdict of upload_verify, or the file read again.
 * BERTH_EDIGEST when it is not `want`.
 */
static int
session_check(fs_store *s, const char *id, int fd, const struct stat *sb,
	      const berth_digest *want, berth_error **err)
{
	fs_hash_state *st = state_get(s, id, false);
	berth_digest got;
	int r;

	if (st && st->verified == sb->st_size) {
		got = st->got;
	} else if (st && st->hashed == sb->st_size &&
		   want->alg == BERTH_DIGEST_SHA256) {
		berth_hasher_final(&got, st->h);
		st->hashed = -1;
	} else if ((r = hash_file(fd, want->alg, sb->st_size, &got, err)) < 0) {
		return r;
	}
	if (st) {
		st->verified = sb->st_size;
		st->got = got;
	}
	if (strcmp(got.str, want->str) != 0)
		return berth_error_set(err, BERTH_EDIGEST, 0,
				       "uploaded content is '%s', not '%s'",
				       got.str, want->str);
	return 0;
}

static int
session_locked_stat(fs_store *s, const char *id, int flags, int *fd,
		    struct stat *sb, berth_error **err)
{
	int r;

	if ((r = session_lock(s, id, flags, fd, err)) < 0)
		return r;
	if (fstat(*fd, sb) < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot stat upload '%s': %s", id,
				       strerror(errno));
	return 0;
}

static int
fs_upload_verify(berth_blobstore *bs, const char *id, const berth_digest *want,
		 berth_error **err)
{
	fs_store *s = (fs_store *)bs;
	_cleanup_close_ int fd = -1;
	struct stat sb;
	int r;

	if ((r = session_locked_stat(s, id, O_RDONLY, &fd, &sb, err)) < 0)
		return r;
	return session_check(s, id, fd, &sb, want, err);
}

static int
fs_upload_commit(berth_blobstore *bs, const char *id, const berth_digest *want,
		 int64_t *size, berth_error **err)
{
	fs_store *s = (fs_store *)bs;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *path = NULL;
	struct stat sb;
	int r;

	if ((r = session_locked_stat(s, id, O_RDWR, &fd, &sb, err)) < 0 ||
	    (r = session_check(s, id, fd, &sb, want, err)) < 0)
		return r;
	if (fsync(fd) < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot sync upload '%s': %s", id,
				       strerror(errno));
	/* Written now, as garbage collection sees it (fs_set_aside), however
	 * long ago the last chunk came. */
	if (futimens(fd, NULL) < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot mark upload '%s' written: %s",
				       id, strerror(errno));
	path = upload_path(s, id);
	if ((r = publish(s, path, want, err)) < 0)
		return r;
	state_drop(s, id);
	*size = sb.st_size;
	return 0;
}

static int
fs_upload_read(berth_blobstore *bs, const char *id, int64_t off, int64_t len,
	       berth_bs_reader **out, berth_error **err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	fs_reader *r;

	if (!berth_upload_id_valid(id))
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "upload '%s' is unknown", id);
	path = upload_path((fs_store *)bs, id);
	/* No lock: the writer holds it, and readers only read. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berth_error_set(
			err, errno == ENOENT ? BERTH_ENOTFOUND : BERTH_EIO,
			errno, "cannot open '%s': %s", path, strerror(errno));
	r = xcalloc(1, sizeof(*r));
	r->base.ops = &fs_ops;
	r->base.size = off + len;
	r->base.off = off;
	r->base.len = len;
	r->base.fd = steal_fd(&fd);
	r->base.fd_off = off;
	*out = &r->base;
	return 0;
}

static int
fs_upload_remove(berth_blobstore *bs, const char *id, berth_error **err)
{
	fs_store *s = (fs_store *)bs;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *path = NULL;
	int r;

	if ((r = session_lock(s, id, O_RDONLY, &fd, err)) < 0)
		return r;
	path = upload_path(s, id);
	if (unlink(path) < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot remove '%s': %s", path,
				       strerror(errno));
	state_drop(s, id);
	return 0;
}

/* Calls `fn` for each regular file in root/sub last modified before
 * `before`. */
static void
each_old_file(fs_store *s, const char *sub, int64_t before,
	      void (*fn)(fs_store *s, const char *name, void *ud), void *ud)
{
	_cleanup_free_ char *dir = xasprintf("%s/%s", s->root, sub);
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			    0 ||
		    !S_ISREG(st.st_mode) || (int64_t)st.st_mtime >= before)
			continue;
		fn(s, e->d_name, ud);
	}
	closedir(d);
}

static void
fs_uploads_each(berth_blobstore *bs,
		void (*fn)(const char *id, int64_t active, void *ud), void *ud)
{
	fs_store *s = (fs_store *)bs;
	_cleanup_free_ char *dir = xasprintf("%s/uploads", s->root);
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!berth_upload_id_valid(e->d_name) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			    0 ||
		    !S_ISREG(st.st_mode))
			continue;
		fn(e->d_name, (int64_t)st.st_mtime, ud);
	}
	closedir(d);
}

typedef struct tmp_sweep_ctx {
	bool dry_run;
	void (*fn)(const char *name, int64_t size, void *ud);
	void *ud;
} tmp_sweep_ctx;

static void
unlink_tmp(fs_store *s, const char *name, void *ud)
{
	tmp_sweep_ctx *t = ud;
	_cleanup_free_ char *path = xasprintf("%s/tmp/%s", s->root, name);
	struct stat st;

	if (stat(path, &st) < 0)
		return;
	if (!t->dry_run) {
		if (unlink(path) < 0)
			return;
		berth_log(BERTH_LOG_INFO, "removed stale temporary file '%s'",
			  path);
	}
	if (t->fn)
		t->fn(name, (int64_t)st.st_size, t->ud);
}

static void
fs_tmp_sweep(berth_blobstore *bs, int64_t before, bool dry_run,
	     void (*fn)(const char *name, int64_t size, void *ud), void *ud)
{
	tmp_sweep_ctx t = {dry_run, fn, ud};

	each_old_file((fs_store *)bs, "tmp", before, unlink_tmp, &t);
}

/* True when name is all lowercase hex digits, of the length of alg's. */
static bool
hex_name(const char *name, size_t len)
{
	size_t i;

	for (i = 0; name[i]; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		      (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return i == len;
}

typedef bool (*each_skip_fn)(const berth_digest *d, void *ud);
typedef bool (*each_fn)(const berth_digest *d, int64_t size, int64_t written,
			void *ud);

/* One blobs/<alg>/<xx>/ directory to fn; true when fn asked to stop. */
static bool
each_in(const char *dir, const char *alg, size_t hex_len, each_skip_fn skip,
	each_fn fn, void *ud)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	struct stat st;
	bool stop = false;

	if (dp == NULL)
		return false;
	while (!stop && (e = readdir(dp)) != NULL) {
		char text[BERTH_DIGEST_MAX + 16];
		berth_digest d;

		if (!hex_name(e->d_name, hex_len))
			continue;
		snprintf(text, sizeof(text), "%s:%.128s", alg, e->d_name);
		/* The name first: a blob in use costs no stat. */
		if (berth_digest_parse(&d, text, NULL) < 0 ||
		    (skip && skip(&d, ud)) ||
		    fstatat(dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			    0 ||
		    !S_ISREG(st.st_mode))
			continue;
		stop = fn(&d, (int64_t)st.st_size, (int64_t)st.st_mtime, ud);
	}
	closedir(dp);
	return stop;
}

static void
fs_each(berth_blobstore *bs, each_skip_fn skip, each_fn fn, void *ud)
{
	static const struct {
		const char *alg;
		size_t hex_len;
	} algs[] = {{"sha256", 64}, {"sha512", 128}};
	fs_store *s = (fs_store *)bs;
	size_t a;

	for (a = 0; a < BERTH_ARRAY_SIZE(algs); a++) {
		_cleanup_free_ char *top =
			xasprintf("%s/blobs/%s", s->root, algs[a].alg);
		DIR *dp = opendir(top);
		struct dirent *e;
		bool stop = false;

		if (dp == NULL)
			continue;
		while (!stop && (e = readdir(dp)) != NULL) {
			_cleanup_free_ char *sub = NULL;

			if (!hex_name(e->d_name, 2))
				continue;
			sub = xasprintf("%s/%s", top, e->d_name);
			stop = each_in(sub, algs[a].alg, algs[a].hex_len, skip,
				       fn, ud);
		}
		closedir(dp);
		if (stop)
			return;
	}
}

/*
 * Renamed into tmp/ (atomic: a reader opens the blob or finds nothing),
 * then looked at there: a blob written since `before` (an upload that
 * committed the same bytes a moment ago) goes back at once. link(2)
 * never replaces, so bytes committed again meanwhile stay where they are.
 */
static int
fs_set_aside(berth_blobstore *bs, const berth_digest *d, int64_t before,
	     char **aside, int64_t *size, berth_error **err)
{
	fs_store *s = (fs_store *)bs;
	_cleanup_free_ char *path = blob_path(s, d);
	_cleanup_free_ char *to = NULL;
	char id[33];
	struct stat st;
	int r;

	*aside = NULL;
	if ((r = berth_upload_id_new(id, err)) < 0)
		return r;
	to = xasprintf("%s/tmp/gc.%s", s->root, id);
	if (rename(path, to) < 0) {
		if (errno == ENOENT)
			return berth_error_set(err, BERTH_ENOTFOUND, 0,
					       "blob '%s' is not stored",
					       d->str);
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot move blob '%s' aside: %s",
				       d->str, strerror(errno));
	}
	if (stat(to, &st) == 0 && (int64_t)st.st_mtime < before) {
		*size = (int64_t)st.st_size;
		*aside = steal_ptr(&to);
		return 0;
	}
	if (link(to, path) < 0 && errno != EEXIST) {
		int e = errno;

		berth_log(BERTH_LOG_ERROR,
			  "cannot put blob '%s' back: %s (its bytes are in "
			  "'%s')",
			  d->str, strerror(e), to);
		return berth_error_set(err, BERTH_EIO, e,
				       "cannot put blob '%s' back: %s", d->str,
				       strerror(e));
	}
	unlink(to);
	return 0;
}

static void
fs_drop_aside(berth_blobstore *bs, const char *aside)
{
	if (unlink(aside) < 0 && errno != ENOENT)
		berth_log(BERTH_LOG_WARN, "cannot remove '%s': %s", aside,
			  strerror(errno));
}

static void
fs_free(berth_blobstore *bs)
{
	fs_store *s = (fs_store *)bs;
	fs_hash_state *st, *next;

	for (st = s->states; st; st = next) {
		next = st->next;
		berth_hasher_free(st->h);
		free(st);
	}
	pthread_mutex_destroy(&s->mu);
	free(s->root);
	free(s);
}

static const struct berth_blobstore_ops fs_ops = {
	.stat = fs_stat,
	.open_range = fs_open_range,
	.put = fs_put,
	.remove = fs_remove,
	.upload_create = fs_upload_create,
	.upload_size = fs_upload_size,
	.upload_active = fs_upload_active,
	.upload_open = fs_upload_open,
	.upload_verify = fs_upload_verify,
	.upload_commit = fs_upload_commit,
	.upload_read = fs_upload_read,
	.upload_remove = fs_upload_remove,
	.uploads_each = fs_uploads_each,
	.tmp_sweep = fs_tmp_sweep,
	.each = fs_each,
	.set_aside = fs_set_aside,
	.drop_aside = fs_drop_aside,
	.writer_write = fs_writer_write,
	.writer_offset = fs_writer_offset,
	.writer_close = fs_writer_close,
	.writer_abort = fs_writer_abort,
	.reader_read = fs_reader_read,
	.reader_close = fs_reader_close,
	.free = fs_free,
};

int
berth_blobstore_fs_new(berth_blobstore **out, const char *root,
		       berth_error **err)
{
	static const char *const subdirs[] = {"blobs/sha256", "blobs/sha512",
					      "uploads", "tmp"};
	fs_store *s;
	size_t i;
	int r;

	for (i = 0; i < BERTH_ARRAY_SIZE(subdirs); i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", root, subdirs[i]);

		if ((r = mkdir_p(d, err)) < 0) {
			berth_error_hint(err,
					 "check that '%s' is a writable "
					 "directory",
					 root);
			return r;
		}
	}
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &fs_ops;
	s->root = xstrdup(root);
	pthread_mutex_init(&s->mu, NULL);
	*out = &s->base;
	return 0;
}
