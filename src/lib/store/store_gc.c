/*
 * Garbage collection: deletes every blob that index.json does not reach
 * through indexes, manifests, configs, layers and subjects.
 *
 * Jobs that write blobs before naming them in index.json hold the content
 * lease (flock LOCK_SH on ROOT/ingest/.gc); gc takes it exclusively, so it
 * waits for them and they wait for it. gc also holds the index lock while
 * it marks and sweeps, so no entry can appear half-way through.
 */
#include "store/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "berth/log.h"
#include "berth/pull.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static bool
is_manifest_type(const char *mt)
{
	return mt && (strcmp(mt, BERTH_MT_OCI_MANIFEST) == 0 ||
		      strcmp(mt, BERTH_MT_OCI_INDEX) == 0 ||
		      strcmp(mt, BERTH_MT_DOCKER_V2) == 0 ||
		      strcmp(mt, BERTH_MT_DOCKER_LIST) == 0);
}

static int mark(berth_store *s, json_t *seen, const char *digest,
		const char *media_type, berth_error **err);

/*
 * Marks every descriptor ({"digest": …}) anywhere in a manifest's JSON:
 * config, layers, manifests, subject, and whatever a format berth does not
 * parse keeps there too.
 */
static int
mark_json(berth_store *s, json_t *seen, json_t *j, berth_error **err)
{
	const char *key, *dg;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		dg = json_string_value(json_object_get(j, "digest"));
		if (berth_digest_valid(dg) &&
		    mark(s, seen, dg,
			 json_string_value(json_object_get(j, "mediaType")),
			 err) < 0)
			return BERTH_ECORRUPT;
		json_object_foreach(j, key, v)
		{
			if (mark_json(s, seen, v, err) < 0)
				return BERTH_ECORRUPT;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			if (mark_json(s, seen, v, err) < 0)
				return BERTH_ECORRUPT;
		}
	}
	return 0;
}

/*
 * Marks a blob and, for a manifest or index that is present, everything it
 * names (a descriptor without mediaType might be one, too). A missing
 * manifest is a dead end; a damaged one stops gc, since what it names can
 * no longer be known.
 */
static int
mark(berth_store *s, json_t *seen, const char *digest, const char *media_type,
     berth_error **err)
{
	_cleanup_free_ char *data = NULL;
	json_auto_t *root = NULL;
	berth_error *e = NULL;
	berth_digest d;
	size_t len = 0;
	int r;

	if (json_object_get(seen, digest) != NULL)
		return 0;
	json_object_set_new(seen, digest, json_true());
	if (media_type != NULL && !is_manifest_type(media_type))
		return 0;
	if (berth_digest_parse(&d, digest, NULL) < 0)
		return 0;
	r = berth_store_read_blob(&data, &len, s, &d, BERTH_MANIFEST_MAX, &e);
	if (r == BERTH_ECORRUPT) {
		berth_error_move(err, &e, r);
		berth_error_wrap(err, r, "refusing to collect garbage");
		berth_error_hint(err, "run 'berth fsck' to remove damaged "
				      "blobs, then pull the images it names "
				      "again");
		return BERTH_ECORRUPT;
	}
	berth_error_free(e);
	if (r < 0)
		return 0; /* absent, or too large to be a manifest */
	root = json_loadb(data, len, 0, NULL);
	return mark_json(s, seen, root, err);
}

/* Deletes the unmarked blobs of one blobs/<alg> directory. */
static int
sweep(berth_store *s, json_t *seen, const char *alg, berth_store_blob_fn cb,
      void *ud, berth_error **err)
{
	_cleanup_free_ char *dir = xasprintf("%s/blobs/%s", s->root, alg);
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t removed = 0;

	if (d == NULL)
		return errno == ENOENT ? 0
				       : store_io_error(err, s, errno,
							"open directory", dir);
	while ((e = readdir(d)) != NULL) {
		char name[BERTH_DIGEST_MAX + 1];
		berth_digest dg;
		struct stat st;

		if (snprintf(name, sizeof(name), "%s:%s", alg, e->d_name) >=
			    (int)sizeof(name) ||
		    !berth_digest_valid(name))
			continue; /* not ours to judge */
		if (json_object_get(seen, name) != NULL)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			    0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0) {
			int en = errno;
			_cleanup_free_ char *p =
				xasprintf("%s/%s", dir, e->d_name);
			int r = store_io_error(err, s, en, "remove", p);

			closedir(d);
			return r;
		}
		removed++;
		berth_digest_parse(&dg, name, NULL);
		berth_log(BERTH_LOG_DEBUG, "gc: removed %s", name);
		if (cb)
			cb(ud, &dg, (int64_t)st.st_size);
	}
	closedir(d);
	if (removed && (s->flags & BERTH_STORE_SYNC))
		return store_fsync_dir(s, dir, err);
	return 0;
}

int
berth_store_gc(berth_store *s, berth_store_blob_fn cb, void *ud,
	       berth_error **err)
{
	_cleanup_close_ int gc_lock = -1, index_lock = -1;
	json_auto_t *root = NULL, *seen = json_object();
	const char *idx;
	unsigned leases;
	size_t i;
	json_t *e;
	int r;

	pthread_mutex_lock(&s->lease_mu);
	leases = s->lease_count;
	pthread_mutex_unlock(&s->lease_mu);
	if (leases > 0)
		return berth_error_set(err, BERTH_EGENERIC, 0,
				       "cannot collect garbage in store '%s' "
				       "while holding a lease on it",
				       s->root);
	r = store_lock(s, STORE_GC_FILE, LOCK_EX, &gc_lock, err);
	if (r == 0)
		r = store_lock(s, STORE_LOCK_FILE, LOCK_EX, &index_lock, err);
	if (r == 0)
		r = store_index_load(s, &root, err);
	if (r < 0)
		return r;
	json_array_foreach(json_object_get(root, "manifests"), i, e)
	{
		berth_descriptor d;

		r = store_desc_from_json(&d, e, err);
		if (r < 0) {
			/* What an unreadable entry names must not go. */
			berth_descriptor_release(&d);
			berth_error_wrap(err, BERTH_ECORRUPT,
					 "refusing to collect garbage: store "
					 "index '%s/%s' entry %zu",
					 s->root, STORE_INDEX_FILE, i + 1);
			return BERTH_ECORRUPT;
		}
		r = mark(s, seen, d.digest.str, d.media_type, err);
		berth_descriptor_release(&d);
		if (r < 0)
			return r;
		/* A pull of an index records the platform's manifest and
		 * names the index it came from: keep that index too. */
		idx = json_string_value(
			json_object_get(json_object_get(e, "annotations"),
					BERTH_ANNOTATION_INDEX_DIGEST));
		if (berth_digest_valid(idx))
			json_object_set_new(seen, idx, json_true());
	}
	r = sweep(s, seen, "sha256", cb, ud, err);
	if (r == 0)
		r = sweep(s, seen, "sha512", cb, ud, err);
	if (r == 0)
		store_clean_staging(s, true, NULL, NULL);
	return r;
}

/* Removes one staging file if nobody writes it. */
static bool
remove_if_abandoned(int dfd, const char *name, time_t now)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) || now - st.st_mtime < STORE_STAGING_GRACE)
		return false;
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
		return false; /* a live writer holds it */
	/* Unlinked while we hold the lock: no writer can have taken it. */
	return unlinkat(dfd, name, 0) == 0;
}

static void
report(berth_store_problem_fn cb, void *ud, char *line)
{
	berth_log(BERTH_LOG_DEBUG, "%s", line);
	if (cb)
		cb(ud, line);
	free(line);
}

size_t
store_clean_staging(berth_store *s, bool index_locked,
		    berth_store_problem_fn cb, void *ud)
{
	_cleanup_free_ char *ingest = store_path(s, STORE_INGEST_DIR);
	time_t now = time(NULL);
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	d = opendir(ingest);
	while (d && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, STORE_STAGING_PREFIX,
			    strlen(STORE_STAGING_PREFIX)) != 0 ||
		    strncmp(e->d_name, STORE_PARTIAL_PREFIX,
			    strlen(STORE_PARTIAL_PREFIX)) == 0)
			continue;
		if (remove_if_abandoned(dirfd(d), e->d_name, now)) {
			report(cb, ud,
			       xasprintf("removed stale staging file "
					 "'" STORE_INGEST_DIR "/%s'",
					 e->d_name));
			n++;
		}
	}
	if (d)
		closedir(d);
	if (!index_locked)
		return n;
	/* Temporaries of index.json and oci-layout are written under the
	 * index lock, which the caller holds: any left are dead. */
	d = opendir(s->root);
	while (d && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, STORE_INDEX_TMP_PREFIX,
			    strlen(STORE_INDEX_TMP_PREFIX)) != 0 &&
		    strncmp(e->d_name, STORE_LAYOUT_FILE ".tmp-",
			    strlen(STORE_LAYOUT_FILE ".tmp-")) != 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0) {
			report(cb, ud,
			       xasprintf("removed stale temporary file '%s'",
					 e->d_name));
			n++;
		}
	}
	if (d)
		closedir(d);
	return n;
}
