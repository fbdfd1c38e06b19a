/*
 * The response layer, at the bottom of the server's HTTP code: what
 * handlers read from the request, and how every answer is queued, with
 * the common headers (the API version, and the RateLimit headers from
 * what the pull limit left in srv_req). It calls nothing above it.
 *
 * An answer decided before the body has arrived is held back until the
 * end when the request has no body (so the connection stays alive); when
 * it has one, it is sent at once and MHD closes the connection instead of
 * reading a body nobody wants.
 */
#include <stdio.h>
#include <stdlib.h>

#include "berth/log.h"
#include "server/server.h"
#include "util/xalloc.h"

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

/* The RateLimit headers the request's pull limit left in r. */
static void
limit_headers(srv_req *r, struct MHD_Response *resp)
{
	char v[64];

	if (!r->rl_set)
		return;
	snprintf(v, sizeof(v), "%ld;w=%ld", r->rl_limit, r->rl_window);
	srv_resp_header(resp, "RateLimit-Limit", v);
	snprintf(v, sizeof(v), "%ld;w=%ld", r->rl_remaining, r->rl_window);
	srv_resp_header(resp, "RateLimit-Remaining", v);
}

int
srv_send(srv_req *r, unsigned status, struct MHD_Response *resp)
{
	srv_resp_header(resp, "Docker-Distribution-API-Version",
			SRV_API_VERSION);
	limit_headers(r, resp);
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

void
srv_send_pending(srv_req *r)
{
	struct MHD_Response *resp = r->pending;

	if (resp == NULL)
		return;
	r->pending = NULL;
	queue(r, r->pending_status, resp);
}
