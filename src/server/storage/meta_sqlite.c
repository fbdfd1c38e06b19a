/*
 * The metadata store on SQLite (the interface of meta.h): WAL journal (readers
 * never wait for the writer), synchronous=FULL (a committed push survives power
 * loss), a busy timeout and BEGIN IMMEDIATE for writes (two pushers queue
 * instead of failing), and a pool of connections with prepared statements kept
 * per connection.
 */
#include "server/storage/meta_sqlite.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "berth/log.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define META_BUSY_MS 30000

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS repos("
	" name TEXT PRIMARY KEY, created INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS blob_links("
	" repo TEXT NOT NULL, digest TEXT NOT NULL, size INTEGER NOT NULL,"
	" pushed INTEGER NOT NULL, seen INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(repo, digest)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS blob_links_digest ON blob_links(digest);"
	"CREATE TABLE IF NOT EXISTS manifests("
	" repo TEXT NOT NULL, digest TEXT NOT NULL, media_type TEXT NOT NULL,"
	" size INTEGER NOT NULL, artifact_type TEXT, subject TEXT,"
	" annotations TEXT, pushed INTEGER NOT NULL,"
	" pulled INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(repo, digest)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS manifests_digest ON manifests(digest);"
	"CREATE INDEX IF NOT EXISTS manifests_subject"
	" ON manifests(repo, subject) WHERE subject IS NOT NULL;"
	"CREATE TABLE IF NOT EXISTS manifest_refs("
	" repo TEXT NOT NULL, digest TEXT NOT NULL, child TEXT NOT NULL,"
	" PRIMARY KEY(repo, digest, child)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS manifest_refs_child"
	" ON manifest_refs(child);"
	"CREATE TABLE IF NOT EXISTS tags("
	" repo TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL,"
	" updated INTEGER NOT NULL, pulled INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(repo, tag)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS tags_digest ON tags(repo, digest);"
	"CREATE TABLE IF NOT EXISTS uploads("
	" id TEXT PRIMARY KEY, repo TEXT NOT NULL, started INTEGER NOT NULL,"
	" client TEXT NOT NULL DEFAULT '') WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS pull_counts("
	" key TEXT PRIMARY KEY, window_ms INTEGER NOT NULL,"
	" last_slot INTEGER NOT NULL, counts TEXT NOT NULL) WITHOUT ROWID;"
	"PRAGMA user_version = 4;";

/* From each older version to the next; [v] upgrades version v. A version
 * without a step here changed nothing of this store's. */
static const char *const migrations[] = {
	[1] = "ALTER TABLE uploads ADD COLUMN client TEXT NOT NULL DEFAULT '';"
	      "PRAGMA user_version = 2;",
	/* 3: garbage collection: when a link was last pushed, mounted or
	 * checked (its grace period), and who uses a digest, by index. */
	[2] = "ALTER TABLE blob_links ADD COLUMN seen INTEGER NOT NULL"
	      " DEFAULT 0;"
	      "UPDATE blob_links SET seen = pushed;"
	      "CREATE INDEX IF NOT EXISTS manifests_digest"
	      " ON manifests(digest);"
	      "CREATE INDEX IF NOT EXISTS manifest_refs_child"
	      " ON manifest_refs(child);"
	      "PRAGMA user_version = 3;",
	/* 4: when tags and manifests were last pulled (retention). */
	[3] = "ALTER TABLE manifests ADD COLUMN pulled INTEGER NOT NULL"
	      " DEFAULT 0;"
	      "ALTER TABLE tags ADD COLUMN pulled INTEGER NOT NULL DEFAULT 0;"
	      "PRAGMA user_version = 4;",
};

#define SCHEMA_VERSION 4

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_BEGIN_READ] = "BEGIN",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_REPO_ADD] =
		"INSERT OR IGNORE INTO repos(name, created) VALUES(?1, ?2)",
	[S_REPO_EXISTS] = "SELECT 1 FROM repos WHERE name = ?1",
	[S_BLOB_LINK] = "INSERT INTO blob_links(repo, digest, size, pushed,"
			" seen) VALUES(?1, ?2, ?3, ?4, ?4)"
			" ON CONFLICT(repo, digest) DO UPDATE SET"
			" pushed = excluded.pushed, seen = excluded.seen",
	[S_BLOB_GET] = "SELECT size, seen FROM blob_links"
		       " WHERE repo = ?1 AND digest = ?2",
	[S_BLOB_UNLINK] =
		"DELETE FROM blob_links WHERE repo = ?1 AND digest = ?2",
	[S_BLOB_FIND] = "SELECT repo, size FROM blob_links WHERE digest = ?1"
			" ORDER BY repo",
	[S_MF_HAS] = "SELECT 1 FROM manifests WHERE repo = ?1 AND digest = ?2",
	[S_MF_PUT] = "INSERT INTO manifests(repo, " MF_COLS ")"
		     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
		     " ON CONFLICT(repo, digest) DO UPDATE SET"
		     " media_type = excluded.media_type,"
		     " artifact_type = excluded.artifact_type,"
		     " subject = excluded.subject,"
		     " annotations = excluded.annotations,"
		     " pushed = excluded.pushed",
	[S_MF_REF] = "INSERT OR IGNORE INTO manifest_refs(repo, digest, child)"
		     " VALUES(?1, ?2, ?3)",
	[S_MF_BY_TAG] =
		"SELECT m.digest, m.media_type, m.size, m.artifact_type,"
		" m.subject, m.annotations, m.pushed FROM tags t"
		" JOIN manifests m ON m.repo = t.repo AND m.digest = t.digest"
		" WHERE t.repo = ?1 AND t.tag = ?2",
	[S_MF_BY_DIGEST] = "SELECT " MF_COLS " FROM manifests"
			   " WHERE repo = ?1 AND digest = ?2",
	[S_MF_DEL] = "DELETE FROM manifests WHERE repo = ?1 AND digest = ?2",
	[S_MF_REFS_DEL] =
		"DELETE FROM manifest_refs WHERE repo = ?1 AND digest = ?2",
	[S_TAG_SET] = "INSERT INTO tags(repo, tag, digest, updated)"
		      " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(repo, tag)"
		      " DO UPDATE SET digest = excluded.digest,"
		      " updated = excluded.updated",
	[S_TAG_DEL] = "DELETE FROM tags WHERE repo = ?1 AND tag = ?2",
	[S_TAGS_DEL_DIGEST] =
		"DELETE FROM tags WHERE repo = ?1 AND digest = ?2",
	[S_TAGS_LIST] = "SELECT tag FROM tags WHERE repo = ?1 AND tag > ?2"
			" ORDER BY tag LIMIT ?3",
	[S_CATALOG] = "SELECT name FROM repos WHERE name > ?1 ORDER BY name"
		      " LIMIT ?2",
	[S_REFERRERS] = "SELECT " MF_COLS " FROM manifests"
			" WHERE repo = ?1 AND subject = ?2"
			" AND (?3 IS NULL OR artifact_type = ?3)"
			" ORDER BY pushed, digest",
	[S_UP_ADD] = "INSERT INTO uploads(id, repo, started, client)"
		     " VALUES(?1, ?2, ?3, ?4)",
	[S_UP_COUNT] = "SELECT count(*) FILTER (WHERE repo = ?1),"
		       " count(*) FILTER (WHERE client = ?2) FROM uploads",
	[S_UP_GET] = "SELECT repo, started FROM uploads WHERE id = ?1",
	[S_UP_DEL] = "DELETE FROM uploads WHERE id = ?1",
	[S_UP_OLDER] = "SELECT id FROM uploads WHERE started < ?1",
	[S_UP_OF] = "SELECT id FROM uploads WHERE repo = ?1 OR client = ?2",
	[S_PULL_PUT] = "INSERT INTO pull_counts(key, window_ms, last_slot,"
		       " counts) VALUES(?1, ?2, ?3, ?4) ON CONFLICT(key)"
		       " DO UPDATE SET window_ms = excluded.window_ms,"
		       " last_slot = excluded.last_slot,"
		       " counts = excluded.counts",
	[S_PULL_DEL] = "DELETE FROM pull_counts WHERE key = ?1",
	[S_PULL_ALL] = "SELECT key, window_ms, last_slot, counts"
		       " FROM pull_counts",
	[S_BLOB_TOUCH] = "UPDATE blob_links SET seen = max(seen, ?3)"
			 " WHERE repo = ?1 AND digest = ?2",
	[S_GC_LINKS] = "SELECT digest, size, seen FROM blob_links"
		       " WHERE repo = ?1",
	[S_GC_USERS] =
		"SELECT 'l', repo, NULL FROM blob_links WHERE digest = ?1"
		" UNION ALL SELECT 'm', repo, digest FROM manifests"
		" WHERE digest = ?1"
		" UNION ALL SELECT 'r', repo, digest FROM manifest_refs"
		" WHERE child = ?1",
	[S_GC_USES] =
		"SELECT 'l', repo, NULL, digest FROM blob_links"
		" UNION ALL SELECT 'm', repo, digest, digest FROM manifests"
		" UNION ALL SELECT 'r', repo, digest, child"
		" FROM manifest_refs",
	[S_MF_ALL] = "SELECT " MF_COLS ", pulled FROM manifests"
		     " WHERE repo = ?1 ORDER BY digest",
	[S_TAGS_ALL] = "SELECT tag, digest, updated, pulled FROM tags"
		       " WHERE repo = ?1 ORDER BY tag",
	[S_REFS_ALL] = "SELECT digest, child FROM manifest_refs"
		       " WHERE repo = ?1",
	[S_MF_PULLED] = "UPDATE manifests SET pulled = ?3"
			" WHERE repo = ?1 AND digest = ?2 AND pulled < ?3",
	[S_TAG_PULLED] = "UPDATE tags SET pulled = ?3"
			 " WHERE repo = ?1 AND tag = ?2 AND pulled < ?3",
	[S_TAG_DEL_IF] = "DELETE FROM tags WHERE repo = ?1 AND tag = ?2"
			 " AND digest = ?3 AND updated = ?4",
	[S_MF_IN_USE] =
		"SELECT EXISTS(SELECT 1 FROM tags WHERE repo = ?1"
		" AND digest = ?2) OR EXISTS(SELECT 1 FROM manifest_refs"
		" WHERE repo = ?1 AND child = ?2) OR EXISTS(SELECT 1"
		" FROM manifests WHERE repo = ?1 AND subject = ?2)",
};

static void
conn_close(meta_conn *c)
{
	int i;

	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	memset(c, 0, sizeof(*c));
}

/* The first column of the first row of sql, as an integer or text. */
static int
query_one(sqlite3 *db, const char *sql, sqlite3_int64 *n, char *text,
	  size_t size)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		if (n)
			*n = sqlite3_column_int64(s, 0);
		if (text)
			snprintf(text, size, "%s",
				 (const char *)sqlite3_column_text(s, 0) ?: "");
	}
	sqlite3_finalize(s);
	return rc;
}

/*
 * Brings the schema to SCHEMA_VERSION. A database already there is only
 * read: the server must start on a full (or read-only) disk to serve
 * pulls, so nothing is written unless something changes.
 */
static int
conn_init(meta_conn *c, char **emsg)
{
	sqlite3_int64 v = 0;
	int rc;

	if ((rc = query_one(c->db, "PRAGMA user_version", &v, NULL, 0)) !=
	    SQLITE_OK)
		return rc;
	if (v == 0)
		return sqlite3_exec(c->db, schema, NULL, NULL, emsg);
	for (; v < SCHEMA_VERSION; v++) {
		const char *step = (size_t)v < BERTH_ARRAY_SIZE(migrations)
					   ? migrations[v]
					   : NULL;
		_cleanup_free_ char *bump = NULL;

		if (step == NULL)
			step = bump = xasprintf("PRAGMA user_version = %lld;",
						(long long)v + 1);
		if ((rc = sqlite3_exec(c->db, step, NULL, NULL, emsg)) !=
		    SQLITE_OK)
			return rc;
	}
	if (v > SCHEMA_VERSION) {
		*emsg = sqlite3_mprintf("schema version %lld is newer than "
					"this berth's (%d)",
					(long long)v, SCHEMA_VERSION);
		return SQLITE_ERROR;
	}
	return SQLITE_OK;
}

/* WAL, unless it is already: setting it again would write. */
static int
conn_wal(meta_conn *c, char **emsg)
{
	char mode[16] = "";
	int rc = query_one(c->db, "PRAGMA journal_mode", NULL, mode,
			   sizeof(mode));

	if (rc != SQLITE_OK || strcmp(mode, "wal") == 0)
		return rc;
	return sqlite3_exec(c->db, "PRAGMA journal_mode = WAL;", NULL, NULL,
			    emsg);
}

/* "file:" URI of path, for opening it with URI parameters. */
static char *
file_uri(const char *path)
{
	berth_buf b;

	berth_buf_init(&b, 0);
	berth_buf_puts(&b, "file:", NULL);
	for (const char *p = path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#') {
			char esc[4];

			snprintf(esc, sizeof(esc), "%%%02X", (unsigned char)*p);
			berth_buf_puts(&b, esc, NULL);
		} else {
			berth_buf_put(&b, p, 1, NULL);
		}
	}
	return berth_buf_detach(&b);
}

/*
 * Opens one connection. Read-write, the schema brought up to date (init),
 * or, when the storage cannot be written, read-only (immutable: no -shm
 * or -wal file is needed, so a read-only or full disk still serves pulls).
 */
static int
conn_open(meta_conn *c, const char *path, bool init, bool read_only,
	  berth_error **err)
{
	_cleanup_free_ char *uri = read_only ? file_uri(path) : NULL;
	char *emsg = NULL;
	int persist = 1;
	int i;

	if (sqlite3_open_v2(read_only ? uri : path, &c->db,
			    read_only ? SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
						SQLITE_OPEN_NOMUTEX
				      : SQLITE_OPEN_READWRITE |
						SQLITE_OPEN_CREATE |
						SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		berth_error_set(err, BERTH_EIO, errno,
				"cannot open metadata store '%s': %s", path,
				c->db ? sqlite3_errmsg(c->db)
				      : "out of memory");
		conn_close(c);
		return BERTH_EIO;
	}
	sqlite3_busy_timeout(c->db, META_BUSY_MS);
	/* Keep the -wal and -shm files when closing: recreating them at
	 * the next start needs free space, which a full disk lacks. */
	sqlite3_file_control(c->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	if ((!read_only && conn_wal(c, &emsg) != SQLITE_OK) ||
	    sqlite3_exec(c->db,
			 "PRAGMA synchronous = FULL;"
			 "PRAGMA foreign_keys = OFF;",
			 NULL, NULL, &emsg) != SQLITE_OK ||
	    (init && !read_only && conn_init(c, &emsg) != SQLITE_OK)) {
		berth_error_set(err, BERTH_EIO, 0,
				"cannot prepare metadata store '%s': %s", path,
				emsg ? emsg : sqlite3_errmsg(c->db));
		sqlite3_free(emsg);
		conn_close(c);
		return BERTH_EIO;
	}
	for (i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(c->db, stmt_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &c->st[i],
				       NULL) != SQLITE_OK) {
			meta_db_error(err, c->db, stmt_sql[i]);
			conn_close(c);
			return BERTH_EIO;
		}
	}
	return 0;
}

static const struct berth_meta_ops sqlite_ops;

static void
db_free(berth_meta *bm)
{
	meta_db *m = (meta_db *)bm;
	int i;

	for (i = 0; i < m->n_conns; i++)
		conn_close(&m->conns[i]);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	free(m->conns);
	free(m->path);
	free(m);
}

static int
pool_open(meta_db *m, const char *path, int conns, bool read_only,
	  berth_error **err)
{
	int i;

	for (i = 0; i < conns; i++) {
		if (conn_open(&m->conns[i], path, i == 0, read_only, err) < 0) {
			for (m->n_conns = i; i > 0; i--)
				conn_close(&m->conns[i - 1]);
			m->n_conns = 0;
			m->free_list = NULL;
			return BERTH_EIO;
		}
		m->conns[i].tx.ops = &sqlite_ops;
		m->conns[i].m = m;
		m->conns[i].next_free = m->free_list;
		m->free_list = &m->conns[i];
	}
	m->n_conns = conns;
	return 0;
}

int
berth_meta_sqlite_open(berth_meta **out, const char *path, int conns,
		       berth_error **err)
{
	berth_error *e = NULL;
	meta_db *m;

	if (conns < 1)
		conns = 1;
	m = xcalloc(1, sizeof(*m));
	m->base.ops = &sqlite_ops;
	m->path = xstrdup(path);
	m->conns = xcalloc((size_t)conns, sizeof(*m->conns));
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	if (pool_open(m, path, conns, false, &e) == 0 &&
	    sqlite3_db_readonly(m->conns[0].db, "main") == 1) {
		/* SQLite fell back to reading a file it cannot write. */
		berth_log(BERTH_LOG_WARN,
			  "metadata store '%s' cannot be written; serving it "
			  "read-only: pulls work, pushes are refused until "
			  "the server restarts with writable storage",
			  path);
	} else if (m->n_conns == 0) {
		/* A store that exists but cannot be written (a read-only or
		 * full disk) still serves what it has. */
		if (access(path, R_OK) != 0 ||
		    pool_open(m, path, conns, true, NULL) < 0) {
			db_free(&m->base);
			return berth_error_move(err, &e, BERTH_EIO);
		}
		berth_log(BERTH_LOG_WARN,
			  "%s; serving it read-only: pulls work, pushes are "
			  "refused until the server restarts with writable "
			  "storage",
			  e->msg);
		berth_error_free(e);
	}
	*out = &m->base;
	return 0;
}

/* A connection of the pool, waiting for one when all are in use. */
static meta_conn *
conn_get(meta_db *m)
{
	meta_conn *c;

	pthread_mutex_lock(&m->mu);
	while (m->free_list == NULL)
		pthread_cond_wait(&m->cv, &m->mu);
	c = m->free_list;
	m->free_list = c->next_free;
	pthread_mutex_unlock(&m->mu);
	return c;
}

static void
conn_put(meta_conn *c)
{
	meta_db *m = c->m;

	pthread_mutex_lock(&m->mu);
	c->next_free = m->free_list;
	m->free_list = c;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

/*
 * Writers BEGIN IMMEDIATE, so two pushers queue on the busy timeout
 * instead of failing on an upgrade; readers BEGIN (deferred), a snapshot
 * of the WAL that never waits for the writer.
 */
static int
tx_begin(berth_meta *bm, berth_meta_tx **out, berth_meta_mode mode,
	 berth_error **err)
{
	meta_conn *c = conn_get((meta_db *)bm);
	int r = meta_exec_done(
		c,
		meta_stmt(c, mode == BERTH_META_WRITE ? S_BEGIN : S_BEGIN_READ),
		err);

	if (r < 0) {
		conn_put(c);
		return r;
	}
	*out = &c->tx;
	return 0;
}

static int
tx_commit(berth_meta_tx *tx, berth_error **err)
{
	meta_conn *c = meta_tx_conn(tx);
	int r = meta_exec_done(c, meta_stmt(c, S_COMMIT), err);

	if (r < 0 && !sqlite3_get_autocommit(c->db))
		meta_exec_done(c, meta_stmt(c, S_ROLLBACK), NULL);
	conn_put(c);
	return r;
}

static void
tx_rollback(berth_meta_tx *tx)
{
	meta_conn *c = meta_tx_conn(tx);

	if (!sqlite3_get_autocommit(c->db))
		meta_exec_done(c, meta_stmt(c, S_ROLLBACK), NULL);
	conn_put(c);
}

static const struct berth_meta_ops sqlite_ops = {
	.tx_begin = tx_begin,
	.tx_commit = tx_commit,
	.tx_rollback = tx_rollback,
	.repo_add = meta_sqlite_repo_add,
	.repo_exists = meta_sqlite_repo_exists,
	.repos_list = meta_sqlite_repos_list,
	.blob_link = meta_sqlite_blob_link,
	.blob_get = meta_sqlite_blob_get,
	.blob_unlink = meta_sqlite_blob_unlink,
	.blob_repos = meta_sqlite_blob_repos,
	.manifest_set = meta_sqlite_manifest_set,
	.manifest_ref_add = meta_sqlite_manifest_ref_add,
	.manifest_get = meta_sqlite_manifest_get,
	.manifest_remove = meta_sqlite_manifest_remove,
	.referrers = meta_sqlite_referrers,
	.tag_set = meta_sqlite_tag_set,
	.tag_remove = meta_sqlite_tag_remove,
	.tags_remove_digest = meta_sqlite_tags_remove_digest,
	.tags_list = meta_sqlite_tags_list,
	.upload_add = meta_sqlite_upload_add,
	.uploads_count = meta_sqlite_uploads_count,
	.upload_get = meta_sqlite_upload_get,
	.upload_remove = meta_sqlite_upload_remove,
	.uploads_older = meta_sqlite_uploads_older,
	.uploads_of = meta_sqlite_uploads_of,
	.pulls_each = meta_sqlite_pulls_each,
	.pull_set = meta_sqlite_pull_set,
	.blob_info = meta_sqlite_blob_info,
	.blob_touch = meta_sqlite_blob_touch,
	.links_each = meta_sqlite_links_each,
	.digest_users = meta_sqlite_digest_users,
	.uses_each = meta_sqlite_uses_each,
	.manifests_each = meta_sqlite_manifests_each,
	.tags_each = meta_sqlite_tags_each,
	.refs_each = meta_sqlite_refs_each,
	.pulled_set = meta_sqlite_pulled_set,
	.tag_remove_if = meta_sqlite_tag_remove_if,
	.manifest_in_use = meta_sqlite_manifest_in_use,
	.free = db_free,
};
