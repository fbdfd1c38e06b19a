/*
 * The registry's metadata store: which repository links which blob and
 * manifest, tags, upload sessions, push times and referrers.
 *
 * Every call is one transaction: a crash at any point leaves the old state
 * or the new one, never a mix. Operations are phrased at the level of what
 * a request does (put a manifest with its tags after checking its
 * references), not of tables, so a PostgreSQL implementation can replace
 * the SQLite one without touching the handlers. Safe to call from many
 * threads at once.
 *
 * Digests are canonical strings ("sha256:<hex>"); repository names and tags
 * are validated by the caller.
 */
#ifndef BERTH_SERVER_STORAGE_META_H
#define BERTH_SERVER_STORAGE_META_H

#include <stdint.h>

#include "berth/common.h"

typedef struct berth_meta berth_meta;

/*
 * Opens (creating if needed) the SQLite database at `path`, with up to
 * `conns` connections shared by the calling threads.
 */
int berth_meta_open(berth_meta **out, const char *path, int conns,
		    berth_error **err);
void berth_meta_free(berth_meta *m);

/* ---- blobs ---- */

/* Links a blob into a repository (idempotent), creating the repository. */
int berth_meta_blob_link(berth_meta *m, const char *repo, const char *digest,
			 int64_t size, berth_error **err);

/* Size of a blob linked in repo; BERTH_ENOTFOUND when it is not. */
int berth_meta_blob_get(berth_meta *m, const char *repo, const char *digest,
			int64_t *size, berth_error **err);

/* Unlinks a blob from repo; BERTH_ENOTFOUND when it was not linked. */
int berth_meta_blob_unlink(berth_meta *m, const char *repo, const char *digest,
			   berth_error **err);

/*
 * Links into `repo` a blob that `from` links, in one transaction;
 * BERTH_ENOTFOUND when `from` does not link it.
 */
int berth_meta_blob_mount(berth_meta *m, const char *repo, const char *digest,
			  const char *from, int64_t *size, berth_error **err);

/*
 * Finds a repository linking `digest` for which can_read(repo, ud) is true;
 * *repo_out (caller frees) and *size. BERTH_ENOTFOUND when there is none.
 */
int berth_meta_blob_find(berth_meta *m, const char *digest,
			 bool (*can_read)(const char *repo, void *ud), void *ud,
			 char **repo_out, int64_t *size, berth_error **err);

/* ---- manifests and tags ---- */

typedef struct berth_meta_manifest {
	char *digest;
	char *media_type;
	int64_t size;
	char *artifact_type; /* or NULL */
	char *subject;	     /* digest of the subject, or NULL */
	char *annotations;   /* the annotations object as JSON, or NULL */
	int64_t pushed;	     /* seconds since the epoch */
} berth_meta_manifest;

void berth_meta_manifest_release(berth_meta_manifest *mf);

/* What a manifest PUT stores, in one transaction. */
typedef struct berth_meta_put {
	const berth_meta_manifest *manifest;
	const char *const *blobs; /* must be linked in the repository */
	size_t n_blobs;
	const char *const *children; /* manifests that must be in it */
	size_t n_children;
	const char *const *tags; /* tags to point at it */
	size_t n_tags;
} berth_meta_put;

/*
 * Stores a manifest's metadata (its bytes are in the blob store already)
 * and points the tags at it, after checking that every referenced blob and
 * child manifest is in the repository. On a missing reference returns
 * BERTH_ENOTFOUND and sets *missing (caller frees) to its digest; nothing
 * changes.
 */
int berth_meta_manifest_put(berth_meta *m, const char *repo,
			    const berth_meta_put *put, char **missing,
			    berth_error **err);

/*
 * Looks a manifest up by tag or by digest (`by_digest`).
 * BERTH_ENOTFOUND when the repository has no such manifest.
 */
int berth_meta_manifest_get(berth_meta *m, const char *repo, const char *ref,
			    bool by_digest, berth_meta_manifest *out,
			    berth_error **err);

/*
 * Deletes a manifest from repo with the tags pointing at it;
 * BERTH_ENOTFOUND when absent.
 */
int berth_meta_manifest_delete(berth_meta *m, const char *repo,
			       const char *digest, berth_error **err);

/* Deletes one tag (the manifest stays); BERTH_ENOTFOUND when absent. */
int berth_meta_tag_delete(berth_meta *m, const char *repo, const char *tag,
			  berth_error **err);

/*
 * Tags of repo in byte order, after `last` (or from the start when NULL),
 * at most n (n < 0: all). *more is true when further tags exist.
 * BERTH_ENOTFOUND when the repository is unknown.
 */
int berth_meta_tags(berth_meta *m, const char *repo, const char *last, long n,
		    char ***out, bool *more, berth_error **err);

/* Repositories in byte order; the same paging as berth_meta_tags. */
int berth_meta_catalog(berth_meta *m, const char *last, long n, char ***out,
		       bool *more, berth_error **err);

/* True when the repository exists (has ever had content). */
int berth_meta_repo_exists(berth_meta *m, const char *repo, bool *exists,
			   berth_error **err);

/*
 * Manifests of repo whose subject is `subject`, optionally only those of
 * `artifact_type` (NULL: all), oldest first. *out is an array of *n.
 */
int berth_meta_referrers(berth_meta *m, const char *repo, const char *subject,
			 const char *artifact_type, berth_meta_manifest **out,
			 size_t *n, berth_error **err);

/* ---- upload sessions ---- */

int berth_meta_upload_add(berth_meta *m, const char *id, const char *repo,
			  berth_error **err);

/* The session's repository (caller frees); BERTH_ENOTFOUND when unknown. */
int berth_meta_upload_get(berth_meta *m, const char *id, char **repo,
			  int64_t *started, berth_error **err);

/* Removes a session; BERTH_ENOTFOUND when unknown. */
int berth_meta_upload_remove(berth_meta *m, const char *id, berth_error **err);

/*
 * Closes a session: removes it and links its blob into its repository, in
 * one transaction.
 */
int berth_meta_upload_finish(berth_meta *m, const char *id, const char *repo,
			     const char *digest, int64_t size,
			     berth_error **err);

/* Ids of sessions started before `before` (seconds); NULL-terminated. */
int berth_meta_uploads_older(berth_meta *m, int64_t before, char ***ids,
			     berth_error **err);

/* ---- pull counters (serve/ratelimit.h) ---- */

typedef struct berth_meta_pull_row {
	const char *key;
	int64_t window_ms;
	int64_t last_slot;
	const char *counts; /* the slots, comma-separated; NULL: delete */
} berth_meta_pull_row;

/* Calls fn for every stored counter. */
int berth_meta_pulls_load(berth_meta *m,
			  void (*fn)(const berth_meta_pull_row *row, void *ud),
			  void *ud, berth_error **err);

/* Stores (or, counts NULL, deletes) counters, in one transaction. */
int berth_meta_pulls_save(berth_meta *m, const berth_meta_pull_row *rows,
			  size_t n, berth_error **err);

#endif
