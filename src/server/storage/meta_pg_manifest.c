/*
 * The PostgreSQL metadata store, part three: manifests, their references,
 * tags and referrers (the pool and transactions are in meta_pg.c).
 */
#include "server/storage/meta_pg.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/xalloc.h"

/* A manifest from row r of MF_COLS. */
static void
manifest_from_row(berth_meta_manifest *mf, PGresult *res, int r)
{
	mf->digest = pg_strdup(res, r, 0);
	mf->media_type = pg_strdup(res, r, 1);
	mf->size = pg_int(res, r, 2);
	mf->artifact_type = pg_strdup(res, r, 3);
	mf->subject = pg_strdup(res, r, 4);
	mf->annotations = pg_strdup(res, r, 5);
	mf->pushed = pg_int(res, r, 6);
}

static int
not_in(berth_error **err, const char *what, const char *ref, const char *repo)
{
	return berth_error_set(err, BERTH_ENOTFOUND, 0,
			       "%s '%s' is not in repository '%s'", what, ref,
			       repo);
}

int
meta_pg_manifest_set(berth_meta_tx *tx, const char *repo,
		     const berth_meta_manifest *mf, berth_error **err)
{
	pg_num s, t;
	const char *p[] = {repo,
			   mf->digest,
			   mf->media_type,
			   pg_num_of(&s, mf->size),
			   mf->artifact_type,
			   mf->subject,
			   mf->annotations,
			   pg_num_of(&t, mf->pushed)};
	int r = pg_run_done(pg_tx_conn(tx), P_MF_PUT, 8, p, err);

	return r < 0 ? r : 0;
}

int
meta_pg_manifest_ref_add(berth_meta_tx *tx, const char *repo,
			 const char *digest, const char *child,
			 berth_error **err)
{
	const char *p[] = {repo, digest, child};
	int r = pg_run_done(pg_tx_conn(tx), P_MF_REF, 3, p, err);

	return r < 0 ? r : 0;
}

int
meta_pg_manifest_get(berth_meta_tx *tx, const char *repo, const char *ref,
		     bool by_digest, berth_meta_manifest *out,
		     berth_error **err)
{
	enum pg_stmt_id id = by_digest ? P_MF_BY_DIGEST : P_MF_BY_TAG;
	const char *p[] = {repo, ref};
	PGresult *res;

	/* An existence check by digest needs no columns. */
	if (out == NULL && by_digest)
		id = P_MF_HAS;
	if ((res = pg_run(pg_tx_conn(tx), id, 2, p, err)) == NULL)
		return BERTH_EIO;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return not_in(err, "manifest", ref, repo);
	}
	if (out)
		manifest_from_row(out, res, 0);
	PQclear(res);
	return 0;
}

int
meta_pg_manifest_remove(berth_meta_tx *tx, const char *repo, const char *digest,
			berth_error **err)
{
	const char *p[] = {repo, digest};
	int r = pg_run_done(pg_tx_conn(tx), P_MF_DEL, 2, p, err);

	if (r < 0)
		return r;
	if (r == 0)
		return not_in(err, "manifest", digest, repo);
	r = pg_run_done(pg_tx_conn(tx), P_MF_REFS_DEL, 2, p, err);
	return r < 0 ? r : 0;
}

int
meta_pg_referrers(berth_meta_tx *tx, const char *repo, const char *subject,
		  const char *artifact_type, berth_meta_manifest **out,
		  size_t *n, berth_error **err)
{
	const char *p[] = {repo, subject, artifact_type};
	PGresult *res = pg_run(pg_tx_conn(tx), P_REFERRERS, 3, p, err);
	berth_meta_manifest *v = NULL;
	int rows;

	*out = NULL;
	*n = 0;
	if (res == NULL)
		return BERTH_EIO;
	rows = PQntuples(res);
	if (rows > 0)
		v = xcalloc((size_t)rows, sizeof(*v));
	for (int i = 0; i < rows; i++)
		manifest_from_row(&v[i], res, i);
	PQclear(res);
	*out = v;
	*n = (size_t)rows;
	return 0;
}

int
meta_pg_tag_set(berth_meta_tx *tx, const char *repo, const char *tag,
		const char *digest, int64_t updated, berth_error **err)
{
	pg_num t;
	const char *p[] = {repo, tag, digest, pg_num_of(&t, updated)};
	int r = pg_run_done(pg_tx_conn(tx), P_TAG_SET, 4, p, err);

	return r < 0 ? r : 0;
}

int
meta_pg_tag_remove(berth_meta_tx *tx, const char *repo, const char *tag,
		   berth_error **err)
{
	const char *p[] = {repo, tag};
	int r = pg_run_done(pg_tx_conn(tx), P_TAG_DEL, 2, p, err);

	if (r == 0)
		return not_in(err, "tag", tag, repo);
	return r < 0 ? r : 0;
}

int
meta_pg_tags_remove_digest(berth_meta_tx *tx, const char *repo,
			   const char *digest, berth_error **err)
{
	const char *p[] = {repo, digest};
	int r = pg_run_done(pg_tx_conn(tx), P_TAGS_DEL_DIGEST, 2, p, err);

	return r < 0 ? r : 0;
}

int
meta_pg_tags_list(berth_meta_tx *tx, const char *repo, const char *last, long n,
		  char ***out, bool *more, berth_error **err)
{
	pg_num lim;
	const char *p[] = {repo, last,
			   n < 0 ? NULL : pg_num_of(&lim, (int64_t)n + 1)};
	PGresult *res = pg_run(pg_tx_conn(tx), P_TAGS_LIST, 3, p, err);

	if (res == NULL)
		return BERTH_EIO;
	pg_collect(res, n, out, more);
	return 0;
}
