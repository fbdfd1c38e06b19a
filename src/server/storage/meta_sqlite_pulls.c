/* The metadata store's pull counters (see serve/ratelimit.h). */
#include <stdlib.h>

#include "server/storage/meta_sqlite.h"
#include "util/error.h"

int
berth_meta_pulls_load(berth_meta *m,
		      void (*fn)(const berth_meta_pull_row *row, void *ud),
		      void *ud, berth_error **err)
{
	meta_conn *c = meta_conn_get(m);
	sqlite3_stmt *s = meta_stmt(c, S_PULL_ALL);
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		berth_meta_pull_row row = {
			.key = (const char *)sqlite3_column_text(s, 0),
			.window_ms = sqlite3_column_int64(s, 1),
			.last_slot = sqlite3_column_int64(s, 2),
			.counts = (const char *)sqlite3_column_text(s, 3),
		};

		if (row.key && row.counts && row.window_ms > 0)
			fn(&row, ud);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		rc = meta_db_error(err, c->db, "reading pull counters");
	else
		rc = 0;
	meta_conn_put(m, c);
	return rc;
}

static int
save(meta_conn *c, const berth_meta_pull_row *rows, size_t n, berth_error **err)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		sqlite3_stmt *s;

		if (rows[i].counts == NULL) {
			s = meta_stmt(c, S_PULL_DEL);
			meta_bind_text(s, 1, rows[i].key);
		} else {
			s = meta_stmt(c, S_PULL_PUT);
			meta_bind_text(s, 1, rows[i].key);
			sqlite3_bind_int64(s, 2, rows[i].window_ms);
			sqlite3_bind_int64(s, 3, rows[i].last_slot);
			meta_bind_text(s, 4, rows[i].counts);
		}
		if ((r = meta_exec_done(c, s, err)) < 0)
			return r;
	}
	return 0;
}

int
berth_meta_pulls_save(berth_meta *m, const berth_meta_pull_row *rows, size_t n,
		      berth_error **err)
{
	meta_conn *c = meta_conn_get(m);
	int r = meta_tx_begin(c, err);

	if (r == 0)
		r = meta_tx_end(c, save(c, rows, n, err), err);
	meta_conn_put(m, c);
	return r;
}
