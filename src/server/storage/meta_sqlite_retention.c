/*
 * The SQLite metadata store, part five: what retention and garbage
 * collection read (a repository's manifests, tags and references),
 * retention's conditional deletes,
 * and the pull times the server records in batches.
 */
#include "server/storage/meta_sqlite.h"

#include "util/error.h"

int
meta_sqlite_manifests_each(berth_meta_tx *tx, const char *repo,
			   void (*fn)(const berth_meta_manifest *mf, void *ud),
			   void *ud, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_MF_ALL);
	int rc;

	meta_bind_text(s, 1, repo);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		/* Borrowed: valid until the next step. */
		berth_meta_manifest mf = {
			.digest = (char *)sqlite3_column_text(s, 0),
			.media_type = (char *)sqlite3_column_text(s, 1),
			.size = sqlite3_column_int64(s, 2),
			.artifact_type = (char *)sqlite3_column_text(s, 3),
			.subject = (char *)sqlite3_column_text(s, 4),
			.pushed = sqlite3_column_int64(s, 6),
			.pulled = sqlite3_column_int64(s, 7),
		};

		if (mf.digest)
			fn(&mf, ud);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return meta_db_error(err, c->db, "listing manifests");
	return 0;
}

int
meta_sqlite_tags_each(berth_meta_tx *tx, const char *repo,
		      void (*fn)(const berth_meta_tag_row *t, void *ud),
		      void *ud, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_TAGS_ALL);
	int rc;

	meta_bind_text(s, 1, repo);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		berth_meta_tag_row t = {
			.tag = (const char *)sqlite3_column_text(s, 0),
			.digest = (const char *)sqlite3_column_text(s, 1),
			.updated = sqlite3_column_int64(s, 2),
			.pulled = sqlite3_column_int64(s, 3),
		};

		if (t.tag && t.digest)
			fn(&t, ud);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return meta_db_error(err, c->db, "listing tags");
	return 0;
}

int
meta_sqlite_refs_each(berth_meta_tx *tx, const char *repo,
		      void (*fn)(const char *digest, const char *child,
				 void *ud),
		      void *ud, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_REFS_ALL);
	int rc;

	meta_bind_text(s, 1, repo);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(s, 0);
		const char *child = (const char *)sqlite3_column_text(s, 1);

		if (d && child)
			fn(d, child, ud);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return meta_db_error(err, c->db, "listing manifest references");
	return 0;
}

int
meta_sqlite_pulled_set(berth_meta_tx *tx, const berth_meta_pull_time *p,
		       berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, p->tag ? S_TAG_PULLED : S_MF_PULLED);

	meta_bind_text(s, 1, p->repo);
	meta_bind_text(s, 2, p->tag ? p->tag : p->digest);
	sqlite3_bind_int64(s, 3, p->when);
	return meta_exec_done(c, s, err);
}

int
meta_sqlite_tag_remove_if(berth_meta_tx *tx, const char *repo, const char *tag,
			  const char *digest, int64_t updated,
			  berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_TAG_DEL_IF);

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, tag);
	meta_bind_text(s, 3, digest);
	sqlite3_bind_int64(s, 4, updated);
	return meta_delete_one(c, s, err);
}

int
meta_sqlite_manifest_in_use(berth_meta_tx *tx, const char *repo,
			    const char *digest, bool *used, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	sqlite3_stmt *s = meta_stmt(c, S_MF_IN_USE);
	int rc, r = 0;

	meta_bind_text(s, 1, repo);
	meta_bind_text(s, 2, digest);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*used = sqlite3_column_int(s, 0) != 0;
	else
		r = meta_db_error(err, c->db, "looking up a manifest's users");
	sqlite3_reset(s);
	return r;
}
