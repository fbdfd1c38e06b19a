/*
 * Internals shared by the SQLite metadata store's files: the connection
 * pool, the prepared statements, small helpers and the interface's
 * functions each file contributes. Not an interface.
 */
#ifndef BERTH_SERVER_STORAGE_META_SQLITE_H
#define BERTH_SERVER_STORAGE_META_SQLITE_H

#include <pthread.h>
#include <sqlite3.h>

#include "server/storage/meta.h"

enum stmt_id {
	S_BEGIN,
	S_BEGIN_READ,
	S_COMMIT,
	S_ROLLBACK,
	S_REPO_ADD,
	S_REPO_EXISTS,
	S_BLOB_LINK,
	S_BLOB_GET,
	S_BLOB_UNLINK,
	S_BLOB_FIND,
	S_MF_HAS,
	S_MF_PUT,
	S_MF_REF,
	S_MF_BY_TAG,
	S_MF_BY_DIGEST,
	S_MF_DEL,
	S_MF_REFS_DEL,
	S_TAG_SET,
	S_TAG_DEL,
	S_TAGS_DEL_DIGEST,
	S_TAGS_LIST,
	S_CATALOG,
	S_REFERRERS,
	S_UP_ADD,
	S_UP_GET,
	S_UP_DEL,
	S_UP_OLDER,
	S_UP_OF,
	S_UP_COUNT,
	S_PULL_PUT,
	S_PULL_DEL,
	S_PULL_ALL,
	S_BLOB_TOUCH,
	S_GC_LINKS,
	S_GC_USERS,
	S_GC_USES,
	S_MF_ALL,
	S_TAGS_ALL,
	S_REFS_ALL,
	S_MF_PULLED,
	S_TAG_PULLED,
	S_TAG_DEL_IF,
	S_MF_IN_USE,
	S_COUNT
};

#define MF_COLS                                                                \
	"digest, media_type, size, artifact_type, subject, annotations, "      \
	"pushed"

typedef struct meta_db meta_db;

/* A connection; while lent out, tx is the transaction running on it. */
typedef struct meta_conn {
	berth_meta_tx tx;
	meta_db *m;
	sqlite3 *db;
	sqlite3_stmt *st[S_COUNT];
	struct meta_conn *next_free;
} meta_conn;

struct meta_db {
	berth_meta base;
	char *path;
	meta_conn *conns;
	int n_conns;
	meta_conn *free_list;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* Sets *err from the connection's last failure; returns BERTH_EIO/ECORRUPT. */
int meta_db_error(berth_error **err, sqlite3 *db, const char *what);

/* The connection a transaction runs on. */
static inline meta_conn *
meta_tx_conn(berth_meta_tx *tx)
{
	return (meta_conn *)tx;
}

/* A statement of c, reset and with its bindings cleared. */
sqlite3_stmt *meta_stmt(meta_conn *c, enum stmt_id id);
void meta_bind_text(sqlite3_stmt *s, int i, const char *v);

/* Runs a statement that returns no rows. */
int meta_exec_done(meta_conn *c, sqlite3_stmt *s, berth_error **err);

char *meta_col_strdup(sqlite3_stmt *s, int i);

/* A manifest from a row of MF_COLS (meta_sqlite_manifest.c). */
void meta_manifest_from_row(berth_meta_manifest *mf, sqlite3_stmt *s);

/* Runs a DELETE: 1 when it removed a row, 0 when none, <0 on error. */
int meta_delete_one(meta_conn *c, sqlite3_stmt *s, berth_error **err);

/* Column 0 of every row into a NULL-terminated vector, at most n (n < 0:
 * all); *more when rows were left. */
int meta_collect(meta_conn *c, sqlite3_stmt *s, long n, char ***out, bool *more,
		 berth_error **err);

/* The interface's functions (meta.h), by file. */

/* meta_sqlite_manifest.c */
int meta_sqlite_manifest_set(berth_meta_tx *tx, const char *repo,
			     const berth_meta_manifest *mf, berth_error **err);
int meta_sqlite_manifest_ref_add(berth_meta_tx *tx, const char *repo,
				 const char *digest, const char *child,
				 berth_error **err);
int meta_sqlite_manifest_get(berth_meta_tx *tx, const char *repo,
			     const char *ref, bool by_digest,
			     berth_meta_manifest *out, berth_error **err);
int meta_sqlite_manifest_remove(berth_meta_tx *tx, const char *repo,
				const char *digest, berth_error **err);
int meta_sqlite_referrers(berth_meta_tx *tx, const char *repo,
			  const char *subject, const char *artifact_type,
			  berth_meta_manifest **out, size_t *n,
			  berth_error **err);
int meta_sqlite_tag_set(berth_meta_tx *tx, const char *repo, const char *tag,
			const char *digest, int64_t updated, berth_error **err);
int meta_sqlite_tag_remove(berth_meta_tx *tx, const char *repo, const char *tag,
			   berth_error **err);
int meta_sqlite_tags_remove_digest(berth_meta_tx *tx, const char *repo,
				   const char *digest, berth_error **err);
int meta_sqlite_tags_list(berth_meta_tx *tx, const char *repo, const char *last,
			  long n, char ***out, bool *more, berth_error **err);

/* meta_sqlite_retention.c: what retention reads, deletes and records */
int meta_sqlite_manifests_each(berth_meta_tx *tx, const char *repo,
			       void (*fn)(const berth_meta_manifest *mf,
					  void *ud),
			       void *ud, berth_error **err);
int meta_sqlite_tags_each(berth_meta_tx *tx, const char *repo,
			  void (*fn)(const berth_meta_tag_row *t, void *ud),
			  void *ud, berth_error **err);
int meta_sqlite_refs_each(berth_meta_tx *tx, const char *repo,
			  void (*fn)(const char *digest, const char *child,
				     void *ud),
			  void *ud, berth_error **err);
int meta_sqlite_pulled_set(berth_meta_tx *tx, const berth_meta_pull_time *p,
			   berth_error **err);
int meta_sqlite_tag_remove_if(berth_meta_tx *tx, const char *repo,
			      const char *tag, const char *digest,
			      int64_t updated, berth_error **err);
int meta_sqlite_manifest_in_use(berth_meta_tx *tx, const char *repo,
				const char *digest, bool *used,
				berth_error **err);

/* meta_sqlite_rows.c: repositories, blob links, uploads, pull counters */
int meta_sqlite_repo_add(berth_meta_tx *tx, const char *repo,
			 berth_error **err);
int meta_sqlite_repo_exists(berth_meta_tx *tx, const char *repo, bool *exists,
			    berth_error **err);
int meta_sqlite_repos_list(berth_meta_tx *tx, const char *last, long n,
			   char ***out, bool *more, berth_error **err);
int meta_sqlite_blob_link(berth_meta_tx *tx, const char *repo,
			  const char *digest, int64_t size, int64_t pushed,
			  berth_error **err);
int meta_sqlite_blob_get(berth_meta_tx *tx, const char *repo,
			 const char *digest, int64_t *size, berth_error **err);
/* size and seen may be NULL */
int meta_sqlite_blob_info(berth_meta_tx *tx, const char *repo,
			  const char *digest, int64_t *size, int64_t *seen,
			  berth_error **err);
int meta_sqlite_blob_unlink(berth_meta_tx *tx, const char *repo,
			    const char *digest, berth_error **err);
int meta_sqlite_blob_repos(berth_meta_tx *tx, const char *digest,
			   bool (*fn)(const char *repo, int64_t size, void *ud),
			   void *ud, berth_error **err);
int meta_sqlite_upload_add(berth_meta_tx *tx, const char *id, const char *repo,
			   const char *client, int64_t started,
			   berth_error **err);
int meta_sqlite_uploads_count(berth_meta_tx *tx, const char *repo,
			      const char *client, int64_t *by_repo,
			      int64_t *by_client, berth_error **err);
int meta_sqlite_upload_get(berth_meta_tx *tx, const char *id, char **repo,
			   int64_t *started, berth_error **err);
int meta_sqlite_upload_remove(berth_meta_tx *tx, const char *id,
			      berth_error **err);
int meta_sqlite_uploads_older(berth_meta_tx *tx, int64_t before, char ***ids,
			      berth_error **err);
int meta_sqlite_uploads_of(berth_meta_tx *tx, const char *repo,
			   const char *client, char ***ids, berth_error **err);
int meta_sqlite_pulls_each(berth_meta_tx *tx,
			   void (*fn)(const berth_meta_pull_row *row, void *ud),
			   void *ud, berth_error **err);
int meta_sqlite_pull_set(berth_meta_tx *tx, const berth_meta_pull_row *row,
			 berth_error **err);

/* meta_sqlite_gc.c: what garbage collection reads, link freshness */
int meta_sqlite_blob_touch(berth_meta_tx *tx, const char *repo,
			   const char *digest, int64_t when, berth_error **err);
int meta_sqlite_links_each(berth_meta_tx *tx, const char *repo,
			   void (*fn)(const char *digest, int64_t size,
				      int64_t seen, void *ud),
			   void *ud, berth_error **err);
int meta_sqlite_digest_users(berth_meta_tx *tx, const char *digest,
			     bool (*fn)(char kind, const char *repo,
					const char *owner, void *ud),
			     void *ud, berth_error **err);

int meta_sqlite_uses_each(berth_meta_tx *tx,
			  void (*fn)(char kind, const char *repo,
				     const char *owner, const char *digest,
				     void *ud),
			  void *ud, berth_error **err);

#endif
