/*
 * Event notifications (webhooks): what happened to a repository, sent to
 * the endpoints of the `notifications` setting in distribution's format,
 * so receivers written for distribution work unchanged:
 *
 *   POST <url>   Content-Type:
 * application/vnd.docker.distribution.events.v1+json
 *   {"events":[{"id":…,"timestamp":…,"action":"push",
 *               "target":{"mediaType":…,"digest":…,"size":…,"length":…,
 *                         "repository":…,"url":…,"tag":…},
 *               "request":{"id":…,"addr":…,"host":…,"method":…,
 *                          "useragent":…},
 *               "actor":{"name":…},"source":{"addr":…,"instanceID":…}}]}
 *
 * Delivery is at least once: srv_event_emit appends the event to a queue
 * on disk per endpoint (ops/events_queue.c, under STORAGE/events/) and
 * returns; one sender thread per endpoint (ops/events_send.c) posts what
 * is queued, in order, and retries with backoff until a 2xx. A request
 * never waits for a receiver: a full queue drops the event, counted in
 * /metrics and logged.
 */
#ifndef BERTH_SERVER_OPS_EVENTS_H
#define BERTH_SERVER_OPS_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "berth/common.h"

typedef struct srv srv;

/* The actions, as distribution names them. */
#define SRV_EV_PUSH "push"
#define SRV_EV_PULL "pull"
#define SRV_EV_MOUNT "mount"
#define SRV_EV_DELETE "delete"

/* One event; every string is borrowed, NULL (or size < 0) leaves the
 * field out. */
typedef struct srv_event {
	const char *action;
	/* target */
	const char *repository;
	const char *media_type;
	const char *digest;
	int64_t size;
	const char *tag;
	const char *from_repository; /* a mount's source */
	const char *url;	     /* the content's URL */
	/* request */
	const char *request_id;
	const char *addr; /* the client's address */
	const char *host; /* the Host header */
	const char *method;
	const char *user_agent;
	const char *actor; /* the signed-in user, or NULL */
} srv_event;

/*
 * Queues ev for every endpoint whose filters let it through. Never blocks
 * on a receiver: it appends to files, or drops the event (queue full,
 * write failed) with a counted, logged reason. No-op without endpoints.
 */
void srv_event_emit(srv *s, const srv_event *ev);

typedef struct srv_events srv_events;

/*
 * Opens the queues and starts the senders of the endpoints in
 * `notifications` (the setting's JSON text, NULL: none) with at most
 * queue_max undelivered events per endpoint. `labels` is what
 * srv_events_names gave for the metrics (borrowed, kept to the stop).
 * BERTH_EUSAGE for a setting that does not parse, BERTH_EIO for a queue that
 * cannot be opened.
 */
int srv_events_start(srv_events **out, const char *storage,
		     const char *notifications, long queue_max,
		     const char *source_addr, char **labels, berth_error **err);

/* srv_event_emit on a set (NULL: no-op). */
void srv_events_emit(srv_events *ev, const srv_event *e);

/* True when some endpoint is configured: else an event is not worth
 * building. */
bool srv_events_enabled(const srv_events *ev);

/*
 * A reload in two steps, so that it is all or nothing with the rest of
 * the configuration: srv_events_prepare parses and opens what the new
 * setting needs (changing nothing that runs), srv_events_apply puts it in
 * place (and cannot fail), srv_events_discard drops a prepared one.
 */
typedef struct srv_events_plan srv_events_plan;
int srv_events_prepare(srv_events *ev, srv_events_plan **out,
		       const char *notifications, long queue_max,
		       berth_error **err);
void srv_events_apply(srv_events *ev, srv_events_plan *plan);
void srv_events_discard(srv_events *ev, srv_events_plan *plan);

/* Stops the senders (what is queued stays on disk) and frees; NULL ok. */
void srv_events_stop(srv_events *ev);

/* The endpoint names of a `notifications` setting and "other" (for the
 * endpoints a reload adds), the metrics' ENDPOINT label values:
 * NULL-terminated, for berth_strv_free. */
char **srv_events_names(const char *notifications);

#endif
