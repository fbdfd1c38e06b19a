#include "archive/staged.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "archive/names.h"
#include "store/store.h"
#include "util/archive_dl.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define CHUNK (256 * 1024)
/* Entries of any kind; an image archive has a few per layer. */
#define MAX_ENTRIES 100000
/* Links followed from one name before giving up (a loop). */
#define MAX_HOPS 16

static int
read_fail(const berth_archive_api *A, struct archive *ar, berth_error **err)
{
	int e = A->errno_(ar);
	const char *msg = A->error_string(ar);

	berth_error_set(err, e == EIO ? BERTH_EIO : BERTH_EPROTO, e > 0 ? e : 0,
			"the archive is truncated or not a tar archive: %s",
			msg ? msg : "unknown error");
	berth_error_hint(err, "the file is incomplete or of another kind: "
			      "copy it again, or save the images again");
	return e == EIO ? BERTH_EIO : BERTH_EPROTO;
}

/* Files a docker-archive holds only for docker before 1.10: checked for
 * their names, not kept (each would hold a descriptor open). */
static bool
legacy_file(const char *name)
{
	const char *slash = strrchr(name, '/');

	return slash && strchr(name, '/') == slash &&
	       (strcmp(slash, "/json") == 0 || strcmp(slash, "/VERSION") == 0);
}

static void
event(const berth_load_opts *o, berth_archive_event_kind k, const char *id,
      int64_t done, int64_t total)
{
	berth_archive_event ev = {k, id, "file", done, total};

	if (o->progress)
		o->progress(o->ud, &ev);
}

/* True when `name` is blobs/<alg>/<hex> of a valid digest. */
static bool
blob_name(berth_digest *d, const char *name)
{
	_cleanup_free_ char *s = NULL;
	const char *p;

	if (strncmp(name, "blobs/", 6) != 0 ||
	    (p = strchr(name + 6, '/')) == NULL)
		return false;
	s = xasprintf("%.*s:%s", (int)(p - name - 6), name + 6, p + 1);
	return berth_digest_parse(d, s, NULL) == 0;
}

/* Stages the data of the current entry as f. */
static int
stage_data(staged_file *f, staged_archive *a, const berth_archive_api *A,
	   struct archive *ar, const berth_load_opts *o, int64_t total,
	   berth_error **err)
{
	berth_digest named;
	bool is_blob = blob_name(&named, f->name);
	berth_digest_alg alg = is_blob ? named.alg : BERTH_DIGEST_SHA256;
	berth_hasher *h;
	const void *buf;
	size_t len;
	la_int64_t off;
	int r, ar_r;

	/* A blob of an image layout is staged under the digest its name
	 * gives (the algorithm may be sha512); the caller checks the content
	 * against it before committing. */
	r = berth_store_blob_begin(&f->w, a->s, is_blob ? &named : NULL, -1,
				   err);
	if (r < 0)
		return r;
	h = berth_hasher_new(alg);
	while ((ar_r = A->read_data_block(ar, &buf, &len, &off)) ==
	       ARCHIVE_OK) {
		if (o->interrupt && *o->interrupt) {
			r = berth_error_set(err, BERTH_EINTERRUPTED, 0,
					    "load interrupted");
			break;
		}
		/* Sparse tar entries come with holes: not in an image. */
		if (off != f->size) {
			r = berth_error_set(err, BERTH_EPROTO, 0,
					    "archive entry '%s' is sparse, "
					    "which no image archive is",
					    f->name);
			break;
		}
		berth_hasher_update(h, buf, len);
		if ((r = berth_blob_writer_write(f->w, buf, len, err)) < 0)
			break;
		f->size += (int64_t)len;
		event(o, BERTH_ARCHIVE_PROGRESS, f->name, f->size, total);
	}
	if (r == 0 && ar_r != ARCHIVE_EOF)
		r = read_fail(A, ar, err);
	berth_hasher_final(&f->digest, h);
	berth_hasher_free(h);
	if (r == 0)
		event(o, BERTH_ARCHIVE_DONE, f->name, f->size, total);
	return r;
}

static int
add_entry(staged_archive *a, const berth_archive_api *A, struct archive *ar,
	  struct archive_entry *e, const berth_load_opts *o, berth_error **err)
{
	const char *raw = A->entry_pathname(e);
	_cleanup_free_ char *name = archive_name_clean(raw);
	unsigned type = A->entry_filetype(e);
	const char *target = NULL;
	staged_file *f;

	/* "./", the top of an archive made with 'tar -C DIR -c .' */
	if (type == AE_IFDIR && raw &&
	    (strcmp(raw, ".") == 0 || strcmp(raw, "./") == 0))
		return 0;
	if (name == NULL)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "archive entry '%s' has an unsafe name "
				       "(empty, absolute or with '..')",
				       raw ? raw : "");
	if (type == AE_IFDIR)
		return 0;
	if (A->entry_hardlink(e))
		target = A->entry_hardlink(e);
	else if (type == AE_IFLNK)
		target = A->entry_symlink(e);
	else if (type != AE_IFREG)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "archive entry '%s' is neither a file, "
				       "a directory nor a link",
				       name);
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->files[i].name, name) == 0)
			return berth_error_set(err, BERTH_EPROTO, 0,
					       "the archive has two entries "
					       "named '%s'",
					       name);
	if (a->n >= MAX_ENTRIES)
		return berth_error_set(err, BERTH_ETOOBIG, 0,
				       "the archive has more than %d entries",
				       MAX_ENTRIES);
	a->files = xreallocarray(a->files, a->n + 1, sizeof(*a->files));
	f = &a->files[a->n++];
	memset(f, 0, sizeof(*f));
	f->name = steal_ptr(&name);
	if (target) {
		/* A hard link's target is a name in the archive, a symbolic
		 * link's is relative to the link's directory. */
		f->link = A->entry_hardlink(e)
				  ? archive_name_clean(target)
				  : archive_link_resolve(f->name, target);
		if (f->link == NULL)
			return berth_error_set(err, BERTH_EPROTO, 0,
					       "archive entry '%s' links "
					       "outside the archive ('%s')",
					       f->name, target);
		return 0;
	}
	if (legacy_file(f->name))
		return 0;
	return stage_data(f, a, A, ar, o, A->entry_size(e), err);
}

int
staged_read(staged_archive *a, berth_store *s, int fd, const berth_load_opts *o,
	    berth_error **err)
{
	const berth_archive_api *A;
	struct archive *ar;
	struct archive_entry *e;
	int r;

	memset(a, 0, sizeof(*a));
	a->s = s;
	if ((r = berth_archive_api_get(&A, err)) < 0)
		return r;
	ar = A->read_new();
	A->read_support_filter_all(ar);
	A->read_support_format_tar(ar);
	/* Empty input is an archive without images, not a damaged one. */
	A->read_support_format_empty(ar);
	if (A->read_open_fd(ar, fd, CHUNK) != ARCHIVE_OK) {
		r = read_fail(A, ar, err);
		A->read_free(ar);
		return r;
	}
	for (;;) {
		int ar_r = A->read_next_header(ar, &e);

		if (ar_r == ARCHIVE_EOF) {
			r = 0;
			break;
		}
		if (ar_r != ARCHIVE_OK && ar_r != ARCHIVE_WARN) {
			r = read_fail(A, ar, err);
			break;
		}
		if ((r = add_entry(a, A, ar, e, o, err)) < 0)
			break;
	}
	A->read_free(ar);
	return r;
}

staged_file *
staged_find(staged_archive *a, const char *name)
{
	_cleanup_free_ char *want = archive_name_clean(name);

	for (int hops = 0; want && hops < MAX_HOPS; hops++) {
		staged_file *f = NULL;

		for (size_t i = 0; i < a->n && !f; i++)
			if (strcmp(a->files[i].name, want) == 0)
				f = &a->files[i];
		if (f == NULL)
			return NULL;
		if (f->link == NULL)
			return f->w ? f : NULL;
		free(want);
		want = xstrdup(f->link);
	}
	return NULL;
}

int
staged_open(int *fd, const staged_file *f, berth_error **err)
{
	const char *path = store_blob_writer_path(f->w);

	*fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (*fd < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot read back archive entry '%s' "
				       "staged in '%s': %s",
				       f->name, path ? path : "?",
				       strerror(errno));
	return 0;
}

int
staged_slurp(char **out, size_t *len, const staged_file *f, size_t max,
	     berth_error **err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t got = 0;
	int r;

	if (f->size < 0 || (uint64_t)f->size > max)
		return berth_error_set(err, BERTH_ETOOBIG, 0,
				       "archive entry '%s' is larger than %zu "
				       "bytes",
				       f->name, max);
	if ((r = staged_open(&fd, f, err)) < 0)
		return r;
	buf = xmalloc((size_t)f->size + 1);
	while (got < (size_t)f->size) {
		ssize_t n = read(fd, buf + got, (size_t)f->size - got);

		if (n <= 0)
			return berth_error_set(err, BERTH_EIO,
					       n < 0 ? errno : 0,
					       "cannot read back archive entry "
					       "'%s'",
					       f->name);
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = steal_ptr(&buf);
	*len = got;
	return 0;
}

int
staged_commit(staged_archive *a, berth_error **err)
{
	for (size_t i = 0; i < a->n; i++) {
		staged_file *f = &a->files[i];
		int r;

		if (!f->use || f->committed || f->w == NULL)
			continue;
		r = berth_blob_writer_commit(NULL, f->w, err);
		if (r < 0)
			return berth_error_wrap(err, r, "storing '%s'",
						f->name);
		f->committed = true;
	}
	return 0;
}

void
staged_release(staged_archive *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->files[i].name);
		free(a->files[i].link);
		berth_blob_writer_free(a->files[i].w);
	}
	free(a->files);
	memset(a, 0, sizeof(*a));
}
