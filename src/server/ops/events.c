/*
 * The running endpoints (events.h): emit appends an event to the queue of
 * each endpoint that wants it, under a read lock, so emits run side by
 * side and a reload waits only for the appends in progress. A reload
 * keeps the queue of every endpoint whose name stays (its undelivered
 * events go to the endpoint's new settings); a removed endpoint's queue
 * stays on disk and is sent when an endpoint of that name comes back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "berth/log.h"
#include "server/ops/events_int.h"
#include "server/ops/metrics.h"
#include "server/server.h"
#include "util/error.h"
#include "util/xalloc.h"

typedef struct ev_ep {
	ev_endpoint_cfg cfg;
	ev_queue *q;
	ev_sender *sd;
	unsigned metric;
	atomic_long dropping; /* drops since the last event queued */
} ev_ep;

struct srv_events {
	pthread_rwlock_t lock; /* guards eps, n */
	char *storage;
	ev_source src;
	char **labels; /* the ENDPOINT label's values, "other" last */
	ev_ep **eps;
	size_t n;
	atomic_size_t active; /* n, read without the lock */
};

struct srv_events_plan {
	ev_config cfg;
	ev_queue **q;
	bool *fresh; /* q[i] opened by the plan, not taken over */
	long queue_max;
};

char **
srv_events_names(const char *notifications)
{
	ev_config c;
	char **v;
	size_t n = 0;

	if (ev_config_parse(&c, notifications, NULL) < 0)
		memset(&c, 0, sizeof(c));
	v = xcalloc(c.n + 2, sizeof(*v));
	for (size_t i = 0; i < c.n; i++)
		v[n++] = xstrdup(c.v[i].name);
	v[n] = xstrdup("other");
	ev_config_release(&c);
	return v;
}

static unsigned
metric_of(const srv_events *ev, const char *name)
{
	unsigned i;

	for (i = 0; ev->labels[i + 1]; i++)
		if (strcmp(ev->labels[i], name) == 0)
			return i;
	return i; /* "other" */
}

static ev_ep *
find(const srv_events *ev, const char *name)
{
	for (size_t i = 0; i < ev->n; i++)
		if (strcmp(ev->eps[i]->cfg.name, name) == 0)
			return ev->eps[i];
	return NULL;
}

static void
plan_free(srv_events_plan *p)
{
	ev_config_release(&p->cfg);
	free(p->q);
	free(p->fresh);
	free(p);
}

void
srv_events_discard(srv_events *ev, srv_events_plan *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->cfg.n; i++)
		if (p->fresh[i])
			ev_queue_close(p->q[i]);
	plan_free(p);
}

int
srv_events_prepare(srv_events *ev, srv_events_plan **out,
		   const char *notifications, long queue_max, berth_error **err)
{
	srv_events_plan *p = xcalloc(1, sizeof(*p));
	int r;

	p->queue_max = queue_max;
	if ((r = ev_config_parse(&p->cfg, notifications, err)) < 0) {
		plan_free(p);
		return r;
	}
	p->q = xcalloc(p->cfg.n + 1, sizeof(*p->q));
	p->fresh = xcalloc(p->cfg.n + 1, sizeof(*p->fresh));
	for (size_t i = 0; i < p->cfg.n; i++) {
		const char *name = p->cfg.v[i].name;
		ev_ep *old = find(ev, name);
		char *dir;

		if (old) {
			p->q[i] = old->q;
			continue;
		}
		dir = xasprintf("%s/events/%s", ev->storage, name);
		r = ev_queue_open(&p->q[i], dir, queue_max, err);
		free(dir);
		if (r < 0) {
			srv_events_discard(ev, p);
			return berth_error_wrap(err, r, "notifications");
		}
		p->fresh[i] = true;
	}
	*out = p;
	return 0;
}

void
srv_events_apply(srv_events *ev, srv_events_plan *p)
{
	ev_ep **old;
	size_t n_old;
	ev_ep **eps = xcalloc(p->cfg.n + 1, sizeof(*eps));

	/* No two senders on one queue: the old ones end first. */
	for (size_t i = 0; i < ev->n; i++) {
		ev_sender_stop(ev->eps[i]->sd);
		ev->eps[i]->sd = NULL;
	}
	for (size_t i = 0; i < p->cfg.n; i++) {
		eps[i] = xcalloc(1, sizeof(**eps));
		eps[i]->cfg = p->cfg.v[i];
		eps[i]->q = p->q[i];
		eps[i]->metric = metric_of(ev, eps[i]->cfg.name);
		ev_queue_set_max(eps[i]->q, p->queue_max);
		if (p->fresh[i])
			srv_metric_add(SRV_M_EVENTS_DEPTH, eps[i]->metric, 0, 0,
				       ev_queue_depth(eps[i]->q));
	}
	pthread_rwlock_wrlock(&ev->lock);
	old = ev->eps;
	n_old = ev->n;
	ev->eps = eps;
	ev->n = p->cfg.n;
	atomic_store(&ev->active, ev->n);
	pthread_rwlock_unlock(&ev->lock);
	for (size_t i = 0; i < n_old; i++) {
		if (find(ev, old[i]->cfg.name) == NULL) {
			srv_metric_add(SRV_M_EVENTS_DEPTH, old[i]->metric, 0, 0,
				       -ev_queue_depth(old[i]->q));
			ev_queue_close(old[i]->q);
		}
		ev_endpoint_release(&old[i]->cfg);
		free(old[i]);
	}
	free(old);
	for (size_t i = 0; i < ev->n; i++)
		ev->eps[i]->sd = ev_sender_start(
			&ev->eps[i]->cfg, ev->eps[i]->q, ev->eps[i]->metric);
	/* The settings moved into the endpoints. */
	free(p->cfg.v);
	p->cfg.v = NULL;
	p->cfg.n = 0;
	plan_free(p);
}

/* hostname:port, as distribution's source.addr. */
static void
source_init(ev_source *src, const char *addr)
{
	char host[256] = "";
	const char *port = strrchr(addr, ':');

	if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	snprintf(src->addr, sizeof(src->addr), "%s%s", host, port ? port : "");
	ev_uuid(src->instance_id);
}

int
srv_events_start(srv_events **out, const char *storage,
		 const char *notifications, long queue_max,
		 const char *source_addr, char **labels, berth_error **err)
{
	srv_events *ev = xcalloc(1, sizeof(*ev));
	srv_events_plan *p = NULL;
	int r;

	pthread_rwlock_init(&ev->lock, NULL);
	ev->storage = xstrdup(storage);
	ev->labels = labels;
	source_init(&ev->src, source_addr);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((r = srv_events_prepare(ev, &p, notifications, queue_max, err)) <
	    0) {
		srv_events_stop(ev);
		return r;
	}
	srv_events_apply(ev, p);
	for (size_t i = 0; i < ev->n; i++)
		berth_log(BERTH_LOG_INFO,
			  "events: endpoint '%s' (%s), %ld event%s queued",
			  ev->eps[i]->cfg.name, ev->eps[i]->cfg.url_shown,
			  ev_queue_depth(ev->eps[i]->q),
			  ev_queue_depth(ev->eps[i]->q) == 1 ? "" : "s");
	*out = ev;
	return 0;
}

void
srv_events_stop(srv_events *ev)
{
	srv_events_plan *none;

	if (ev == NULL)
		return;
	none = xcalloc(1, sizeof(*none));
	srv_events_apply(ev, none);
	free(ev->eps);
	pthread_rwlock_destroy(&ev->lock);
	free(ev->storage);
	free(ev);
}

bool
srv_events_enabled(const srv_events *ev)
{
	return ev && atomic_load(&ev->active) > 0;
}

static void
dropped(ev_ep *e, int r, const berth_error *err)
{
	long n = atomic_fetch_add(&e->dropping, 1);

	srv_metric_add(SRV_M_EVENTS_DROPPED, e->metric,
		       r == BERTH_ETOOMANY  ? SRV_EVDROP_FULL
		       : r == BERTH_ETOOBIG ? SRV_EVDROP_TOO_BIG
					    : SRV_EVDROP_WRITE,
		       0, 1);
	/* The first of a run; the count when the queue takes events again. */
	if (n == 0)
		berth_log(BERTH_LOG_WARN,
			  "events: endpoint '%s': dropping events: %s",
			  e->cfg.name,
			  r == BERTH_ETOOMANY
				  ? "its queue is full (notify-queue-max); "
				    "is the receiver down?"
				  : err->msg);
}

void
srv_events_emit(srv_events *ev, const srv_event *e)
{
	char *json = NULL;
	size_t len = 0;

	if (!srv_events_enabled(ev))
		return;
	pthread_rwlock_rdlock(&ev->lock);
	for (size_t i = 0; i < ev->n; i++) {
		ev_ep *ep = ev->eps[i];
		berth_error *err = NULL;
		long was;
		int r;

		if (!ev_endpoint_wants(&ep->cfg, e))
			continue;
		if (json == NULL) {
			json = ev_event_json(e, &ev->src, 0);
			if (json == NULL)
				break;
			len = strlen(json);
		}
		r = ev_queue_append(ep->q, json, len, &err);
		if (r < 0) {
			dropped(ep, r, err);
			berth_error_free(err);
			continue;
		}
		srv_metric_inc(SRV_M_EVENTS_QUEUED, ep->metric);
		srv_metric_inc(SRV_M_EVENTS_DEPTH, ep->metric);
		was = atomic_exchange(&ep->dropping, 0);
		if (was)
			berth_log(BERTH_LOG_WARN,
				  "events: endpoint '%s' queues events again; "
				  "%ld dropped",
				  ep->cfg.name, was);
	}
	pthread_rwlock_unlock(&ev->lock);
	free(json);
}

void
srv_event_emit(srv *s, const srv_event *e)
{
	srv_events_emit(s->events, e);
}
