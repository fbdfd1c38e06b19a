#include "sbom/walk.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "unpack/resolve.h"
#include "util/archive_dl.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/hmap.h"
#include "util/xalloc.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define WH_META ".wh..wh."
#define OS_RELEASE_MAX ((int64_t)64 << 10)

typedef enum {
	K_NONE,
	K_DPKG,
	K_APK,
	K_PYTHON,
	K_NPM,
	K_OS,
	K_EXEC,
} kind;

/* A catalogued file still present. */
struct rec {
	size_t layer;
	berth_digest digest;
	berth_sbom_list pkgs;
	char *os; /* os-release's bytes */
	size_t os_len;
};

struct berth_sbom_walk {
	const berth_archive_api *A;
	berth_hmap *recs; /* path -> struct rec */
	berth_hmap *dirs; /* every parent directory of a rec -> size_t count */
	size_t layer;	  /* the layer being read, from 0 */
	berth_digest digest;
	const char *what;
};

static void
rec_free(void *v)
{
	struct rec *r = v;

	berth_sbom_list_release(&r->pkgs);
	free(r->os);
	free(r);
}

int
berth_sbom_walk_new(berth_sbom_walk **out, berth_error **err)
{
	_cleanup_free_ berth_sbom_walk *w = xcalloc(1, sizeof(*w));
	int r = berth_archive_api_get(&w->A, err);

	if (r < 0)
		return r;
	w->recs = berth_hmap_new(4096);
	w->dirs = berth_hmap_new(4096);
	*out = steal_ptr(&w);
	return 0;
}

void
berth_sbom_walk_free(berth_sbom_walk *w)
{
	if (w == NULL)
		return;
	berth_hmap_free(w->recs, rec_free);
	berth_hmap_free(w->dirs, free);
	free(w);
}

static bool
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t l = strlen(suffix);

	return n >= l && memcmp(s + n - l, suffix, l) == 0;
}

/* "node_modules/NAME/package.json" or "node_modules/@SCOPE/NAME/..."
 * at the end of the path: an installed package's root, not a file deeper
 * in it. */
static bool
npm_package(const char *path)
{
	const char *nm = NULL, *p = path, *rest, *slash;

	while ((p = strstr(p, "node_modules/")) != NULL) {
		if (p == path || p[-1] == '/')
			nm = p;
		p++;
	}
	if (nm == NULL)
		return false;
	rest = nm + strlen("node_modules/");
	if (rest[0] == '.' || rest[0] == '\0')
		return false;
	slash = strchr(rest, '/');
	if (slash && rest[0] == '@')
		slash = strchr(slash + 1, '/');
	return slash && strcmp(slash, "/package.json") == 0 && slash > rest;
}

static kind
classify(const char *path, unsigned perm)
{
	size_t n = strlen(path);
	static const char statusd[] = "var/lib/dpkg/status.d/";

	if (strcmp(path, "var/lib/dpkg/status") == 0)
		return K_DPKG;
	if (strncmp(path, statusd, sizeof(statusd) - 1) == 0) {
		const char *leaf = path + sizeof(statusd) - 1;

		return *leaf && !strchr(leaf, '/') &&
				       !ends_with(path, n, ".md5sums")
			       ? K_DPKG
			       : K_NONE;
	}
	if (strcmp(path, "lib/apk/db/installed") == 0)
		return K_APK;
	if (ends_with(path, n, ".dist-info/METADATA") ||
	    ends_with(path, n, ".egg-info/PKG-INFO") ||
	    ends_with(path, n, ".egg-info"))
		return K_PYTHON;
	if (ends_with(path, n, "/package.json") && npm_package(path))
		return K_NPM;
	if (strcmp(path, "etc/os-release") == 0 ||
	    strcmp(path, "usr/lib/os-release") == 0)
		return K_OS;
	if (perm & 0111)
		return K_EXEC;
	return K_NONE;
}

/* Copies what of the block [boff, boff+blen) falls in [woff, woff+wlen). */
static void
overlap(uint8_t *win, int64_t woff, size_t wlen, const void *blk, int64_t boff,
	size_t blen)
{
	int64_t lo = boff > woff ? boff : woff;
	int64_t hi = boff + (int64_t)blen < woff + (int64_t)wlen
			     ? boff + (int64_t)blen
			     : woff + (int64_t)wlen;

	if (hi > lo)
		memcpy(win + (lo - woff), (const uint8_t *)blk + (lo - boff),
		       (size_t)(hi - lo));
}

static int
data_fail(berth_sbom_walk *w, struct archive *ar, const char *path,
	  berth_error **err)
{
	berth_error_set(err, BERTH_EPROTO, w->A->errno_(ar),
			"%s: entry '%s': cannot read its data: %s", w->what,
			path, w->A->error_string(ar));
	return BERTH_EPROTO;
}

/* The entry's first `len` bytes (a sparse file's holes as zeros). */
static int
read_data(berth_sbom_walk *w, struct archive *ar, const char *path,
	  uint8_t *buf, size_t len, berth_error **err)
{
	const void *blk;
	size_t blen;
	la_int64_t off;

	memset(buf, 0, len);
	for (;;) {
		int r = w->A->read_data_block(ar, &blk, &blen, &off);

		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return data_fail(w, ar, path, err);
		overlap(buf, 0, len, blk, off, blen);
		if (off + (int64_t)blen >= (int64_t)len)
			return 0;
	}
}

/*
 * An executable: its first bytes; when they are an ELF file's headers,
 * the data start's bytes, for the Go build information.
 */
static int
read_exec(berth_sbom_walk *w, struct archive *ar, const char *path,
	  int64_t size, berth_sbom_list *out, berth_error **err)
{
	size_t hlen = size < (int64_t)BERTH_SBOM_ELF_HEAD ? (size_t)size
							  : BERTH_SBOM_ELF_HEAD;
	_cleanup_free_ uint8_t *head = xmalloc(hlen ? hlen : 1);
	_cleanup_free_ uint8_t *data = NULL;
	int64_t doff = -1;
	size_t dlen = 0;
	const void *blk;
	size_t blen;
	la_int64_t off;

	if (size < 64)
		return 0;
	memset(head, 0, hlen);
	for (;;) {
		int r = w->A->read_data_block(ar, &blk, &blen, &off);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return data_fail(w, ar, path, err);
		if (doff < 0) {
			overlap(head, 0, hlen, blk, off, blen);
			if (off + (int64_t)blen < (int64_t)hlen)
				continue;
			if (memcmp(head,
				   "\x7f"
				   "ELF",
				   4) != 0)
				return 0;
			doff = berth_sbom_elf_data_offset(head, hlen);
			if (doff < 0 || doff >= size)
				return 0;
			dlen = size - doff < (int64_t)BERTH_SBOM_GO_DATA
				       ? (size_t)(size - doff)
				       : BERTH_SBOM_GO_DATA;
			data = xcalloc(1, dlen);
			/* The data start may lie in the head already read. */
			overlap(data, doff, dlen, head, 0, hlen);
		}
		overlap(data, doff, dlen, blk, off, blen);
		if (off + (int64_t)blen >= doff + (int64_t)dlen)
			break;
	}
	if (data)
		berth_sbom_parse_go(out, data, dlen);
	return 0;
}

static int
read_file(berth_sbom_walk *w, struct archive *ar, const char *path, kind k,
	  int64_t size, struct rec *rec, berth_error **err)
{
	int64_t max = k == K_DPKG || k == K_APK ? BERTH_SBOM_DB_MAX
		      : k == K_OS		? OS_RELEASE_MAX
						: BERTH_SBOM_META_MAX;
	_cleanup_free_ uint8_t *buf = NULL;
	int r;

	if (k == K_EXEC)
		return read_exec(w, ar, path, size, &rec->pkgs, err);
	if (size > max) {
		if (k == K_DPKG || k == K_APK) {
			berth_error_set(err, BERTH_ETOOBIG, 0,
					"%s: '%s' is %lld bytes, more than "
					"berth reads of a package database "
					"(%lld)",
					w->what, path, (long long)size,
					(long long)max);
			berth_error_hint(err, "the image is not one berth "
					      "lists; check where it comes "
					      "from");
			return BERTH_ETOOBIG;
		}
		berth_log(BERTH_LOG_WARN,
			  "%s: '%s' skipped: %lld bytes, more than berth reads "
			  "of package metadata (%lld)",
			  w->what, path, (long long)size, (long long)max);
		return 0;
	}
	buf = xmalloc((size_t)size + 1);
	if ((r = read_data(w, ar, path, buf, (size_t)size, err)) < 0)
		return r;
	buf[size] = '\0';
	switch (k) {
	case K_DPKG:
		berth_sbom_parse_dpkg(&rec->pkgs, (char *)buf, (size_t)size);
		break;
	case K_APK:
		berth_sbom_parse_apk(&rec->pkgs, (char *)buf, (size_t)size);
		break;
	case K_PYTHON:
		berth_sbom_parse_python(&rec->pkgs, (char *)buf, (size_t)size);
		break;
	case K_NPM:
		berth_sbom_parse_npm(&rec->pkgs, (char *)buf, (size_t)size);
		break;
	case K_OS:
		rec->os = (char *)steal_ptr(&buf);
		rec->os_len = (size_t)size;
		break;
	default:
		break;
	}
	return 0;
}

struct drop {
	const char *path; /* the path itself, and what is under it */
	size_t len;
	size_t below;  /* only records of layers before this one */
	bool children; /* only what is under path */
};

static bool
drop_fn(void *ud, const char *key, void *value)
{
	const struct drop *d = ud;
	struct rec *r = value;

	if (r->layer >= d->below)
		return false;
	if (d->len == 0) /* under the root: everything */
		goto hit;
	if (strncmp(key, d->path, d->len) != 0)
		return false;
	if (key[d->len] == '\0' ? d->children : key[d->len] != '/')
		return false;
hit:
	rec_free(r);
	return true;
}

/* Forgets the record at path (unless only children), and the ones under
 * it when path is a directory of any, of layers before `below`. */
static void
drop(berth_sbom_walk *w, const char *path, size_t below, bool children)
{
	struct drop d = {path, strlen(path), below, children};

	if ((!children && berth_hmap_get(w->recs, path)) ||
	    berth_hmap_get(w->dirs, path))
		berth_hmap_filter(w->recs, drop_fn, &d);
}

static void
note_dirs(berth_sbom_walk *w, const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	while ((slash = strrchr(dir, '/')) != NULL) {
		size_t *n;

		*slash = '\0';
		n = berth_hmap_get(w->dirs, dir);
		if (n == NULL) {
			n = xcalloc(1, sizeof(*n));
			berth_hmap_put(w->dirs, dir, n);
		}
		++*n;
	}
	if (berth_hmap_get(w->dirs, "") == NULL)
		berth_hmap_put(w->dirs, "", xcalloc(1, sizeof(size_t)));
}

/* A whiteout entry (base starts with ".wh.") at the cleaned path. */
static void
whiteout(berth_sbom_walk *w, char *path, const char *base)
{
	char victim[PATH_MAX];
	size_t dl = (size_t)(base - path);

	/* The parent directory, without its '/'. */
	snprintf(victim, sizeof(victim), "%.*s", dl ? (int)(dl - 1) : 0, path);
	if (strcmp(base, WH_OPAQUE) == 0) {
		if (victim[0] == '\0') {
			struct drop d = {"", 0, w->layer, true};

			berth_hmap_filter(w->recs, drop_fn, &d);
			return;
		}
		drop(w, victim, w->layer, true);
		return;
	}
	if (strncmp(base, WH_META, strlen(WH_META)) == 0)
		return;
	snprintf(victim + strlen(victim), sizeof(victim) - strlen(victim),
		 "%s%s", victim[0] ? "/" : "", base + strlen(WH_PREFIX));
	drop(w, victim, w->layer, false);
}

static int
entry(berth_sbom_walk *w, struct archive *ar, struct archive_entry *e,
      berth_error **err)
{
	const berth_archive_api *A = w->A;
	const char *raw = A->entry_pathname(e), *base;
	char path[PATH_MAX];
	mode_t type = A->entry_filetype(e);
	bool hard = A->entry_hardlink(e) != NULL;
	struct rec *rec;
	kind k;
	int r;

	if (raw == NULL)
		return 0;
	if (berth_resolve_clean(path, raw, strlen(raw), err) < 0)
		return berth_error_wrap(err, BERTH_EPROTO, "%s", w->what);
	if (path[0] == '\0')
		return 0;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0) {
		whiteout(w, path, base);
		return 0;
	}
	if (type == AE_IFDIR && !hard)
		return 0; /* directories merge */
	/* Anything else replaces the file there, or the directory and
	 * everything under it. */
	drop(w, path, SIZE_MAX, false);
	if (hard || type != AE_IFREG)
		return 0;
	k = classify(path, A->entry_perm(e));
	if (k == K_NONE)
		return 0;
	rec = xcalloc(1, sizeof(*rec));
	rec->layer = w->layer;
	rec->digest = w->digest;
	r = read_file(w, ar, path, k, A->entry_size(e), rec, err);
	if (r < 0 || (rec->pkgs.n == 0 && rec->os == NULL)) {
		rec_free(rec);
		return r;
	}
	berth_hmap_put(w->recs, path, rec);
	note_dirs(w, path);
	return 0;
}

struct source {
	const berth_archive_api *A;
	berth_sbom_read_fn rd;
	void *ctx;
	berth_error *err;
	int code;
};

static la_ssize_t
source_read(struct archive *ar, void *ud, const void **buf)
{
	struct source *s = ud;
	ssize_t n = s->rd(s->ctx, buf, &s->err);

	if (n < 0) {
		s->code = (int)n;
		s->A->set_error(ar, EIO, "reading the layer failed");
		return -1;
	}
	return n;
}

static int
archive_fail(berth_sbom_walk *w, struct archive *ar, struct source *s,
	     berth_error **err)
{
	if (s->code < 0) {
		int code = s->code;

		berth_error_move(err, &s->err, code);
		return berth_error_wrap(err, code, "%s", w->what);
	}
	berth_error_set(err, BERTH_EPROTO, w->A->errno_(ar),
			"%s: not a valid tar archive: %s", w->what,
			w->A->error_string(ar) ? w->A->error_string(ar)
					       : "unreadable");
	berth_error_hint(err, "the layer's blob is damaged or was built "
			      "wrong: pull the image again, or rebuild it");
	return BERTH_EPROTO;
}

int
berth_sbom_walk_layer(berth_sbom_walk *w, const berth_digest *layer,
		      berth_sbom_read_fn rd, void *ctx, const char *what,
		      berth_error **err)
{
	const berth_archive_api *A = w->A;
	struct source s = {A, rd, ctx, NULL, 0};
	struct archive *ar = A->read_new();
	struct archive_entry *e;
	int r = 0;

	w->what = what;
	w->digest = *layer;
	A->read_support_format_tar(ar);
	A->read_support_format_empty(ar);
	if (A->read_open(ar, &s, NULL, source_read, NULL) != ARCHIVE_OK) {
		r = archive_fail(w, ar, &s, err);
		goto out;
	}
	for (;;) {
		int h = A->read_next_header(ar, &e);

		if (h == ARCHIVE_EOF)
			break;
		if (h < ARCHIVE_WARN) {
			r = archive_fail(w, ar, &s, err);
			goto out;
		}
		if ((r = entry(w, ar, e, err)) < 0)
			goto out;
	}
out:
	A->read_free(ar);
	berth_error_free(s.err);
	w->layer++;
	return r;
}

struct collect {
	berth_sbom_list *pkgs;
	struct rec *os[2]; /* etc/, usr/lib/ */
};

static bool
collect_fn(void *ud, const char *key, void *value)
{
	struct collect *c = ud;
	struct rec *r = value;

	if (r->os) {
		c->os[strcmp(key, "etc/os-release") == 0 ? 0 : 1] = r;
		return false;
	}
	for (size_t i = 0; i < r->pkgs.n; i++) {
		r->pkgs.v[i].path = xstrdup(key);
		r->pkgs.v[i].layer = r->digest;
		r->pkgs.v[i].layer_index = r->layer;
	}
	berth_sbom_list_move(c->pkgs, &r->pkgs);
	return false;
}

void
berth_sbom_walk_finish(berth_sbom_walk *w, berth_sbom_list *pkgs, berth_sbom *b)
{
	struct collect c = {pkgs, {NULL, NULL}};
	struct rec *os;

	berth_hmap_filter(w->recs, collect_fn, &c);
	os = c.os[0] ? c.os[0] : c.os[1];
	if (os)
		berth_sbom_parse_os_release(&b->os_id, &b->os_version_id,
					    &b->os_name, os->os, os->os_len);
}
