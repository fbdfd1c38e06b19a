/*
 * The SQLite metadata store, part two: repositories, blob links, upload
 * sessions and pull counters (the pool and transactions are in
 * meta_sqlite.c, manifests and tags in meta_sqlite_manifest.c).
 */
#include "server/storage/meta_sqlite.h"

#include <stdlib.h>
#include <time.h>

#include "util/error.h"
#include "util/xalloc.h"

int
meta_sqlite_repo_add(berth_meta_tx *tx, const char *repo, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_REPO_ADD);

	meta_bind_text(s, 1, repo);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL));
	return meta_exec_done(c, s, err);
}

int
meta_sqlite_repo_exists(berth_meta_tx *tx, const char *repo, bool *exists,
			berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_REPO_EXISTS);
	int rc, r = 0;

	meta_bind_text(s, 1, repo);
	rc = sqlite3_step(s);
	*exists = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = meta_db_error(err, c->db, "looking up a repository");
	sqlite3_reset(s);
	return r;
}

int
meta_sqlite_repos_list(berth_meta_tx *tx, const char *last, long n, char ***out,
		       bool *more, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_CATALOG);

	meta_bind_text(s, 1, last);
	/* One more than asked, to know whether there are more. */
	sqlite3_bind_int64(s, 2, n < 0 ? -1 : (sqlite3_int64)n + 1);
	return meta_collect(c, s, n, out, more, err);
}

int
meta_sqlite_blob_link(berth_meta_tx *tx, const char *repo, const char *digest,
		      int64_t size, int64_t pushed, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_BLOB_LINK);

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, digest);
	sqlite3_bind_int64(s, 3, size);
	sqlite3_bind_int64(s, 4, pushed);
	return meta_exec_done(c, s, err);
}

int
meta_sqlite_blob_info(berth_meta_tx *tx, const char *repo, const char *digest,
		      int64_t *size, int64_t *seen, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_BLOB_GET);
	int rc;

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, digest);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (size)
			*size = sqlite3_column_int64(s, 0);
		if (seen)
			*seen = sqlite3_column_int64(s, 1);
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return meta_db_error(err, c->db, "looking up a blob");
	return berth_error_set(err, BERTH_ENOTFOUND, 0,
			       "blob '%s' is not in repository '%s'", digest,
			       repo);
}

int
meta_sqlite_blob_get(berth_meta_tx *tx, const char *repo, const char *digest,
		     int64_t *size, berth_error **err)
{
	return meta_sqlite_blob_info(tx, repo, digest, size, NULL, err);
}

int
meta_sqlite_blob_unlink(berth_meta_tx *tx, const char *repo, const char *digest,
			berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_BLOB_UNLINK);
	int r;

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, digest);
	r = meta_delete_one(c, s, err);
	if (r == 0)
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "blob '%s' is not in repository '%s'",
				       digest, repo);
	return r < 0 ? r : 0;
}

int
meta_sqlite_blob_repos(berth_meta_tx *tx, const char *digest,
		       bool (*fn)(const char *repo, int64_t size, void *ud),
		       void *ud, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_BLOB_FIND);
	int rc, r = 0;

	meta_bind_text(s, 1, digest);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *repo = (const char *)sqlite3_column_text(s, 0);

		if (fn(repo, sqlite3_column_int64(s, 1), ud))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = meta_db_error(err, c->db, "finding a blob");
	sqlite3_reset(s);
	return r;
}

int
meta_sqlite_upload_add(berth_meta_tx *tx, const char *id, const char *repo,
		       const char *client, int64_t started, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_UP_ADD);

	meta_bind_text(s, 1, id);
	meta_bind_text(s, 2, repo);
	sqlite3_bind_int64(s, 3, started);
	meta_bind_text(s, 4, client);
	return meta_exec_done(c, s, err);
}

int
meta_sqlite_uploads_count(berth_meta_tx *tx, const char *repo,
			  const char *client, int64_t *by_repo,
			  int64_t *by_client, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_UP_COUNT);
	int rc, r = 0;

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, client);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*by_repo = sqlite3_column_int64(s, 0);
		*by_client = sqlite3_column_int64(s, 1);
	} else {
		r = meta_db_error(err, c->db, "counting upload sessions");
	}
	sqlite3_reset(s);
	return r;
}

int
meta_sqlite_upload_get(berth_meta_tx *tx, const char *id, char **repo,
		       int64_t *started, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_UP_GET);
	int rc, r = 0;

	meta_bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (repo)
			*repo = meta_col_strdup(s, 0);
		if (started)
			*started = sqlite3_column_int64(s, 1);
	} else if (rc == SQLITE_DONE) {
		r = berth_error_set(err, BERTH_ENOTFOUND, 0,
				    "upload '%s' is unknown", id);
	} else {
		r = meta_db_error(err, c->db, "looking up an upload");
	}
	sqlite3_reset(s);
	return r;
}

int
meta_sqlite_upload_remove(berth_meta_tx *tx, const char *id, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_UP_DEL);
	int r;

	meta_bind_text(s, 1, id);
	r = meta_delete_one(c, s, err);
	if (r == 0)
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "upload '%s' is unknown", id);
	return r < 0 ? r : 0;
}

int
meta_sqlite_uploads_older(berth_meta_tx *tx, int64_t before, char ***ids,
			  berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_UP_OLDER);
	bool more;

	sqlite3_bind_int64(s, 1, before);
	return meta_collect(c, s, -1, ids, &more, err);
}

int
meta_sqlite_uploads_of(berth_meta_tx *tx, const char *repo, const char *client,
		       char ***ids, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_UP_OF);
	bool more;

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, client);
	return meta_collect(c, s, -1, ids, &more, err);
}

int
meta_sqlite_pulls_each(berth_meta_tx *tx,
		       void (*fn)(const berth_meta_pull_row *row, void *ud),
		       void *ud, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_PULL_ALL);
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		berth_meta_pull_row row = {
			.key = (const char *)sqlite3_column_text(s, 0),
			.window_ms = sqlite3_column_int64(s, 1),
			.last_slot = sqlite3_column_int64(s, 2),
			.counts = (const char *)sqlite3_column_text(s, 3),
		};

		if (row.key && row.counts && row.window_ms > 0)
			fn(&row, ud);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return meta_db_error(err, c->db, "reading pull counters");
	return 0;
}

int
meta_sqlite_pull_set(berth_meta_tx *tx, const berth_meta_pull_row *row,
		     berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s;

	if (row->counts == NULL) {
		s = meta_stmt(c, S_PULL_DEL);
		meta_bind_text(s, 1, row->key);
	} else {
		s = meta_stmt(c, S_PULL_PUT);
		meta_bind_text(s, 1, row->key);
		sqlite3_bind_int64(s, 2, row->window_ms);
		sqlite3_bind_int64(s, 3, row->last_slot);
		meta_bind_text(s, 4, row->counts);
	}
	return meta_exec_done(c, s, err);
}
