/*
 * The SQLite metadata store, part two: manifests, tags, the catalog and
 * referrers (the pool and blob links are in meta_sqlite.c).
 */
#include "server/storage/meta_sqlite.h"

#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

void
berth_meta_manifest_release(berth_meta_manifest *mf)
{
	if (mf == NULL)
		return;
	free(mf->digest);
	free(mf->media_type);
	free(mf->artifact_type);
	free(mf->subject);
	free(mf->annotations);
	memset(mf, 0, sizeof(*mf));
}

static void
manifest_from_row(berth_meta_manifest *mf, sqlite3_stmt *s)
{
	mf->digest = meta_col_strdup(s, 0);
	mf->media_type = meta_col_strdup(s, 1);
	mf->size = sqlite3_column_int64(s, 2);
	mf->artifact_type = meta_col_strdup(s, 3);
	mf->subject = meta_col_strdup(s, 4);
	mf->annotations = meta_col_strdup(s, 5);
	mf->pushed = sqlite3_column_int64(s, 6);
}

/* 1 when repo has manifest digest, 0 when not, <0 on error. */
static int
manifest_has(meta_conn *c, const char *repo, const char *digest,
	     berth_error **err)
{
	sqlite3_stmt *s = meta_stmt(c, S_MF_HAS);
	int rc;

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, digest);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return meta_db_error(err, c->db, "looking up a manifest");
	return 0;
}

static int
manifest_put_tx(meta_conn *c, const char *repo, const berth_meta_put *put,
		char **missing, berth_error **err)
{
	const berth_meta_manifest *mf = put->manifest;
	int64_t now = meta_now_s();
	sqlite3_stmt *s;
	size_t i;
	int r;

	for (i = 0; i < put->n_blobs; i++) {
		r = meta_blob_lookup(c, repo, put->blobs[i], NULL, err);
		if (r < 0)
			return r;
		/* A manifest's config may also be a manifest (artifacts). */
		if (r == 0)
			r = manifest_has(c, repo, put->blobs[i], err);
		if (r < 0)
			return r;
		if (r == 0) {
			*missing = xstrdup(put->blobs[i]);
			return berth_error_set(err, BERTH_ENOTFOUND, 0,
					       "blob '%s' is not in repository "
					       "'%s'",
					       put->blobs[i], repo);
		}
	}
	for (i = 0; i < put->n_children; i++) {
		r = manifest_has(c, repo, put->children[i], err);
		if (r < 0)
			return r;
		if (r == 0) {
			*missing = xstrdup(put->children[i]);
			return berth_error_set(err, BERTH_ENOTFOUND, 0,
					       "manifest '%s' is not in "
					       "repository '%s'",
					       put->children[i], repo);
		}
	}
	if ((r = meta_repo_add(c, repo, err)) < 0)
		return r;
	s = meta_stmt(c, S_MF_PUT);
	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, mf->digest);
	meta_bind_text(s, 3, mf->media_type);
	sqlite3_bind_int64(s, 4, mf->size);
	meta_bind_text(s, 5, mf->artifact_type);
	meta_bind_text(s, 6, mf->subject);
	meta_bind_text(s, 7, mf->annotations);
	sqlite3_bind_int64(s, 8, now);
	if ((r = meta_exec_done(c, s, err)) < 0)
		return r;
	for (i = 0; i < put->n_blobs + put->n_children; i++) {
		s = meta_stmt(c, S_MF_REF);
		meta_bind_text(s, 1, repo);
		meta_bind_text(s, 2, mf->digest);
		meta_bind_text(s, 3,
			       i < put->n_blobs
				       ? put->blobs[i]
				       : put->children[i - put->n_blobs]);
		if ((r = meta_exec_done(c, s, err)) < 0)
			return r;
	}
	for (i = 0; i < put->n_tags; i++) {
		s = meta_stmt(c, S_TAG_SET);
		meta_bind_text(s, 1, repo);
		meta_bind_text(s, 2, put->tags[i]);
		meta_bind_text(s, 3, mf->digest);
		sqlite3_bind_int64(s, 4, now);
		if ((r = meta_exec_done(c, s, err)) < 0)
			return r;
	}
	return 0;
}

int
berth_meta_manifest_put(berth_meta *m, const char *repo,
			const berth_meta_put *put, char **missing,
			berth_error **err)
{
	meta_conn *c = meta_conn_get(m);
	int r = meta_tx_begin(c, err);

	if (r == 0)
		r = meta_tx_end(c, manifest_put_tx(c, repo, put, missing, err),
				err);
	meta_conn_put(m, c);
	return r;
}

int
berth_meta_manifest_get(berth_meta *m, const char *repo, const char *ref,
			bool by_digest, berth_meta_manifest *out,
			berth_error **err)
{
	meta_conn *c = meta_conn_get(m);
	sqlite3_stmt *s =
		meta_stmt(c, by_digest ? S_MF_BY_DIGEST : S_MF_BY_TAG);
	int rc, r = 0;

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, ref);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		manifest_from_row(out, s);
	else if (rc == SQLITE_DONE)
		r = berth_error_set(err, BERTH_ENOTFOUND, 0,
				    "manifest '%s' is not in repository '%s'",
				    ref, repo);
	else
		r = meta_db_error(err, c->db, "looking up a manifest");
	sqlite3_reset(s);
	meta_conn_put(m, c);
	return r;
}

static int
manifest_delete_tx(meta_conn *c, const char *repo, const char *digest,
		   berth_error **err)
{
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
	if ((r = meta_exec_done(c, s, err)) < 0)
		return r;
	s = meta_stmt(c, S_TAGS_DEL_DIGEST);
	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, digest);
	return meta_exec_done(c, s, err);
}

int
berth_meta_manifest_delete(berth_meta *m, const char *repo, const char *digest,
			   berth_error **err)
{
	meta_conn *c = meta_conn_get(m);
	int r = meta_tx_begin(c, err);

	if (r == 0)
		r = meta_tx_end(c, manifest_delete_tx(c, repo, digest, err),
				err);
	meta_conn_put(m, c);
	return r;
}

int
berth_meta_tag_delete(berth_meta *m, const char *repo, const char *tag,
		      berth_error **err)
{
	meta_conn *c = meta_conn_get(m);
	sqlite3_stmt *s = meta_stmt(c, S_TAG_DEL);
	int r;

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, tag);
	r = meta_delete_one(c, s, err);
	meta_conn_put(m, c);
	if (r == 0)
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "tag '%s' is not in repository '%s'",
				       tag, repo);
	return r < 0 ? r : 0;
}

/* Collects column 0 of every row, stopping after n (n < 0: all). */
int
berth_meta_repo_exists(berth_meta *m, const char *repo, bool *exists,
		       berth_error **err)
{
	meta_conn *c = meta_conn_get(m);
	sqlite3_stmt *s = meta_stmt(c, S_REPO_EXISTS);
	int rc, r = 0;

	meta_bind_text(s, 1, repo);
	rc = sqlite3_step(s);
	*exists = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = meta_db_error(err, c->db, "looking up a repository");
	sqlite3_reset(s);
	meta_conn_put(m, c);
	return r;
}

int
berth_meta_tags(berth_meta *m, const char *repo, const char *last, long n,
		char ***out, bool *more, berth_error **err)
{
	bool exists = false;
	meta_conn *c;
	sqlite3_stmt *s;
	int r;

	if ((r = berth_meta_repo_exists(m, repo, &exists, err)) < 0)
		return r;
	if (!exists)
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "repository '%s' is unknown", repo);
	c = meta_conn_get(m);
	s = meta_stmt(c, S_TAGS_LIST);
	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, last ? last : "");
	/* One more than asked, to know whether there are more. */
	sqlite3_bind_int64(s, 3, n < 0 ? -1 : (sqlite3_int64)n + 1);
	r = meta_collect(c, s, n, out, more, err);
	meta_conn_put(m, c);
	return r;
}

int
berth_meta_catalog(berth_meta *m, const char *last, long n, char ***out,
		   bool *more, berth_error **err)
{
	meta_conn *c = meta_conn_get(m);
	sqlite3_stmt *s = meta_stmt(c, S_CATALOG);
	int r;

	meta_bind_text(s, 1, last ? last : "");
	sqlite3_bind_int64(s, 2, n < 0 ? -1 : (sqlite3_int64)n + 1);
	r = meta_collect(c, s, n, out, more, err);
	meta_conn_put(m, c);
	return r;
}

int
berth_meta_referrers(berth_meta *m, const char *repo, const char *subject,
		     const char *artifact_type, berth_meta_manifest **out,
		     size_t *n, berth_error **err)
{
	meta_conn *c = meta_conn_get(m);
	sqlite3_stmt *s = meta_stmt(c, S_REFERRERS);
	berth_meta_manifest *v = NULL;
	size_t cnt = 0;
	int rc, r = 0;

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, subject);
	meta_bind_text(s, 3, artifact_type);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, cnt + 1, sizeof(*v));
		manifest_from_row(&v[cnt++], s);
	}
	if (rc != SQLITE_DONE) {
		r = meta_db_error(err, c->db, "listing referrers");
		while (cnt > 0)
			berth_meta_manifest_release(&v[--cnt]);
		free(v);
		v = NULL;
	}
	sqlite3_reset(s);
	meta_conn_put(m, c);
	*out = v;
	*n = cnt;
	return r;
}
