/*
 * Jobs that must run on one instance at a time (garbage collection,
 * retention): a session-scoped advisory lock per job, on a session of its
 * own. The instance that takes it keeps it while it lives, so it alone
 * runs the job; when it dies its session ends, the database releases the
 * lock, and the next instance that tries takes over.
 */
#include "server/storage/meta_pg.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "util/error.h"
#include "util/xalloc.h"

#define JOBS_MAX 8

struct pg_jobs {
	pthread_mutex_t mu;
	PGconn *pc;
	char *held[JOBS_MAX]; /* names of the locks this session holds */
};

/* The lock's second key: a hash of the job's name. */
static int
job_key(const char *job)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)job; *p; p++)
		h = (h ^ *p) * 16777619u;
	return (int)(h & 0x7fffffff);
}

static bool
holds(const pg_jobs *j, const char *job)
{
	for (int i = 0; i < JOBS_MAX; i++)
		if (j->held[i] && strcmp(j->held[i], job) == 0)
			return true;
	return false;
}

/* Forgets the session and with it every lock. */
static void
drop(pg_jobs *j)
{
	PQfinish(j->pc);
	j->pc = NULL;
	for (int i = 0; i < JOBS_MAX; i++) {
		free(j->held[i]);
		j->held[i] = NULL;
	}
}

/* True when the session still answers (its locks are still ours). */
static bool
alive(pg_jobs *j)
{
	PGresult *res = PQexec(j->pc, "SELECT 1");
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;

	PQclear(res);
	return ok;
}

static int
try_lock(pg_db *m, pg_jobs *j, const char *job, bool *held, berth_error **err)
{
	char sql[96];
	PGresult *res;

	if (j->pc && holds(j, job)) {
		if (alive(j)) {
			*held = true;
			return 0;
		}
		berth_log(BERTH_LOG_WARN,
			  "lost the session holding the '%s' job lock; "
			  "trying to take it again",
			  job);
		drop(j);
	}
	if (j->pc && PQstatus(j->pc) != CONNECTION_OK)
		drop(j);
	if (j->pc == NULL && (j->pc = pg_connect(m, false, err)) == NULL)
		return err && *err ? (*err)->code : BERTH_ENET;
	snprintf(sql, sizeof(sql),
		 "SELECT pg_try_advisory_lock(1650815605, %d)", job_key(job));
	res = PQexec(j->pc, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		int r = pg_fail(j->pc, m->shown, res, "taking a job lock", err);

		PQclear(res);
		if (PQstatus(j->pc) != CONNECTION_OK)
			drop(j);
		return r;
	}
	*held = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	for (int i = 0; *held && i < JOBS_MAX; i++) {
		if (j->held[i] == NULL) {
			j->held[i] = xstrdup(job);
			berth_log(BERTH_LOG_INFO,
				  "this instance now runs '%s' (it holds the "
				  "database's lock for it)",
				  job);
			break;
		}
	}
	return 0;
}

int
pg_job_lock(berth_meta *bm, const char *job, bool *held, berth_error **err)
{
	pg_db *m = (pg_db *)bm;
	int r;

	*held = false;
	pthread_mutex_lock(&m->mu);
	if (m->jobs == NULL) {
		m->jobs = xcalloc(1, sizeof(*m->jobs));
		pthread_mutex_init(&m->jobs->mu, NULL);
	}
	pthread_mutex_unlock(&m->mu);
	pthread_mutex_lock(&m->jobs->mu);
	r = try_lock(m, m->jobs, job, held, err);
	pthread_mutex_unlock(&m->jobs->mu);
	return r;
}

void
pg_jobs_free(pg_jobs *j)
{
	if (j == NULL)
		return;
	drop(j);
	pthread_mutex_destroy(&j->mu);
	free(j);
}
