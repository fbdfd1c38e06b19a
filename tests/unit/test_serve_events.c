/* berth serve's event notifications: the JSON of events and envelopes,
 * the endpoint settings and filters, the retry delays, and the on-disk
 * queue (append, restart, replay, bound, damaged files). */
#include "test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/ops/events_int.h"
#include "util/cleanup.h"
#include "util/buf.h"
#include "util/xalloc.h"

static char root[] = "/tmp/berth-unit-events.XXXXXX";

static void
rm_rf(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		printf("cannot remove %s\n", dir);
	free(cmd);
}

static const char *
jstr(json_t *o, const char *path)
{
	char *p = xstrdup(path), *save = NULL;
	json_t *v = o;
	const char *out;

	for (char *k = strtok_r(p, ".", &save); k && v;
	     k = strtok_r(NULL, ".", &save))
		v = json_object_get(v, k);
	free(p);
	out = json_string_value(v);
	return out;
}

static const srv_event push_ev = {
	.action = SRV_EV_PUSH,
	.repository = "team/app",
	.media_type = "application/vnd.oci.image.manifest.v1+json",
	.digest = "sha256:aaaa",
	.size = 527,
	.tag = "v1",
	.url = "http://reg:5000/v2/team/app/manifests/sha256:aaaa",
	.addr = "10.0.0.7",
	.host = "reg:5000",
	.method = "PUT",
	.user_agent = "skopeo/1.9",
	.actor = "alice",
};

static const ev_source src = {"reg:5000", "5f0e-instance"};

TEST(event_json_has_distributions_fields)
{
	/* 2026-05-01T12:00:00.1234Z */
	char *line = ev_event_json(
		&push_ev, &src, (int64_t)1777636800 * 1000000000 + 123400000);
	json_error_t jerr;
	json_t *o = json_loads(line, 0, &jerr);
	json_t *t;

	CHECK(o != NULL, "valid JSON: %s", jerr.text);
	CHECK(strchr(line, '\n') == NULL, "one line");
	CHECK_STR(jstr(o, "action"), "push");
	CHECK_STR(jstr(o, "timestamp"), "2026-05-01T12:00:00.1234Z");
	CHECK(jstr(o, "id") && strlen(jstr(o, "id")) == 36, "uuid id");
	CHECK_STR(jstr(o, "target.mediaType"),
		  "application/vnd.oci.image.manifest.v1+json");
	CHECK_STR(jstr(o, "target.digest"), "sha256:aaaa");
	CHECK_STR(jstr(o, "target.repository"), "team/app");
	CHECK_STR(jstr(o, "target.tag"), "v1");
	CHECK_STR(jstr(o, "target.url"),
		  "http://reg:5000/v2/team/app/manifests/sha256:aaaa");
	t = json_object_get(o, "target");
	CHECK(json_integer_value(json_object_get(t, "size")) == 527, "size");
	CHECK(json_integer_value(json_object_get(t, "length")) == 527,
	      "length");
	CHECK_STR(jstr(o, "request.addr"), "10.0.0.7");
	CHECK_STR(jstr(o, "request.host"), "reg:5000");
	CHECK_STR(jstr(o, "request.method"), "PUT");
	CHECK_STR(jstr(o, "request.useragent"), "skopeo/1.9");
	CHECK(jstr(o, "request.id") && strlen(jstr(o, "request.id")) == 36,
	      "a request id");
	CHECK_STR(jstr(o, "actor.name"), "alice");
	CHECK_STR(jstr(o, "source.addr"), "reg:5000");
	CHECK_STR(jstr(o, "source.instanceID"), "5f0e-instance");
	json_decref(o);
	free(line);
}

TEST(event_json_leaves_out_what_is_unknown)
{
	srv_event del = {.action = SRV_EV_DELETE,
			 .repository = "r",
			 .tag = "old",
			 .size = -1,
			 .method = "DELETE"};
	char *line = ev_event_json(&del, &src, 1000000000);
	json_t *o = json_loads(line, 0, NULL);
	json_t *t = json_object_get(o, "target");

	CHECK(json_object_get(t, "digest") == NULL, "no digest");
	CHECK(json_object_get(t, "size") == NULL, "no size");
	CHECK(json_object_get(t, "mediaType") == NULL, "no media type");
	CHECK_STR(jstr(o, "target.tag"), "old");
	CHECK(json_is_object(json_object_get(o, "actor")) &&
		      json_object_size(json_object_get(o, "actor")) == 0,
	      "an anonymous actor is {}");
	CHECK_STR(jstr(o, "request.useragent"), "");
	CHECK_STR(jstr(o, "timestamp"), "1970-01-01T00:00:01Z");
	json_decref(o);
	free(line);
}

TEST(event_json_survives_invalid_utf8)
{
	srv_event e = push_ev;
	char *line;
	json_t *o;

	e.user_agent = "bad\xff\xfe";
	line = ev_event_json(&e, &src, 0);
	CHECK(line != NULL, "an event still");
	o = line ? json_loads(line, 0, NULL) : NULL;
	CHECK_STR(jstr(o, "target.digest"), "sha256:aaaa");
	json_decref(o);
	free(line);
}

TEST(envelope_wraps_records)
{
	char *recs[] = {"{\"a\":1}", "{\"b\":2}"};
	size_t lens[] = {7, 7};
	berth_buf b = BERTH_BUF_INIT;
	json_t *o;

	ev_envelope(&b, recs, lens, 2);
	CHECK_STR(berth_buf_cstr(&b), "{\"events\":[{\"a\":1},{\"b\":2}]}");
	o = json_loads(berth_buf_cstr(&b), 0, NULL);
	CHECK(json_array_size(json_object_get(o, "events")) == 2, "2 events");
	json_decref(o);
	berth_buf_release(&b);
}

TEST(config_full_endpoint)
{
	ev_config c;
	berth_error *err = NULL;
	const char *text =
		"{\"endpoints\":[{\"name\":\"ci\",\"url\":\"https://h/x\","
		"\"headers\":{\"Authorization\":[\"Bearer t\"],\"X-A\":\"b\"},"
		"\"timeout\":\"500ms\",\"threshold\":3,\"backoff\":\"2s\","
		"\"maxbackoff\":60,\"ignoredmediatypes\":[\"m1\"],"
		"\"ignore\":{\"mediatypes\":[\"m2\"],\"actions\":[\"pull\"]},"
		"\"repositories\":[\"team/**\"]},"
		"{\"name\":\"off\",\"url\":\"http://x\",\"disabled\":true},"
		"{\"name\":\"d\",\"url\":\"http://u:pw@y:8/p?a@b\"}]}";

	CHECK(ev_config_parse(&c, text, &err) == 0, "parses: %s",
	      err ? err->msg : "");
	CHECK(c.n == 2, "the disabled one left out: %zu", c.n);
	CHECK_STR(c.v[0].name, "ci");
	CHECK_STR(c.v[0].url_shown, "https://h/x");
	CHECK_STR(c.v[0].headers[0], "Authorization: Bearer t");
	CHECK_STR(c.v[0].headers[1], "X-A: b");
	CHECK(c.v[0].headers[2] == NULL, "two headers");
	CHECK(c.v[0].timeout_ms == 500, "timeout %lld",
	      (long long)c.v[0].timeout_ms);
	CHECK(c.v[0].threshold == 3, "threshold");
	CHECK(c.v[0].backoff_ms == 2000, "backoff");
	CHECK(c.v[0].max_backoff_ms == 60000, "maxbackoff in seconds");
	CHECK_STR(c.v[0].ignore_media_types[0], "m1");
	CHECK_STR(c.v[0].ignore_media_types[1], "m2");
	CHECK_STR(c.v[0].ignore_actions[0], "pull");
	CHECK_STR(c.v[1].url_shown, "http://y:8/p?a@b");
	/* distribution's defaults */
	CHECK(c.v[1].timeout_ms == 1000 && c.v[1].threshold == 10 &&
		      c.v[1].backoff_ms == 1000,
	      "defaults");
	ev_config_release(&c);
	CHECK(ev_config_parse(&c, NULL, &err) == 0 && c.n == 0, "none");
}

TEST(config_errors_name_the_endpoint)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"[]", "must be an object"},
		{"{\"endpoint\":[]}", "unknown key 'endpoint'"},
		{"{\"endpoints\":[{\"url\":\"http://x\"}]}", "needs a name"},
		{"{\"endpoints\":[{\"name\":\"a\"}]}",
		 "needs a name and a url"},
		{"{\"endpoints\":[{\"name\":\"a/b\",\"url\":\"http://x\"}]}",
		 "name must be"},
		{"{\"endpoints\":[{\"name\":\"a\",\"url\":\"ftp://x\"}]}",
		 "http:// or https://"},
		{"{\"endpoints\":[{\"name\":\"a\",\"url\":\"http://x\","
		 "\"timeout\":\"5 parsecs\"}]}",
		 "endpoint 'a': a duration"},
		{"{\"endpoints\":[{\"name\":\"a\",\"url\":\"http://x\","
		 "\"ignore\":{\"actions\":[\"push\",\"fetch\"]}}]}",
		 "ignored actions are"},
		{"{\"endpoints\":[{\"name\":\"a\",\"url\":\"http://x\","
		 "\"headers\":{\"X\":[\"a\\nb\"]}}]}",
		 "control characters"},
		{"{\"endpoints\":[{\"name\":\"a\",\"url\":\"http://x\"},"
		 "{\"name\":\"a\",\"url\":\"http://y\"}]}",
		 "two endpoints are named 'a'"},
		{"{\"endpoints\":[{\"name\":\"a\",\"url\":\"http://x\","
		 "\"retries\":3}]}",
		 "unknown key 'retries'"},
	};

	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
		ev_config c;
		berth_error *err = NULL;
		int r = ev_config_parse(&c, cases[i].text, &err);

		CHECK(r == BERTH_EUSAGE, "refused: %s", cases[i].text);
		CHECK(err && strstr(err->msg, cases[i].want),
		      "'%s' says '%s': %s", cases[i].text, cases[i].want,
		      err ? err->msg : "(none)");
		CHECK(err && err->hint, "a hint");
		berth_error_free(err);
	}
}

TEST(filters)
{
	ev_config c;
	srv_event e = push_ev;

	CHECK(ev_config_parse(
		      &c,
		      "{\"endpoints\":[{\"name\":\"a\",\"url\":\"http://x\","
		      "\"ignore\":{\"actions\":[\"pull\"],\"mediatypes\":"
		      "[\"application/octet-stream\"]},"
		      "\"repositories\":[\"team/**\",\"solo\"]}]}",
		      NULL) == 0,
	      "parses");
	CHECK(ev_endpoint_wants(&c.v[0], &e), "a push under team/");
	e.action = SRV_EV_PULL;
	CHECK(!ev_endpoint_wants(&c.v[0], &e), "pulls ignored");
	e = push_ev;
	e.media_type = "application/octet-stream";
	CHECK(!ev_endpoint_wants(&c.v[0], &e), "blobs ignored");
	e = push_ev;
	e.repository = "other/app";
	CHECK(!ev_endpoint_wants(&c.v[0], &e), "outside the patterns");
	e.repository = "solo";
	CHECK(ev_endpoint_wants(&c.v[0], &e), "an exact pattern");
	e.repository = "solo/x";
	CHECK(!ev_endpoint_wants(&c.v[0], &e), "not below it");
	ev_config_release(&c);
}

TEST(retry_delays_double_up_to_the_cap)
{
	ev_endpoint_cfg e = {
		.threshold = 2, .backoff_ms = 100, .max_backoff_ms = 1000};

	CHECK(ev_retry_delay_ms(&e, 1) == 0, "at once below the threshold");
	CHECK(ev_retry_delay_ms(&e, 2) == 100, "backoff at the threshold");
	CHECK(ev_retry_delay_ms(&e, 3) == 200, "doubled");
	CHECK(ev_retry_delay_ms(&e, 5) == 800, "doubled again");
	CHECK(ev_retry_delay_ms(&e, 6) == 1000, "capped");
	CHECK(ev_retry_delay_ms(&e, 1000000) == 1000, "stays capped");
}

/* ---- the queue ---- */

static char *
qdir(const char *name)
{
	return xasprintf("%s/events/%s", root, name);
}

static void
append_n(ev_queue *q, int from, int n)
{
	for (int i = from; i < from + n; i++) {
		char rec[64];
		berth_error *err = NULL;
		int len = snprintf(rec, sizeof(rec), "{\"n\":%d}", i);

		CHECK(ev_queue_append(q, rec, (size_t)len, &err) == 0,
		      "append %d: %s", i, err ? err->msg : "");
		berth_error_free(err);
	}
}

/* Reads and acknowledges everything; returns how many, checking they
 * are from..from+n-1 in order. */
static int
drain(ev_queue *q, int from)
{
	int got = 0;

	for (;;) {
		ev_batch b;

		CHECK(ev_queue_peek(q, &b, EV_BATCH, NULL) == 0, "peek");
		if (b.n == 0) {
			CHECK(ev_queue_ack(q, &b, NULL) == 0, "ack");
			ev_batch_release(&b);
			return got;
		}
		for (size_t i = 0; i < b.n; i++) {
			char want[64];

			snprintf(want, sizeof(want), "{\"n\":%d}",
				 from + got++);
			CHECK_STR(b.recs[i], want);
		}
		CHECK(ev_queue_ack(q, &b, NULL) == 0, "ack");
		ev_batch_release(&b);
	}
}

TEST(queue_append_peek_ack)
{
	char *dir = qdir("a");
	ev_queue *q = NULL;
	ev_batch b;

	CHECK(ev_queue_open(&q, dir, 100, NULL) == 0, "open");
	CHECK(ev_queue_depth(q) == 0, "empty");
	append_n(q, 0, 40);
	CHECK(ev_queue_depth(q) == 40, "depth %ld", ev_queue_depth(q));
	CHECK(ev_queue_peek(q, &b, 5, NULL) == 0 && b.n == 5, "five");
	CHECK_STR(b.recs[0], "{\"n\":0}");
	ev_batch_release(&b);
	/* Not acknowledged: the same again. */
	CHECK(ev_queue_peek(q, &b, 5, NULL) == 0 && b.n == 5, "five again");
	CHECK_STR(b.recs[0], "{\"n\":0}");
	CHECK(ev_queue_ack(q, &b, NULL) == 0, "ack");
	ev_batch_release(&b);
	CHECK(ev_queue_depth(q) == 35, "depth %ld", ev_queue_depth(q));
	CHECK(drain(q, 5) == 35, "the rest in order");
	CHECK(ev_queue_depth(q) == 0, "empty again");
	ev_queue_close(q);
	free(dir);
}

TEST(queue_survives_restart_and_replays_from_cursor)
{
	char *dir = qdir("a");
	ev_queue *q = NULL;
	ev_batch b;

	CHECK(ev_queue_open(&q, dir, 1000, NULL) == 0, "open");
	append_n(q, 0, 10);
	CHECK(ev_queue_peek(q, &b, 4, NULL) == 0 && b.n == 4, "four");
	CHECK(ev_queue_ack(q, &b, NULL) == 0, "ack");
	ev_batch_release(&b);
	/* Read and not acknowledged (a crash during the delivery). */
	CHECK(ev_queue_peek(q, &b, 3, NULL) == 0 && b.n == 3, "three");
	ev_batch_release(&b);
	ev_queue_close(q);

	CHECK(ev_queue_open(&q, dir, 1000, NULL) == 0, "reopen");
	CHECK(ev_queue_depth(q) == 6, "six undelivered: %ld",
	      ev_queue_depth(q));
	append_n(q, 10, 5);
	CHECK(drain(q, 4) == 11, "4..14 in order, across two segments");
	ev_queue_close(q);

	CHECK(ev_queue_open(&q, dir, 1000, NULL) == 0, "reopen");
	CHECK(ev_queue_depth(q) == 0, "nothing left");
	ev_queue_close(q);
	free(dir);
}

TEST(queue_bound_refuses_and_recovers)
{
	char *dir = qdir("a");
	ev_queue *q = NULL;
	berth_error *err = NULL;
	ev_batch b;

	CHECK(ev_queue_open(&q, dir, 3, NULL) == 0, "open");
	append_n(q, 0, 3);
	CHECK(ev_queue_append(q, "{}", 2, &err) == BERTH_ETOOMANY, "full");
	CHECK(err == NULL, "a full queue is no error to log as such");
	CHECK(ev_queue_peek(q, &b, 1, NULL) == 0 && b.n == 1, "one");
	CHECK(ev_queue_ack(q, &b, NULL) == 0, "ack");
	ev_batch_release(&b);
	append_n(q, 3, 1);
	CHECK(ev_queue_append(q, "{}", 2, &err) == BERTH_ETOOMANY, "full");
	ev_queue_set_max(q, 10);
	append_n(q, 4, 1);
	CHECK(drain(q, 1) == 4, "1..4");
	ev_queue_close(q);
	free(dir);
}

TEST(queue_refuses_huge_records)
{
	char *dir = qdir("a");
	ev_queue *q = NULL;
	berth_error *err = NULL;
	char *big = xmalloc(EV_RECORD_MAX + 2);

	memset(big, 'x', EV_RECORD_MAX + 1);
	big[EV_RECORD_MAX + 1] = '\0';
	CHECK(ev_queue_open(&q, dir, 10, NULL) == 0, "open");
	CHECK(ev_queue_append(q, big, EV_RECORD_MAX + 1, &err) == BERTH_ETOOBIG,
	      "too big");
	CHECK(err && strstr(err->msg, "over the limit"), "says so");
	berth_error_free(err);
	CHECK(ev_queue_depth(q) == 0, "not queued");
	ev_queue_close(q);
	free(dir);
	free(big);
}

TEST(queue_rotates_and_removes_delivered_segments)
{
	char *dir = qdir("a");
	char *seg1 = xasprintf("%s/seg-%020d.log", dir, 1);
	char *rec = xmalloc(60001);
	ev_queue *q = NULL;
	struct stat st;
	int got = 0;

	memset(rec, 'y', 60000);
	rec[0] = '"';
	rec[59999] = '"';
	rec[60000] = '\0';
	CHECK(ev_queue_open(&q, dir, 1000, NULL) == 0, "open");
	for (int i = 0; i < 40; i++)
		CHECK(ev_queue_append(q, rec, 60000, NULL) == 0, "append");
	CHECK(stat(seg1, &st) == 0, "segment 1 there");
	for (;;) {
		ev_batch b;

		ev_queue_peek(q, &b, EV_BATCH, NULL);
		got += (int)b.n;
		ev_queue_ack(q, &b, NULL);
		if (b.n == 0) {
			ev_batch_release(&b);
			break;
		}
		ev_batch_release(&b);
	}
	CHECK(got == 40, "all 40 read: %d", got);
	CHECK(stat(seg1, &st) < 0, "segment 1 removed once read");
	ev_queue_close(q);
	free(dir);
	free(seg1);
	free(rec);
}

/* Writes text over a segment's bytes at off (or appends at -1). */
static void
damage(const char *path, long off, const char *text)
{
	int fd = open(path, O_WRONLY | (off < 0 ? O_APPEND : 0));

	CHECK(fd >= 0, "open %s", path);
	if (off >= 0)
		CHECK(pwrite(fd, text, strlen(text), off) ==
			      (ssize_t)strlen(text),
		      "pwrite");
	else
		CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text),
		      "write");
	close(fd);
}

TEST(queue_skips_damaged_records)
{
	char *dir = qdir("a");
	char *seg1 = xasprintf("%s/seg-%020d.log", dir, 1);
	ev_queue *q = NULL;
	ev_batch b;
	int rec_len = (int)strlen("xxxxxxxx {\"n\":0}\n");

	CHECK(ev_queue_open(&q, dir, 100, NULL) == 0, "open");
	append_n(q, 0, 5);
	ev_queue_close(q);
	/* A flipped byte in record 1, garbage in record 3's checksum, and a
	 * torn last line (a crash in the middle of a write). */
	damage(seg1, rec_len + 12, "9");
	damage(seg1, 3 * rec_len, "zz");
	damage(seg1, -1, "0000abcd {\"n\":");
	CHECK(ev_queue_open(&q, dir, 100, NULL) == 0, "reopen");
	CHECK(ev_queue_depth(q) == 3, "three whole: %ld", ev_queue_depth(q));
	CHECK(ev_queue_peek(q, &b, EV_BATCH, NULL) == 0 && b.n == 3, "three");
	CHECK_STR(b.recs[0], "{\"n\":0}");
	CHECK_STR(b.recs[1], "{\"n\":2}");
	CHECK_STR(b.recs[2], "{\"n\":4}");
	ev_queue_ack(q, &b, NULL);
	ev_batch_release(&b);
	append_n(q, 5, 1);
	CHECK(drain(q, 5) == 1, "new records after the damage");
	ev_queue_close(q);
	free(dir);
	free(seg1);
}

TEST(queue_with_garbage_files_and_cursor)
{
	char *dir = qdir("a");
	char *seg = xasprintf("%s/seg-%020d.log", dir, 1);
	char *cursor = xasprintf("%s/cursor", dir);
	ev_queue *q = NULL;

	CHECK(ev_queue_open(&q, dir, 100, NULL) == 0, "open");
	append_n(q, 0, 2);
	ev_queue_close(q);
	{
		int fd = open(cursor, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		CHECK(write(fd, "nonsense", 8) == 8, "write cursor");
		close(fd);
	}
	/* A whole segment of binary garbage without a line end. */
	{
		char *junk = xasprintf("%s/seg-%020d.log", dir, 2);
		int fd = open(junk, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char buf[4096];

		memset(buf, 0xff, sizeof(buf));
		for (int i = 0; i < 200; i++)
			CHECK(write(fd, buf, sizeof(buf)) == sizeof(buf), "w");
		close(fd);
		free(junk);
	}
	CHECK(ev_queue_open(&q, dir, 100, NULL) == 0, "reopen");
	CHECK(ev_queue_depth(q) == 2, "the two from the start: %ld",
	      ev_queue_depth(q));
	append_n(q, 2, 1);
	CHECK(drain(q, 0) == 3, "0, 1, then the new one");
	ev_queue_close(q);
	free(dir);
	free(seg);
	free(cursor);
}

TEST(queue_wait_and_stop)
{
	char *dir = qdir("a");
	ev_queue *q = NULL;
	atomic_bool stop;

	atomic_init(&stop, false);
	CHECK(ev_queue_open(&q, dir, 100, NULL) == 0, "open");
	append_n(q, 0, 1);
	CHECK(ev_queue_wait(q, &stop), "not empty");
	atomic_store(&stop, true);
	CHECK(!ev_queue_wait(q, &stop), "stopped: nothing to send");
	CHECK(drain(q, 0) == 1, "one");
	CHECK(!ev_queue_wait(q, &stop), "stopped and empty");
	ev_queue_pause(q, &stop, INT64_MAX); /* returns: stop is set */
	ev_queue_close(q);
	free(dir);
}

/* ---- the running set: start, emit, reload, stop ---- */

/* A port on 127.0.0.1 that nobody listens on. */
static int
dead_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

TEST(events_queue_while_receiver_is_dead_and_stop_keeps_them)
{
	char *cfg = xasprintf(
		"{\"endpoints\":[{\"name\":\"a\",\"url\":"
		"\"http://127.0.0.1:%d/\",\"threshold\":1,\"backoff\":"
		"\"10m\",\"ignore\":{\"actions\":[\"pull\"]}}]}",
		dead_port());
	char **labels = srv_events_names(cfg);
	srv_events *ev = NULL;
	srv_events_plan *plan = NULL;
	berth_error *err = NULL;
	srv_event pull = push_ev;
	char *dir = qdir("a");
	ev_queue *q = NULL;

	CHECK_STR(labels[0], "a");
	CHECK_STR(labels[1], "other");
	CHECK(srv_events_start(&ev, root, cfg, 100, "127.0.0.1:5000", labels,
			       &err) == 0,
	      "start: %s", err ? err->msg : "");
	CHECK(srv_events_enabled(ev), "enabled");
	pull.action = SRV_EV_PULL;
	srv_events_emit(ev, &push_ev);
	srv_events_emit(ev, &pull); /* ignored */
	srv_events_emit(ev, &push_ev);
	/* A reload that does not parse changes nothing... */
	CHECK(srv_events_prepare(ev, &plan, "{\"endpoints\":{}}", 100, &err) ==
		      BERTH_EUSAGE,
	      "refused");
	berth_error_free(err);
	err = NULL;
	/* ...one that does keeps the queue of the name that stays. */
	CHECK(srv_events_prepare(ev, &plan, cfg, 50, &err) == 0, "prepared");
	srv_events_apply(ev, plan);
	srv_events_emit(ev, &push_ev);
	srv_events_stop(ev);
	CHECK(ev_queue_open(&q, dir, 100, NULL) == 0, "reopen");
	CHECK(ev_queue_depth(q) == 3, "three pushes kept: %ld",
	      ev_queue_depth(q));
	ev_queue_close(q);
	CHECK(srv_events_start(&ev, root, NULL, 100, "x:1", labels, &err) == 0,
	      "start without endpoints");
	CHECK(!srv_events_enabled(ev), "nothing to send to");
	srv_events_emit(ev, &push_ev);
	srv_events_stop(ev);
	berth_strv_free(labels);
	free(cfg);
	free(dir);
}

static void
fixture_setup(void)
{
	if (mkdtemp(root) == NULL)
		exit(1);
}

static void
fixture_teardown(void)
{
	rm_rf(root);
}

TEST_MAIN_FIXTURE("test_serve_events", fixture_setup, fixture_teardown)
