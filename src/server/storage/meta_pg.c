/*
 * The metadata store on PostgreSQL (the interface of meta.h), for several
 * berth serve instances sharing one database. A fixed pool of sessions,
 * each opened on first use and again after it broke (the database
 * restarted: the next transaction reconnects), with every statement
 * prepared once per session. Readers run in a REPEATABLE READ snapshot;
 * writers take one transaction-scoped advisory lock, so that writers of
 * every instance are serialised exactly as SQLite's BEGIN IMMEDIATE
 * serialises them: the rules of meta.c, and the pairing of a metadata
 * change with a look at the shared blob store, hold across instances.
 */
#include "server/storage/meta_pg.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define BEGIN_WRITE "BEGIN; SELECT pg_advisory_xact_lock(1650815604, 1)"
#define BEGIN_READ "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"

/* The URL as messages show it: without a password. */
static char *
url_shown(const char *url)
{
	const char *host = strstr(url, "://"), *at, *colon;

	if (host == NULL)
		return xstrdup(url);
	host += 3;
	at = strchr(host, '@');
	colon = at ? memchr(host, ':', (size_t)(at - host)) : NULL;
	if (colon == NULL)
		return xstrdup(url);
	return xasprintf("%.*s%s", (int)(colon - url), url, at);
}

static pg_conn *
conn_get(pg_db *m)
{
	pg_conn *c;

	pthread_mutex_lock(&m->mu);
	while (m->free_list == NULL)
		pthread_cond_wait(&m->cv, &m->mu);
	c = m->free_list;
	m->free_list = c->next_free;
	pthread_mutex_unlock(&m->mu);
	return c;
}

/* Returns c to the pool; a broken session is closed, to reopen later. */
static void
conn_put(pg_conn *c)
{
	pg_db *m = c->m;

	if (c->pc && PQstatus(c->pc) == CONNECTION_BAD) {
		PQfinish(c->pc);
		c->pc = NULL;
	}
	pthread_mutex_lock(&m->mu);
	c->next_free = m->free_list;
	m->free_list = c;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

/* Runs a transaction-control command; false with *err. */
static bool
control(pg_conn *c, const char *sql, const char *want, berth_error **err)
{
	PGresult *res = PQexec(c->pc, sql);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
		  PQresultStatus(res) == PGRES_TUPLES_OK;

	/* COMMIT of a failed transaction answers ROLLBACK. */
	if (ok && want && strcmp(PQcmdStatus(res), want) != 0) {
		berth_error_set(err, BERTH_EIO, 0,
				"metadata database '%s': the transaction was "
				"rolled back",
				c->m->shown);
		ok = false;
	} else if (!ok) {
		pg_fail(c->pc, c->m->shown, res, sql, err);
	}
	PQclear(res);
	return ok;
}

static int
tx_begin(berth_meta *bm, berth_meta_tx **out, berth_meta_mode mode,
	 berth_error **err)
{
	pg_db *m = (pg_db *)bm;
	pg_conn *c = conn_get(m);
	const char *sql = mode == BERTH_META_WRITE ? BEGIN_WRITE : BEGIN_READ;

	for (int attempt = 0;; attempt++) {
		berth_error *e = NULL;

		if (c->pc == NULL && (c->pc = pg_connect(m, true, err)) == NULL)
			break;
		if (control(c, sql, NULL, &e)) {
			*out = &c->tx;
			return 0;
		}
		/* A session the database dropped (it restarted): once more
		 * on a new one. */
		if (attempt == 0 && PQstatus(c->pc) == CONNECTION_BAD) {
			berth_error_free(e);
			PQfinish(c->pc);
			c->pc = NULL;
			continue;
		}
		if (PQstatus(c->pc) == CONNECTION_OK)
			PQclear(PQexec(c->pc, "ROLLBACK"));
		berth_error_move(err, &e, BERTH_EIO);
		break;
	}
	conn_put(c);
	return err && *err ? (*err)->code : BERTH_EIO;
}

static int
tx_commit(berth_meta_tx *tx, berth_error **err)
{
	pg_conn *c = pg_tx_conn(tx);
	berth_error *e = NULL;
	bool ok = control(c, "COMMIT", "COMMIT", &e);
	int r = 0;

	if (!ok) {
		r = e->code;
		berth_error_move(err, &e, r);
		if (PQstatus(c->pc) == CONNECTION_OK &&
		    PQtransactionStatus(c->pc) != PQTRANS_IDLE)
			PQclear(PQexec(c->pc, "ROLLBACK"));
	}
	conn_put(c);
	return r;
}

static void
tx_rollback(berth_meta_tx *tx)
{
	pg_conn *c = pg_tx_conn(tx);

	if (c->pc && PQstatus(c->pc) == CONNECTION_OK)
		PQclear(PQexec(c->pc, "ROLLBACK"));
	conn_put(c);
}

static void
db_free(berth_meta *bm)
{
	pg_db *m = (pg_db *)bm;

	pg_jobs_free(m->jobs);
	for (int i = 0; i < m->n_conns; i++)
		if (m->conns[i].pc)
			PQfinish(m->conns[i].pc);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	free(m->conns);
	free(m->shown);
	free(m->url);
	free(m);
}

static const struct berth_meta_ops pg_ops = {
	.tx_begin = tx_begin,
	.tx_commit = tx_commit,
	.tx_rollback = tx_rollback,
	.repo_add = meta_pg_repo_add,
	.repo_exists = meta_pg_repo_exists,
	.repos_list = meta_pg_repos_list,
	.blob_link = meta_pg_blob_link,
	.blob_get = meta_pg_blob_get,
	.blob_unlink = meta_pg_blob_unlink,
	.blob_repos = meta_pg_blob_repos,
	.manifest_set = meta_pg_manifest_set,
	.manifest_ref_add = meta_pg_manifest_ref_add,
	.manifest_get = meta_pg_manifest_get,
	.manifest_remove = meta_pg_manifest_remove,
	.referrers = meta_pg_referrers,
	.tag_set = meta_pg_tag_set,
	.tag_remove = meta_pg_tag_remove,
	.tags_remove_digest = meta_pg_tags_remove_digest,
	.tags_list = meta_pg_tags_list,
	.upload_add = meta_pg_upload_add,
	.uploads_count = meta_pg_uploads_count,
	.upload_get = meta_pg_upload_get,
	.upload_remove = meta_pg_upload_remove,
	.uploads_older = meta_pg_uploads_older,
	.pulls_each = meta_pg_pulls_each,
	.pull_set = meta_pg_pull_set,
	.pull_get = meta_pg_pull_get,
	.blob_info = meta_pg_blob_info,
	.blob_touch = meta_pg_blob_touch,
	.links_each = meta_pg_links_each,
	.digest_users = meta_pg_digest_users,
	.uses_each = meta_pg_uses_each,
	.manifests_each = meta_pg_manifests_each,
	.tags_each = meta_pg_tags_each,
	.refs_each = meta_pg_refs_each,
	.pulled_set = meta_pg_pulled_set,
	.tag_remove_if = meta_pg_tag_remove_if,
	.manifest_in_use = meta_pg_manifest_in_use,
	.job_lock = pg_job_lock,
	.free = db_free,
};

int
berth_meta_pg_open(berth_meta **out, const char *url, int conns,
		   berth_error **err)
{
	pg_db *m;
	int r;

	if (conns < 1)
		conns = 1;
	m = xcalloc(1, sizeof(*m));
	m->base.ops = &pg_ops;
	m->base.shared = true;
	m->url = xstrdup(url);
	m->shown = url_shown(url);
	m->conns = xcalloc((size_t)conns, sizeof(*m->conns));
	m->n_conns = conns;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	for (int i = conns - 1; i >= 0; i--) {
		m->conns[i].tx.ops = &pg_ops;
		m->conns[i].m = m;
		m->conns[i].next_free = m->free_list;
		m->free_list = &m->conns[i];
	}
	/* The first session migrates, then serves; the rest open on use. */
	if ((m->conns[0].pc = pg_connect(m, false, err)) == NULL ||
	    (r = pg_schema_migrate(m->conns[0].pc, m->shown, err)) < 0 ||
	    (r = pg_prepare_all(m->conns[0].pc, m->shown, err)) < 0) {
		r = err && *err ? (*err)->code : BERTH_EIO;
		db_free(&m->base);
		return r;
	}
	berth_log(BERTH_LOG_INFO, "metadata in PostgreSQL at '%s', %d sessions",
		  m->shown, conns);
	*out = &m->base;
	return 0;
}
