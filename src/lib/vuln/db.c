/*
 * Loading an advisory database: OSV JSON files, zips of them (OSV's
 * all.zip, read through libarchive) and directories of either. A document
 * that cannot be read or is not OSV is skipped with one warning naming
 * it; only a path that cannot be read at all fails the load.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/log.h"
#include "util/archive_dl.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"
#include "vuln/vuln_int.h"

/* One advisory is a few KiB; one this large is not an advisory. */
#define DOC_MAX ((size_t)16 << 20)
/* OSV's git layout nests a few levels; deeper is a loop or a mistake. */
#define DEPTH_MAX 16
#define INDEX_BUCKETS ((size_t)1 << 17)

berth_vuln_db *
vuln_db_new(size_t buckets)
{
	berth_vuln_db *db = xcalloc(1, sizeof(*db));

	db->index = berth_hmap_new(buckets ? buckets : INDEX_BUCKETS);
	return db;
}

void
berth_vuln_db_free(berth_vuln_db *db)
{
	if (db == NULL)
		return;
	berth_hmap_free(db->index, NULL);
	berth_arena_release(&db->arena);
	free(db);
}

size_t
berth_vuln_db_count(const berth_vuln_db *db)
{
	return db->advisories;
}

size_t
berth_vuln_db_skipped(const berth_vuln_db *db)
{
	return db->skipped;
}

static void
skip(berth_vuln_db *db, berth_error *e, const char *origin)
{
	db->skipped++;
	berth_log(BERTH_LOG_WARN, "skipping advisory: %s",
		  e && e->msg ? e->msg : origin);
}

static void
add_doc(berth_vuln_db *db, const char *p, size_t len, const char *origin)
{
	berth_error *e = NULL;

	if (vuln_osv_add(db, p, len, origin, &e) < 0)
		skip(db, e, origin);
	berth_error_free(e);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Every *.json entry of a zip; a damaged zip ends the read with a
 * warning, keeping what was read before. */
static int
load_zip(berth_vuln_db *db, const char *path, berth_error **err)
{
	const berth_archive_api *ar;
	struct archive *a;
	struct archive_entry *ent;
	berth_buf doc = BERTH_BUF_INIT;
	int r;

	if ((r = berth_archive_api_get(&ar, err)) < 0)
		return berth_error_wrap(err, r, "reading '%s'", path);
	a = ar->read_new();
	ar->read_support_format_zip(a);
	if (ar->read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		r = berth_error_set(err, BERTH_EIO, ar->errno_(a),
				    "cannot read '%s': %s", path,
				    ar->error_string(a));
		ar->read_free(a);
		return r;
	}
	berth_buf_init(&doc, DOC_MAX);
	for (;;) {
		const char *name;
		const void *blk;
		size_t len;
		la_int64_t off;
		bool too_big = false;
		int rc = ar->read_next_header(a, &ent);

		if (rc == ARCHIVE_EOF)
			break;
		if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
			db->skipped++;
			berth_log(BERTH_LOG_WARN,
				  "'%s' is damaged after %zu advisories: %s",
				  path, db->advisories, ar->error_string(a));
			break;
		}
		name = ar->entry_pathname(ent);
		if (name == NULL || !ends_with(name, ".json") ||
		    ar->entry_filetype(ent) != AE_IFREG)
			continue;
		berth_buf_clear(&doc);
		while ((rc = ar->read_data_block(a, &blk, &len, &off)) ==
		       ARCHIVE_OK)
			if (!too_big && berth_buf_put(&doc, blk, len, NULL) < 0)
				too_big = true;
		_cleanup_free_ char *origin = xasprintf("%s:%s", path, name);

		if (rc != ARCHIVE_EOF) {
			db->skipped++;
			berth_log(BERTH_LOG_WARN, "skipping advisory '%s': %s",
				  origin, ar->error_string(a));
			continue;
		}
		if (too_big) {
			db->skipped++;
			berth_log(BERTH_LOG_WARN,
				  "skipping advisory '%s': over %zu MiB",
				  origin, DOC_MAX >> 20);
			continue;
		}
		add_doc(db, berth_buf_cstr(&doc), doc.len, origin);
	}
	berth_buf_release(&doc);
	ar->read_free(a);
	return 0;
}

static int
load_json(berth_vuln_db *db, const char *path)
{
	_cleanup_free_ char *p = NULL;
	berth_error *e = NULL;
	size_t len;

	if (berth_file_read(&p, &len, path, DOC_MAX, &e) < 0) {
		skip(db, e, path);
		berth_error_free(e);
		return 0;
	}
	add_doc(db, p, len, path);
	return 0;
}

static int
is_zip(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	char magic[4];

	return fd >= 0 && read(fd, magic, 4) == 4 &&
	       memcmp(magic, "PK\3\4", 4) == 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_path(berth_vuln_db *db, const char *path, int depth, bool top,
		     berth_error **err);

/* A directory's entries in name order, so loads are reproducible. */
static int
load_dir(berth_vuln_db *db, const char *path, int depth, berth_error **err)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (d == NULL)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot read directory '%s': %s", path,
				       strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap)
			names = xreallocarray(names, cap = cap ? 2 * cap : 64,
					      sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", path, names[i]);

		if (r == 0)
			r = load_path(db, p, depth + 1, false, err);
		free(names[i]);
	}
	free(names);
	return r;
}

static int
load_path(berth_vuln_db *db, const char *path, int depth, bool top,
	  berth_error **err)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		if (!top)
			return 0; /* a dangling link inside: nothing to read */
		berth_error_set(err,
				errno == ENOENT ? BERTH_ENOTFOUND : BERTH_EIO,
				errno, "cannot open advisory database '%s': %s",
				path, strerror(errno));
		berth_error_hint(err, "give --db a directory of OSV files or "
				      "an all.zip (berth scan --update)");
		return errno == ENOENT ? BERTH_ENOTFOUND : BERTH_EIO;
	}
	if (S_ISDIR(st.st_mode)) {
		if (depth >= DEPTH_MAX)
			return 0;
		return load_dir(db, path, depth, err);
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	if (ends_with(path, ".zip") || (top && is_zip(path)))
		return load_zip(db, path, err);
	if (top || ends_with(path, ".json"))
		return load_json(db, path);
	return 0;
}

int
berth_vuln_db_open(berth_vuln_db **out, const char *path, berth_error **err)
{
	berth_vuln_db *db = vuln_db_new(0);
	int r = load_path(db, path, 0, true, err);

	if (r < 0) {
		berth_vuln_db_free(db);
		return r;
	}
	*out = db;
	return 0;
}
