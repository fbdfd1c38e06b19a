/*
 * The SQLite metadata store, part four: what garbage collection reads
 * besides the rows of meta_sqlite_retention.c (a repository's blob
 * links; who uses a digest) and the freshness of blob links (the pool and
 * transactions are in meta_sqlite.c).
 */
#include "server/storage/meta_sqlite.h"

#include <stdlib.h>

#include "util/error.h"
#include "util/xalloc.h"

int
meta_sqlite_blob_touch(berth_meta_tx *tx, const char *repo, const char *digest,
		       int64_t when, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_BLOB_TOUCH);
	int r;

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, digest);
	sqlite3_bind_int64(s, 3, when);
	r = meta_delete_one(c, s, err); /* 1 when a row matched */
	if (r == 0)
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "blob '%s' is not in repository '%s'",
				       digest, repo);
	return r < 0 ? r : 0;
}

/* Steps s to its end; a failure is reported as `what`. */
static int
step_all(meta_conn *c, sqlite3_stmt *s, int rc, const char *what,
	 berth_error **err)
{
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return meta_db_error(err, c->db, what);
	return 0;
}

int
meta_sqlite_links_each(berth_meta_tx *tx, const char *repo,
		       void (*fn)(const char *digest, int64_t size,
				  int64_t seen, void *ud),
		       void *ud, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_GC_LINKS);
	int rc;

	meta_bind_text(s, 1, repo);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn((const char *)sqlite3_column_text(s, 0),
		   sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2), ud);
	return step_all(c, s, rc, "listing blob links", err);
}

int
meta_sqlite_digest_users(berth_meta_tx *tx, const char *digest,
			 bool (*fn)(char kind, const char *repo,
				    const char *owner, void *ud),
			 void *ud, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_GC_USERS);
	int rc;

	meta_bind_text(s, 1, digest);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(s, 0);

		if (fn(kind ? kind[0] : '?',
		       (const char *)sqlite3_column_text(s, 1),
		       (const char *)sqlite3_column_text(s, 2), ud)) {
			sqlite3_reset(s);
			return 0;
		}
	}
	return step_all(c, s, rc, "finding who uses a digest", err);
}

int
meta_sqlite_uses_each(berth_meta_tx *tx,
		      void (*fn)(char kind, const char *repo, const char *owner,
				 const char *digest, void *ud),
		      void *ud, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_GC_USES);
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(s, 0);

		fn(kind ? kind[0] : '?',
		   (const char *)sqlite3_column_text(s, 1),
		   (const char *)sqlite3_column_text(s, 2),
		   (const char *)sqlite3_column_text(s, 3), ud);
	}
	return step_all(c, s, rc, "listing what uses blobs", err);
}
