/* Scheduled garbage collection (gc_sched.h). */
#include "server/ops/gc_sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/log.h"
#include "server/ops/gc.h"
#include "util/error.h"
#include "util/xalloc.h"

struct srv_gc_sched {
	srv_storage *st;
	berth_audit *audit;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;   /* on CLOCK_MONOTONIC */
	long interval;	     /* guarded by mu */
	struct timespec due; /* the next run, when interval > 0 */
	bool stop;
};

static void
set_due(srv_gc_sched *g)
{
	clock_gettime(CLOCK_MONOTONIC, &g->due);
	g->due.tv_sec += g->interval;
}

static void
run_once(srv_gc_sched *g)
{
	srv_gc_opts o = {.audit = g->audit};
	srv_gc_report rep;
	berth_error *err = NULL;

	o.grace = __atomic_load_n(&g->st->gc_grace, __ATOMIC_RELAXED);
	if (srv_gc_run(g->st, &o, &rep, &err) < 0) {
		berth_log(BERTH_LOG_ERROR, "%s", err->msg);
		berth_error_free(err);
	}
	srv_gc_report_release(&rep);
}

static void *
loop(void *ud)
{
	srv_gc_sched *g = ud;

	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		int rc = g->interval > 0 ? pthread_cond_timedwait(
						   &g->cv, &g->mu, &g->due)
					 : pthread_cond_wait(&g->cv, &g->mu);

		if (rc != ETIMEDOUT || g->stop || g->interval <= 0)
			continue;
		set_due(g);
		pthread_mutex_unlock(&g->mu);
		run_once(g);
		pthread_mutex_lock(&g->mu);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
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
		pthread_cond_signal(&g->cv);
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
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thread, NULL);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}
