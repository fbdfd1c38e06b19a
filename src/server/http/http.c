/*
 * The HTTP glue on libmicrohttpd: one request context per request (freed
 * in the completion callback), dispatch through the route table after the
 * single authorisation point, bodies buffered or streamed to handlers, and
 * one access-log line per request.
 *
 * MHD calls the access handler first with the headers, then once per body
 * chunk, then once more at the end. An answer decided before the body has
 * arrived is held back until the end when the request has no body (so the
 * connection stays alive); when it has one, it is sent at once and MHD
 * closes the connection instead of reading a body nobody wants.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "berth/log.h"
#include "berth/manifest.h"
#include "server/handlers/oci.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"

#define CONN_MEMORY ((size_t)128 << 10)
#define CONN_TIMEOUT_S 300

const char *
srv_header(srv_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
srv_query(srv_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

void
srv_resp_header(struct MHD_Response *resp, const char *name, const char *value)
{
	if (MHD_add_response_header(resp, name, value) != MHD_YES)
		abort();
}

/* Never called: MHD sends no body for HEAD. */
static ssize_t
no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

struct MHD_Response *
srv_resp_head(uint64_t size)
{
	/* A HEAD answer carries the length of the body it does not send. */
	struct MHD_Response *resp = MHD_create_response_from_callback(
		size, 4096, no_body, NULL, NULL);

	if (resp == NULL)
		abort();
	return resp;
}

static void
queue(srv_req *r, unsigned status, struct MHD_Response *resp)
{
	if (r->s->audit && r->digest == NULL) {
		const char *d =
			MHD_get_response_header(resp, "Docker-Content-Digest");

		if (d)
			r->digest = xstrdup(d);
	}
	r->responded = true;
	r->status = status;
	if (MHD_queue_response(r->conn, status, resp) != MHD_YES)
		berth_log(BERTH_LOG_WARN, "cannot queue the answer to %s %s",
			  r->method, r->path);
	MHD_destroy_response(resp);
}

int
srv_send(srv_req *r, unsigned status, struct MHD_Response *resp)
{
	srv_resp_header(resp, "Docker-Distribution-API-Version",
			SRV_API_VERSION);
	srv_limit_headers(r, resp);
	if (r->responded || r->pending) {
		/* A handler answered twice: keep the first answer. */
		MHD_destroy_response(resp);
		return 0;
	}
	if (r->phase == SRV_PHASE_DATA ||
	    (r->phase == SRV_PHASE_BEGIN && !r->has_body)) {
		r->pending = resp;
		r->pending_status = status;
		return 0;
	}
	queue(r, status, resp);
	return 0;
}

int
srv_send_empty(srv_req *r, unsigned status)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		0, (void *)"", MHD_RESPMEM_PERSISTENT);

	if (resp == NULL)
		abort();
	return srv_send(r, status, resp);
}

int
srv_send_body(srv_req *r, unsigned status, const char *content_type, char *body,
	      size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		len, body, MHD_RESPMEM_MUST_FREE);

	if (resp == NULL)
		abort();
	srv_resp_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	r->bytes = r->head ? 0 : len;
	return srv_send(r, status, resp);
}

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

	if (srv_rate_guard(r) < 0)
		return;
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
	if (r->route->handler == h_manifest_get && srv_pull_limit(r) < 0)
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
	}
	r->phase = SRV_PHASE_END;
	if (r->pending) {
		struct MHD_Response *resp = r->pending;

		r->pending = NULL;
		queue(r, r->pending_status, resp);
	}
	if (!r->responded)
		srv_fail(r, SRV_E_INTERNAL, NULL, "no answer to %s %s",
			 r->method, r->path);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
	   const char *method, const char *version, const char *upload_data,
	   size_t *upload_data_size, void **con_cls)
{
	srv *s = cls;
	srv_req *r = *con_cls;

	if (r == NULL) {
		r = xcalloc(1, sizeof(*r));
		clock_gettime(CLOCK_MONOTONIC, &r->t0);
		r->s = s;
		r->conn = conn;
		r->method = method;
		r->path = xstrdup(url);
		r->head = strcmp(method, "HEAD") == 0;
		r->has_body = request_has_body(conn);
		srv_peer_init(r);
		r->phase = SRV_PHASE_BEGIN;
		atomic_fetch_add(&s->in_flight, 1);
		*con_cls = r;
		req_begin(r);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		req_data(r, upload_data, n);
		return MHD_YES;
	}
	if (!r->responded)
		req_end(r);
	return MHD_YES;
}

static void
access_log(srv_req *r, enum MHD_RequestTerminationCode toe)
{
	const char *peer = r->ip;
	char when[32], line[1024];
	struct timespec t1, now;
	struct tm tm;
	double ms;
	size_t n;

	if (r->s->access_fd < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - r->t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e6;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	/* Never a credential: the path is decoded, the query left out. */
	n = berth_str_line_len(
		line, sizeof(line),
		snprintf(line, sizeof(line),
			 "%s.%03ldZ %s %s \"%s %.600s\" %u %llu %.3fms%s\n",
			 when, now.tv_nsec / 1000000, peer,
			 r->user ? r->user : "-", r->method, r->path, r->status,
			 (unsigned long long)r->bytes, ms,
			 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK
				 ? ""
				 : " aborted"));
	/* One write per line: lines from many threads never interleave. */
	if (write(r->s->access_fd, line, n) < 0)
		(void)0;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	srv *s = cls;
	srv_req *r = *con_cls;

	if (r == NULL)
		return;
	access_log(r, toe);
	srv_audit(r);
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
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&s->in_flight, 1);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = xvasprintf(fmt, ap);
	size_t n = strlen(msg);

	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	berth_log(BERTH_LOG_DEBUG, "http: %s", msg);
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" into a socket address. */
static int
parse_addr(const char *addr, struct sockaddr_storage *ss, bool *v6,
	   berth_error **err)
{
	_cleanup_free_ char *host = NULL;
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = {0}, *res = NULL;
	int rc;

	if (colon == NULL || colon[1] == '\0')
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid address '%s' (want HOST:PORT)",
				       addr);
	host = xstrndup(addr, (size_t)(colon - addr));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
	if (rc != 0)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid address '%s': %s", addr,
				       gai_strerror(rc));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return 0;
}

int
srv_http_start(srv *s, berth_error **err)
{
	struct MHD_OptionItem opts[16];
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_USE_ITC | MHD_USE_ERROR_LOG;
	unsigned threads;
	bool v6 = false;
	int n = 0;
	int r;

	if ((r = parse_addr(s->cfg.addr, &ss, &v6, err)) < 0)
		return r;
	if (v6)
		flags |= MHD_USE_IPv6;
	threads = s->cfg.threads > 0 ? (unsigned)s->cfg.threads : 0;
	if (threads == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		/*
		 * One event loop per CPU: measured faster, with a far lower
		 * p99, than oversubscribing. Push-heavy sites, whose handlers
		 * wait on fsync, can raise --threads.
		 */
		threads = (unsigned)(cpus > 0 ? cpus : 1);
		if (threads < 2)
			threads = 2;
	}
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE,
					    threads, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED,
					    (intptr_t)on_completed, s};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
					    CONN_MEMORY, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
					    CONN_TIMEOUT_S, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE,
					    1024, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER,
					    (intptr_t)mhd_log, s};
	if (s->tls_cert_pem) {
		flags |= MHD_USE_TLS;
		opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT,
						    0, s->tls_cert_pem};
		opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
						    s->tls_key_pem};
		if (s->tls_ca_pem)
			opts[n++] = (struct MHD_OptionItem){
				MHD_OPTION_HTTPS_MEM_TRUST, 0, s->tls_ca_pem};
	}
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
				     MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (s->daemon == NULL) {
		berth_error_set(err, BERTH_EIO, errno,
				"cannot listen on '%s'%s%s", s->cfg.addr,
				errno ? ": " : "",
				errno ? strerror(errno) : "");
		berth_error_hint(err, "pick a free port with --addr, or "
				      "check the TLS certificate and key");
		return BERTH_EIO;
	}
	return 0;
}

void
srv_http_stop(srv *s)
{
	if (s->daemon) {
		MHD_stop_daemon(s->daemon);
		s->daemon = NULL;
	}
}
