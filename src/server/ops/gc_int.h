/*
 * Private to the collector (gc.c) and its bookkeeping (gc_report.c): one
 * run's state. Not an interface.
 */
#ifndef BERTH_SERVER_OPS_GC_INT_H
#define BERTH_SERVER_OPS_GC_INT_H

#include "server/ops/gc.h"
#include "util/hmap.h"

/* The calling thread's priority before a run (gc_prio.c). */
typedef struct gc_prio {
	int policy, nice, ioprio;
	bool idle_ok; /* it can go idle and come back */
	bool idle;
} gc_prio;

/* Saves the thread's priority and goes idle; back to it for good. */
void gc_prio_begin(gc_prio *p);
void gc_prio_end(gc_prio *p);
/* Back to the saved priority (to hold the writer lock), and idle again. */
void gc_prio_busy(gc_prio *p);
void gc_prio_idle(gc_prio *p);

typedef struct gc_run {
	srv_storage *st;
	bool dry_run;
	int64_t now, cutoff; /* the grace period ends at cutoff */
	berth_audit *audit;
	srv_gc_report *out;
	/* Noted inside a transaction that may yet roll back. */
	srv_gc_item *pending;
	size_t n_pending;
	berth_hmap *removed; /* "kind\trepo\tdigest" of settled rows */
	gc_prio prio;
} gc_run;

void gc_run_init(gc_run *run, srv_storage *st, const srv_gc_opts *o,
		 srv_gc_report *out, int64_t now);
void gc_run_release(gc_run *run);

/* Notes that something is deleted (or, dry, would be). */
void gc_removed(gc_run *run, unsigned kind, const char *repo, const char *name,
		int64_t size);

/*
 * What was noted since the last settle happened (into the report, the
 * audit log and the removed set) or did not (forgotten).
 */
void gc_settle(gc_run *run, bool happened);

/* A manifest or link of repo this run removed (or, dry, would). */
bool gc_was_removed(gc_run *run, unsigned kind, const char *repo,
		    const char *digest);

/* Counts a finished run in the metrics; r its result. */
void gc_account(const srv_gc_report *r, int result);

#endif
