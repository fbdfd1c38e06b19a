/*
 * The SQL of the PostgreSQL metadata store's prepared statements: the
 * SQLite store's statements (meta_sqlite.c) in PostgreSQL's dialect, over
 * the tables of meta_pg_schema.c.
 */
#include "server/storage/meta_pg.h"

#define MF_COLS                                                                \
	"digest, media_type, size, artifact_type, subject, annotations, "      \
	"pushed"

const char *const pg_stmt_sql[P_COUNT] = {
	[P_REPO_ADD] = "INSERT INTO repos(name, created) VALUES($1, $2)"
		       " ON CONFLICT DO NOTHING",
	[P_REPO_EXISTS] = "SELECT 1 FROM repos WHERE name = $1",
	[P_BLOB_LINK] = "INSERT INTO blob_links(repo, digest, size, pushed,"
			" seen) VALUES($1, $2, $3, $4, $4)"
			" ON CONFLICT(repo, digest) DO UPDATE SET"
			" pushed = excluded.pushed, seen = excluded.seen",
	[P_BLOB_GET] = "SELECT size, seen FROM blob_links"
		       " WHERE repo = $1 AND digest = $2",
	[P_BLOB_UNLINK] =
		"DELETE FROM blob_links WHERE repo = $1 AND digest = $2",
	[P_BLOB_FIND] = "SELECT repo, size FROM blob_links WHERE digest = $1"
			" ORDER BY repo",
	[P_MF_HAS] = "SELECT 1 FROM manifests WHERE repo = $1 AND digest = $2",
	[P_MF_PUT] = "INSERT INTO manifests(repo, " MF_COLS ")"
		     " VALUES($1, $2, $3, $4, $5, $6, $7, $8)"
		     " ON CONFLICT(repo, digest) DO UPDATE SET"
		     " media_type = excluded.media_type,"
		     " artifact_type = excluded.artifact_type,"
		     " subject = excluded.subject,"
		     " annotations = excluded.annotations,"
		     " pushed = excluded.pushed",
	[P_MF_REF] = "INSERT INTO manifest_refs(repo, digest, child)"
		     " VALUES($1, $2, $3) ON CONFLICT DO NOTHING",
	[P_MF_BY_TAG] =
		"SELECT m.digest, m.media_type, m.size, m.artifact_type,"
		" m.subject, m.annotations, m.pushed FROM tags t"
		" JOIN manifests m ON m.repo = t.repo AND m.digest = t.digest"
		" WHERE t.repo = $1 AND t.tag = $2",
	[P_MF_BY_DIGEST] = "SELECT " MF_COLS " FROM manifests"
			   " WHERE repo = $1 AND digest = $2",
	[P_MF_DEL] = "DELETE FROM manifests WHERE repo = $1 AND digest = $2",
	[P_MF_REFS_DEL] =
		"DELETE FROM manifest_refs WHERE repo = $1 AND digest = $2",
	[P_TAG_SET] = "INSERT INTO tags(repo, tag, digest, updated)"
		      " VALUES($1, $2, $3, $4) ON CONFLICT(repo, tag)"
		      " DO UPDATE SET digest = excluded.digest,"
		      " updated = excluded.updated",
	[P_TAG_DEL] = "DELETE FROM tags WHERE repo = $1 AND tag = $2",
	[P_TAGS_DEL_DIGEST] =
		"DELETE FROM tags WHERE repo = $1 AND digest = $2",
	/* LIMIT NULL is no limit. */
	[P_TAGS_LIST] = "SELECT tag FROM tags WHERE repo = $1 AND tag > $2"
			" ORDER BY tag LIMIT $3::bigint",
	[P_CATALOG] = "SELECT name FROM repos WHERE name > $1 ORDER BY name"
		      " LIMIT $2::bigint",
	[P_REFERRERS] = "SELECT " MF_COLS " FROM manifests"
			" WHERE repo = $1 AND subject = $2"
			" AND ($3::text IS NULL OR artifact_type = $3)"
			" ORDER BY pushed, digest",
	[P_UP_ADD] = "INSERT INTO uploads(id, repo, started, client)"
		     " VALUES($1, $2, $3, $4)",
	[P_UP_COUNT] = "SELECT count(*) FILTER (WHERE repo = $1),"
		       " count(*) FILTER (WHERE client = $2) FROM uploads",
	[P_UP_GET] = "SELECT repo, started FROM uploads WHERE id = $1",
	[P_UP_DEL] = "DELETE FROM uploads WHERE id = $1",
	[P_UP_OLDER] = "SELECT id FROM uploads WHERE started < $1",
	[P_PULL_PUT] = "INSERT INTO pull_counts(key, window_ms, last_slot,"
		       " counts) VALUES($1, $2, $3, $4) ON CONFLICT(key)"
		       " DO UPDATE SET window_ms = excluded.window_ms,"
		       " last_slot = excluded.last_slot,"
		       " counts = excluded.counts",
	[P_PULL_DEL] = "DELETE FROM pull_counts WHERE key = $1",
	[P_PULL_ALL] = "SELECT key, window_ms, last_slot, counts"
		       " FROM pull_counts",
	[P_PULL_GET] = "SELECT key, window_ms, last_slot, counts"
		       " FROM pull_counts WHERE key = $1",
	[P_BLOB_TOUCH] = "UPDATE blob_links SET seen = GREATEST(seen, $3)"
			 " WHERE repo = $1 AND digest = $2",
	[P_GC_LINKS] = "SELECT digest, size, seen FROM blob_links"
		       " WHERE repo = $1",
	[P_GC_USERS] =
		"SELECT 'l', repo, NULL::text FROM blob_links WHERE digest = $1"
		" UNION ALL SELECT 'm', repo, digest FROM manifests"
		" WHERE digest = $1"
		" UNION ALL SELECT 'r', repo, digest FROM manifest_refs"
		" WHERE child = $1",
	[P_GC_USES] =
		"SELECT 'l', repo, NULL::text, digest FROM blob_links"
		" UNION ALL SELECT 'm', repo, digest, digest FROM manifests"
		" UNION ALL SELECT 'r', repo, digest, child"
		" FROM manifest_refs",
	[P_MF_ALL] = "SELECT " MF_COLS ", pulled FROM manifests"
		     " WHERE repo = $1 ORDER BY digest",
	[P_TAGS_ALL] = "SELECT tag, digest, updated, pulled FROM tags"
		       " WHERE repo = $1 ORDER BY tag",
	[P_REFS_ALL] = "SELECT digest, child FROM manifest_refs"
		       " WHERE repo = $1",
	[P_MF_PULLED] = "UPDATE manifests SET pulled = $3"
			" WHERE repo = $1 AND digest = $2 AND pulled < $3",
	[P_TAG_PULLED] = "UPDATE tags SET pulled = $3"
			 " WHERE repo = $1 AND tag = $2 AND pulled < $3",
	[P_TAG_DEL_IF] = "DELETE FROM tags WHERE repo = $1 AND tag = $2"
			 " AND digest = $3 AND updated = $4",
	[P_MF_IN_USE] =
		"SELECT EXISTS(SELECT 1 FROM tags WHERE repo = $1"
		" AND digest = $2) OR EXISTS(SELECT 1 FROM manifest_refs"
		" WHERE repo = $1 AND child = $2) OR EXISTS(SELECT 1"
		" FROM manifests WHERE repo = $1 AND subject = $2)",
};
