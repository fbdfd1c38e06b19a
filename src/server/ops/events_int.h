/*
 * The pieces of event notifications (events.h), private to ops/:
 *
 *   events_config.c  the `notifications` setting -> endpoint settings
 *   events_json.c    an event as distribution's JSON, envelopes
 *   events_queue.c   the on-disk queue of one endpoint
 *   events_send.c    the sender thread of one endpoint (libcurl)
 *   events.c         the running set: emit, start, reload, stop
 */
#ifndef BERTH_SERVER_OPS_EVENTS_INT_H
#define BERTH_SERVER_OPS_EVENTS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/common.h"
#include "server/ops/events.h"
#include "util/buf.h"

#define SRV_EVENTS_MEDIA_TYPE                                                  \
	"application/vnd.docker.distribution.events.v1+json"
#define EV_BATCH 32		 /* events per envelope at most */
#define EV_RECORD_MAX (64 << 10) /* bytes of one event's JSON at most */

/* ---- events_config.c ---- */

/* One endpoint of `notifications.endpoints[]`. */
typedef struct ev_endpoint_cfg {
	char *name; /* [A-Za-z0-9._-]{1,64}: also its queue's directory */
	char *url;
	char *url_shown; /* url without user:password@, for the log */
	char **headers;	 /* "Name: value" lines, NULL-terminated */
	int64_t timeout_ms;
	long threshold; /* failures in a row retried at once */
	int64_t backoff_ms, max_backoff_ms;
	char **ignore_media_types; /* NULL-terminated, or NULL */
	char **ignore_actions;
	char **repositories; /* policy patterns; NULL: every repository */
} ev_endpoint_cfg;

typedef struct ev_config {
	ev_endpoint_cfg *v; /* enabled endpoints only */
	size_t n;
} ev_config;

/* Parses the setting's JSON text (NULL: no endpoints); BERTH_EUSAGE. */
int ev_config_parse(ev_config *out, const char *text, berth_error **err);
void ev_config_release(ev_config *c);
void ev_endpoint_release(ev_endpoint_cfg *e);

/* True when an endpoint with these settings wants ev. */
bool ev_endpoint_wants(const ev_endpoint_cfg *e, const srv_event *ev);

/* ---- events_json.c ---- */

/* Where the events come from: distribution's `source`. */
typedef struct ev_source {
	char addr[300];	      /* hostname:port */
	char instance_id[40]; /* a UUID, new at every start */
} ev_source;

/* A random UUID (version 4) into buf[37]. */
void ev_uuid(char buf[37]);

/* ev as one line of compact JSON (malloc'd), with a fresh id and the
 * time now (or `when_ns` since the epoch when not 0). */
char *ev_event_json(const srv_event *ev, const ev_source *src, int64_t when_ns);

/* {"events":[r0,r1,…]} from records that are each one event's JSON. */
void ev_envelope(berth_buf *out, char *const *recs, const size_t *lens,
		 size_t n);

/* ---- events_queue.c ---- */

typedef struct ev_queue ev_queue;

/* A position in a queue: segment number and byte offset. */
typedef struct ev_pos {
	uint64_t seg;
	uint64_t off;
} ev_pos;

/* Records read from a queue, oldest first, and where they end. */
typedef struct ev_batch {
	char **recs; /* each NUL-terminated, without its framing */
	size_t *lens;
	size_t n;
	ev_pos next;
} ev_batch;

void ev_batch_release(ev_batch *b);

/*
 * Opens (creating) the queue in `dir`: counts what is undelivered, and
 * starts a new segment for appends. At most `max` undelivered records.
 */
int ev_queue_open(ev_queue **out, const char *dir, long max, berth_error **err);
void ev_queue_close(ev_queue *q); /* NULL is a no-op */

void ev_queue_set_max(ev_queue *q, long max);

/*
 * Appends one record (no newline in it): 0, BERTH_ETOOMANY when the queue
 * holds `max` already, BERTH_EIO when the write failed (err set).
 */
int ev_queue_append(ev_queue *q, const char *rec, size_t len,
		    berth_error **err);

/* Undelivered records. */
long ev_queue_depth(ev_queue *q);

/*
 * Reads up to max records from the read position into b (b->n may be 0
 * when the queue is empty). Damaged records are logged and skipped.
 */
int ev_queue_peek(ev_queue *q, ev_batch *b, size_t max, berth_error **err);

/* The records of b are delivered: moves the read position past them,
 * saves it, and removes the segments wholly read. */
int ev_queue_ack(ev_queue *q, const ev_batch *b, berth_error **err);

/* Waits until the queue is not empty or *stop is set; true when there
 * is something to send and no stop. */
bool ev_queue_wait(ev_queue *q, const atomic_bool *stop);

/* Waits until *stop is set or the monotonic clock reaches deadline_ms. */
void ev_queue_pause(ev_queue *q, const atomic_bool *stop, int64_t deadline_ms);

/* Wakes every ev_queue_wait (after setting their stop flag). */
void ev_queue_wake(ev_queue *q);

/* ---- events_send.c ---- */

typedef struct ev_sender ev_sender;

/* Starts the thread that delivers q's records to e (both borrowed). */
ev_sender *ev_sender_start(const ev_endpoint_cfg *e, ev_queue *q,
			   unsigned metric);
/* Stops it (an attempt in progress is cut off) and frees; NULL ok. */
void ev_sender_stop(ev_sender *sd);

/*
 * One delivery attempt of body to e: 0 for a 2xx answer, else a negative
 * code with err saying what the receiver did. *stop cuts it off.
 */
int ev_post(void *curl, const ev_endpoint_cfg *e, const berth_buf *body,
	    const atomic_bool *stop, berth_error **err);

/* The wait after `failures` failed attempts in a row, in milliseconds. */
int64_t ev_retry_delay_ms(const ev_endpoint_cfg *e, long failures);

#endif
