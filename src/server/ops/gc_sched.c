/* Scheduled garbage collection (gc_sched.h). */
#include "server/ops/gc_sched.h"

#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/log.h"
#include "server/ops/gc.h"
#include "util/error.h"
#include "util/xalloc.h"

/* A run asked for (srv_gc_sched_run), waiting on the queue. */
typedef struct gc_ask {
	bool dry_run;
	srv_gc_report *out;
	int r;
	berth_error *err;
	bool done;
	struct gc_ask *next;
} gc_ask;

/* Below the request threads, far from starved: a run holds the writer
 * lock for one repository at a time, and pushes wait for it. Between its
 * writes a run is idle (gc_prio.c). */
#define GC_NICE 10

struct srv_gc_sched {
	srv_storage *st;
	berth_audit *audit;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;   /* on CLOCK_MONOTONIC */
	long interval;	     /* guarded by mu */
	struct timespec due; /* the next run, when interval > 0 */
	bool stop;
	gc_ask *asks; /* guarded by mu; done ones are signalled on cv */
};

static void
set_due(srv_gc_sched *g)
{
	clock_gettime(CLOCK_MONOTONIC, &g->due);
	g->due.tv_sec += g->interval;
}

static int
run_once(srv_gc_sched *g, bool dry_run, srv_gc_report *out, berth_error **err)
{
	srv_gc_opts o = {.audit = g->audit, .dry_run = dry_run};

	o.grace = __atomic_load_n(&g->st->gc_grace, __ATOMIC_RELAXED);
	return srv_gc_run(g->st, &o, out, err);
}

static void
scheduled(srv_gc_sched *g)
{
	srv_gc_report rep;
	berth_error *err = NULL;

	/* Instances sharing a database: one of them runs the schedule. */
	if (!berth_meta_job_mine(g->st->meta, "gc"))
		return;
	if (run_once(g, false, &rep, &err) < 0) {
		berth_log(BERTH_LOG_ERROR, "%s", err->msg);
		berth_error_free(err);
	}
	srv_gc_report_release(&rep);
}

static void *
loop(void *ud)
{
	srv_gc_sched *g = ud;

	/* Linux: the nice value of this thread alone. */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), GC_NICE) < 0)
		berth_log(BERTH_LOG_DEBUG, "gc thread: setpriority: %s",
			  strerror(errno));
	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		gc_ask *a = g->asks;
		int rc;

		if (a != NULL) {
			g->asks = a->next;
			pthread_mutex_unlock(&g->mu);
			a->r = run_once(g, a->dry_run, a->out, &a->err);
			pthread_mutex_lock(&g->mu);
			a->done = true;
			pthread_cond_broadcast(&g->cv);
			continue;
		}
		rc = g->interval > 0
			     ? pthread_cond_timedwait(&g->cv, &g->mu, &g->due)
			     : pthread_cond_wait(&g->cv, &g->mu);
		if (rc != ETIMEDOUT || g->stop || g->interval <= 0)
			continue;
		set_due(g);
		pthread_mutex_unlock(&g->mu);
		scheduled(g);
		pthread_mutex_lock(&g->mu);
	}
	/* Asked for after the stop: answered, not run. */
	for (gc_ask *a = g->asks; a; a = a->next) {
		a->r = berth_error_set(&a->err, BERTH_EINTERRUPTED, 0,
				       "the server is stopping");
		a->done = true;
	}
	g->asks = NULL;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

int
srv_gc_sched_run(srv_gc_sched *g, bool dry_run, srv_gc_report *out,
		 berth_error **err)
{
	gc_ask a = {.dry_run = dry_run, .out = out}, **pp;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&g->mu);
	for (pp = &g->asks; *pp; pp = &(*pp)->next)
		;
	*pp = &a;
	pthread_cond_broadcast(&g->cv);
	while (!a.done)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
	if (a.r < 0)
		return berth_error_move(err, &a.err, a.r);
	return 0;
}

int
srv_gc_sched_start(srv_gc_sched **out, srv_storage *st, berth_audit *audit,
		   long interval, berth_error **err)
{
	srv_gc_sched *g = xcalloc(1, sizeof(*g));
	pthread_condattr_t ca;
	int e;

	g->st = st;
	g->audit = audit;
	g->interval = interval;
	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	set_due(g);
	if ((e = pthread_create(&g->thread, NULL, loop, g)) != 0) {
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return berth_error_set(err, BERTH_EIO, e,
				       "cannot start the garbage collection "
				       "thread: %s",
				       strerror(e));
	}
	*out = g;
	return 0;
}

void
srv_gc_sched_set(srv_gc_sched *g, long interval)
{
	pthread_mutex_lock(&g->mu);
	if (interval != g->interval) {
		g->interval = interval;
		set_due(g);
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->mu);
}

void
srv_gc_sched_stop(srv_gc_sched *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thread, NULL);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}
