/*
 * Internals shared by the PostgreSQL metadata store's files: the connection
 * pool, the prepared statements, small helpers and the interface's
 * functions each file contributes. Not an interface.
 */
#ifndef BERTH_SERVER_STORAGE_META_PG_H
#define BERTH_SERVER_STORAGE_META_PG_H

#include <libpq-fe.h>
#include <pthread.h>

#include "server/storage/meta.h"

/* The prepared statements, named "b<id>" on every connection. */
enum pg_stmt_id {
	P_REPO_ADD,
	P_REPO_EXISTS,
	P_BLOB_LINK,
	P_BLOB_GET,
	P_BLOB_UNLINK,
	P_BLOB_FIND,
	P_MF_HAS,
	P_MF_PUT,
	P_MF_REF,
	P_MF_BY_TAG,
	P_MF_BY_DIGEST,
	P_MF_DEL,
	P_MF_REFS_DEL,
	P_TAG_SET,
	P_TAG_DEL,
	P_TAGS_DEL_DIGEST,
	P_TAGS_LIST,
	P_CATALOG,
	P_REFERRERS,
	P_UP_ADD,
	P_UP_GET,
	P_UP_DEL,
	P_UP_OLDER,
	P_UP_COUNT,
	P_PULL_PUT,
	P_PULL_DEL,
	P_PULL_ALL,
	P_PULL_GET,
	P_BLOB_TOUCH,
	P_GC_LINKS,
	P_GC_USERS,
	P_GC_USES,
	P_MF_ALL,
	P_TAGS_ALL,
	P_REFS_ALL,
	P_MF_PULLED,
	P_TAG_PULLED,
	P_TAG_DEL_IF,
	P_MF_IN_USE,
	P_COUNT
};

extern const char *const pg_stmt_sql[P_COUNT];

typedef struct pg_db pg_db;

/* A connection of the pool; while lent out, tx is the transaction on it. */
typedef struct pg_conn {
	berth_meta_tx tx;
	pg_db *m;
	PGconn *pc; /* NULL until first used, or after it broke */
	struct pg_conn *next_free;
} pg_conn;

/* The session that holds the job locks (meta_pg_jobs.c). */
typedef struct pg_jobs pg_jobs;

struct pg_db {
	berth_meta base;
	char *url;
	char *shown; /* the URL without its password, for messages */
	pg_conn *conns;
	int n_conns;
	pg_conn *free_list;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pg_jobs *jobs;
};

static inline pg_conn *
pg_tx_conn(berth_meta_tx *tx)
{
	return (pg_conn *)tx;
}

/* meta_pg_conn.c: connecting, errors, running statements */

/* A new session to m's database with berth's timeouts, its statements
 * prepared (when `prepare`), or NULL with *err. */
PGconn *pg_connect(pg_db *m, bool prepare, berth_error **err);
int pg_prepare_all(PGconn *pc, const char *shown, berth_error **err);

/*
 * Sets *err from a failed result (res may be NULL) of c's connection:
 * BERTH_ENET (berth_meta_unreachable) when the database cannot be reached,
 * BERTH_EIO otherwise. Returns the code.
 */
int pg_fail(PGconn *pc, const char *shown, PGresult *res, const char *what,
	    berth_error **err);

/* Runs prepared statement id with text parameters (NULL: SQL NULL); the
 * result on success (PQclear it), NULL with *err. */
PGresult *pg_run(pg_conn *c, enum pg_stmt_id id, int n,
		 const char *const *params, berth_error **err);

/* pg_run for a statement whose rows are not wanted; the number of rows it
 * changed, or < 0. */
int pg_run_done(pg_conn *c, enum pg_stmt_id id, int n,
		const char *const *params, berth_error **err);

/* Column i of row r: text (NULL for SQL NULL), integer, copied text. */
const char *pg_text(PGresult *res, int r, int i);
int64_t pg_int(PGresult *res, int r, int i);
char *pg_strdup(PGresult *res, int r, int i);

/* Column 0 of the rows into a NULL-terminated vector, at most n (n < 0:
 * all); *more when rows were left. Clears res. */
void pg_collect(PGresult *res, long n, char ***out, bool *more);

/* An integer as a parameter. */
typedef struct pg_num {
	char s[24];
} pg_num;
const char *pg_num_of(pg_num *b, int64_t v);

/* meta_pg_schema.c: brings the schema to this berth's version, under an
 * advisory lock so that instances starting together migrate once. */
int pg_schema_migrate(PGconn *pc, const char *shown, berth_error **err);

/* meta_pg_jobs.c */
int pg_job_lock(berth_meta *m, const char *job, bool *held, berth_error **err);
void pg_jobs_free(pg_jobs *j);

/* The interface's functions (meta.h), by file. */

/* meta_pg_manifest.c */
int meta_pg_manifest_set(berth_meta_tx *tx, const char *repo,
			 const berth_meta_manifest *mf, berth_error **err);
int meta_pg_manifest_ref_add(berth_meta_tx *tx, const char *repo,
			     const char *digest, const char *child,
			     berth_error **err);
int meta_pg_manifest_get(berth_meta_tx *tx, const char *repo, const char *ref,
			 bool by_digest, berth_meta_manifest *out,
			 berth_error **err);
int meta_pg_manifest_remove(berth_meta_tx *tx, const char *repo,
			    const char *digest, berth_error **err);
int meta_pg_referrers(berth_meta_tx *tx, const char *repo, const char *subject,
		      const char *artifact_type, berth_meta_manifest **out,
		      size_t *n, berth_error **err);
int meta_pg_tag_set(berth_meta_tx *tx, const char *repo, const char *tag,
		    const char *digest, int64_t updated, berth_error **err);
int meta_pg_tag_remove(berth_meta_tx *tx, const char *repo, const char *tag,
		       berth_error **err);
int meta_pg_tags_remove_digest(berth_meta_tx *tx, const char *repo,
			       const char *digest, berth_error **err);
int meta_pg_tags_list(berth_meta_tx *tx, const char *repo, const char *last,
		      long n, char ***out, bool *more, berth_error **err);

/* meta_pg_rows.c: repositories, blob links, uploads, pull counters */
int meta_pg_repo_add(berth_meta_tx *tx, const char *repo, berth_error **err);
int meta_pg_repo_exists(berth_meta_tx *tx, const char *repo, bool *exists,
			berth_error **err);
int meta_pg_repos_list(berth_meta_tx *tx, const char *last, long n, char ***out,
		       bool *more, berth_error **err);
int meta_pg_blob_link(berth_meta_tx *tx, const char *repo, const char *digest,
		      int64_t size, int64_t pushed, berth_error **err);
int meta_pg_blob_get(berth_meta_tx *tx, const char *repo, const char *digest,
		     int64_t *size, berth_error **err);
int meta_pg_blob_info(berth_meta_tx *tx, const char *repo, const char *digest,
		      int64_t *size, int64_t *seen, berth_error **err);
int meta_pg_blob_unlink(berth_meta_tx *tx, const char *repo, const char *digest,
			berth_error **err);
int meta_pg_blob_repos(berth_meta_tx *tx, const char *digest,
		       bool (*fn)(const char *repo, int64_t size, void *ud),
		       void *ud, berth_error **err);
int meta_pg_upload_add(berth_meta_tx *tx, const char *id, const char *repo,
		       const char *client, int64_t started, berth_error **err);
int meta_pg_uploads_count(berth_meta_tx *tx, const char *repo,
			  const char *client, int64_t *by_repo,
			  int64_t *by_client, berth_error **err);
int meta_pg_upload_get(berth_meta_tx *tx, const char *id, char **repo,
		       int64_t *started, berth_error **err);
int meta_pg_upload_remove(berth_meta_tx *tx, const char *id, berth_error **err);
int meta_pg_uploads_older(berth_meta_tx *tx, int64_t before, char ***ids,
			  berth_error **err);
int meta_pg_pulls_each(berth_meta_tx *tx,
		       void (*fn)(const berth_meta_pull_row *row, void *ud),
		       void *ud, berth_error **err);
int meta_pg_pull_set(berth_meta_tx *tx, const berth_meta_pull_row *row,
		     berth_error **err);
int meta_pg_pull_get(berth_meta_tx *tx, const char *key,
		     void (*fn)(const berth_meta_pull_row *row, void *ud),
		     void *ud, berth_error **err);

/* meta_pg_gc.c: what garbage collection and retention read and change */
int meta_pg_blob_touch(berth_meta_tx *tx, const char *repo, const char *digest,
		       int64_t when, berth_error **err);
int meta_pg_links_each(berth_meta_tx *tx, const char *repo,
		       void (*fn)(const char *digest, int64_t size,
				  int64_t seen, void *ud),
		       void *ud, berth_error **err);
int meta_pg_digest_users(berth_meta_tx *tx, const char *digest,
			 bool (*fn)(char kind, const char *repo,
				    const char *owner, void *ud),
			 void *ud, berth_error **err);
int meta_pg_uses_each(berth_meta_tx *tx,
		      void (*fn)(char kind, const char *repo, const char *owner,
				 const char *digest, void *ud),
		      void *ud, berth_error **err);
int meta_pg_manifests_each(berth_meta_tx *tx, const char *repo,
			   void (*fn)(const berth_meta_manifest *mf, void *ud),
			   void *ud, berth_error **err);
int meta_pg_tags_each(berth_meta_tx *tx, const char *repo,
		      void (*fn)(const berth_meta_tag_row *t, void *ud),
		      void *ud, berth_error **err);
int meta_pg_refs_each(berth_meta_tx *tx, const char *repo,
		      void (*fn)(const char *digest, const char *child,
				 void *ud),
		      void *ud, berth_error **err);
int meta_pg_pulled_set(berth_meta_tx *tx, const berth_meta_pull_time *p,
		       berth_error **err);
int meta_pg_tag_remove_if(berth_meta_tx *tx, const char *repo, const char *tag,
			  const char *digest, int64_t updated,
			  berth_error **err);
int meta_pg_manifest_in_use(berth_meta_tx *tx, const char *repo,
			    const char *digest, bool *used, berth_error **err);

#endif
