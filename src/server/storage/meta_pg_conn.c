/*
 * Sessions of the PostgreSQL metadata store: connecting with timeouts that
 * turn an unreachable database into an error instead of a hang, telling
 * that case from the others, and running the prepared statements.
 */
#include "server/storage/meta_pg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* The first line of a libpq message, without its trailing blanks. */
static char *
one_line(const char *msg)
{
	size_t n = strcspn(msg ? msg : "", "\n");

	while (n > 0 && (msg[n - 1] == ' ' || msg[n - 1] == '\t'))
		n--;
	return n ? xstrndup(msg, n) : xstrdup("no answer");
}

/* SQLSTATEs that say the server is gone or not accepting sessions. */
static bool
gone(const char *state)
{
	return state && (strncmp(state, "08", 2) == 0 ||
			 strcmp(state, "57P01") == 0 || /* admin shutdown */
			 strcmp(state, "57P02") == 0 || /* crash shutdown */
			 strcmp(state, "57P03") == 0);	/* cannot connect now */
}

int
pg_fail(PGconn *pc, const char *shown, PGresult *res, const char *what,
	berth_error **err)
{
	const char *state =
		res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *raw = res && *PQresultErrorMessage(res)
				  ? PQresultErrorMessage(res)
				  : (pc ? PQerrorMessage(pc) : NULL);
	_cleanup_free_ char *msg = one_line(raw);
	int sys = 0;

	if (pc == NULL || PQstatus(pc) == CONNECTION_BAD || gone(state)) {
		berth_error_set(err, BERTH_ENET, ENOTCONN,
				"metadata database '%s' is unreachable: %s",
				shown, msg);
		berth_error_hint(err,
				 "check that PostgreSQL runs and accepts "
				 "connections there; berth serve reconnects "
				 "by itself once it does");
		return BERTH_ENET;
	}
	/* As the file system would say it (srv_storage_full). */
	if (state && strcmp(state, "53100") == 0)
		sys = ENOSPC;
	else if (state && strcmp(state, "25006") == 0)
		sys = EROFS;
	return berth_error_set(err, BERTH_EIO, sys,
			       "metadata database '%s': %s: %s", shown, what,
			       msg);
}

static void
quiet(void *ud, const char *msg)
{
	(void)ud;
	(void)msg; /* NOTICEs ("already exists, skipping") are not errors */
}

int
pg_prepare_all(PGconn *pc, const char *shown, berth_error **err)
{
	for (int i = 0; i < P_COUNT; i++) {
		char name[16];
		PGresult *res;

		snprintf(name, sizeof(name), "b%d", i);
		res = PQprepare(pc, name, pg_stmt_sql[i], 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			pg_fail(pc, shown, res, pg_stmt_sql[i], err);
			PQclear(res);
			return BERTH_EIO;
		}
		PQclear(res);
	}
	return 0;
}

PGconn *
pg_connect(pg_db *m, bool prepare, berth_error **err)
{
	/*
	 * Ours first: the URL's own settings (expanded from dbname) win.
	 * A dead server or a cut network is noticed within seconds:
	 * connect_timeout, keepalives, tcp_user_timeout; a statement never
	 * runs (or waits for the writers' lock) longer than 30 s.
	 */
	static const char *const keys[] = {
		"connect_timeout",  "keepalives",
		"keepalives_idle",  "keepalives_interval",
		"keepalives_count", "tcp_user_timeout",
		"application_name", "options",
		"dbname",	    NULL};
	const char *vals[] = {"5",
			      "1",
			      "10",
			      "5",
			      "3",
			      "15000",
			      "berth-serve",
			      "-c statement_timeout=30000"
			      " -c idle_in_transaction_session_timeout=600000",
			      m->url,
			      NULL};
	PGconn *pc = PQconnectdbParams(keys, vals, 1);

	if (pc == NULL) {
		berth_error_set(err, BERTH_EIO, ENOMEM,
				"metadata database '%s': out of memory",
				m->shown);
		return NULL;
	}
	if (PQstatus(pc) != CONNECTION_OK) {
		pg_fail(pc, m->shown, NULL, "connecting", err);
		PQfinish(pc);
		return NULL;
	}
	PQsetNoticeProcessor(pc, quiet, NULL);
	if (prepare && pg_prepare_all(pc, m->shown, err) < 0) {
		PQfinish(pc);
		return NULL;
	}
	return pc;
}

PGresult *
pg_run(pg_conn *c, enum pg_stmt_id id, int n, const char *const *params,
       berth_error **err)
{
	char name[16];
	PGresult *res;
	ExecStatusType st;

	snprintf(name, sizeof(name), "b%d", (int)id);
	res = PQexecPrepared(c->pc, name, n, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	pg_fail(c->pc, c->m->shown, res, pg_stmt_sql[id], err);
	PQclear(res);
	return NULL;
}

int
pg_run_done(pg_conn *c, enum pg_stmt_id id, int n, const char *const *params,
	    berth_error **err)
{
	PGresult *res = pg_run(c, id, n, params, err);
	int changed;

	if (res == NULL)
		return BERTH_EIO;
	changed = atoi(PQcmdTuples(res));
	PQclear(res);
	return changed;
}

const char *
pg_text(PGresult *res, int r, int i)
{
	return PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
}

int64_t
pg_int(PGresult *res, int r, int i)
{
	const char *v = pg_text(res, r, i);

	return v ? (int64_t)strtoll(v, NULL, 10) : 0;
}

char *
pg_strdup(PGresult *res, int r, int i)
{
	const char *v = pg_text(res, r, i);

	return v ? xstrdup(v) : NULL;
}

void
pg_collect(PGresult *res, long n, char ***out, bool *more)
{
	int rows = PQntuples(res), cnt = rows;
	char **v;

	*more = n >= 0 && rows > n;
	if (*more)
		cnt = (int)n;
	v = xcalloc((size_t)cnt + 1, sizeof(*v));
	for (int i = 0; i < cnt; i++)
		v[i] = pg_strdup(res, i, 0);
	PQclear(res);
	*out = v;
}

const char *
pg_num_of(pg_num *b, int64_t v)
{
	snprintf(b->s, sizeof(b->s), "%" PRId64, v);
	return b->s;
}
