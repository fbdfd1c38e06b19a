/*
 * Events as distribution writes them (its notifications/event.go): empty
 * strings and zero sizes are left out, the records `request`, `actor` and
 * `source` are always there; the timestamp is RFC 3339 with nanoseconds,
 * as Go marshals a time.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <jansson.h>

#include "server/ops/events_int.h"
#include "util/xalloc.h"

void
ev_uuid(char buf[37])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n > 0)
			got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(buf, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%"
		 "02x"
		 "%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* RFC 3339 in UTC with the nanoseconds Go keeps (trailing zeros cut). */
static void
timestamp(char *buf, size_t size, int64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac) {
		char f[16];
		int len = snprintf(f, sizeof(f), "%09ld", frac);

		while (len > 0 && f[len - 1] == '0')
			f[--len] = '\0';
		n += (size_t)snprintf(buf + n, size - n, ".%s", f);
	}
	snprintf(buf + n, size - n, "Z");
}

static void
put(json_t *o, const char *key, const char *v)
{
	if (v && *v)
		json_object_set_new(o, key, json_string(v));
}

/* Like put, but present even when empty (distribution has no omitempty
 * on these). */
static void
put_always(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, json_string(v ? v : ""));
}

char *
ev_event_json(const srv_event *ev, const ev_source *src, int64_t when_ns)
{
	json_auto_t *o = json_object();
	json_t *target = json_object(), *req = json_object();
	json_t *actor = json_object(), *source = json_object();
	char id[37], req_id[37], when[64];
	struct timespec now;
	char *line;

	if (when_ns == 0) {
		clock_gettime(CLOCK_REALTIME, &now);
		when_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	}
	ev_uuid(id);
	timestamp(when, sizeof(when), when_ns);
	put(o, "id", id);
	put(o, "timestamp", when);
	put(o, "action", ev->action);

	put(target, "mediaType", ev->media_type);
	if (ev->size > 0)
		json_object_set_new(target, "size", json_integer(ev->size));
	put(target, "digest", ev->digest);
	if (ev->size > 0)
		json_object_set_new(target, "length", json_integer(ev->size));
	put(target, "repository", ev->repository);
	put(target, "fromRepository", ev->from_repository);
	put(target, "url", ev->url);
	put(target, "tag", ev->tag);
	json_object_set_new(o, "target", target);

	/* berth keeps no request ids: one of the event's own. */
	if (ev->request_id == NULL)
		ev_uuid(req_id);
	put_always(req, "id", ev->request_id ? ev->request_id : req_id);
	put(req, "addr", ev->addr);
	put(req, "host", ev->host);
	put_always(req, "method", ev->method);
	put_always(req, "useragent", ev->user_agent);
	json_object_set_new(o, "request", req);

	put(actor, "name", ev->actor);
	json_object_set_new(o, "actor", actor);

	put(source, "addr", src->addr);
	put(source, "instanceID", src->instance_id);
	json_object_set_new(o, "source", source);

	/* Invalid UTF-8 in a field (a hostile User-Agent) drops it, not the
	 * event: try again without the request's free-text fields. */
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line == NULL) {
		json_object_set_new(req, "useragent", json_string(""));
		json_object_del(req, "host");
		line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	}
	return line;
}

void
ev_envelope(berth_buf *out, char *const *recs, const size_t *lens, size_t n)
{
	/* Under the default cap: a batch is EV_BATCH records of at most
	 * EV_RECORD_MAX bytes. */
	berth_buf_puts(out, "{\"events\":[", NULL);
	for (size_t i = 0; i < n; i++) {
		if (i)
			berth_buf_puts(out, ",", NULL);
		berth_buf_put(out, recs[i], lens[i], NULL);
	}
	berth_buf_puts(out, "]}", NULL);
}
