/*
 * What instances sharing one metadata store need beyond meta.c: choosing
 * the backend from the configured location, job locks, counters kept in
 * the store itself, and telling an unreachable database from a failure.
 */
#include "server/storage/meta.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "util/error.h"
#include "util/xalloc.h"

bool
berth_meta_is_pg(const char *location)
{
	return location && (strncmp(location, "postgres://", 11) == 0 ||
			    strncmp(location, "postgresql://", 13) == 0);
}

bool
berth_meta_unreachable(const berth_error *e)
{
	/* How meta_pg_conn.c marks it. */
	return e && e->code == BERTH_ENET && e->sys_errno == ENOTCONN;
}

int
berth_meta_job_lock(berth_meta *m, const char *job, bool *held,
		    berth_error **err)
{
	if (m->ops->job_lock == NULL) {
		*held = true;
		return 0;
	}
	return m->ops->job_lock(m, job, held, err);
}

bool
berth_meta_job_mine(berth_meta *m, const char *job)
{
	berth_error *err = NULL;
	bool held = false;

	if (berth_meta_job_lock(m, job, &held, &err) < 0) {
		berth_log(BERTH_LOG_WARN, "'%s' skipped: %s", job, err->msg);
		berth_error_free(err);
		return false;
	}
	if (!held)
		berth_log(BERTH_LOG_DEBUG,
			  "'%s' skipped: another instance runs it", job);
	return held;
}

typedef struct pull_get_ctx {
	berth_meta_pull_row *row;
	char *counts; /* the stored row's, owned */
} pull_get_ctx;

static void
pull_got(const berth_meta_pull_row *row, void *ud)
{
	pull_get_ctx *g = ud;

	g->row->window_ms = row->window_ms;
	g->row->last_slot = row->last_slot;
	free(g->counts);
	g->counts = xstrdup(row->counts);
	g->row->counts = g->counts;
}

int
berth_meta_pull_update(berth_meta *m, const char *key,
		       void (*fn)(berth_meta_pull_row *row, void *ud), void *ud,
		       berth_error **err)
{
	berth_meta_pull_row row = {.key = key};
	pull_get_ctx g = {.row = &row};
	berth_meta_tx *tx;
	int r;

	if (m->ops->pull_get == NULL)
		return berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				       "this metadata store keeps no shared "
				       "counters");
	if ((r = m->ops->tx_begin(m, &tx, BERTH_META_WRITE, err)) < 0)
		return r;
	r = tx->ops->pull_get(tx, key, pull_got, &g, err);
	if (r == 0) {
		bool had = row.counts != NULL;

		fn(&row, ud);
		row.key = key;
		if (row.counts != NULL || had)
			r = tx->ops->pull_set(tx, &row, err);
	}
	free(g.counts);
	if (r < 0) {
		tx->ops->tx_rollback(tx);
		return r;
	}
	return tx->ops->tx_commit(tx, err);
}
