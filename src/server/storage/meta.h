/*
 * The registry's metadata store: which repository links which blob and
 * manifest, tags, upload sessions, push times and pull counters.
 *
 * Two layers. The interface (struct berth_meta_ops) is what a backend
 * implements: transactions, and inside one the reads and writes of single
 * rows of repositories, blob links, manifests, tags, uploads and pull
 * counters. SQLite is the first implementation (meta_sqlite*.c); a
 * PostgreSQL one implements the same table over libpq (docs/server.md).
 * The operations below it (berth_meta_manifest_put, ..._upload_finish, ...)
 * are what a request does, each one transaction, written once over the
 * interface (meta.c), so the rules they check hold for every backend.
 *
 * A crash at any point leaves the old state or the new one, never a mix.
 * Safe to call from many threads at once; a transaction belongs to the
 * thread that began it.
 *
 * Digests are canonical strings ("sha256:<hex>"); repository names and tags
 * are validated by the caller. Lookups that find nothing return
 * BERTH_ENOTFOUND with a message naming what is missing.
 */
#ifndef BERTH_SERVER_STORAGE_META_H
#define BERTH_SERVER_STORAGE_META_H

#include <stdint.h>

#include "berth/common.h"

typedef struct berth_meta berth_meta;
typedef struct berth_meta_tx berth_meta_tx;

typedef struct berth_meta_manifest {
	char *digest;
	char *media_type;
	int64_t size;
	char *artifact_type; /* or NULL */
	char *subject;	     /* digest of the subject, or NULL */
	char *annotations;   /* the annotations object as JSON, or NULL */
	int64_t pushed;	     /* seconds since the epoch */
	int64_t pulled;	     /* last GET, 0: never (manifests_each only) */
} berth_meta_manifest;

void berth_meta_manifest_release(berth_meta_manifest *mf);

/* For _cleanup_(). */
static inline void
berth_meta_manifest_releasep(berth_meta_manifest *mf)
{
	berth_meta_manifest_release(mf);
}

typedef struct berth_meta_pull_row {
	const char *key;
	int64_t window_ms;
	int64_t last_slot;
	const char *counts; /* the slots, comma-separated; NULL: delete */
} berth_meta_pull_row;

/* A tag as retention sees it: where it points, when it was pushed
 * (pointed there) and last pulled by name (0: never). */
typedef struct berth_meta_tag_row {
	const char *tag;
	const char *digest;
	int64_t updated;
	int64_t pulled;
} berth_meta_tag_row;

/* A pull to record: of a manifest by digest, or of a tag (tag not NULL,
 * digest NULL). */
typedef struct berth_meta_pull_time {
	const char *repo;
	const char *tag;
	const char *digest;
	int64_t when;
} berth_meta_pull_time;

typedef enum berth_meta_mode {
	BERTH_META_READ,  /* a consistent snapshot; no writes */
	BERTH_META_WRITE, /* serialised with every other writer */
} berth_meta_mode;

/* ---- the interface a backend implements ---- */

struct berth_meta_ops {
	/*
	 * Starts a transaction (waiting for a connection when all are
	 * busy). Every *out ends in exactly one tx_commit or tx_rollback,
	 * which release it.
	 */
	int (*tx_begin)(berth_meta *m, berth_meta_tx **out,
			berth_meta_mode mode, berth_error **err);
	/* Commits; on failure nothing of the transaction stays. */
	int (*tx_commit)(berth_meta_tx *tx, berth_error **err);
	void (*tx_rollback)(berth_meta_tx *tx);

	/* Repositories: created (idempotent) by whatever first stores one. */
	int (*repo_add)(berth_meta_tx *tx, const char *repo, berth_error **err);
	int (*repo_exists)(berth_meta_tx *tx, const char *repo, bool *exists,
			   berth_error **err);
	/* Names in byte order after `last` ("" from the start), at most n
	 * (n < 0: all), NULL-terminated; *more when names were left. */
	int (*repos_list)(berth_meta_tx *tx, const char *last, long n,
			  char ***out, bool *more, berth_error **err);

	/* Blob links of a repository (the repository must exist). */
	int (*blob_link)(berth_meta_tx *tx, const char *repo,
			 const char *digest, int64_t size, int64_t pushed,
			 berth_error **err);
	/* size may be NULL. */
	int (*blob_get)(berth_meta_tx *tx, const char *repo, const char *digest,
			int64_t *size, berth_error **err);
	int (*blob_unlink)(berth_meta_tx *tx, const char *repo,
			   const char *digest, berth_error **err);
	/* Calls fn for each repository linking digest, in byte order, until
	 * it returns true. */
	int (*blob_repos)(berth_meta_tx *tx, const char *digest,
			  bool (*fn)(const char *repo, int64_t size, void *ud),
			  void *ud, berth_error **err);

	/* A manifest row, inserted or replaced (its bytes are blobs). */
	int (*manifest_set)(berth_meta_tx *tx, const char *repo,
			    const berth_meta_manifest *mf, berth_error **err);
	/* Records that manifest `digest` references `child` (idempotent). */
	int (*manifest_ref_add)(berth_meta_tx *tx, const char *repo,
				const char *digest, const char *child,
				berth_error **err);
	/* By digest, or by tag when !by_digest; out may be NULL. */
	int (*manifest_get)(berth_meta_tx *tx, const char *repo,
			    const char *ref, bool by_digest,
			    berth_meta_manifest *out, berth_error **err);
	/* Removes a manifest row and its references (not its tags). */
	int (*manifest_remove)(berth_meta_tx *tx, const char *repo,
			       const char *digest, berth_error **err);
	/* Manifests whose subject is `subject` (and of artifact_type, when
	 * not NULL), oldest first; *out is an array of *n. */
	int (*referrers)(berth_meta_tx *tx, const char *repo,
			 const char *subject, const char *artifact_type,
			 berth_meta_manifest **out, size_t *n,
			 berth_error **err);

	/* Points a tag at a manifest, moving it if it pointed elsewhere. */
	int (*tag_set)(berth_meta_tx *tx, const char *repo, const char *tag,
		       const char *digest, int64_t updated, berth_error **err);
	int (*tag_remove)(berth_meta_tx *tx, const char *repo, const char *tag,
			  berth_error **err);
	/* Removes every tag of repo pointing at digest (none is fine). */
	int (*tags_remove_digest)(berth_meta_tx *tx, const char *repo,
				  const char *digest, berth_error **err);
	/* Tags of repo; the paging of repos_list. */
	int (*tags_list)(berth_meta_tx *tx, const char *repo, const char *last,
			 long n, char ***out, bool *more, berth_error **err);

	/* Every manifest (with its pull time), tag and manifest reference
	 * (parent -> child) of repo, to fn. */
	int (*manifests_each)(berth_meta_tx *tx, const char *repo,
			      void (*fn)(const berth_meta_manifest *mf,
					 void *ud),
			      void *ud, berth_error **err);
	int (*tags_each)(berth_meta_tx *tx, const char *repo,
			 void (*fn)(const berth_meta_tag_row *t, void *ud),
			 void *ud, berth_error **err);
	int (*refs_each)(berth_meta_tx *tx, const char *repo,
			 void (*fn)(const char *digest, const char *child,
				    void *ud),
			 void *ud, berth_error **err);
	/* Raises the last-pull time of a tag or manifest to p->when (a
	 * row deleted meanwhile is fine). */
	int (*pulled_set)(berth_meta_tx *tx, const berth_meta_pull_time *p,
			  berth_error **err);
	/* Removes a tag only if it still points at digest since `updated`:
	 * 1 removed, 0 not (changed or gone). */
	int (*tag_remove_if)(berth_meta_tx *tx, const char *repo,
			     const char *tag, const char *digest,
			     int64_t updated, berth_error **err);
	/* True when a tag, a parent manifest or a referrer names digest. */
	int (*manifest_in_use)(berth_meta_tx *tx, const char *repo,
			       const char *digest, bool *used,
			       berth_error **err);

	/* Upload sessions. */
	int (*upload_add)(berth_meta_tx *tx, const char *id, const char *repo,
			  const char *client, int64_t started,
			  berth_error **err);
	/* Open sessions of repo, and of client (any repository). */
	int (*uploads_count)(berth_meta_tx *tx, const char *repo,
			     const char *client, int64_t *by_repo,
			     int64_t *by_client, berth_error **err);
	/* repo (caller frees) and started may be NULL. */
	int (*upload_get)(berth_meta_tx *tx, const char *id, char **repo,
			  int64_t *started, berth_error **err);
	int (*upload_remove)(berth_meta_tx *tx, const char *id,
			     berth_error **err);
	/* Ids of sessions started before `before`, NULL-terminated. */
	int (*uploads_older)(berth_meta_tx *tx, int64_t before, char ***ids,
			     berth_error **err);
	/* Ids of the sessions of repo or of client, NULL-terminated. */
	int (*uploads_of)(berth_meta_tx *tx, const char *repo,
			  const char *client, char ***ids, berth_error **err);

	/* Pull counters (access/ratelimit.h): every row to fn; one row
	 * stored (counts NULL: deleted). */
	int (*pulls_each)(berth_meta_tx *tx,
			  void (*fn)(const berth_meta_pull_row *row, void *ud),
			  void *ud, berth_error **err);
	int (*pull_set)(berth_meta_tx *tx, const berth_meta_pull_row *row,
			berth_error **err);
	/* The row of key to fn, if there is one (shared stores only). */
	int (*pull_get)(berth_meta_tx *tx, const char *key,
			void (*fn)(const berth_meta_pull_row *row, void *ud),
			void *ud, berth_error **err);

	/* A blob link's size and when it was last seen: linked (pushed,
	 * mounted) or touched; BERTH_ENOTFOUND. */
	int (*blob_info)(berth_meta_tx *tx, const char *repo,
			 const char *digest, int64_t *size, int64_t *seen,
			 berth_error **err);
	/* Moves a link's last seen up to `when`; BERTH_ENOTFOUND. */
	int (*blob_touch)(berth_meta_tx *tx, const char *repo,
			  const char *digest, int64_t when, berth_error **err);

	/* What garbage collection reads besides (ops/gc.c): every blob
	 * link of repo to fn; the strings are fn's for the call only. */
	int (*links_each)(berth_meta_tx *tx, const char *repo,
			  void (*fn)(const char *digest, int64_t size,
				     int64_t seen, void *ud),
			  void *ud, berth_error **err);
	/*
	 * Every row, in any repository, that needs the bytes of digest, to
	 * fn until it returns true: kind 'l' a blob link of repo (owner
	 * NULL), 'm' the manifest itself (owner: digest), 'r' a reference
	 * from manifest owner of repo.
	 */
	int (*digest_users)(berth_meta_tx *tx, const char *digest,
			    bool (*fn)(char kind, const char *repo,
				       const char *owner, void *ud),
			    void *ud, berth_error **err);
	/* Every such row of every digest, in one pass, to fn. */
	int (*uses_each)(berth_meta_tx *tx,
			 void (*fn)(char kind, const char *repo,
				    const char *owner, const char *digest,
				    void *ud),
			 void *ud, berth_error **err);

	/*
	 * Takes (try, never waits) the lock of a job that one instance of
	 * those sharing the store runs at a time; held while this process
	 * lives, and released by its death. NULL: the store is this
	 * process's alone, and every lock is held.
	 */
	int (*job_lock)(berth_meta *m, const char *job, bool *held,
			berth_error **err);

	void (*free)(berth_meta *m);
};

struct berth_meta {
	const struct berth_meta_ops *ops;
	/* Other processes (instances) use the store at the same time:
	 * state kept in memory elsewhere is not the whole truth. */
	bool shared;
};

/* Every implementation's transaction starts with this. */
struct berth_meta_tx {
	const struct berth_meta_ops *ops;
};

/*
 * Opens (creating if needed) the SQLite database at `path`, with up to
 * `conns` connections shared by the calling threads.
 */
int berth_meta_sqlite_open(berth_meta **out, const char *path, int conns,
			   berth_error **err);

/*
 * Connects to the PostgreSQL database of `url` ("postgres://..." or
 * "postgresql://..."), with a pool of `conns` sessions, and brings its
 * schema to this berth's version (refusing a newer one). Shared by every
 * instance that opens the same database.
 */
int berth_meta_pg_open(berth_meta **out, const char *url, int conns,
		       berth_error **err);

/* True when `location` names a PostgreSQL database rather than a file. */
bool berth_meta_is_pg(const char *location);

/* True when e says the metadata database cannot be reached (a request
 * may succeed later: the store reconnects by itself). */
bool berth_meta_unreachable(const berth_error *e);

/* m->ops->job_lock, or true for a store of one process. */
int berth_meta_job_lock(berth_meta *m, const char *job, bool *held,
			berth_error **err);

/* berth_meta_job_lock for a scheduled run: true when this instance is
 * the one to run job now (a failure is logged, and false). */
bool berth_meta_job_mine(berth_meta *m, const char *job);

/*
 * Reads the pull counter row of key (counts NULL when there is none),
 * lets fn change it (counts NULL: delete), and stores it, in one write
 * transaction: a shared store's counters are exact across instances.
 */
int berth_meta_pull_update(berth_meta *m, const char *key,
			   void (*fn)(berth_meta_pull_row *row, void *ud),
			   void *ud, berth_error **err);

/* Frees a store of any implementation; NULL is a no-op. */
void berth_meta_free(berth_meta *m);

/* ---- what requests do, one transaction each (meta.c) ---- */

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

/* What a manifest PUT stores, in one transaction. */
typedef struct berth_meta_put {
	const berth_meta_manifest *manifest;
	const char *const *blobs;  /* must be linked in the repository */
	const int64_t *blob_sizes; /* ...with these sizes (NULL: any) */
	size_t n_blobs;
	const char *const *children; /* manifests that must be in it */
	const int64_t *child_sizes;  /* ...with these sizes (NULL: any) */
	size_t n_children;
	const char *const *tags; /* tags to point at it */
	size_t n_tags;
	/* A pull-through cache stores a manifest before its blobs: the
	 * references are recorded, not checked. */
	bool unchecked;
} berth_meta_put;

/*
 * Stores a manifest's metadata (its bytes are in the blob store already)
 * and points the tags at it, after checking that every referenced blob and
 * child manifest is in the repository (unless put->unchecked). On a missing
 * reference returns BERTH_ENOTFOUND and sets *missing (caller frees) to its
 * digest; on a reference of another size than its descriptor says, BERTH_EPROTO
 * naming it. Nothing changes on failure.
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

/* The most sessions a repository and a client may have open (0: any). */
typedef struct berth_meta_upload_caps {
	long per_repo;
	long per_client;
} berth_meta_upload_caps;

/*
 * Records a new upload session of repo, started by client (its address),
 * unless that would open more sessions than caps allow: BERTH_ETOOMANY,
 * nothing recorded (counting and recording are one transaction).
 */
int berth_meta_upload_add(berth_meta *m, const char *id, const char *repo,
			  const char *client,
			  const berth_meta_upload_caps *caps,
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
/* Ids of the open sessions of repo or of client, NULL-terminated. */
int berth_meta_uploads_of(berth_meta *m, const char *repo, const char *client,
			  char ***ids, berth_error **err);

int berth_meta_uploads_older(berth_meta *m, int64_t before, char ***ids,
			     berth_error **err);

/*
 * A blob link's size and when it was last seen (pushed, mounted or
 * touched); BERTH_ENOTFOUND when repo does not link it.
 */
int berth_meta_blob_info(berth_meta *m, const char *repo, const char *digest,
			 int64_t *size, int64_t *seen, berth_error **err);

/*
 * Marks a link seen at `when` (a write transaction: the answer is the
 * writers' truth, not a snapshot's); BERTH_ENOTFOUND when it is gone.
 */
int berth_meta_blob_touch(berth_meta *m, const char *repo, const char *digest,
			  int64_t when, berth_error **err);

/*
 * Runs fn inside one write transaction, committed when fn returns >= 0:
 * for callers that pair a metadata change with a look at the blob store
 * while no other writer can run (storage.c, ops/gc.c).
 */
int berth_meta_write(berth_meta *m,
		     int (*fn)(berth_meta_tx *tx, void *ud, berth_error **err),
		     void *ud, berth_error **err);

/* berth_meta_upload_finish and berth_meta_manifest_put inside tx. */
int berth_meta_tx_upload_finish(berth_meta_tx *tx, const char *id,
				const char *repo, const char *digest,
				int64_t size, berth_error **err);
int berth_meta_tx_manifest_put(berth_meta_tx *tx, const char *repo,
			       const berth_meta_put *put, char **missing,
			       berth_error **err);

/* Calls fn for every stored pull counter. */
int berth_meta_pulls_load(berth_meta *m,
			  void (*fn)(const berth_meta_pull_row *row, void *ud),
			  void *ud, berth_error **err);

/* Stores (or, counts NULL, deletes) counters, in one transaction. */
int berth_meta_pulls_save(berth_meta *m, const berth_meta_pull_row *rows,
			  size_t n, berth_error **err);

/* Records pull times (the latest wins), in one transaction. */
int berth_meta_pulls_record(berth_meta *m, const berth_meta_pull_time *p,
			    size_t n, berth_error **err);

/* What retention decides on: one repository, read in one snapshot. */
typedef struct berth_meta_repo_view {
	berth_meta_manifest *manifests;
	size_t n_manifests;
	berth_meta_tag_row *tags; /* strings owned by the view */
	size_t n_tags;
	char **ref_parent, **ref_child; /* manifest references */
	size_t n_refs;
} berth_meta_repo_view;

int berth_meta_repo_view_read(berth_meta *m, const char *repo,
			      berth_meta_repo_view *out, berth_error **err);
void berth_meta_repo_view_release(berth_meta_repo_view *v);

/*
 * Retention's deletes, each one transaction that checks the plan still
 * holds: a tag goes only if it still points at digest since `updated`; a
 * manifest only if it was pushed at `pushed` and no tag, parent manifest
 * or referrer names it now. 1 when deleted, 0 when it changed meanwhile
 * (nothing done).
 */
int berth_meta_tag_delete_if(berth_meta *m, const char *repo, const char *tag,
			     const char *digest, int64_t updated,
			     berth_error **err);
int berth_meta_manifest_delete_if(berth_meta *m, const char *repo,
				  const char *digest, int64_t pushed,
				  berth_error **err);

#endif
