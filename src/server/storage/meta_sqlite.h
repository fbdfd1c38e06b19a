/*
 * Internals shared by the SQLite metadata store's files: the connection
 * pool, the prepared statements and small helpers. Not an interface.
 */
#ifndef BERTH_SERVER_STORAGE_META_SQLITE_H
#define BERTH_SERVER_STORAGE_META_SQLITE_H

#include <pthread.h>
#include <sqlite3.h>

#include "server/storage/meta.h"

enum stmt_id {
	S_BEGIN,
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
	S_PULL_PUT,
	S_PULL_DEL,
	S_PULL_ALL,
	S_COUNT
};

#define MF_COLS                                                                \
	"digest, media_type, size, artifact_type, subject, annotations, "      \
	"pushed"

typedef struct meta_conn {
	sqlite3 *db;
	sqlite3_stmt *st[S_COUNT];
	struct meta_conn *next_free;
} meta_conn;

struct berth_meta {
	char *path;
	meta_conn *conns;
	int n_conns;
	meta_conn *free_list;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* Sets *err from the connection's last failure; returns BERTH_EIO/ECORRUPT. */
int meta_db_error(berth_error **err, sqlite3 *db, const char *what);

/* A connection of the pool, waiting for one when all are in use. */
meta_conn *meta_conn_get(berth_meta *m);
void meta_conn_put(berth_meta *m, meta_conn *c);

/* A statement of c, reset and with its bindings cleared. */
sqlite3_stmt *meta_stmt(meta_conn *c, enum stmt_id id);
void meta_bind_text(sqlite3_stmt *s, int i, const char *v);

/* Runs a statement that returns no rows. */
int meta_exec_done(meta_conn *c, sqlite3_stmt *s, berth_error **err);

/* BEGIN IMMEDIATE; COMMIT when r >= 0, else ROLLBACK (returning r). */
int meta_tx_begin(meta_conn *c, berth_error **err);
int meta_tx_end(meta_conn *c, int r, berth_error **err);

char *meta_col_strdup(sqlite3_stmt *s, int i);
int64_t meta_now_s(void);

/* Creates the repository row if missing. */
int meta_repo_add(meta_conn *c, const char *repo, berth_error **err);

/* A blob link: 1 found (size in *size), 0 not, <0 error. */
int meta_blob_lookup(meta_conn *c, const char *repo, const char *digest,
		     int64_t *size, berth_error **err);

/* Runs a DELETE: 1 when it removed a row, 0 when none, <0 on error. */
int meta_delete_one(meta_conn *c, sqlite3_stmt *s, berth_error **err);

/* Column 0 of every row into a NULL-terminated vector, at most n (n < 0:
 * all); *more when rows were left. */
int meta_collect(meta_conn *c, sqlite3_stmt *s, long n, char ***out, bool *more,
		 berth_error **err);

#endif
