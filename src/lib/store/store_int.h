/*
 * Internals of the local store (include/berth/store.h), shared by
 * store.c (open, leases), store_blob.c (the blob writer), store_index.c
 * (index.json), store_gc.c and store_fsck.c, with the file helpers of
 * store_fs.c below them all.
 */
#ifndef BERTH_LIB_STORE_STORE_INT_H
#define BERTH_LIB_STORE_STORE_INT_H

#include <pthread.h>

#include <jansson.h>

#include "berth/store.h"

#define STORE_LAYOUT_FILE "oci-layout"
#define STORE_INDEX_FILE "index.json"
#define STORE_LOCK_FILE ".lock" /* index.json updates, gc, creation */
#define STORE_INGEST_DIR "ingest"
#define STORE_GC_FILE "ingest/.gc"   /* leases (shared) vs gc (exclusive) */
#define STORE_STAGING_PREFIX "blob-" /* staging files in ingest/ */
/*
 * Partial downloads (store.h) are named like staging files ("blob-…"), but
 * they are kept on purpose, for the next pull to resume: `berth fsck` and
 * garbage collection leave them alone, and a pull drops those older than
 * partial-max-age (store_partial_clean).
 */
#define STORE_PARTIAL_PREFIX STORE_STAGING_PREFIX "partial-"
#define STORE_INDEX_TMP_PREFIX "index.json.tmp-"

#define STORE_ANN_REF_NAME "org.opencontainers.image.ref.name"
#define STORE_ANN_CONTAINERD_NAME "io.containerd.image.name"

/* Staging files nobody holds a lock on are left alone this long (seconds),
 * to cover the instant between their creation and their lock. */
#define STORE_STAGING_GRACE 60

struct berth_store {
	char *root;
	unsigned flags;
	pthread_mutex_t lease_mu; /* guards lease_fd and lease_count */
	int lease_fd;
	unsigned lease_count;
	const volatile sig_atomic_t *interrupt; /* berth_store_set_interrupt */
};

/* ---- file helpers (store_fs.c) ---- */

/* ROOT/<rel>; caller frees. */
char *store_path(const berth_store *s, const char *rel);

/*
 * A BERTH_EIO error "cannot <what> '<path>': <strerror>", with a hint
 * naming the store when the disk or the quota is full. Returns BERTH_EIO.
 */
int store_io_error(berth_error **err, const berth_store *s, int errnum,
		   const char *what, const char *path);

/*
 * Opens (creating) ROOT/<rel> and flocks it with `op` (LOCK_SH/LOCK_EX),
 * waiting, or BERTH_EINTERRUPTED when the store's interrupt flag is set
 * before or during the wait. The lock lasts until *fd is closed
 * (store_unlock).
 */
int store_lock(berth_store *s, const char *rel, int op, int *fd,
	       berth_error **err);
void store_unlock(int *fd);

/*
 * Writes ROOT/<rel> atomically: ROOT/<tmp_prefix><pid>-<random>, fsync
 * when SYNC, rename, fsync of ROOT when SYNC.
 */
int store_write_file(berth_store *s, const char *rel, const char *tmp_prefix,
		     const char *data, size_t len, berth_error **err);

/* fsync of a directory (for renames and unlinks to be durable). */
int store_fsync_dir(berth_store *s, const char *dir, berth_error **err);

/* Writes n random lowercase hex digits and a NUL into buf (n + 1 bytes). */
void store_random_hex(char *buf, size_t n);

/*
 * Removes abandoned staging files: no writer holds their flock and they
 * are older than STORE_STAGING_GRACE. With `index_locked` (the caller
 * holds the index lock) also the index.json and oci-layout temporaries.
 * Calls cb (may be NULL) with "removed stale staging file 'ingest/…'"
 * for each. Returns the count removed.
 */
size_t store_clean_staging(berth_store *s, bool index_locked,
			   berth_store_problem_fn cb, void *ud);

/* ---- index.json (store_index.c) ---- */

/*
 * Loads index.json: an object with a "manifests" array (added when
 * missing). A missing file is an empty index. BERTH_ECORRUPT if invalid.
 */
int store_index_load(berth_store *s, json_t **out, berth_error **err);

/* Replaces index.json atomically; the caller holds the index lock. */
int store_index_save(berth_store *s, json_t *root, berth_error **err);

/*
 * The name of an index entry: io.containerd.image.name when present (the
 * full reference; containerd puts only the tag in ref.name), else
 * org.opencontainers.image.ref.name; NULL when it has neither.
 */
const char *store_entry_name(json_t *entry);

/* True when the entry is recorded under `name` (either annotation). */
bool store_entry_matches(json_t *entry, const char *name);

/* Parses an index entry; on failure *d may be partly filled (release it). */
int store_desc_from_json(berth_descriptor *d, json_t *obj, berth_error **err);

#endif
