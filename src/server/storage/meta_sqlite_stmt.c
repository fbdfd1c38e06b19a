/*
 * The statement helpers every file of the SQLite metadata store uses:
 * errors, binding, stepping, collecting. Below the rest: they call nothing
 * of the store's own.
 */
#include "server/storage/meta_sqlite.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "util/error.h"
#include "util/xalloc.h"

int
meta_db_error(berth_error **err, sqlite3 *db, const char *what)
{
	int rc = sqlite3_extended_errcode(db);
	berth_code code = BERTH_EIO;

	int sys = 0;

	if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
		code = BERTH_ECORRUPT;
	/* As the file system would say it, so that the server answers a
	 * full or read-only disk as such (srv_storage_full). */
	if ((rc & 0xff) == SQLITE_FULL)
		sys = ENOSPC;
	else if ((rc & 0xff) == SQLITE_READONLY)
		sys = EROFS;
	return berth_error_set(err, code, sys, "metadata store: %s: %s", what,
			       sqlite3_errmsg(db));
}

/* A statement of c, reset and with its bindings cleared. */
sqlite3_stmt *
meta_stmt(meta_conn *c, enum stmt_id id)
{
	sqlite3_stmt *s = c->st[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

void
meta_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Runs a statement that returns no rows. */
int
meta_exec_done(meta_conn *c, sqlite3_stmt *s, berth_error **err)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return meta_db_error(err, c->db, sqlite3_sql(s));
	return 0;
}

char *
meta_col_strdup(sqlite3_stmt *s, int i)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	return v ? xstrdup((const char *)v) : NULL;
}

/* Runs a DELETE: 1 when it removed a row, 0 when none, <0 on error. */
int
meta_delete_one(meta_conn *c, sqlite3_stmt *s, berth_error **err)
{
	int r = meta_exec_done(c, s, err);

	if (r < 0)
		return r;
	return sqlite3_changes(c->db) > 0;
}

int
meta_collect(meta_conn *c, sqlite3_stmt *s, long n, char ***out, bool *more,
	     berth_error **err)
{
	char **v = NULL;
	size_t cnt = 0;
	int rc;

	*more = false;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n >= 0 && (long)cnt == n) {
			*more = true;
			break;
		}
		v = xreallocarray(v, cnt + 2, sizeof(*v));
		v[cnt++] = meta_col_strdup(s, 0);
		v[cnt] = NULL;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		berth_strv_free(v);
		return meta_db_error(err, c->db, "listing");
	}
	if (v == NULL)
		v = xcalloc(1, sizeof(*v));
	*out = v;
	return 0;
}
