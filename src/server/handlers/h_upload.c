/*
 * Blob uploads: /v2/<name>/blobs/uploads/[<id>].
 *
 *   POST                  a session (202), a monolithic upload (?digest=, 201)
 *                         or a cross-repository mount (?mount=[&from=], 201)
 *   PATCH <id>            a chunk (with Content-Range) or a stream (without)
 *   PUT <id>?digest=      the last chunk, if any, then verify and link (201)
 *   GET <id>              the offset (204)
 *   DELETE <id>           cancel (204)
 *
 * A session is a row in the metadata store plus a file in the blob store,
 * so it survives a restart; its repository is fixed when it starts.
 * Bodies are written as they arrive (the streamed phases of server.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/digest.h"
#include "berth/log.h"
#include "server/handlers/oci.h"
#include "server/http/range.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

typedef struct upload {
	char id[72];
	berth_bs_writer *w;
	berth_digest want;
	bool have_want;
	bool have_range;
	int64_t range_end; /* inclusive end the chunk must reach */
	bool mounted;
	berth_digest mount;
} upload;

static void
upload_free(void *p)
{
	upload *u = p;

	berth_bs_writer_close(u->w);
	free(u);
}

static upload *
upload_state(srv_req *r)
{
	if (r->state == NULL) {
		r->state = xcalloc(1, sizeof(upload));
		r->state_free = upload_free;
	}
	return r->state;
}

char *
srv_upload_location(const char *name, const char *id)
{
	return xasprintf("/v2/%s/blobs/uploads/%s", name, id);
}

static void
progress_headers(struct MHD_Response *resp, const char *name, const char *id,
		 int64_t offset)
{
	_cleanup_free_ char *loc = srv_upload_location(name, id);
	char range[48];

	/* Inclusive end; an empty session reads "0-0", as distribution says. */
	snprintf(range, sizeof(range), "0-%" PRId64,
		 offset > 0 ? offset - 1 : 0);
	srv_resp_header(resp, MHD_HTTP_HEADER_LOCATION, loc);
	srv_resp_header(resp, MHD_HTTP_HEADER_RANGE, range);
	srv_resp_header(resp, "Blob-Upload-Session-ID", id);
	srv_resp_header(resp, "Docker-Upload-UUID", id);
}

static int
send_progress(srv_req *r, unsigned status, const char *id, int64_t offset)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		0, (void *)"", MHD_RESPMEM_PERSISTENT);

	if (resp == NULL)
		abort();
	progress_headers(resp, r->name, id, offset);
	return srv_send(r, status, resp);
}

static int
send_created(srv_req *r, const berth_digest *d)
{
	_cleanup_free_ char *loc =
		xasprintf("/v2/%s/blobs/%s", r->name, d->str);
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		0, (void *)"", MHD_RESPMEM_PERSISTENT);

	if (resp == NULL)
		abort();
	srv_resp_header(resp, MHD_HTTP_HEADER_LOCATION, loc);
	srv_resp_header(resp, "Docker-Content-Digest", d->str);
	return srv_send(r, MHD_HTTP_CREATED, resp);
}

/* 416 with the session's current state, as the spec asks. */
static int
send_range_error(srv_req *r, const char *id, int64_t offset, const char *msg)
{
	unsigned status;
	struct MHD_Response *resp =
		srv_error_response(SRV_E_RANGE_INVALID, NULL, msg, &status);

	progress_headers(resp, r->name, id, offset);
	return srv_send(r, status, resp);
}

/* The session named by {ref}, if it belongs to {name}; else answers 404. */
static int
session_check(srv_req *r)
{
	_cleanup_free_ char *repo = NULL;
	berth_error *err = NULL;

	if (srv_storage_upload_repo(r->s->store, &repo, r->ref, &err) < 0 ||
	    strcmp(repo, r->name) != 0) {
		if (err && err->code != BERTH_ENOTFOUND)
			return srv_fail_err(r, SRV_E_AUTO, &err);
		berth_error_free(err);
		return srv_fail(r, SRV_E_BLOB_UPLOAD_UNKNOWN, NULL,
				"upload '%.80s' is unknown in repository '%s'",
				r->ref, r->name);
	}
	return 0;
}

/* Opens the session for writing and checks Content-Range against it. */
static int
open_writer(srv_req *r, upload *u)
{
	berth_error *err = NULL;
	const char *cr = srv_header(r, MHD_HTTP_HEADER_CONTENT_RANGE);
	const char *cl = srv_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	int64_t start, end, off;

	snprintf(u->id, sizeof(u->id), "%s", r->ref);
	if (srv_storage_upload_open(r->s->store, &u->w, u->id, &err) < 0) {
		if (err->code == BERTH_ENOTFOUND) {
			berth_error_free(err);
			return srv_fail(r, SRV_E_BLOB_UPLOAD_UNKNOWN, NULL,
					"upload '%s' has no data any more",
					u->id);
		}
		return srv_fail_err(r, SRV_E_AUTO, &err);
	}
	off = srv_storage_upload_offset(u->w);
	if (cr == NULL)
		return 0; /* a stream: appended at the end */
	/* A refused chunk is never written: the session stays as it is. */
	if (!srv_parse_content_range(&start, &end, cr)) {
		berth_bs_writer_closep(&u->w);
		return send_range_error(r, u->id, off,
					"invalid Content-Range (want "
					"'<start>-<end>')");
	}
	if (start != off) {
		berth_bs_writer_closep(&u->w);
		return send_range_error(r, u->id, off,
					"chunk out of order: the upload has "
					"bytes up to its Range");
	}
	if (cl && strtoll(cl, NULL, 10) != end - start + 1) {
		berth_bs_writer_closep(&u->w);
		return srv_fail(
			r, SRV_E_SIZE_INVALID, NULL,
			"Content-Range %.60s is not Content-Length %.30s "
			"bytes",
			cr, cl);
	}
	u->have_range = true;
	u->range_end = end;
	return 0;
}

/* Refuses the chunk in progress: what it appended is dropped. */
static int
refuse_chunk(srv_req *r, upload *u, srv_oci code, berth_error **cause,
	     const char *msg)
{
	berth_error *err = NULL;

	if (srv_storage_upload_abort(&u->w, &err) < 0) {
		berth_error_free(*cause);
		*cause = NULL;
		return srv_fail_err(r, SRV_E_AUTO, &err);
	}
	/* On a full disk the upload cannot go on: free its bytes now rather
	 * than keep them until it expires. */
	if (srv_storage_full(*cause))
		srv_storage_upload_cancel(r->s->store, u->id, NULL);
	if (*cause)
		return srv_fail_err(r, code, cause);
	return srv_fail(r, code, NULL, "%s", msg);
}

static int
write_chunk(srv_req *r)
{
	upload *u = r->state;
	berth_error *err = NULL;
	char msg[128];

	if (u == NULL || u->w == NULL)
		return 0; /* body of a request that takes none: ignored */
	if (u->have_range && srv_storage_upload_offset(u->w) + (int64_t)r->len >
				     u->range_end + 1) {
		snprintf(msg, sizeof(msg),
			 "chunk is longer than its Content-Range (ending at "
			 "%" PRId64 ")",
			 u->range_end);
		return refuse_chunk(r, u, SRV_E_SIZE_INVALID, &err, msg);
	}
	if (srv_storage_upload_append(u->w, r->data, r->len, &err) < 0)
		return refuse_chunk(r, u, SRV_E_AUTO, &err, NULL);
	return 0;
}

/* After the body: did the chunk fill its Content-Range? */
static int
check_chunk(srv_req *r, upload *u)
{
	int64_t off = srv_storage_upload_offset(u->w);
	berth_error *none = NULL;
	char msg[128];

	if (!u->have_range || off == u->range_end + 1)
		return 0;
	snprintf(msg, sizeof(msg),
		 "chunk ended at %" PRId64 ", Content-Range said %" PRId64,
		 off - 1, u->range_end);
	return refuse_chunk(r, u, SRV_E_SIZE_INVALID, &none, msg);
}

/* A blob's push or mount event; its size from the metadata, read only
 * when some endpoint listens. */
static void
blob_event(srv_req *r, const char *action, const berth_digest *d,
	   const char *from)
{
	berth_error *err = NULL;
	int64_t size = -1;

	if (!srv_events_enabled(r->s->events))
		return;
	if (srv_storage_blob_stat(r->s->store, r->name, d, &size, &err) < 0)
		berth_error_free(err);
	srv_notify(r, action, "application/octet-stream", d->str, size, NULL,
		   from);
}

/* Verifies and links a session's bytes; answers 201 or an error. */
static int
finish(srv_req *r, upload *u)
{
	berth_error *err = NULL;

	if (u->w && srv_storage_upload_sync(u->w, &err) < 0)
		return refuse_chunk(r, u, SRV_E_AUTO, &err, NULL);
	berth_bs_writer_closep(&u->w); /* commit takes the session's lock */
	if (srv_storage_upload_commit(r->s->store, u->id, r->name, &u->want,
				      &err) < 0) {
		/* On a mismatch the upload is over (the spec's 4xx rule). */
		if (err->code == BERTH_EDIGEST)
			return srv_fail_err(r, SRV_E_DIGEST_INVALID, &err);
		return srv_fail_err(r,
				    err->code == BERTH_ENOTFOUND
					    ? SRV_E_BLOB_UPLOAD_UNKNOWN
					    : SRV_E_AUTO,
				    &err);
	}
	blob_event(r, SRV_EV_PUSH, &u->want, NULL);
	return send_created(r, &u->want);
}

static bool
can_read_cb(const char *repo, void *ud)
{
	return srv_can_read(ud, repo);
}

/* ?mount=<digest>[&from=<repo>]: true when mounted (answered 201). */
static bool
try_mount(srv_req *r, const berth_digest *d)
{
	const char *from = srv_query(r, "from");
	berth_error *err = NULL;

	if (from && (!berth_oci_name_valid(from) || !srv_can_read(r, from)))
		return false;
	/* Without from, an automatic mount: any repository the caller can
	 * read. */
	if (srv_storage_blob_mount(r->s->store, r->name, d, from, can_read_cb,
				   r, &err) < 0) {
		berth_error_free(err);
		return false;
	}
	return true;
}

/* 429 with Retry-After: when the first capped session expires if idle. */
static int
too_many_uploads(srv_req *r, long retry, berth_error **err)
{
	struct MHD_Response *resp;
	unsigned status;
	char ra[32];

	berth_error_hint(err, "finish or cancel (DELETE) open uploads, or "
			      "wait for idle ones to expire (upload-ttl; "
			      "Retry-After says when the first one does); "
			      "the registry's operator sets the limits "
			      "(upload-sessions-per-client, "
			      "upload-sessions-per-repo)");
	resp = srv_error_response(SRV_E_AUTO, *err, NULL, &status);
	snprintf(ra, sizeof(ra), "%ld", retry);
	srv_resp_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	srv_send(r, status, resp);
	berth_error_freep(err);
	return BERTH_ETOOMANY;
}

static int
post_begin(srv_req *r, upload *u)
{
	const char *mount = srv_query(r, "mount");
	const char *digest = srv_query(r, "digest");
	berth_error *err = NULL;
	berth_digest d;
	long retry = 1;

	if (mount && berth_digest_parse(&d, mount, NULL) == 0 &&
	    try_mount(r, &d)) {
		u->mounted = true;
		u->mount = d;
		return 0;
	}
	if (digest) {
		if (berth_digest_parse(&u->want, digest, &err) < 0)
			return srv_fail_err(r, SRV_E_DIGEST_INVALID, &err);
		u->have_want = true;
	}
	if (srv_storage_upload_start(r->s->store, u->id, r->name, r->ip, &retry,
				     &err) < 0) {
		if (err->code == BERTH_ETOOMANY)
			return too_many_uploads(r, retry, &err);
		return srv_fail_err(r, SRV_E_AUTO, &err);
	}
	if (u->have_want &&
	    srv_storage_upload_open(r->s->store, &u->w, u->id, &err) < 0)
		return srv_fail_err(r, SRV_E_AUTO, &err);
	return 0;
}

int
h_upload_post(srv_req *r)
{
	upload *u = upload_state(r);

	switch (r->phase) {
	case SRV_PHASE_BEGIN:
		return post_begin(r, u);
	case SRV_PHASE_DATA:
		return write_chunk(r);
	case SRV_PHASE_END:
		break;
	}
	if (u->mounted) {
		blob_event(r, SRV_EV_MOUNT, &u->mount, srv_query(r, "from"));
		return send_created(r, &u->mount);
	}
	if (u->have_want)
		return finish(r, u);
	return send_progress(r, MHD_HTTP_ACCEPTED, u->id, 0);
}

int
h_upload_patch(srv_req *r)
{
	upload *u = upload_state(r);
	berth_error *err = NULL;
	int64_t off;

	switch (r->phase) {
	case SRV_PHASE_BEGIN:
		if (session_check(r) < 0)
			return BERTH_ENOTFOUND;
		return open_writer(r, u);
	case SRV_PHASE_DATA:
		return write_chunk(r);
	case SRV_PHASE_END:
		break;
	}
	if (check_chunk(r, u) < 0)
		return BERTH_EDIGEST;
	if (srv_storage_upload_sync(u->w, &err) < 0)
		return refuse_chunk(r, u, SRV_E_AUTO, &err, NULL);
	off = srv_storage_upload_offset(u->w);
	/* Unlock before answering: the next request may come at once. */
	berth_bs_writer_closep(&u->w);
	return send_progress(r, MHD_HTTP_ACCEPTED, u->id, off);
}

int
h_upload_put(srv_req *r)
{
	upload *u = upload_state(r);
	const char *digest;
	berth_error *err = NULL;

	switch (r->phase) {
	case SRV_PHASE_BEGIN:
		digest = srv_query(r, "digest");
		if (digest == NULL)
			return srv_fail(r, SRV_E_DIGEST_INVALID, NULL,
					"closing an upload needs ?digest=");
		if (berth_digest_parse(&u->want, digest, &err) < 0)
			return srv_fail_err(r, SRV_E_DIGEST_INVALID, &err);
		if (session_check(r) < 0)
			return BERTH_ENOTFOUND;
		snprintf(u->id, sizeof(u->id), "%s", r->ref);
		return r->has_body ? open_writer(r, u) : 0;
	case SRV_PHASE_DATA:
		return write_chunk(r);
	case SRV_PHASE_END:
		break;
	}
	if (u->w && check_chunk(r, u) < 0)
		return BERTH_EDIGEST;
	return finish(r, u);
}

int
h_upload_get(srv_req *r)
{
	berth_error *err = NULL;
	int64_t size = 0;

	if (session_check(r) < 0)
		return BERTH_ENOTFOUND;
	if (srv_storage_upload_size(r->s->store, r->ref, &size, &err) < 0)
		return srv_fail_err(r,
				    err->code == BERTH_ENOTFOUND
					    ? SRV_E_BLOB_UPLOAD_UNKNOWN
					    : SRV_E_AUTO,
				    &err);
	return send_progress(r, MHD_HTTP_NO_CONTENT, r->ref, size);
}

int
h_upload_delete(srv_req *r)
{
	berth_error *err = NULL;

	if (session_check(r) < 0)
		return BERTH_ENOTFOUND;
	if (srv_storage_upload_cancel(r->s->store, r->ref, &err) < 0)
		return srv_fail_err(r,
				    err->code == BERTH_ENOTFOUND
					    ? SRV_E_BLOB_UPLOAD_UNKNOWN
					    : SRV_E_AUTO,
				    &err);
	return srv_send_empty(r, MHD_HTTP_NO_CONTENT);
}
