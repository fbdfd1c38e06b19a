/*
 * Online garbage collection: what nothing references any more, past a
 * grace period, goes while the server keeps taking pushes and pulls.
 *
 *   manifests   without a tag, not a child of a living index, not a
 *               referrer of a living subject (a referrer whose subject is
 *               gone goes too), pushed before the grace period
 *   blob links  that no remaining manifest of their repository
 *               references, last seen (pushed, mounted, HEAD) before it
 *   blobs       whose bytes no row of any repository uses, written
 *               before it
 *   uploads     sessions expired by upload-ttl (storage.c's rule), and
 *               temporary files a crash left
 *
 * Each repository is looked at in a snapshot, and one with garbage is
 * marked again and swept in one write transaction; a blob's
 * bytes are taken out under the writer lock after seeing that no row uses
 * them, and every writer that makes a row use bytes checks them under the
 * same lock (storage.c). Why that is enough is argued in docs/server.md.
 * A dry run decides the same way from a snapshot and deletes nothing.
 * Runs are serialised within the process; two processes (a server and
 * `berth serve gc`) may run at once.
 */
#ifndef BERTH_SERVER_OPS_GC_H
#define BERTH_SERVER_OPS_GC_H

#include <stdint.h>

#include "berth/common.h"
#include "server/access/audit.h"
#include "server/storage/storage.h"

typedef struct srv_gc_item {
	unsigned kind;	  /* SRV_GC_MANIFEST... (ops/metrics.h) */
	char *repository; /* of a manifest or link, else NULL */
	char *name;	  /* a digest, an upload id or a file name */
	int64_t size;	  /* bytes (a link's: of the blob it links) */
} srv_gc_item;

typedef struct srv_gc_report {
	bool dry_run;
	srv_gc_item *items;
	size_t n, cap;
	int64_t freed;	  /* bytes of storage freed (or to be freed) */
	int64_t count[5]; /* items by kind */
	double seconds;	  /* the run's wall time */
} srv_gc_report;

typedef struct srv_gc_opts {
	int64_t grace; /* seconds */
	bool dry_run;
	berth_audit *audit; /* deletions go here (actor "gc"), or NULL */
} srv_gc_opts;

/*
 * One pass over st; fills *out (release it with srv_gc_report_release,
 * also after a failure: what was deleted before it is in there).
 */
int srv_gc_run(srv_storage *st, const srv_gc_opts *o, srv_gc_report *out,
	       berth_error **err);
void srv_gc_report_release(srv_gc_report *r);

/* The report as JSON text (caller frees): the admin endpoint's answer
 * and what `berth serve gc` prints. */
char *srv_gc_report_json(const srv_gc_report *r);

/* The metric of the last run's wall time (after srv_metrics_init). */
void srv_gc_metrics(void);

/* `berth serve gc [--dry-run] [settings...]` (serve.c's table). */
int srv_gc_main(int argc, char **argv);

#endif
