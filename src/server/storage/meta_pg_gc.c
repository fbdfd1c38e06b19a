/*
 * The PostgreSQL metadata store, part four: what garbage collection and
 * retention read (blob links, who uses a digest, a repository's manifests,
 * tags and references), their conditional changes, and the pull times the
 * server records in batches.
 */
#include "server/storage/meta_pg.h"

#include "util/error.h"

int
meta_pg_blob_touch(berth_meta_tx *tx, const char *repo, const char *digest,
		   int64_t when, berth_error **err)
{
	pg_num t;
	const char *p[] = {repo, digest, pg_num_of(&t, when)};
	int r = pg_run_done(pg_tx_conn(tx), P_BLOB_TOUCH, 3, p, err);

	if (r == 0)
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "blob '%s' is not in repository '%s'",
				       digest, repo);
	return r < 0 ? r : 0;
}

int
meta_pg_links_each(berth_meta_tx *tx, const char *repo,
		   void (*fn)(const char *digest, int64_t size, int64_t seen,
			      void *ud),
		   void *ud, berth_error **err)
{
	const char *p[] = {repo};
	PGresult *res = pg_run(pg_tx_conn(tx), P_GC_LINKS, 1, p, err);

	if (res == NULL)
		return BERTH_EIO;
	for (int i = 0; i < PQntuples(res); i++)
		fn(pg_text(res, i, 0), pg_int(res, i, 1), pg_int(res, i, 2),
		   ud);
	PQclear(res);
	return 0;
}

static char
kind_of(PGresult *res, int r)
{
	const char *k = pg_text(res, r, 0);

	return k && *k ? k[0] : '?';
}

int
meta_pg_digest_users(berth_meta_tx *tx, const char *digest,
		     bool (*fn)(char kind, const char *repo, const char *owner,
				void *ud),
		     void *ud, berth_error **err)
{
	const char *p[] = {digest};
	PGresult *res = pg_run(pg_tx_conn(tx), P_GC_USERS, 1, p, err);

	if (res == NULL)
		return BERTH_EIO;
	for (int i = 0; i < PQntuples(res); i++)
		if (fn(kind_of(res, i), pg_text(res, i, 1), pg_text(res, i, 2),
		       ud))
			break;
	PQclear(res);
	return 0;
}

int
meta_pg_uses_each(berth_meta_tx *tx,
		  void (*fn)(char kind, const char *repo, const char *owner,
			     const char *digest, void *ud),
		  void *ud, berth_error **err)
{
	PGresult *res = pg_run(pg_tx_conn(tx), P_GC_USES, 0, NULL, err);

	if (res == NULL)
		return BERTH_EIO;
	for (int i = 0; i < PQntuples(res); i++)
		fn(kind_of(res, i), pg_text(res, i, 1), pg_text(res, i, 2),
		   pg_text(res, i, 3), ud);
	PQclear(res);
	return 0;
}

int
meta_pg_manifests_each(berth_meta_tx *tx, const char *repo,
		       void (*fn)(const berth_meta_manifest *mf, void *ud),
		       void *ud, berth_error **err)
{
	const char *p[] = {repo};
	PGresult *res = pg_run(pg_tx_conn(tx), P_MF_ALL, 1, p, err);

	if (res == NULL)
		return BERTH_EIO;
	for (int i = 0; i < PQntuples(res); i++) {
		/* Borrowed: valid until res is cleared. */
		berth_meta_manifest mf = {
			.digest = (char *)pg_text(res, i, 0),
			.media_type = (char *)pg_text(res, i, 1),
			.size = pg_int(res, i, 2),
			.artifact_type = (char *)pg_text(res, i, 3),
			.subject = (char *)pg_text(res, i, 4),
			.pushed = pg_int(res, i, 6),
			.pulled = pg_int(res, i, 7),
		};

		if (mf.digest)
			fn(&mf, ud);
	}
	PQclear(res);
	return 0;
}

int
meta_pg_tags_each(berth_meta_tx *tx, const char *repo,
		  void (*fn)(const berth_meta_tag_row *t, void *ud), void *ud,
		  berth_error **err)
{
	const char *p[] = {repo};
	PGresult *res = pg_run(pg_tx_conn(tx), P_TAGS_ALL, 1, p, err);

	if (res == NULL)
		return BERTH_EIO;
	for (int i = 0; i < PQntuples(res); i++) {
		berth_meta_tag_row t = {
			.tag = pg_text(res, i, 0),
			.digest = pg_text(res, i, 1),
			.updated = pg_int(res, i, 2),
			.pulled = pg_int(res, i, 3),
		};

		if (t.tag && t.digest)
			fn(&t, ud);
	}
	PQclear(res);
	return 0;
}

int
meta_pg_refs_each(berth_meta_tx *tx, const char *repo,
		  void (*fn)(const char *digest, const char *child, void *ud),
		  void *ud, berth_error **err)
{
	const char *p[] = {repo};
	PGresult *res = pg_run(pg_tx_conn(tx), P_REFS_ALL, 1, p, err);

	if (res == NULL)
		return BERTH_EIO;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *d = pg_text(res, i, 0), *child = pg_text(res, i, 1);

		if (d && child)
			fn(d, child, ud);
	}
	PQclear(res);
	return 0;
}

int
meta_pg_pulled_set(berth_meta_tx *tx, const berth_meta_pull_time *p,
		   berth_error **err)
{
	pg_num t;
	const char *v[] = {p->repo, p->tag ? p->tag : p->digest,
			   pg_num_of(&t, p->when)};
	int r = pg_run_done(pg_tx_conn(tx), p->tag ? P_TAG_PULLED : P_MF_PULLED,
			    3, v, err);

	return r < 0 ? r : 0;
}

int
meta_pg_tag_remove_if(berth_meta_tx *tx, const char *repo, const char *tag,
		      const char *digest, int64_t updated, berth_error **err)
{
	pg_num t;
	const char *p[] = {repo, tag, digest, pg_num_of(&t, updated)};
	int r = pg_run_done(pg_tx_conn(tx), P_TAG_DEL_IF, 4, p, err);

	return r < 0 ? r : r > 0;
}

int
meta_pg_manifest_in_use(berth_meta_tx *tx, const char *repo, const char *digest,
			bool *used, berth_error **err)
{
	const char *p[] = {repo, digest};
	PGresult *res = pg_run(pg_tx_conn(tx), P_MF_IN_USE, 2, p, err);
	const char *v;

	if (res == NULL)
		return BERTH_EIO;
	v = pg_text(res, 0, 0);
	*used = v && v[0] == 't';
	PQclear(res);
	return 0;
}
