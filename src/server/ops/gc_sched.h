/*
 * The server's garbage collection thread: runs on a schedule
 * (gc-interval) and on demand (the admin endpoint), at a lower CPU
 * priority (nice 10) than the request threads, so that a collection
 * takes idle time and pulls keep theirs; the main loop never waits for
 * it.
 */
#ifndef BERTH_SERVER_OPS_GC_SCHED_H
#define BERTH_SERVER_OPS_GC_SCHED_H

#include "server/access/audit.h"
#include "server/ops/gc.h"
#include "server/storage/storage.h"

typedef struct srv_gc_sched srv_gc_sched;

/*
 * Starts the thread: a run `interval` seconds from now and every
 * interval after (0: none until srv_gc_sched_set gives one); the grace
 * period is st->gc_grace at each run. audit may be NULL.
 */
int srv_gc_sched_start(srv_gc_sched **out, srv_storage *st, berth_audit *audit,
		       long interval, berth_error **err);

/*
 * One run on the thread, now (after the one in progress, if any): fills
 * *out as srv_gc_run does, and waits for it.
 */
int srv_gc_sched_run(srv_gc_sched *g, bool dry_run, srv_gc_report *out,
		     berth_error **err);

/* A new interval (SIGHUP), counted from now. */
void srv_gc_sched_set(srv_gc_sched *g, long interval);

/* Stops the thread, waiting for a run in progress; NULL is a no-op. */
void srv_gc_sched_stop(srv_gc_sched *g);

#endif
