/*
 * The sender of one endpoint: a thread that posts what its queue holds,
 * EV_BATCH events an envelope at most, in order, and moves on only after
 * a 2xx. Any other answer, a refused connection or the endpoint's timeout
 * is a failed attempt, tried again: at once for the first `threshold`
 * failures in a row, then after `backoff`, doubled each time up to
 * `maxbackoff`. Stopping cuts an attempt in progress off.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "berth/log.h"
#include "server/ops/events_int.h"
#include "server/ops/metrics.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/xalloc.h"

struct ev_sender {
	const ev_endpoint_cfg *e;
	ev_queue *q;
	unsigned metric;
	atomic_bool stop;
	pthread_t thread;
};

static size_t
discard(char *p, size_t size, size_t n, void *ud)
{
	return size * n;
}

static int
progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	return atomic_load((const atomic_bool *)ud) ? 1 : 0;
}

int
ev_post(void *curl, const ev_endpoint_cfg *e, const berth_buf *body,
	const atomic_bool *stop, berth_error **err)
{
	struct curl_slist *hl = NULL;
	char cerr[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;

	hl = curl_slist_append(hl, "Content-Type: " SRV_EVENTS_MEDIA_TYPE);
	hl = curl_slist_append(hl, "Expect:");
	for (size_t i = 0; e->headers && e->headers[i]; i++)
		hl = curl_slist_append(hl, e->headers[i]);
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, e->url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, berth_buf_cstr(body));
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)body->len);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "berth-serve");
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)e->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)e->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)stop);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(curl);
	curl_slist_free_all(hl);
	if (rc != CURLE_OK)
		return berth_error_set(err, BERTH_ENET, 0, "%s",
				       cerr[0] ? cerr : curl_easy_strerror(rc));
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		return berth_error_set(err, BERTH_ESERVER, 0,
				       "the receiver answered %ld", status);
	return 0;
}

int64_t
ev_retry_delay_ms(const ev_endpoint_cfg *e, long failures)
{
	int64_t d = e->backoff_ms;

	if (failures < e->threshold)
		return 0;
	for (long i = e->threshold; i < failures && d < e->max_backoff_ms; i++)
		d *= 2;
	return d < e->max_backoff_ms ? d : e->max_backoff_ms;
}

static void
log_failure(const ev_sender *sd, long failures, const berth_error *err,
	    int64_t delay)
{
	/* The first failure of a run, then each one with a wait: a dead
	 * receiver does not flood the log. */
	if (failures != 1 && delay == 0)
		return;
	berth_log(BERTH_LOG_WARN,
		  "events: endpoint '%s' (%s): %s; %ld failed attempt%s, "
		  "next in %lld ms",
		  sd->e->name, sd->e->url_shown, err->msg, failures,
		  failures == 1 ? "" : "s", (long long)delay);
}

static void *
run(void *arg)
{
	ev_sender *sd = arg;
	CURL *curl = curl_easy_init();
	long failures = 0;

	if (curl == NULL) {
		berth_log(BERTH_LOG_ERROR,
			  "events: endpoint '%s': cannot start libcurl",
			  sd->e->name);
		return NULL;
	}
	while (ev_queue_wait(sd->q, &sd->stop)) {
		berth_buf body = BERTH_BUF_INIT;
		berth_error *err = NULL;
		ev_batch b;
		int64_t delay;

		if (ev_queue_peek(sd->q, &b, EV_BATCH, &err) < 0 || b.n == 0) {
			/* Only damaged records: step over them. */
			if (err == NULL && ev_queue_ack(sd->q, &b, &err) == 0) {
				ev_batch_release(&b);
				continue;
			}
			berth_log(BERTH_LOG_ERROR, "events: endpoint '%s': %s",
				  sd->e->name, err->msg);
			berth_error_free(err);
			ev_batch_release(&b);
			ev_queue_pause(sd->q, &sd->stop,
				       berth_monotonic_ms() + 1000);
			continue;
		}
		ev_envelope(&body, b.recs, b.lens, b.n);
		if (ev_post(curl, sd->e, &body, &sd->stop, &err) == 0) {
			if (failures)
				berth_log(BERTH_LOG_INFO,
					  "events: endpoint '%s' takes events "
					  "again after %ld failed attempts",
					  sd->e->name, failures);
			failures = 0;
			srv_metric_add(SRV_M_EVENTS_DELIVERED, sd->metric, 0, 0,
				       (int64_t)b.n);
			srv_metric_add(SRV_M_EVENTS_DEPTH, sd->metric, 0, 0,
				       -(int64_t)b.n);
			if (ev_queue_ack(sd->q, &b, &err) < 0) {
				berth_log(BERTH_LOG_ERROR,
					  "events: endpoint '%s': %s (these "
					  "events may be sent again)",
					  sd->e->name, err->msg);
				berth_error_free(err);
			}
		} else if (!atomic_load(&sd->stop)) {
			failures++;
			srv_metric_inc(SRV_M_EVENTS_FAILED, sd->metric);
			delay = ev_retry_delay_ms(sd->e, failures);
			log_failure(sd, failures, err, delay);
			berth_error_free(err);
			if (delay)
				ev_queue_pause(sd->q, &sd->stop,
					       berth_monotonic_ms() + delay);
		} else {
			berth_error_free(err);
		}
		ev_batch_release(&b);
		berth_buf_release(&body);
	}
	curl_easy_cleanup(curl);
	return NULL;
}

ev_sender *
ev_sender_start(const ev_endpoint_cfg *e, ev_queue *q, unsigned metric)
{
	ev_sender *sd = xcalloc(1, sizeof(*sd));

	sd->e = e;
	sd->q = q;
	sd->metric = metric;
	atomic_init(&sd->stop, false);
	if (pthread_create(&sd->thread, NULL, run, sd) != 0)
		abort(); /* out of threads at start: nothing sensible left */
	return sd;
}

void
ev_sender_stop(ev_sender *sd)
{
	if (sd == NULL)
		return;
	atomic_store(&sd->stop, true);
	ev_queue_wake(sd->q);
	pthread_join(sd->thread, NULL);
	free(sd);
}
