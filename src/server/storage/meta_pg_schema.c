/*
 * The PostgreSQL metadata store's schema and its migrations. Every
 * instance runs them at start, in one transaction under an advisory lock:
 * instances starting together migrate once, and a crash mid-way leaves the
 * old schema. A schema newer than this berth's is refused, never used.
 */
#include "server/storage/meta_pg.h"

#include <stdlib.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* The advisory lock of migrations (the writers' is in meta_pg.c). */
#define MIGRATE_LOCK "SELECT pg_advisory_xact_lock(1650815604, 2)"

/* [v] brings version v to v + 1. Text compares in byte order (COLLATE
 * "C"), as the registry API's paging wants, whatever the database's
 * locale. */
static const char *const steps[] = {
	"CREATE TABLE repos(name text COLLATE \"C\" PRIMARY KEY,"
	" created bigint NOT NULL);"
	"CREATE TABLE blob_links(repo text COLLATE \"C\" NOT NULL,"
	" digest text COLLATE \"C\" NOT NULL, size bigint NOT NULL,"
	" pushed bigint NOT NULL, seen bigint NOT NULL DEFAULT 0,"
	" PRIMARY KEY(repo, digest));"
	"CREATE INDEX blob_links_digest ON blob_links(digest);"
	"CREATE TABLE manifests(repo text COLLATE \"C\" NOT NULL,"
	" digest text COLLATE \"C\" NOT NULL, media_type text NOT NULL,"
	" size bigint NOT NULL, artifact_type text, subject text COLLATE \"C\","
	" annotations text, pushed bigint NOT NULL,"
	" pulled bigint NOT NULL DEFAULT 0, PRIMARY KEY(repo, digest));"
	"CREATE INDEX manifests_digest ON manifests(digest);"
	"CREATE INDEX manifests_subject ON manifests(repo, subject)"
	" WHERE subject IS NOT NULL;"
	"CREATE TABLE manifest_refs(repo text COLLATE \"C\" NOT NULL,"
	" digest text COLLATE \"C\" NOT NULL, child text COLLATE \"C\" NOT "
	"NULL,"
	" PRIMARY KEY(repo, digest, child));"
	"CREATE INDEX manifest_refs_child ON manifest_refs(child);"
	"CREATE TABLE tags(repo text COLLATE \"C\" NOT NULL,"
	" tag text COLLATE \"C\" NOT NULL, digest text COLLATE \"C\" NOT NULL,"
	" updated bigint NOT NULL, pulled bigint NOT NULL DEFAULT 0,"
	" PRIMARY KEY(repo, tag));"
	"CREATE INDEX tags_digest ON tags(repo, digest);"
	"CREATE TABLE uploads(id text COLLATE \"C\" PRIMARY KEY,"
	" repo text COLLATE \"C\" NOT NULL, started bigint NOT NULL,"
	" client text NOT NULL DEFAULT '');"
	"CREATE INDEX uploads_started ON uploads(started);"
	"CREATE TABLE pull_counts(key text COLLATE \"C\" PRIMARY KEY,"
	" window_ms bigint NOT NULL, last_slot bigint NOT NULL,"
	" counts text NOT NULL);",
};

#define SCHEMA_VERSION ((int)BERTH_ARRAY_SIZE(steps))

/* Runs sql (several statements); false with *err on failure. */
static bool
exec_ok(PGconn *pc, const char *shown, const char *sql, const char *what,
	berth_error **err)
{
	PGresult *res = PQexec(pc, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		PQclear(res);
		return true;
	}
	pg_fail(pc, shown, res, what, err);
	PQclear(res);
	return false;
}

/* The stored version (0: a new database); < 0 with *err. */
static int
read_version(PGconn *pc, const char *shown, berth_error **err)
{
	PGresult *res = PQexec(pc, "SELECT version FROM berth_schema");
	int v;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		int r = pg_fail(pc, shown, res, "reading the schema version",
				err);

		PQclear(res);
		return r;
	}
	v = PQntuples(res) > 0 ? atoi(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return v;
}

static int
migrate_locked(PGconn *pc, const char *shown, berth_error **err)
{
	_cleanup_free_ char *bump = NULL;
	int v;

	if (!exec_ok(pc, shown,
		     "CREATE TABLE IF NOT EXISTS berth_schema("
		     " one boolean PRIMARY KEY DEFAULT true CHECK (one),"
		     " version integer NOT NULL)",
		     "creating the schema version table", err))
		return BERTH_EIO;
	if ((v = read_version(pc, shown, err)) < 0)
		return v;
	if (v > SCHEMA_VERSION) {
		berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				"metadata database '%s' has schema version %d, "
				"newer than this berth's (%d)",
				shown, v, SCHEMA_VERSION);
		berth_error_hint(err, "a newer berth has migrated it: run that "
				      "berth serve (or a newer one); an older "
				      "one cannot use it");
		return BERTH_EUNSUPPORTED;
	}
	for (; v < SCHEMA_VERSION; v++)
		if (!exec_ok(pc, shown, steps[v], "migrating the schema", err))
			return BERTH_EIO;
	bump = xasprintf("INSERT INTO berth_schema(version) VALUES(%d)"
			 " ON CONFLICT(one) DO UPDATE SET version = %d"
			 " WHERE berth_schema.version <> %d",
			 SCHEMA_VERSION, SCHEMA_VERSION, SCHEMA_VERSION);
	return exec_ok(pc, shown, bump, "recording the schema version", err)
		       ? 0
		       : BERTH_EIO;
}

int
pg_schema_migrate(PGconn *pc, const char *shown, berth_error **err)
{
	int r;

	if (!exec_ok(pc, shown, "BEGIN; " MIGRATE_LOCK,
		     "locking the schema for migration", err))
		return BERTH_EIO;
	r = migrate_locked(pc, shown, err);
	if (r < 0) {
		PQclear(PQexec(pc, "ROLLBACK"));
		return r;
	}
	if (!exec_ok(pc, shown, "COMMIT", "committing the migration", err))
		return BERTH_EIO;
	return 0;
}
