/*
 * The local store: opening and creating the layout, and leases. Blobs
 * are in store_blob.c, index.json in store_index.c, garbage collection
 * and fsck in store_gc.c and store_fsck.c, the file helpers they all
 * share (paths, I/O errors, locks, fsync) in store_fs.c.
 */
#include "store/store_int.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define LAYOUT_VERSION "1.0.0"
#define LAYOUT_TMP_PREFIX "oci-layout.tmp-"

/* mkdir -p; existing directories are fine. */
static int
mkdir_p(berth_store *s, const char *path, berth_error **err)
{
	_cleanup_free_ char *p = xstrdup(path);
	struct stat st;

	for (char *c = p + 1;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		char saved = *c;

		*c = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return store_io_error(err, s, errno, "create directory",
					      p);
		*c = saved;
		if (saved == '\0')
			break;
	}
	if (stat(path, &st) < 0)
		return store_io_error(err, s, errno, "open", path);
	if (!S_ISDIR(st.st_mode))
		return store_io_error(err, s, ENOTDIR, "use", path);
	return 0;
}

/* Reads a small file whole (oci-layout); ENOENT leaves *out NULL. */
static int
read_small(berth_store *s, const char *path, char **out, berth_error **err)
{
	berth_error *e = NULL;
	size_t len;
	int r = berth_file_read(out, &len, path, 4096, &e);

	if (r == BERTH_ENOTFOUND) {
		berth_error_free(e);
		return 0;
	}
	return berth_error_move(err, &e, r);
}

/* Checks ROOT/oci-layout; *present says whether it exists. */
static int
check_layout(berth_store *s, bool *present, berth_error **err)
{
	_cleanup_free_ char *path = store_path(s, STORE_LAYOUT_FILE);
	_cleanup_free_ char *text = NULL;
	json_auto_t *root = NULL;
	const char *v;

	if (read_small(s, path, &text, err) < 0)
		return BERTH_EIO;
	*present = text != NULL;
	if (text == NULL)
		return 0;
	root = json_loads(text, 0, NULL);
	v = json_string_value(json_object_get(root, "imageLayoutVersion"));
	if (v == NULL) {
		berth_error_set(err, BERTH_ECORRUPT, 0,
				"store '%s' is damaged: '%s' has no valid "
				"imageLayoutVersion",
				s->root, path);
		berth_error_hint(err,
				 "write {\"imageLayoutVersion\": "
				 "\"" LAYOUT_VERSION "\"} into '%s' if "
				 "this is an OCI image layout",
				 path);
		return BERTH_ECORRUPT;
	}
	if (strcmp(v, LAYOUT_VERSION) != 0) {
		berth_error_set(err, BERTH_ECORRUPT, 0,
				"store '%s' has unsupported imageLayoutVersion "
				"'%.32s' (berth reads " LAYOUT_VERSION ")",
				s->root, v);
		berth_error_hint(err, "choose another store with --root");
		return BERTH_ECORRUPT;
	}
	return 0;
}

/* True when ROOT holds nothing but what an earlier, interrupted creation
 * or a fresh file system leaves. */
static int
dir_is_blank(berth_store *s, bool *blank, berth_error **err)
{
	DIR *d = opendir(s->root);
	struct dirent *e;

	if (d == NULL)
		return store_io_error(err, s, errno, "open directory", s->root);
	*blank = true;
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;

		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
		    strcmp(n, STORE_LOCK_FILE) == 0 ||
		    strcmp(n, "lost+found") == 0 ||
		    strncmp(n, LAYOUT_TMP_PREFIX, strlen(LAYOUT_TMP_PREFIX)) ==
			    0)
			continue;
		*blank = false;
		break;
	}
	closedir(d);
	return 0;
}

static int
refuse_unless_blank(berth_store *s, berth_error **err)
{
	_cleanup_free_ char *layout = store_path(s, STORE_LAYOUT_FILE);
	bool blank = false;
	int r = dir_is_blank(s, &blank, err);

	if (r < 0 || blank)
		return r;
	/* Another berth may have just created the layout: it writes
	 * oci-layout before anything else appears. */
	if (access(layout, F_OK) == 0)
		return 0;
	berth_error_set(err, BERTH_ECORRUPT, 0,
			"directory '%s' is not an OCI image layout: it has no "
			"'oci-layout' file and is not empty",
			s->root);
	berth_error_hint(err, "choose a new or empty directory with --root "
			      "(or BERTH_ROOT)");
	return BERTH_ECORRUPT;
}

static int
make_dirs(berth_store *s, bool strict, berth_error **err)
{
	static const char *dirs[] = {"blobs", "blobs/sha256", STORE_INGEST_DIR};

	for (size_t i = 0; i < BERTH_ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *p = store_path(s, dirs[i]);

		if (mkdir(p, 0755) == 0 || errno == EEXIST)
			continue;
		/* A store someone else owns can still be read. */
		if (!strict && (errno == EACCES || errno == EROFS))
			continue;
		return store_io_error(err, s, errno, "create directory", p);
	}
	return 0;
}

/* Creates the layout, or whatever part of it is missing, under the lock. */
static int
create_layout(berth_store *s, berth_error **err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_free_ char *index = store_path(s, STORE_INDEX_FILE);
	static const char layout[] =
		"{\"imageLayoutVersion\":\"" LAYOUT_VERSION "\"}";
	bool present = false;
	int r;

	r = store_lock(s, STORE_LOCK_FILE, LOCK_EX, &lock, err);
	if (r < 0)
		return r;
	r = check_layout(s, &present, err);
	if (r < 0)
		return r;
	if (!present) {
		r = refuse_unless_blank(s, err);
		if (r < 0)
			return r;
		r = store_write_file(s, STORE_LAYOUT_FILE, LAYOUT_TMP_PREFIX,
				     layout, strlen(layout), err);
		if (r < 0)
			return r;
	}
	r = make_dirs(s, true, err);
	if (r < 0)
		return r;
	if (access(index, F_OK) < 0) {
		json_auto_t *root = NULL;

		r = store_index_load(s, &root, err); /* an empty index */
		if (r < 0)
			return r;
		r = store_index_save(s, root, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int
berth_store_open(berth_store **out, const char *root, unsigned flags,
		 berth_error **err)
{
	berth_store *s;
	_cleanup_free_ char *index = NULL;
	bool present = false;
	int r;

	assert(root != NULL && *root != '\0');
	s = xcalloc(1, sizeof(*s));
	s->root = xstrdup(root);
	/* "store/" and "store" are the same store. */
	for (size_t n = strlen(s->root); n > 1 && s->root[n - 1] == '/'; n--)
		s->root[n - 1] = '\0';
	s->flags = flags;
	s->lease_fd = -1;
	pthread_mutex_init(&s->lease_mu, NULL);

	r = mkdir_p(s, s->root, err);
	if (r == 0)
		r = check_layout(s, &present, err);
	index = store_path(s, STORE_INDEX_FILE);
	if (r == 0 && !present)
		r = refuse_unless_blank(s, err); /* before leaving a .lock */
	if (r == 0 && (!present || access(index, F_OK) < 0))
		r = create_layout(s, err);
	else if (r == 0)
		r = make_dirs(s, false, err);
	if (r < 0) {
		berth_store_free(s);
		return r;
	}
	*out = s;
	return 0;
}

void
berth_store_set_interrupt(berth_store *s, const volatile sig_atomic_t *flag)
{
	s->interrupt = flag;
}

void
berth_store_free(berth_store *s)
{
	if (s == NULL)
		return;
	store_unlock(&s->lease_fd);
	pthread_mutex_destroy(&s->lease_mu);
	free(s->root);
	free(s);
}

const char *
berth_store_root(const berth_store *s)
{
	return s->root;
}

char *
berth_store_default_root(void)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");

	if (geteuid() == 0)
		return xstrdup("/var/lib/berth");
	/* The XDG spec ignores relative values. */
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/berth", xdg);
	if (home == NULL || home[0] == '\0') {
		struct passwd *pw = getpwuid(geteuid());

		home = pw ? pw->pw_dir : NULL;
	}
	if (home == NULL || home[0] == '\0')
		return xasprintf("/tmp/berth-%u", (unsigned)geteuid());
	return xasprintf("%s/.local/share/berth", home);
}

/* ---- leases ---- */

int
berth_store_lease(berth_store *s, berth_error **err)
{
	int r = 0;

	pthread_mutex_lock(&s->lease_mu);
	if (s->lease_count == 0)
		r = store_lock(s, STORE_GC_FILE, LOCK_SH, &s->lease_fd, err);
	if (r == 0)
		s->lease_count++;
	pthread_mutex_unlock(&s->lease_mu);
	return r;
}

void
berth_store_unlease(berth_store *s)
{
	pthread_mutex_lock(&s->lease_mu);
	assert(s->lease_count > 0);
	if (s->lease_count > 0 && --s->lease_count == 0)
		store_unlock(&s->lease_fd);
	pthread_mutex_unlock(&s->lease_mu);
}
