/*
 * The PostgreSQL metadata store, part two: repositories, blob links,
 * upload sessions and pull counters (the pool and transactions are in
 * meta_pg.c, manifests and tags in meta_pg_manifest.c).
 */
#include "server/storage/meta_pg.h"

#include <stdlib.h>
#include <time.h>

#include "util/error.h"
#include "util/xalloc.h"

int
meta_pg_repo_add(berth_meta_tx *tx, const char *repo, berth_error **err)
{
	pg_num t;
	const char *p[] = {repo, pg_num_of(&t, (int64_t)time(NULL))};
	int r = pg_run_done(pg_tx_conn(tx), P_REPO_ADD, 2, p, err);

	return r < 0 ? r : 0;
}

int
meta_pg_repo_exists(berth_meta_tx *tx, const char *repo, bool *exists,
		    berth_error **err)
{
	const char *p[] = {repo};
	PGresult *res = pg_run(pg_tx_conn(tx), P_REPO_EXISTS, 1, p, err);

	if (res == NULL)
		return BERTH_EIO;
	*exists = PQntuples(res) > 0;
	PQclear(res);
	return 0;
}

/* LIMIT of a page of n (n < 0: all): one more, to know of more. */
static const char *
page_limit(pg_num *b, long n)
{
	return n < 0 ? NULL : pg_num_of(b, (int64_t)n + 1);
}

int
meta_pg_repos_list(berth_meta_tx *tx, const char *last, long n, char ***out,
		   bool *more, berth_error **err)
{
	pg_num lim;
	const char *p[] = {last, page_limit(&lim, n)};
	PGresult *res = pg_run(pg_tx_conn(tx), P_CATALOG, 2, p, err);

	if (res == NULL)
		return BERTH_EIO;
	pg_collect(res, n, out, more);
	return 0;
}

int
meta_pg_blob_link(berth_meta_tx *tx, const char *repo, const char *digest,
		  int64_t size, int64_t pushed, berth_error **err)
{
	pg_num s, t;
	const char *p[] = {repo, digest, pg_num_of(&s, size),
			   pg_num_of(&t, pushed)};
	int r = pg_run_done(pg_tx_conn(tx), P_BLOB_LINK, 4, p, err);

	return r < 0 ? r : 0;
}

int
meta_pg_blob_info(berth_meta_tx *tx, const char *repo, const char *digest,
		  int64_t *size, int64_t *seen, berth_error **err)
{
	const char *p[] = {repo, digest};
	PGresult *res = pg_run(pg_tx_conn(tx), P_BLOB_GET, 2, p, err);
	bool found;

	if (res == NULL)
		return BERTH_EIO;
	found = PQntuples(res) > 0;
	if (found && size)
		*size = pg_int(res, 0, 0);
	if (found && seen)
		*seen = pg_int(res, 0, 1);
	PQclear(res);
	if (!found)
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "blob '%s' is not in repository '%s'",
				       digest, repo);
	return 0;
}

int
meta_pg_blob_get(berth_meta_tx *tx, const char *repo, const char *digest,
		 int64_t *size, berth_error **err)
{
	return meta_pg_blob_info(tx, repo, digest, size, NULL, err);
}

int
meta_pg_blob_unlink(berth_meta_tx *tx, const char *repo, const char *digest,
		    berth_error **err)
{
	const char *p[] = {repo, digest};
	int r = pg_run_done(pg_tx_conn(tx), P_BLOB_UNLINK, 2, p, err);

	if (r == 0)
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "blob '%s' is not in repository '%s'",
				       digest, repo);
	return r < 0 ? r : 0;
}

int
meta_pg_blob_repos(berth_meta_tx *tx, const char *digest,
		   bool (*fn)(const char *repo, int64_t size, void *ud),
		   void *ud, berth_error **err)
{
	const char *p[] = {digest};
	PGresult *res = pg_run(pg_tx_conn(tx), P_BLOB_FIND, 1, p, err);

	if (res == NULL)
		return BERTH_EIO;
	for (int i = 0; i < PQntuples(res); i++)
		if (fn(pg_text(res, i, 0), pg_int(res, i, 1), ud))
			break;
	PQclear(res);
	return 0;
}

int
meta_pg_upload_add(berth_meta_tx *tx, const char *id, const char *repo,
		   const char *client, int64_t started, berth_error **err)
{
	pg_num t;
	const char *p[] = {id, repo, pg_num_of(&t, started),
			   client ? client : ""};
	int r = pg_run_done(pg_tx_conn(tx), P_UP_ADD, 4, p, err);

	return r < 0 ? r : 0;
}

int
meta_pg_uploads_count(berth_meta_tx *tx, const char *repo, const char *client,
		      int64_t *by_repo, int64_t *by_client, berth_error **err)
{
	const char *p[] = {repo, client ? client : ""};
	PGresult *res = pg_run(pg_tx_conn(tx), P_UP_COUNT, 2, p, err);

	if (res == NULL)
		return BERTH_EIO;
	*by_repo = pg_int(res, 0, 0);
	*by_client = pg_int(res, 0, 1);
	PQclear(res);
	return 0;
}

int
meta_pg_upload_get(berth_meta_tx *tx, const char *id, char **repo,
		   int64_t *started, berth_error **err)
{
	const char *p[] = {id};
	PGresult *res = pg_run(pg_tx_conn(tx), P_UP_GET, 1, p, err);

	if (res == NULL)
		return BERTH_EIO;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "upload '%s' is unknown", id);
	}
	if (repo)
		*repo = pg_strdup(res, 0, 0);
	if (started)
		*started = pg_int(res, 0, 1);
	PQclear(res);
	return 0;
}

int
meta_pg_upload_remove(berth_meta_tx *tx, const char *id, berth_error **err)
{
	const char *p[] = {id};
	int r = pg_run_done(pg_tx_conn(tx), P_UP_DEL, 1, p, err);

	if (r == 0)
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "upload '%s' is unknown", id);
	return r < 0 ? r : 0;
}

int
meta_pg_uploads_older(berth_meta_tx *tx, int64_t before, char ***ids,
		      berth_error **err)
{
	pg_num t;
	const char *p[] = {pg_num_of(&t, before)};
	PGresult *res = pg_run(pg_tx_conn(tx), P_UP_OLDER, 1, p, err);
	bool more;

	if (res == NULL)
		return BERTH_EIO;
	pg_collect(res, -1, ids, &more);
	return 0;
}

/* Every row of res (key, window_ms, last_slot, counts) to fn. */
static void
pull_rows(PGresult *res, void (*fn)(const berth_meta_pull_row *row, void *ud),
	  void *ud)
{
	for (int i = 0; i < PQntuples(res); i++) {
		berth_meta_pull_row row = {
			.key = pg_text(res, i, 0),
			.window_ms = pg_int(res, i, 1),
			.last_slot = pg_int(res, i, 2),
			.counts = pg_text(res, i, 3),
		};

		if (row.key && row.counts && row.window_ms > 0)
			fn(&row, ud);
	}
	PQclear(res);
}

int
meta_pg_pulls_each(berth_meta_tx *tx,
		   void (*fn)(const berth_meta_pull_row *row, void *ud),
		   void *ud, berth_error **err)
{
	PGresult *res = pg_run(pg_tx_conn(tx), P_PULL_ALL, 0, NULL, err);

	if (res == NULL)
		return BERTH_EIO;
	pull_rows(res, fn, ud);
	return 0;
}

int
meta_pg_pull_get(berth_meta_tx *tx, const char *key,
		 void (*fn)(const berth_meta_pull_row *row, void *ud), void *ud,
		 berth_error **err)
{
	const char *p[] = {key};
	PGresult *res = pg_run(pg_tx_conn(tx), P_PULL_GET, 1, p, err);

	if (res == NULL)
		return BERTH_EIO;
	pull_rows(res, fn, ud);
	return 0;
}

int
meta_pg_pull_set(berth_meta_tx *tx, const berth_meta_pull_row *row,
		 berth_error **err)
{
	pg_num w, s;
	int r;

	if (row->counts == NULL) {
		const char *p[] = {row->key};

		r = pg_run_done(pg_tx_conn(tx), P_PULL_DEL, 1, p, err);
	} else {
		const char *p[] = {row->key, pg_num_of(&w, row->window_ms),
				   pg_num_of(&s, row->last_slot), row->counts};

		r = pg_run_done(pg_tx_conn(tx), P_PULL_PUT, 4, p, err);
	}
	return r < 0 ? r : 0;
}
