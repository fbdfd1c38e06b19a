/*
 * The local store: an OCI image layout (image-spec image-layout.md).
 *
 *   ROOT/oci-layout            {"imageLayoutVersion": "1.0.0"}
 *   ROOT/index.json            one manifest descriptor per image name, with
 *                              org.opencontainers.image.ref.name and
 *                              io.containerd.image.name = the full name
 *   ROOT/blobs/<alg>/<hex>     content, visible only once complete and verified
 *   ROOT/ingest/               staging files being written (not part of the
 * layout) ROOT/.lock                 serialises index.json updates and garbage
 * collection
 *
 * A blob is written to a staging file while it is hashed, verified, then
 * renamed into place; with BERTH_STORE_SYNC the data and the directory are
 * flushed first, so a visible blob survives power loss too. index.json is
 * replaced atomically (write, rename) under an exclusive lock, so concurrent
 * berth processes never lose each other's updates.
 */
#ifndef BERTH_STORE_H
#define BERTH_STORE_H

#include <signal.h>

#include "berth/common.h"
#include "berth/digest.h"
#include "berth/manifest.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct berth_store berth_store;

enum berth_store_flags {
	BERTH_STORE_SYNC = 1 << 0, /* fsync blobs and index before publishing */
};

/*
 * Opens (creating if needed) the layout at `root`. An existing directory
 * that is not an OCI layout, or has an unsupported imageLayoutVersion, is
 * refused with BERTH_ECORRUPT.
 */
BERTH_EXTERN int berth_store_open(berth_store **out, const char *root,
				  unsigned flags, berth_error **err);
BERTH_EXTERN void berth_store_free(berth_store *s);

/*
 * Waits on the store's locks (another berth changing the index, a gc)
 * end with BERTH_EINTERRUPTED, changing nothing, once *flag is non-zero,
 * e.g. set by a SIGINT handler: a flag already set refuses the wait, and
 * one set while waiting ends it within about 50 ms. NULL (the default)
 * waits without polling.
 */
BERTH_EXTERN void berth_store_set_interrupt(berth_store *s,
					    const volatile sig_atomic_t *flag);

static inline void
berth_store_freep(berth_store **s)
{
	berth_store_free(*s);
	*s = NULL;
}
BERTH_EXTERN const char *berth_store_root(const berth_store *s);

/*
 * The default root: /var/lib/berth for root, else $XDG_DATA_HOME/berth or
 * ~/.local/share/berth. Caller frees. (BERTH_ROOT is the CLI's business.)
 */
BERTH_EXTERN char *berth_store_default_root(void);

/* ---- blobs ---- */

/* True when the blob is present; its size in *size when not NULL. */
BERTH_EXTERN bool berth_store_has_blob(int64_t *size, berth_store *s,
				       const berth_digest *d);

/* Path of a blob (whether or not it exists); caller frees. */
BERTH_EXTERN char *berth_store_blob_path(berth_store *s, const berth_digest *d);

/*
 * Reads a whole blob of at most `max` bytes into a new NUL-terminated
 * buffer *out (caller frees; length in *len) and checks its digest.
 * BERTH_ENOTFOUND if absent, BERTH_ETOOBIG past max, BERTH_ECORRUPT if the
 * content does not match its name.
 */
BERTH_EXTERN int berth_store_read_blob(char **out, size_t *len, berth_store *s,
				       const berth_digest *d, size_t max,
				       berth_error **err);

/*
 * Stores bytes held in memory. With `expect` the content must match it
 * (BERTH_EDIGEST otherwise); the digest (sha256 unless `expect` says
 * otherwise) goes to *out when not NULL. Present already: no write.
 */
BERTH_EXTERN int berth_store_put_blob(berth_digest *out, berth_store *s,
				      const berth_digest *expect, const void *p,
				      size_t len, berth_error **err);

typedef struct berth_blob_writer berth_blob_writer;

/*
 * Starts writing a blob to a staging file. `expect` (or NULL: sha256 of the
 * content, known at commit) and `expect_size` (or -1) are checked as bytes
 * arrive and at commit. Writes may come from any single thread at a time.
 */
BERTH_EXTERN int berth_store_blob_begin(berth_blob_writer **out, berth_store *s,
					const berth_digest *expect,
					int64_t expect_size, berth_error **err);

/* Hashes and appends; BERTH_EDIGEST once more than expect_size arrived. */
BERTH_EXTERN int berth_blob_writer_write(berth_blob_writer *w, const void *p,
					 size_t len, berth_error **err);

BERTH_EXTERN int64_t berth_blob_writer_written(const berth_blob_writer *w);

/* Discards what was written so far (to restart a download from zero). */
BERTH_EXTERN int berth_blob_writer_reset(berth_blob_writer *w,
					 berth_error **err);

/*
 * Verifies size and digest (BERTH_EDIGEST: "digest mismatch for blob
 * 'sha256:…': content is sha256:…", or "blob 'sha256:…' is truncated: got
 * N of M bytes"), flushes when the store is in sync mode, and renames the
 * file into blobs/. The actual digest goes to *out when not NULL. On any
 * failure the staging file is removed and nothing becomes visible.
 */
BERTH_EXTERN int berth_blob_writer_commit(berth_digest *out,
					  berth_blob_writer *w,
					  berth_error **err);

/* Frees the writer; removes the staging file unless committed. */
BERTH_EXTERN void berth_blob_writer_free(berth_blob_writer *w);

/* ---- images (index.json) ---- */

/* Frozen (see berth/common.h): an index.json entry is a name and a
 * descriptor; anything more about it is the descriptor's. */
typedef struct berth_image {
	char *name; /* full reference, e.g. docker.io/library/nginx:latest */
	berth_descriptor desc; /* the image manifest */
} berth_image;

/* All images, in index.json order. Free with berth_images_free. */
BERTH_EXTERN int berth_store_list(berth_image **out, size_t *n, berth_store *s,
				  berth_error **err);
BERTH_EXTERN void berth_images_free(berth_image *v, size_t n);

/* The descriptor recorded for `name` (deep copy); BERTH_ENOTFOUND if none. */
BERTH_EXTERN int berth_store_resolve(berth_descriptor *out, berth_store *s,
				     const char *name, berth_error **err);

/*
 * Records `name` -> desc in index.json, replacing an entry of the same
 * name. The descriptor's blobs must already be stored. Atomic and safe
 * against concurrent berth processes.
 */
BERTH_EXTERN int berth_store_set_image(berth_store *s, const char *name,
				       const berth_descriptor *desc,
				       berth_error **err);

/*
 * Records desc in index.json without a name (an untagged image, as
 * berth load finds them), unless an entry, named or not, holds that
 * manifest already: garbage collection then keeps its blobs. berth images
 * does not list such an entry.
 */
BERTH_EXTERN int berth_store_keep_image(berth_store *s,
					const berth_descriptor *desc,
					berth_error **err);

/* Removes `name` from index.json; BERTH_ENOTFOUND if absent. */
BERTH_EXTERN int berth_store_remove_image(berth_store *s, const char *name,
					  berth_error **err);

/*
 * While a job holds the content lease (shared), garbage collection waits:
 * take it before writing blobs that are not yet referenced by index.json
 * and release it after set_image. Leases are shared between processes.
 */
BERTH_EXTERN int berth_store_lease(berth_store *s, berth_error **err);
BERTH_EXTERN void berth_store_unlease(berth_store *s);

typedef void (*berth_store_blob_fn)(void *ud, const berth_digest *d,
				    int64_t size);

/*
 * Deletes every blob not reachable from index.json (through indexes,
 * manifests, configs and layers), waiting for leases to end. Calls `cb`
 * for each deleted blob.
 */
BERTH_EXTERN int berth_store_gc(berth_store *s, berth_store_blob_fn cb,
				void *ud, berth_error **err);

typedef void (*berth_store_problem_fn)(void *ud, const char *problem);

/*
 * Re-verifies every blob (removing those whose content does not match
 * their name), removes stale staging files, checks that index.json parses
 * and that every blob an image needs is present. Reports each problem
 * through `cb` (one line, e.g. "removed corrupt blob 'sha256:…'");
 * counts go to *checked and *problems.
 */
BERTH_EXTERN int berth_store_fsck(size_t *checked, size_t *problems,
				  berth_store *s, berth_store_problem_fn cb,
				  void *ud, berth_error **err);

#ifdef __cplusplus
}
#endif
#endif
