/*
 * The SQLite metadata store, part three: manifests, their references,
 * tags and referrers (the pool and transactions are in meta_sqlite.c).
 */
#include "server/storage/meta_sqlite.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/xalloc.h"

void
meta_manifest_from_row(berth_meta_manifest *mf, sqlite3_stmt *s)
{
	mf->digest = meta_col_strdup(s, 0);
	mf->media_type = meta_col_strdup(s, 1);
	mf->size = sqlite3_column_int64(s, 2);
	mf->artifact_type = meta_col_strdup(s, 3);
	mf->subject = meta_col_strdup(s, 4);
	mf->annotations = meta_col_strdup(s, 5);
	mf->pushed = sqlite3_column_int64(s, 6);
}

int
meta_sqlite_manifest_set(berth_meta_tx *tx, const char *repo,
			 const berth_meta_manifest *mf, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_MF_PUT);

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, mf->digest);
	meta_bind_text(s, 3, mf->media_type);
	sqlite3_bind_int64(s, 4, mf->size);
	meta_bind_text(s, 5, mf->artifact_type);
	meta_bind_text(s, 6, mf->subject);
	meta_bind_text(s, 7, mf->annotations);
	sqlite3_bind_int64(s, 8, mf->pushed);
	return meta_exec_done(c, s, err);
}

int
meta_sqlite_manifest_ref_add(berth_meta_tx *tx, const char *repo,
			     const char *digest, const char *child,
			     berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_MF_REF);

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, digest);
	meta_bind_text(s, 3, child);
	return meta_exec_done(c, s, err);
}

int
meta_sqlite_manifest_get(berth_meta_tx *tx, const char *repo, const char *ref,
			 bool by_digest, berth_meta_manifest *out,
			 berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	enum stmt_id id = by_digest ? S_MF_BY_DIGEST : S_MF_BY_TAG;
	sqlite3_stmt *s;
	int rc, r = 0;

	/* An existence check by digest needs no columns. */
	if (out == NULL && by_digest)
		id = S_MF_HAS;
	s = meta_stmt(c, id);
	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, ref);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (out)
			meta_manifest_from_row(out, s);
	} else if (rc == SQLITE_DONE) {
		r = berth_error_set(err, BERTH_ENOTFOUND, 0,
				    "manifest '%s' is not in repository '%s'",
				    ref, repo);
	} else {
		r = meta_db_error(err, c->db, "looking up a manifest");
	}
	sqlite3_reset(s);
	return r;
}

int
meta_sqlite_manifest_remove(berth_meta_tx *tx, const char *repo,
			    const char *digest, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_MF_DEL);
	int r;

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, digest);
	r = meta_delete_one(c, s, err);
	if (r < 0)
		return r;
	if (r == 0)
		return berth_error_set(
			err, BERTH_ENOTFOUND, 0,
			"manifest '%s' is not in repository '%s'", digest,
			repo);
	s = meta_stmt(c, S_MF_REFS_DEL);
	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, digest);
	return meta_exec_done(c, s, err);
}

int
meta_sqlite_referrers(berth_meta_tx *tx, const char *repo, const char *subject,
		      const char *artifact_type, berth_meta_manifest **out,
		      size_t *n, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_REFERRERS);
	berth_meta_manifest *v = NULL;
	size_t cnt = 0;
	int rc, r = 0;

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, subject);
	meta_bind_text(s, 3, artifact_type);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, cnt + 1, sizeof(*v));
		meta_manifest_from_row(&v[cnt++], s);
	}
	if (rc != SQLITE_DONE) {
		r = meta_db_error(err, c->db, "listing referrers");
		while (cnt > 0)
			berth_meta_manifest_release(&v[--cnt]);
		free(v);
		v = NULL;
	}
	sqlite3_reset(s);
	*out = v;
	*n = cnt;
	return r;
}

int
meta_sqlite_tag_set(berth_meta_tx *tx, const char *repo, const char *tag,
		    const char *digest, int64_t updated, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_TAG_SET);

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, tag);
	meta_bind_text(s, 3, digest);
	sqlite3_bind_int64(s, 4, updated);
	return meta_exec_done(c, s, err);
}

int
meta_sqlite_tag_remove(berth_meta_tx *tx, const char *repo, const char *tag,
		       berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_TAG_DEL);
	int r;

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, tag);
	r = meta_delete_one(c, s, err);
	if (r == 0)
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "tag '%s' is not in repository '%s'",
				       tag, repo);
	return r < 0 ? r : 0;
}

int
meta_sqlite_tags_remove_digest(berth_meta_tx *tx, const char *repo,
			       const char *digest, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_TAGS_DEL_DIGEST);

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, digest);
	return meta_exec_done(c, s, err);
}

int
meta_sqlite_tags_list(berth_meta_tx *tx, const char *repo, const char *last,
		      long n, char ***out, bool *more, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_TAGS_LIST);

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, last);
	/* One more than asked, to know whether there are more. */
	sqlite3_bind_int64(s, 3, n < 0 ? -1 : (sqlite3_int64)n + 1);
	return meta_collect(c, s, n, out, more, err);
}
