/*
 * What requests do to the metadata, each one transaction over the
 * metadata interface (meta.h). The rules live here once (a manifest's
 * references must be in its repository, finishing an upload links its
 * blob, a mount needs the source's link), so every backend keeps them.
 */
#include "server/storage/meta.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/error.h"
#include "util/xalloc.h"

void
berth_meta_free(berth_meta *m)
{
	if (m != NULL)
		m->ops->free(m);
}

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

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

/* Ends tx: commits when r >= 0, else rolls back; returns r or the commit's
 * failure. */
static int
tx_end(berth_meta_tx *tx, int r, berth_error **err)
{
	if (r < 0) {
		tx->ops->tx_rollback(tx);
		return r;
	}
	return tx->ops->tx_commit(tx, err);
}

static int
link_tx(berth_meta_tx *tx, const char *repo, const char *digest, int64_t size,
	berth_error **err)
{
	int r = tx->ops->repo_add(tx, repo, err);

	if (r < 0)
		return r;
	return tx->ops->blob_link(tx, repo, digest, size, now_s(), err);
}

int
berth_meta_blob_link(berth_meta *m, const char *repo, const char *digest,
		     int64_t size, berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err);

	if (r < 0)
		return r;
	return tx_end(tx, link_tx(tx, repo, digest, size, err), err);
}

int
berth_meta_blob_get(berth_meta *m, const char *repo, const char *digest,
		    int64_t *size, berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_READ, err);

	if (r < 0)
		return r;
	return tx_end(tx, tx->ops->blob_get(tx, repo, digest, size, err), err);
}

int
berth_meta_blob_unlink(berth_meta *m, const char *repo, const char *digest,
		       berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err);

	if (r < 0)
		return r;
	return tx_end(tx, tx->ops->blob_unlink(tx, repo, digest, err), err);
}

int
berth_meta_blob_mount(berth_meta *m, const char *repo, const char *digest,
		      const char *from, int64_t *size, berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err);

	if (r < 0)
		return r;
	r = tx->ops->blob_get(tx, from, digest, size, err);
	if (r == 0)
		r = link_tx(tx, repo, digest, *size, err);
	return tx_end(tx, r, err);
}

typedef struct find_ctx {
	bool (*can_read)(const char *repo, void *ud);
	void *ud;
	char *repo;
	int64_t size;
} find_ctx;

static bool
find_one(const char *repo, int64_t size, void *ud)
{
	find_ctx *f = ud;

	if (f->can_read != NULL && !f->can_read(repo, f->ud))
		return false;
	f->repo = xstrdup(repo);
	f->size = size;
	return true;
}

int
berth_meta_blob_find(berth_meta *m, const char *digest,
		     bool (*can_read)(const char *repo, void *ud), void *ud,
		     char **repo_out, int64_t *size, berth_error **err)
{
	find_ctx f = {can_read, ud, NULL, 0};
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_READ, err);

	if (r < 0)
		return r;
	r = tx_end(tx, tx->ops->blob_repos(tx, digest, find_one, &f, err), err);
	if (r < 0) {
		free(f.repo);
		return r;
	}
	if (f.repo == NULL)
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "no readable repository has blob '%s'",
				       digest);
	*repo_out = f.repo;
	*size = f.size;
	return 0;
}

/*
 * Every reference of a manifest must be in the repository: blobs as blob
 * links (or manifests: an artifact's config may be one), children as
 * manifests. The first missing one goes to *missing.
 */
/* The size a reference's descriptor gives, or -1 when unchecked. */
static int64_t
ref_size(const berth_meta_put *put, size_t i)
{
	if (i < put->n_blobs)
		return put->blob_sizes ? put->blob_sizes[i] : -1;
	return put->child_sizes ? put->child_sizes[i - put->n_blobs] : -1;
}

static int
check_refs(berth_meta_tx *tx, const char *repo, const berth_meta_put *put,
	   char **missing, berth_error **err)
{
	berth_error *e = NULL;
	size_t i;
	int r;

	if (put->unchecked)
		return 0;
	for (i = 0; i < put->n_blobs + put->n_children; i++) {
		bool blob = i < put->n_blobs;
		const char *d =
			blob ? put->blobs[i] : put->children[i - put->n_blobs];
		int64_t want = ref_size(put, i), size = -1;
		berth_meta_manifest mf = {0};

		r = blob ? tx->ops->blob_get(tx, repo, d, &size, &e)
			 : BERTH_ENOTFOUND;
		if (r == BERTH_ENOTFOUND) {
			berth_error_freep(&e);
			r = tx->ops->manifest_get(tx, repo, d, true, &mf, &e);
			if (r == 0)
				size = mf.size;
			berth_meta_manifest_release(&mf);
		}
		if (r == BERTH_ENOTFOUND) {
			berth_error_free(e);
			*missing = xstrdup(d);
			return berth_error_set(err, BERTH_ENOTFOUND, 0,
					       "%s '%s' is not in repository "
					       "'%s'",
					       blob ? "blob" : "manifest", d,
					       repo);
		}
		if (r < 0)
			return berth_error_move(err, &e, r);
		/* A lying size would break every client that trusts it. */
		if (want >= 0 && size != want)
			return berth_error_set(
				err, BERTH_EPROTO, 0,
				"descriptor of '%s' says %" PRId64
				" bytes, but the %s in repository '%s' has "
				"%" PRId64,
				d, want, blob ? "blob" : "manifest", repo,
				size);
	}
	return 0;
}

static int
manifest_put_tx(berth_meta_tx *tx, const char *repo, const berth_meta_put *put,
		char **missing, berth_error **err)
{
	berth_meta_manifest mf = *put->manifest;
	size_t i;
	int r;

	mf.pushed = now_s();
	if ((r = check_refs(tx, repo, put, missing, err)) < 0 ||
	    (r = tx->ops->repo_add(tx, repo, err)) < 0 ||
	    (r = tx->ops->manifest_set(tx, repo, &mf, err)) < 0)
		return r;
	for (i = 0; i < put->n_blobs + put->n_children; i++) {
		const char *child = i < put->n_blobs
					    ? put->blobs[i]
					    : put->children[i - put->n_blobs];

		r = tx->ops->manifest_ref_add(tx, repo, mf.digest, child, err);
		if (r < 0)
			return r;
	}
	for (i = 0; i < put->n_tags; i++) {
		r = tx->ops->tag_set(tx, repo, put->tags[i], mf.digest,
				     mf.pushed, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int
berth_meta_manifest_put(berth_meta *m, const char *repo,
			const berth_meta_put *put, char **missing,
			berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err);

	if (r < 0)
		return r;
	return tx_end(tx, manifest_put_tx(tx, repo, put, missing, err), err);
}

int
berth_meta_tx_manifest_put(berth_meta_tx *tx, const char *repo,
			   const berth_meta_put *put, char **missing,
			   berth_error **err)
{
	return manifest_put_tx(tx, repo, put, missing, err);
}

int
berth_meta_manifest_get(berth_meta *m, const char *repo, const char *ref,
			bool by_digest, berth_meta_manifest *out,
			berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_READ, err);

	if (r < 0)
		return r;
	r = tx->ops->manifest_get(tx, repo, ref, by_digest, out, err);
	if (r < 0) {
		tx->ops->tx_rollback(tx);
		return r; /* *out untouched */
	}
	r = tx->ops->tx_commit(tx, err);
	if (r < 0 && out != NULL)
		berth_meta_manifest_release(out);
	return r;
}

int
berth_meta_manifest_delete(berth_meta *m, const char *repo, const char *digest,
			   berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err);

	if (r < 0)
		return r;
	r = tx->ops->manifest_remove(tx, repo, digest, err);
	if (r == 0)
		r = tx->ops->tags_remove_digest(tx, repo, digest, err);
	return tx_end(tx, r, err);
}

int
berth_meta_tag_delete(berth_meta *m, const char *repo, const char *tag,
		      berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err);

	if (r < 0)
		return r;
	return tx_end(tx, tx->ops->tag_remove(tx, repo, tag, err), err);
}

int
berth_meta_repo_exists(berth_meta *m, const char *repo, bool *exists,
		       berth_error **err)
{
	berth_meta_tx *tx;
	int r;

	*exists = false;
	r = m->ops->tx_begin(m, &tx, BERTH_META_READ, err);
	if (r < 0)
		return r;
	return tx_end(tx, tx->ops->repo_exists(tx, repo, exists, err), err);
}

static int
tags_tx(berth_meta_tx *tx, const char *repo, const char *last, long n,
	char ***out, bool *more, berth_error **err)
{
	bool exists = false;
	int r = tx->ops->repo_exists(tx, repo, &exists, err);

	if (r < 0)
		return r;
	if (!exists)
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "repository '%s' is unknown", repo);
	return tx->ops->tags_list(tx, repo, last ? last : "", n, out, more,
				  err);
}

int
berth_meta_tags(berth_meta *m, const char *repo, const char *last, long n,
		char ***out, bool *more, berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_READ, err);

	if (r < 0)
		return r;
	r = tags_tx(tx, repo, last, n, out, more, err);
	if (r < 0) {
		tx->ops->tx_rollback(tx);
		return r;
	}
	r = tx->ops->tx_commit(tx, err);
	if (r < 0) {
		berth_strv_free(*out);
		*out = NULL;
	}
	return r;
}

int
berth_meta_catalog(berth_meta *m, const char *last, long n, char ***out,
		   bool *more, berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_READ, err);

	if (r < 0)
		return r;
	r = tx->ops->repos_list(tx, last ? last : "", n, out, more, err);
	if (r < 0) {
		tx->ops->tx_rollback(tx);
		return r;
	}
	r = tx->ops->tx_commit(tx, err);
	if (r < 0) {
		berth_strv_free(*out);
		*out = NULL;
	}
	return r;
}

int
berth_meta_referrers(berth_meta *m, const char *repo, const char *subject,
		     const char *artifact_type, berth_meta_manifest **out,
		     size_t *n, berth_error **err)
{
	berth_meta_tx *tx;
	int r;

	*out = NULL;
	*n = 0;
	r = m->ops->tx_begin(m, &tx, BERTH_META_READ, err);
	if (r < 0)
		return r;
	r = tx->ops->referrers(tx, repo, subject, artifact_type, out, n, err);
	return tx_end(tx, r, err);
}

static int
upload_add_tx(berth_meta_tx *tx, const char *id, const char *repo,
	      const char *client, const berth_meta_upload_caps *caps,
	      berth_error **err)
{
	int64_t by_repo = 0, by_client = 0;
	int r;

	if (caps && (caps->per_repo > 0 || caps->per_client > 0)) {
		r = tx->ops->uploads_count(tx, repo, client, &by_repo,
					   &by_client, err);
		if (r < 0)
			return r;
		if (caps->per_repo > 0 && by_repo >= caps->per_repo)
			return berth_error_set(
				err, BERTH_ETOOMANY, 0,
				"repository '%s' already has %" PRId64
				" upload sessions open, the most allowed",
				repo, by_repo);
		if (caps->per_client > 0 && by_client >= caps->per_client)
			return berth_error_set(
				err, BERTH_ETOOMANY, 0,
				"client %s already has %" PRId64
				" upload sessions open, the most allowed",
				client, by_client);
	}
	return tx->ops->upload_add(tx, id, repo, client, now_s(), err);
}

int
berth_meta_upload_add(berth_meta *m, const char *id, const char *repo,
		      const char *client, const berth_meta_upload_caps *caps,
		      berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err);

	if (r < 0)
		return r;
	return tx_end(tx, upload_add_tx(tx, id, repo, client, caps, err), err);
}

int
berth_meta_upload_get(berth_meta *m, const char *id, char **repo,
		      int64_t *started, berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_READ, err);

	if (r < 0)
		return r;
	return tx_end(tx, tx->ops->upload_get(tx, id, repo, started, err), err);
}

int
berth_meta_upload_remove(berth_meta *m, const char *id, berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err);

	if (r < 0)
		return r;
	return tx_end(tx, tx->ops->upload_remove(tx, id, err), err);
}

int
berth_meta_tx_upload_finish(berth_meta_tx *tx, const char *id, const char *repo,
			    const char *digest, int64_t size, berth_error **err)
{
	berth_error *e = NULL;
	/* A session already gone (purged meanwhile) still links the blob. */
	int r = tx->ops->upload_remove(tx, id, &e);

	if (r == BERTH_ENOTFOUND) {
		berth_error_freep(&e);
		r = 0;
	}
	if (r < 0)
		return berth_error_move(err, &e, r);
	return link_tx(tx, repo, digest, size, err);
}

int
berth_meta_upload_finish(berth_meta *m, const char *id, const char *repo,
			 const char *digest, int64_t size, berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err);

	if (r < 0)
		return r;
	return tx_end(
		tx,
		berth_meta_tx_upload_finish(tx, id, repo, digest, size, err),
		err);
}

int
berth_meta_blob_info(berth_meta *m, const char *repo, const char *digest,
		     int64_t *size, int64_t *seen, berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_READ, err);

	if (r < 0)
		return r;
	return tx_end(tx, tx->ops->blob_info(tx, repo, digest, size, seen, err),
		      err);
}

int
berth_meta_blob_touch(berth_meta *m, const char *repo, const char *digest,
		      int64_t when, berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err);

	if (r < 0)
		return r;
	return tx_end(tx, tx->ops->blob_touch(tx, repo, digest, when, err),
		      err);
}

int
berth_meta_write(berth_meta *m,
		 int (*fn)(berth_meta_tx *tx, void *ud, berth_error **err),
		 void *ud, berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err);

	if (r < 0)
		return r;
	return tx_end(tx, fn(tx, ud, err), err);
}

int
berth_meta_uploads_older(berth_meta *m, int64_t before, char ***ids,
			 berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_READ, err);

	if (r < 0)
		return r;
	r = tx->ops->uploads_older(tx, before, ids, err);
	if (r < 0) {
		tx->ops->tx_rollback(tx);
		return r;
	}
	r = tx->ops->tx_commit(tx, err);
	if (r < 0) {
		berth_strv_free(*ids);
		*ids = NULL;
	}
	return r;
}

int
berth_meta_uploads_of(berth_meta *m, const char *repo, const char *client,
		      char ***ids, berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_READ, err);

	*ids = NULL;
	if (r < 0)
		return r;
	r = tx_end(tx, tx->ops->uploads_of(tx, repo, client, ids, err), err);
	if (r < 0) {
		berth_strv_free(*ids);
		*ids = NULL;
	}
	return r;
}

int
berth_meta_pulls_load(berth_meta *m,
		      void (*fn)(const berth_meta_pull_row *row, void *ud),
		      void *ud, berth_error **err)
{
	berth_meta_tx *tx;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_READ, err);

	if (r < 0)
		return r;
	return tx_end(tx, tx->ops->pulls_each(tx, fn, ud, err), err);
}

int
berth_meta_pulls_save(berth_meta *m, const berth_meta_pull_row *rows, size_t n,
		      berth_error **err)
{
	berth_meta_tx *tx;
	size_t i;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err);

	if (r < 0)
		return r;
	for (i = 0; i < n && r == 0; i++)
		r = tx->ops->pull_set(tx, &rows[i], err);
	return tx_end(tx, r, err);
}

int
berth_meta_pulls_record(berth_meta *m, const berth_meta_pull_time *p, size_t n,
			berth_error **err)
{
	berth_meta_tx *tx;
	size_t i;
	int r;

	if (n == 0)
		return 0;
	r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err);
	if (r < 0)
		return r;
	for (i = 0; i < n && r == 0; i++)
		r = tx->ops->pulled_set(tx, &p[i], err);
	return tx_end(tx, r, err);
}

static void
view_manifest(const berth_meta_manifest *mf, void *ud)
{
	berth_meta_repo_view *v = ud;
	berth_meta_manifest *c;

	v->manifests = xreallocarray(v->manifests, v->n_manifests + 1,
				     sizeof(*v->manifests));
	c = &v->manifests[v->n_manifests++];
	*c = *mf;
	c->digest = xstrdup(mf->digest);
	c->media_type = mf->media_type ? xstrdup(mf->media_type) : NULL;
	c->artifact_type =
		mf->artifact_type ? xstrdup(mf->artifact_type) : NULL;
	c->subject = mf->subject ? xstrdup(mf->subject) : NULL;
	c->annotations = NULL; /* retention does not read them */
}

static void
view_tag(const berth_meta_tag_row *t, void *ud)
{
	berth_meta_repo_view *v = ud;
	berth_meta_tag_row *c;

	v->tags = xreallocarray(v->tags, v->n_tags + 1, sizeof(*v->tags));
	c = &v->tags[v->n_tags++];
	c->tag = xstrdup(t->tag);
	c->digest = xstrdup(t->digest);
	c->updated = t->updated;
	c->pulled = t->pulled;
}

static void
view_ref(const char *digest, const char *child, void *ud)
{
	berth_meta_repo_view *v = ud;

	v->ref_parent = xreallocarray(v->ref_parent, v->n_refs + 1,
				      sizeof(*v->ref_parent));
	v->ref_child = xreallocarray(v->ref_child, v->n_refs + 1,
				     sizeof(*v->ref_child));
	v->ref_parent[v->n_refs] = xstrdup(digest);
	v->ref_child[v->n_refs++] = xstrdup(child);
}

void
berth_meta_repo_view_release(berth_meta_repo_view *v)
{
	size_t i;

	for (i = 0; i < v->n_manifests; i++)
		berth_meta_manifest_release(&v->manifests[i]);
	for (i = 0; i < v->n_tags; i++) {
		free((char *)v->tags[i].tag);
		free((char *)v->tags[i].digest);
	}
	for (i = 0; i < v->n_refs; i++) {
		free(v->ref_parent[i]);
		free(v->ref_child[i]);
	}
	free(v->manifests);
	free(v->tags);
	free(v->ref_parent);
	free(v->ref_child);
	memset(v, 0, sizeof(*v));
}

int
berth_meta_repo_view_read(berth_meta *m, const char *repo,
			  berth_meta_repo_view *out, berth_error **err)
{
	berth_meta_tx *tx;
	int r;

	memset(out, 0, sizeof(*out));
	r = m->ops->tx_begin(m, &tx, BERTH_META_READ, err);
	if (r < 0)
		return r;
	if ((r = tx->ops->manifests_each(tx, repo, view_manifest, out, err)) ==
		    0 &&
	    (r = tx->ops->tags_each(tx, repo, view_tag, out, err)) == 0)
		r = tx->ops->refs_each(tx, repo, view_ref, out, err);
	r = tx_end(tx, r, err);
	if (r < 0)
		berth_meta_repo_view_release(out);
	return r;
}

int
berth_meta_tag_delete_if(berth_meta *m, const char *repo, const char *tag,
			 const char *digest, int64_t updated, berth_error **err)
{
	berth_meta_tx *tx;
	int c;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err);

	if (r < 0)
		return r;
	r = tx->ops->tag_remove_if(tx, repo, tag, digest, updated, err);
	if (r < 0) {
		tx->ops->tx_rollback(tx);
		return r;
	}
	c = tx_end(tx, 0, err);
	return c < 0 ? c : r;
}

static int
manifest_delete_if_tx(berth_meta_tx *tx, const char *repo, const char *digest,
		      int64_t pushed, berth_error **err)
{
	berth_meta_manifest mf = {0};
	berth_error *e = NULL;
	bool used = false;
	int r = tx->ops->manifest_get(tx, repo, digest, true, &mf, &e);

	if (r == BERTH_ENOTFOUND) {
		berth_error_free(e);
		return 0;
	}
	if (r < 0)
		return berth_error_move(err, &e, r);
	r = mf.pushed == pushed;
	berth_meta_manifest_release(&mf);
	if (r == 0)
		return 0; /* pushed again since the plan */
	if ((r = tx->ops->manifest_in_use(tx, repo, digest, &used, err)) < 0)
		return r;
	if (used)
		return 0;
	if ((r = tx->ops->manifest_remove(tx, repo, digest, err)) < 0)
		return r;
	return 1;
}

int
berth_meta_manifest_delete_if(berth_meta *m, const char *repo,
			      const char *digest, int64_t pushed,
			      berth_error **err)
{
	berth_meta_tx *tx;
	int c;
	int r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err);

	if (r < 0)
		return r;
	r = manifest_delete_if_tx(tx, repo, digest, pushed, err);
	if (r < 0) {
		tx->ops->tx_rollback(tx);
		return r;
	}
	c = tx_end(tx, 0, err);
	return c < 0 ? c : r;
}
