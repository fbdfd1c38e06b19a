/*
 * The dispatcher: one request context per request (freed in the
 * completion callback), the route matched, the access checks run, and
 * then the route's handler, its body buffered or streamed to it; one
 * access-log line per request. Calls run one way from here: access/
 * checks, then the handler, then the response layer (respond.c,
 * errors.c), which calls nothing back.
 *
 * MHD calls the access handler first with the headers, then once per body
 * chunk, then once more at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "berth/manifest.h"
#include "server/handlers/oci.h"
#include "server/http/http_int.h"
#include "server/http/path.h"
#include "server/ops/metrics.h"
#include "server/ops/cache.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/str.h"
#include "util/xalloc.h"

#define ACCESS_LINE_MAX                                                        \
	2048 /* bytes of an access-log line, its newline too                   \
	      */

static bool
request_has_body(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);

	return (cl && strtoull(cl, NULL, 10) > 0) || te != NULL;
}

/* Everything before the body: route, access, name, body limits. */
static void
req_begin(srv_req *r)
{
	const char *cl;
	srv_match m;

	if (!r->pw_done && srv_rate_guard(r) < 0)
		return;
	if (r->too_many_args) {
		srv_fail(r, SRV_E_URI_TOO_LONG, NULL,
			 "more than %d query arguments", SRV_MAX_QUERY_ARGS);
		return;
	}
	if (r->path_nul) {
		srv_fail(r, SRV_E_BAD_REQUEST, NULL,
			 "the path holds an encoded NUL byte (%%00)");
		return;
	}
	/* Run again after a password check (pwcheck.c): match afresh. */
	free(r->name);
	free(r->ref);
	r->name = r->ref = NULL;
	m = srv_route_find(r->method, r->path, &r->route, &r->name, &r->ref);
	if (m != SRV_MATCH_OK) {
		/* Even a wrong path needs credentials (no probing). */
		if (srv_authorize(r, NULL, SRV_NEED_NONE) < 0)
			return;
		srv_fail(r,
			 m == SRV_MATCH_METHOD ? SRV_E_METHOD : SRV_E_NOT_FOUND,
			 NULL, "no endpoint for %s %s", r->method, r->path);
		return;
	}
	if (r->name && !berth_oci_name_valid(r->name)) {
		if (srv_authorize(r, NULL, SRV_NEED_NONE) < 0)
			return;
		srv_fail(r, SRV_E_NAME_INVALID, NULL,
			 "invalid repository name '%.300s'", r->name);
		return;
	}
	if (srv_authorize(r, r->name, r->route->needs) < 0)
		return;
	if ((r->route->needs & SRV_NEED_PULL_LIMIT) && srv_pull_limit(r) < 0)
		return;
	if ((r->route->needs & (SRV_NEED_PUSH | SRV_NEED_DELETE)) && r->name &&
	    srv_cache_refuse_write(r) < 0)
		return;
	if (r->route->needs & SRV_BODY_BUFFER) {
		cl = srv_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > BERTH_MANIFEST_MAX) {
			srv_fail(r, SRV_E_MANIFEST_TOO_BIG, NULL,
				 "manifest of %s bytes is over the limit of "
				 "%zu",
				 cl, BERTH_MANIFEST_MAX);
			return;
		}
		berth_buf_init(&r->body, BERTH_MANIFEST_MAX);
	}
	if (r->route->needs & SRV_BODY_STREAM) {
		r->phase = SRV_PHASE_BEGIN;
		r->route->handler(r);
	}
}

static void
req_data(srv_req *r, const char *data, size_t len)
{
	if (r->responded || r->pending || r->route == NULL)
		return; /* the answer is decided: the rest is discarded */
	if (r->route->needs & SRV_BODY_BUFFER) {
		if (!r->body_too_big &&
		    berth_buf_put(&r->body, data, len, NULL) < 0)
			r->body_too_big = true;
	} else if (r->route->needs & SRV_BODY_STREAM) {
		r->phase = SRV_PHASE_DATA;
		r->data = data;
		r->len = len;
		r->route->handler(r);
		r->data = NULL;
		r->len = 0;
	}
}

static void
req_end(srv_req *r)
{
	if (!r->responded && !r->pending && r->route) {
		r->phase = SRV_PHASE_END;
		if (r->body_too_big)
			srv_fail(r, SRV_E_MANIFEST_TOO_BIG, NULL,
				 "manifest is over the limit of %zu bytes",
				 BERTH_MANIFEST_MAX);
		else
			r->route->handler(r);
		if (r->pw_wait)
			return; /* suspended: the handler runs again */
	}
	r->phase = SRV_PHASE_END;
	srv_send_pending(r);
	if (!r->responded)
		srv_fail(r, SRV_E_INTERNAL, NULL, "no answer to %s %s",
			 r->method, r->path);
}

/* A request's context, made when its first line is in. */
static srv_req *
req_new(srv *s, struct MHD_Connection *conn, const char *uri)
{
	srv_req *r = xcalloc(1, sizeof(*r));
	size_t len = uri ? strcspn(uri, "?") : 0;

	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->s = s;
	r->conn = conn;
	r->path_nul =
		srv_path_decode(&r->path, uri ? uri : "", len) == SRV_PATH_NUL;
	return r;
}

/*
 * MHD's URI-log callback: the request line as the client sent it, before
 * MHD decodes the path and parses the query. Its return value is the
 * request's context.
 */
void *
srv_dispatch_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	srv_req *r = req_new(cls, conn, uri);
	char *q = uri ? strchr(uri, '?') : NULL;

	/*
	 * libmicrohttpd 0.9.75 keeps one record per query argument in the
	 * connection's memory; thousands of them exhaust it, and its own 431
	 * answer then never leaves (the socket hangs until the timeout). So
	 * such a query is emptied here, in MHD's line buffer, before MHD
	 * parses it (it has found the '?' already), and answered 414.
	 */
	if (q && srv_query_count(q + 1) > SRV_MAX_QUERY_ARGS) {
		r->too_many_args = true;
		q[1] = '\0';
	}
	return r;
}

enum MHD_Result
srv_dispatch_request(void *cls, struct MHD_Connection *conn, const char *url,
		     const char *method, const char *version,
		     const char *upload_data, size_t *upload_data_size,
		     void **con_cls)
{
	srv *s = cls;
	srv_req *r = *con_cls;

	if (r == NULL) /* not without the URI-log callback; MHD's path */
		*con_cls = r = req_new(s, conn, url);
	if (!r->headers_in) {
		r->headers_in = true;
		r->method = method;
		r->head = strcmp(method, "HEAD") == 0;
		r->has_body = request_has_body(conn);
		r->tracked = srv_conn_of(conn);
		srv_conn_headers_in(s, r->tracked, r->has_body);
		srv_peer_init(r);
		r->phase = SRV_PHASE_BEGIN;
		atomic_fetch_add(&s->in_flight, 1);
	}
	if (!r->begun) {
		/* Again after a password check that suspended r (pwcheck.c). */
		req_begin(r);
		r->begun = !r->pw_wait;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		srv_conn_body(r->tracked, n);
		r->received += n;
		req_data(r, upload_data, n);
		return MHD_YES;
	}
	srv_conn_body_done(s, r->tracked);
	if (!r->responded)
		req_end(r);
	return MHD_YES;
}

static void
access_log(srv_req *r, enum MHD_RequestTerminationCode toe, uint64_t ns)
{
	_cleanup_free_ char *raw = NULL;
	_cleanup_free_ char *line = NULL;
	char when[32];
	struct timespec now;
	struct tm tm;
	double ms = (double)ns / 1e6;
	size_t n;

	if (r->s->access_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	/* Never a credential: the query is left out. */
	raw = xasprintf(
		"%s.%03ldZ %s %s \"%s %.600s\" %u %llu %.3fms%s", when,
		now.tv_nsec / 1000000, r->ip, r->user ? r->user : "-",
		r->method, r->path, r->status, (unsigned long long)r->bytes, ms,
		toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
	/* Path and user name come from the client: one line, always. */
	line = berth_str_escape_log(raw, strlen(raw));
	n = strlen(line);
	if (n > ACCESS_LINE_MAX - 1)
		n = ACCESS_LINE_MAX - 1;
	line = xrealloc(line, n + 2);
	line[n++] = '\n';
	/* One write per line: lines from many threads never interleave. */
	if (write(r->s->access_fd, line, n) < 0)
		(void)0;
}

/* Nanoseconds since the request's first line. */
static uint64_t
req_ns(const srv_req *r)
{
	struct timespec t1;
	int64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (int64_t)(t1.tv_sec - r->t0.tv_sec) * 1000000000 +
	     (t1.tv_nsec - r->t0.tv_nsec);
	return ns > 0 ? (uint64_t)ns : 0;
}

/*
 * The request's metrics. A scrape counts as a request of the route
 * "metrics" and nothing more: its time and bytes would only measure the
 * scraper.
 */
static void
req_metrics(srv_req *r, enum MHD_RequestTerminationCode toe, uint64_t ns)
{
	unsigned rt = r->route ? r->route->id : SRV_RT_NONE;
	unsigned method = srv_metric_method(r->method);

	srv_metric_add(SRV_M_HTTP_REQUESTS, rt, method,
		       srv_metric_code(r->responded ? r->status : 0), 1);
	if (rt == SRV_RT_METRICS)
		return;
	srv_metric_observe(SRV_M_HTTP_SECONDS, rt, method, 0, ns);
	if (r->received)
		srv_metric_add(SRV_M_HTTP_RECEIVED, rt, 0, 0,
			       (int64_t)r->received);
	if (r->bytes && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		srv_metric_add(SRV_M_HTTP_SENT, rt, 0, 0, (int64_t)r->bytes);
}

void
srv_dispatch_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		       enum MHD_RequestTerminationCode toe)
{
	srv *s = cls;
	srv_req *r = *con_cls;
	bool counted;

	if (r == NULL)
		return;
	/* A request cut before its headers were in was never begun. */
	counted = r->headers_in;
	if (counted) {
		uint64_t ns = req_ns(r);

		req_metrics(r, toe, ns);
		access_log(r, toe, ns);
		srv_audit(r);
		srv_conn_answered(s, r->tracked);
	}
	if (r->state_free)
		r->state_free(r->state);
	if (r->pending)
		MHD_destroy_response(r->pending);
	berth_buf_release(&r->body);
	free(r->path);
	free(r->name);
	free(r->ref);
	free(r->user);
	free(r->audit_detail);
	free(r->digest);
	berth_token_info_release(&r->tok);
	srv_live_put(r->live);
	free(r);
	*con_cls = NULL;
	if (counted)
		atomic_fetch_sub(&s->in_flight, 1);
}
