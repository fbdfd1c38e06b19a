/*
 * The storage the request handlers see: a blob store (blobstore.h) and a
 * metadata store (meta.h) behind one thin set of calls phrased as what a
 * request does. Handlers never reach the backends' tables; a call that
 * needs both stores (committing an upload, putting a manifest, opening a
 * blob a repository links) pairs them here, once.
 *
 * The functions take the error last and set it only on failure, with the
 * codes of the stores below (BERTH_ENOTFOUND: not in this repository,
 * BERTH_EDIGEST: content and digest disagree, BERTH_EEXIST: an upload is
 * busy).
 */
#ifndef BERTH_SERVER_STORAGE_STORAGE_H
#define BERTH_SERVER_STORAGE_STORAGE_H

#include <stdint.h>

#include "berth/common.h"
#include "berth/digest.h"
#include "server/storage/blobstore.h"
#include "server/storage/meta.h"

typedef struct srv_pull_times srv_pull_times; /* pull_times.c */

typedef struct srv_storage {
	berth_blobstore *blobs;
	berth_meta *meta;
	/* Upload sessions idle (no request, no byte) this long are over
	 * (default a day), and the caps on open ones (default none): set
	 * with srv_storage_set_uploads, read atomically (a reload changes
	 * them while requests run). */
	long upload_ttl;
	berth_meta_upload_caps upload_caps;
	/* Garbage collection's grace period in seconds (atomic: reloaded);
	 * a blob HEAD keeps a link fresh for it (default an hour). */
	int64_t gc_grace;
	int64_t cap_purged;	    /* when a cap last made us purge (atomic) */
	srv_pull_times *pull_times; /* not yet written */
} srv_storage;

/*
 * The local pair under `dir`: blobs in the file system, metadata in
 * dir/metadata.db with up to `conns` connections. Frees with
 * srv_storage_close (NULL is a no-op).
 */
int srv_storage_open(srv_storage **out, const char *dir, int conns,
		     berth_error **err);
void srv_storage_close(srv_storage *st);

/*
 * The same with blobs in S3 when s3 is not NULL (dir still holds what is
 * local: a SQLite database, the event queues), and the metadata at `meta`:
 * a postgres:// URL, a SQLite file, or NULL for dir/metadata.db.
 */
int srv_storage_open_with(srv_storage **out, const char *dir,
			  const berth_s3_opts *s3, const char *meta, int conns,
			  berth_error **err);

/* ---- blobs ---- */

/* Size of d as repo sees it: a linked blob, or a manifest by digest. */
int srv_storage_blob_stat(srv_storage *st, const char *repo,
			  const berth_digest *d, int64_t *size,
			  berth_error **err);

/*
 * srv_storage_blob_stat for a HEAD, which tells a pusher that it need not
 * upload d: a link last seen more than a quarter of the grace period ago
 * is marked seen now, in a write transaction whose answer is final, so
 * garbage collection keeps it for at least three quarters of the grace
 * period after this answers (docs/server.md, "Garbage collection").
 */
int srv_storage_blob_head(srv_storage *st, const char *repo,
			  const berth_digest *d, int64_t *size,
			  berth_error **err);

/*
 * A reader over [off, off + len) of blob d (see blobstore.h), checked to
 * be `size` bytes long as the metadata says: a blob of another size is a
 * damaged store (BERTH_ECORRUPT, logged). Close it with
 * berth_bs_reader_close.
 */
int srv_storage_blob_open_range(srv_storage *st, berth_bs_reader **out,
				const berth_digest *d, int64_t size,
				int64_t off, int64_t len, berth_error **err);

/* Unlinks d from repo (the bytes stay: others may link them). */
int srv_storage_blob_unlink(srv_storage *st, const char *repo,
			    const berth_digest *d, berth_error **err);

/*
 * Links into repo a blob that `from` links; with from NULL, one that any
 * repository for which can_read(repo, ud) is true links. BERTH_ENOTFOUND
 * when there is none.
 */
int srv_storage_blob_mount(srv_storage *st, const char *repo,
			   const berth_digest *d, const char *from,
			   bool (*can_read)(const char *repo, void *ud),
			   void *ud, berth_error **err);

/* ---- uploads ---- */

/* Sets the idle time after which sessions are over, and the caps. */
void srv_storage_set_uploads(srv_storage *st, long ttl, long per_client,
			     long per_repo);

/*
 * Starts a session of repo for client (its address): a fresh id into
 * id[33]. BERTH_ETOOMANY when the repository or the client has as many
 * sessions open as upload_caps allow (expired ones are dropped first);
 * *retry_after is then the seconds until a place frees up if the open
 * sessions stay idle: when the first of the capped ones expires (at
 * least 1).
 */
int srv_storage_upload_start(srv_storage *st, char id[33], const char *repo,
			     const char *client, long *retry_after,
			     berth_error **err);

/*
 * The repository of session id (caller frees); BERTH_ENOTFOUND, also for
 * a session that has expired (which is dropped then).
 */
int srv_storage_upload_repo(srv_storage *st, char **repo, const char *id,
			    berth_error **err);

/* Bytes the session holds. */
int srv_storage_upload_size(srv_storage *st, const char *id, int64_t *size,
			    berth_error **err);

/* Opens the session for appending (exclusively: BERTH_EEXIST). */
int srv_storage_upload_open(srv_storage *st, berth_bs_writer **out,
			    const char *id, berth_error **err);

/* Appends to an open session; the session's size. */
int srv_storage_upload_append(berth_bs_writer *w, const void *p, size_t len,
			      berth_error **err);
int64_t srv_storage_upload_offset(berth_bs_writer *w);

/* Closes *w (set to NULL), dropping what it appended: a refused chunk. */
int srv_storage_upload_abort(berth_bs_writer **w, berth_error **err);
/* Makes what w appended part of the session before a request says it
 * was received (blobstore.h's writer_sync). */
int srv_storage_upload_sync(berth_bs_writer *w, berth_error **err);

/*
 * Verifies the session's bytes against `want`, stores them and links the
 * blob into repo; the session is over. On BERTH_EDIGEST the session is
 * dropped too (a failed upload is over, as the spec says).
 */
int srv_storage_upload_commit(srv_storage *st, const char *id, const char *repo,
			      const berth_digest *want, berth_error **err);

/* Cancels a session; BERTH_ENOTFOUND when unknown. */
int srv_storage_upload_cancel(srv_storage *st, const char *id,
			      berth_error **err);

/*
 * Drops the sessions expired at `now` (seconds; idle for upload_ttl),
 * session files no session records and temporary files a crash left.
 */
void srv_storage_purge(srv_storage *st, int64_t now);

/*
 * The same, telling fn each thing dropped: kind "upload" (name: the
 * session id) or "tmp" (a file name), with its size in bytes. With
 * dry_run nothing is dropped, only told.
 */
void srv_storage_purge_report(srv_storage *st, int64_t now, bool dry_run,
			      void (*fn)(const char *kind, const char *name,
					 int64_t size, void *ud),
			      void *ud);

/* Upload sessions recorded (expired ones too, until purged). */
int srv_storage_uploads_open(srv_storage *st, int64_t *n, berth_error **err);

/* ---- pull-through fetches (an upload session without a client) ---- */

/* A new session to write a fetched blob into (no metadata row: one left
 * by a crash is swept as an orphan). */
int srv_storage_fetch_begin(srv_storage *st, char id[33], berth_bs_writer **w,
			    berth_error **err);

/* A reader over [off, off + len) of the session's bytes (blobstore.h's
 * upload_read); close it with berth_bs_reader_close. */
int srv_storage_fetch_reader(srv_storage *st, berth_bs_reader **out,
			     const char *id, int64_t off, int64_t len,
			     berth_error **err);

/* Checks the session's bytes against d, storing nothing (blobstore.h's
 * upload_verify); BERTH_EDIGEST on a mismatch. */
int srv_storage_fetch_verify(srv_storage *st, const char *id,
			     const berth_digest *d, berth_error **err);

/*
 * Verifies the session's bytes against d, stores them and links the blob
 * into repo. BERTH_EDIGEST on a mismatch; on any failure the session is
 * dropped.
 */
int srv_storage_fetch_commit(srv_storage *st, const char *id, const char *repo,
			     const berth_digest *d, berth_error **err);

/* Drops the session (a failed fetch). */
void srv_storage_fetch_abort(srv_storage *st, const char *id);

/*
 * Links into repo blob d when the blob store holds it with `size` bytes
 * already (another repository's); BERTH_ENOTFOUND when it does not.
 */
int srv_storage_blob_adopt(srv_storage *st, const char *repo,
			   const berth_digest *d, int64_t size,
			   berth_error **err);

/* ---- manifests and tags ---- */

/* By tag or by digest; BERTH_ENOTFOUND. Release out. */
int srv_storage_manifest_get(srv_storage *st, berth_meta_manifest *out,
			     const char *repo, const char *ref, bool by_digest,
			     berth_error **err);

/*
 * Stores a manifest's bytes (verified against put->manifest->digest) and
 * its metadata (meta.h's berth_meta_manifest_put: BERTH_ENOTFOUND and
 * *missing for a missing reference).
 */
int srv_storage_manifest_put(srv_storage *st, char **missing, const char *repo,
			     const berth_meta_put *put, const void *body,
			     size_t len, berth_error **err);

/* Deletes a manifest and its tags; BERTH_ENOTFOUND. */
int srv_storage_manifest_delete(srv_storage *st, const char *repo,
				const berth_digest *d, berth_error **err);

/* Deletes one tag; BERTH_ENOTFOUND. */
int srv_storage_tag_delete(srv_storage *st, const char *repo, const char *tag,
			   berth_error **err);

/* berth_meta_tags, berth_meta_catalog, berth_meta_referrers. */
int srv_storage_tags(srv_storage *st, char ***out, bool *more, const char *repo,
		     const char *last, long n, berth_error **err);
int srv_storage_catalog(srv_storage *st, char ***out, bool *more,
			const char *last, long n, berth_error **err);
int srv_storage_referrers(srv_storage *st, berth_meta_manifest **out, size_t *n,
			  const char *repo, const char *subject,
			  const char *artifact_type, berth_error **err);

/*
 * Notes that a manifest GET answered tag (or NULL: asked by digest) with
 * digest at `when` (seconds), in memory: the GET stays a read.
 */
void srv_storage_note_pull(srv_storage *st, const char *repo, const char *tag,
			   const char *digest, int64_t when);

/* Writes the pull times noted so far, in one transaction (close does it
 * too). */
int srv_storage_flush_pulls(srv_storage *st, berth_error **err);

srv_pull_times *srv_pull_times_new(void);
void srv_pull_times_free(srv_pull_times *p);

/* False also when the lookup fails. */
bool srv_storage_repo_exists(srv_storage *st, const char *repo);

/* ---- faults ---- */

/* The storage is full (ENOSPC, EDQUOT): nothing more can be stored. */
bool srv_storage_full(const berth_error *e);

/* The storage cannot be written at all (EROFS, or opened read-only). */
bool srv_storage_read_only(const berth_error *e);

#endif
