/*
 * fsck: what a power loss (without --sync) or a damaged disk can leave
 * behind. Every blob is re-hashed and removed when its content does not
 * match its name; abandoned staging files and temporaries are removed;
 * index.json must parse, and every blob its images need must be present.
 *
 * fsck takes no long lock, so it can run next to pulls: a blob is removed
 * only if the file that failed the check is still the one under its name.
 */
#include "store/store_int.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define CHUNK ((size_t)1 << 20)

typedef struct fsck_ctx {
	berth_store *s;
	berth_store_problem_fn cb;
	void *ud;
	size_t checked;
	size_t problems;
	char *buf; /* CHUNK bytes */
} fsck_ctx;

static void problem(fsck_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
problem(fsck_ctx *c, const char *fmt, ...)
{
	_cleanup_free_ char *line = NULL;
	va_list ap;

	c->problems++;
	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	if (c->cb)
		c->cb(c->ud, line);
}

static void
hasher_freep(berth_hasher **h)
{
	berth_hasher_free(*h);
	*h = NULL;
}

/* Re-hashes one blob; removes it when its content does not match. */
static void
verify_blob(fsck_ctx *c, int dfd, const char *file, const berth_digest *d)
{
	_cleanup_(hasher_freep) berth_hasher *h = NULL;
	_cleanup_close_ int fd = -1;
	berth_digest got;
	struct stat st, now;

	fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return; /* collected meanwhile */
	if (fd < 0 || fstat(fd, &st) < 0) {
		problem(c, "cannot read blob '%s': %s", d->str,
			strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode))
		return;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	h = berth_hasher_new(d->alg);
	for (;;) {
		ssize_t n = read(fd, c->buf, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			problem(c, "cannot read blob '%s': %s", d->str,
				strerror(errno));
			return;
		}
		if (n == 0)
			break;
		berth_hasher_update(h, c->buf, (size_t)n);
	}
	/* Hashed: no need to keep it in the page cache. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	c->checked++;
	berth_hasher_final(&got, h);
	if (strcmp(got.str, d->str) == 0)
		return;
	/* A writer may have just renamed a good copy over it. */
	if (fstatat(dfd, file, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
	    now.st_ino != st.st_ino || now.st_dev != st.st_dev)
		return;
	if (unlinkat(dfd, file, 0) < 0) {
		problem(c,
			"blob '%s' is corrupt (content is %s) and cannot be "
			"removed: %s",
			d->str, got.str, strerror(errno));
		return;
	}
	problem(c, "removed corrupt blob '%s' (content is %s)", d->str,
		got.str);
}

static int
verify_blobs(fsck_ctx *c, const char *alg, berth_error **err)
{
	_cleanup_free_ char *dir = xasprintf("%s/blobs/%s", c->s->root, alg);
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return errno == ENOENT ? 0
				       : store_io_error(err, c->s, errno,
							"open directory", dir);
	while ((e = readdir(d)) != NULL) {
		char name[BERTH_DIGEST_MAX + 1];
		berth_digest dg;

		if (snprintf(name, sizeof(name), "%s:%s", alg, e->d_name) >=
			    (int)sizeof(name) ||
		    berth_digest_parse(&dg, name, NULL) < 0)
			continue; /* not a blob name: leave it alone */
		verify_blob(c, dirfd(d), e->d_name, &dg);
	}
	closedir(d);
	return 0;
}

static bool
is_manifest_type(const char *mt)
{
	return mt && (strcmp(mt, BERTH_MT_OCI_MANIFEST) == 0 ||
		      strcmp(mt, BERTH_MT_OCI_INDEX) == 0 ||
		      strcmp(mt, BERTH_MT_DOCKER_V2) == 0 ||
		      strcmp(mt, BERTH_MT_DOCKER_LIST) == 0);
}

/*
 * Checks that a blob an image needs is present with the right size, and
 * for manifests, what they name. `seen` avoids reporting a blob twice.
 * Entries of an index may be absent: a pull keeps only its platform.
 */
static void
check_needed(fsck_ctx *c, const char *image, const berth_descriptor *d,
	     bool optional, json_t *seen)
{
	_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
	_cleanup_free_ char *data = NULL;
	berth_error *e = NULL;
	int64_t size = -1;
	size_t len = 0;

	if (json_object_get(seen, d->digest.str) != NULL)
		return;
	json_object_set_new(seen, d->digest.str, json_true());
	if (!berth_store_has_blob(&size, c->s, &d->digest)) {
		if (!optional)
			problem(c,
				"image '%s' is missing blob '%s'; pull it "
				"again",
				image, d->digest.str);
		return;
	}
	if (size != d->size) {
		problem(c,
			"image '%s' expects blob '%s' of %lld bytes, the "
			"store has %lld",
			image, d->digest.str, (long long)d->size,
			(long long)size);
		return;
	}
	if (!is_manifest_type(d->media_type))
		return;
	if (berth_store_read_blob(&data, &len, c->s, &d->digest,
				  BERTH_MANIFEST_MAX, &e) < 0 ||
	    berth_manifest_parse(&m, d->media_type, data, len, &e) < 0) {
		problem(c, "image '%s' has an unreadable manifest '%s': %s",
			image, d->digest.str, e->msg);
		berth_error_free(e);
		return;
	}
	if (m->kind == BERTH_MANIFEST_INDEX) {
		for (size_t i = 0; i < m->n_manifests; i++)
			check_needed(c, image, &m->manifests[i], true, seen);
		return;
	}
	check_needed(c, image, &m->config, false, seen);
	for (size_t i = 0; i < m->n_layers; i++)
		check_needed(c, image, &m->layers[i], false, seen);
}

static void
check_index(fsck_ctx *c)
{
	json_auto_t *root = NULL;
	berth_error *e = NULL;
	size_t i;
	json_t *entry;

	if (store_index_load(c->s, &root, &e) < 0) {
		problem(c, "%s", e->msg);
		berth_error_free(e);
		return;
	}
	json_array_foreach(json_object_get(root, "manifests"), i, entry)
	{
		json_auto_t *seen = json_object();
		const char *name = store_entry_name(entry);
		_cleanup_free_ char *label =
			name ? xstrdup(name) : xasprintf("#%zu", i + 1);
		berth_descriptor d;

		if (store_desc_from_json(&d, entry, &e) < 0) {
			problem(c, "index entry '%s' is invalid: %s", label,
				e->msg);
			berth_error_freep(&e);
		} else {
			check_needed(c, label, &d, false, seen);
		}
		berth_descriptor_release(&d);
	}
}

int
berth_store_fsck(size_t *checked, size_t *problems, berth_store *s,
		 berth_store_problem_fn cb, void *ud, berth_error **err)
{
	_cleanup_free_ char *buf = xmalloc(CHUNK);
	fsck_ctx c = {s, cb, ud, 0, 0, buf};
	int lock = -1;
	int r;

	r = verify_blobs(&c, "sha256", err);
	if (r == 0)
		r = verify_blobs(&c, "sha512", err);
	if (r < 0)
		return r;
	/* The index lock only for the temporaries written under it. */
	if (store_lock(s, STORE_LOCK_FILE, LOCK_EX, &lock, NULL) == 0) {
		c.problems += store_clean_staging(s, true, cb, ud);
		store_unlock(&lock);
	} else {
		c.problems += store_clean_staging(s, false, cb, ud);
	}
	check_index(&c);
	if (checked)
		*checked = c.checked;
	if (problems)
		*problems = c.problems;
	return 0;
}
