/*
 * The blob store in an S3 bucket: blobs at <prefix>blobs/<alg>/<xx>/<hex>,
 * the same layout as on a file system. A blob object is only ever made
 * by a PUT of bytes checked against their digest or by a server-side
 * copy of a completed, checked upload (blobstore_s3_upload.c), so every
 * visible blob is complete. Reads are ranged GETs streamed through a
 * socket pair from a thread that runs the transfer, or, with redirects
 * on, presigned URLs the client follows itself.
 */
#include "server/storage/s3_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "berth/log.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

char *
s3_blob_key(s3_store *s, const berth_digest *d)
{
	const char *hex = berth_digest_hex(d);

	return xasprintf("%sblobs/%s/%.2s/%s", s3_client_prefix(s->c),
			 berth_digest_alg_name(d->alg), hex, hex);
}

char *
s3_upload_key(s3_store *s, const char *id, const char *what)
{
	return xasprintf("%suploads/%s/%s", s3_client_prefix(s->c), id, what);
}

/* HEAD of a blob: its size and last write; BERTH_ENOTFOUND when absent. */
static int
blob_head(s3_store *s, const berth_digest *d, int64_t *size, int64_t *mtime,
	  berth_error **err)
{
	_cleanup_free_ char *key = s3_blob_key(s, d);
	s3_req q = {.method = "HEAD", .key = key};
	s3_resp resp;
	berth_error *e = NULL;
	int r = s3_do(s->c, &q, &resp, &e);

	s3_resp_release(&resp);
	if (r == BERTH_ENOTFOUND) {
		berth_error_free(e);
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "blob '%s' is not stored", d->str);
	}
	if (r < 0)
		return berth_error_move(err, &e, r);
	*size = resp.length;
	if (mtime)
		*mtime = resp.last_modified;
	return 0;
}

int
s3_head_size(s3_store *s, const char *key, int64_t *size, berth_error **err)
{
	s3_req q = {.method = "HEAD", .key = key};
	s3_resp resp;
	int r = s3_do(s->c, &q, &resp, err);

	*size = resp.length;
	s3_resp_release(&resp);
	return r;
}

/* The longest of the doubling waits of s3_settle_race (50 ms first). */
#define S3_RACE_WAIT_MS 3200

int
s3_settle_race(s3_store *s, const char *key, int64_t size, int r,
	       berth_error **err)
{
	int64_t have;

	if (r >= 0)
		return r;
	/* The winner may still be writing when the loser is refused: a
	 * refusal by the store (5xx) waits for it, about 6 s at most. */
	for (unsigned ms = 50;; ms *= 2) {
		if (s3_head_size(s, key, &have, NULL) == 0 && have == size) {
			if (err)
				berth_error_freep(err);
			return 0;
		}
		if (r != BERTH_ESERVER || ms > S3_RACE_WAIT_MS)
			return r;
		nanosleep(&(struct timespec){ms / 1000,
					     (long)(ms % 1000) * 1000000L},
			  NULL);
	}
}

int
s3_stat(berth_blobstore *bs, const berth_digest *d, int64_t *size,
	berth_error **err)
{
	return blob_head((s3_store *)bs, d, size, NULL, err);
}

typedef struct s3_reader {
	berth_bs_reader base;
	s3_store *s;
	char *key;
	int64_t pos; /* bytes handed out, relative to base.off */
	int sv[2];   /* [0] read here, [1] written by the thread */
	pthread_t th;
	bool started;
	int rc; /* the thread's outcome */
	berth_error *err;
} s3_reader;

static bool
reader_sink(const char *p, size_t n, void *ud)
{
	s3_reader *r = ud;

	while (n > 0) {
		ssize_t w = send(r->sv[1], p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false; /* the reader was closed */
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void *
reader_thread(void *ud)
{
	s3_reader *r = ud;
	char range[80];
	s3_req q = {.method = "GET", .key = r->key};
	s3_resp resp;

	snprintf(range, sizeof(range), "Range: bytes=%" PRId64 "-%" PRId64,
		 r->base.off, r->base.off + r->base.len - 1);
	q.headers[0] = range;
	q.sink = reader_sink;
	q.sink_ud = r;
	r->rc = s3_do(r->s->c, &q, &resp, &r->err);
	s3_resp_release(&resp);
	shutdown(r->sv[1], SHUT_WR);
	return NULL;
}

ssize_t
s3_reader_read(berth_bs_reader *br, void *buf, size_t n, berth_error **err)
{
	s3_reader *r = (s3_reader *)br;
	ssize_t got;

	if ((int64_t)n > br->len - r->pos)
		n = (size_t)(br->len - r->pos);
	if (n == 0)
		return 0;
	if (!r->started) {
		/* Started only now: a redirected GET never reads. */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->sv) <
		    0)
			return berth_error_set(err, BERTH_EIO, errno,
					       "cannot read blob: %s",
					       strerror(errno));
		if (pthread_create(&r->th, NULL, reader_thread, r) != 0) {
			close(r->sv[0]);
			close(r->sv[1]);
			r->sv[0] = r->sv[1] = -1;
			return berth_error_set(err, BERTH_EIO, 0,
					       "cannot read blob: no thread");
		}
		r->started = true;
	}
	do
		got = recv(r->sv[0], buf, n, 0);
	while (got < 0 && errno == EINTR);
	if (got > 0) {
		r->pos += got;
		return got;
	}
	pthread_join(r->th, NULL);
	r->started = false;
	close(r->sv[0]);
	close(r->sv[1]);
	r->sv[0] = r->sv[1] = -1;
	if (r->rc < 0)
		return berth_error_move(err, &r->err, r->rc);
	return berth_error_set(err, BERTH_EIO, 0,
			       "blob '%s' ended after %" PRId64 " of %" PRId64
			       " bytes",
			       r->key, r->pos, br->len);
}

void
s3_reader_close(berth_bs_reader *br)
{
	s3_reader *r = (s3_reader *)br;

	if (r->started) {
		/* The thread's next send fails; its transfer stops. */
		shutdown(r->sv[0], SHUT_RDWR);
		pthread_join(r->th, NULL);
		close(r->sv[0]);
		close(r->sv[1]);
	}
	berth_error_free(r->err);
	free(r->key);
	free(br->redirect);
	free(r);
}

int
s3_open_range(berth_blobstore *bs, berth_bs_reader **out, const berth_digest *d,
	      int64_t off, int64_t len, berth_error **err)
{
	s3_store *s = (s3_store *)bs;
	s3_reader *r;
	int64_t size;
	int rc;

	if ((rc = blob_head(s, d, &size, NULL, err)) < 0)
		return rc;
	if (off < 0 || off > size)
		off = size;
	if (len < 0 || len > size - off)
		len = size - off;
	r = xcalloc(1, sizeof(*r));
	r->base.ops = s->base.ops;
	r->base.size = size;
	r->base.off = off;
	r->base.len = len;
	r->base.fd = -1;
	r->s = s;
	r->key = s3_blob_key(s, d);
	r->sv[0] = r->sv[1] = -1;
	if (s->redirect)
		r->base.redirect = s3_presign_get(s->c, r->key, s->redirect_ttl,
						  (int64_t)time(NULL));
	*out = &r->base;
	return 0;
}

int
s3_put(berth_blobstore *bs, const berth_digest *d, const void *p, size_t len,
       berth_error **err)
{
	s3_store *s = (s3_store *)bs;
	_cleanup_free_ char *key = s3_blob_key(s, d);
	s3_req q = {.method = "PUT", .key = key, .body = p, .body_len = len};
	berth_error *e = NULL;
	berth_digest got;
	s3_resp resp;
	int64_t have;
	int r;

	berth_digest_of(&got, d->alg, p, len);
	if (strcmp(got.str, d->str) != 0)
		return berth_error_set(err, BERTH_EDIGEST, 0,
				       "content is '%s', not '%s'", got.str,
				       d->str);
	r = blob_head(s, d, &have, NULL, &e);
	berth_error_free(e);
	if (r == 0 && have == (int64_t)len)
		return 0; /* content-addressed: already there */
	/* S3 checks the body against the hash it is signed with. */
	if (d->alg == BERTH_DIGEST_SHA256)
		q.payload_sha = berth_digest_hex(d);
	r = s3_do(s->c, &q, &resp, err);
	s3_resp_release(&resp);
	return s3_settle_race(s, key, (int64_t)len, r, err);
}

static int
delete_key(s3_store *s, const char *key, berth_error **err)
{
	s3_req q = {.method = "DELETE", .key = key};
	s3_resp resp;
	berth_error *e = NULL;
	int r = s3_do(s->c, &q, &resp, &e);

	s3_resp_release(&resp);
	if (r == BERTH_ENOTFOUND) {
		berth_error_free(e);
		return 0;
	}
	return r < 0 ? berth_error_move(err, &e, r) : 0;
}

int
s3_remove(berth_blobstore *bs, const berth_digest *d, berth_error **err)
{
	s3_store *s = (s3_store *)bs;
	_cleanup_free_ char *key = s3_blob_key(s, d);
	int64_t size;
	int r;

	if ((r = blob_head(s, d, &size, NULL, err)) < 0)
		return r;
	return delete_key(s, key, err);
}

typedef struct list_item {
	char *key;
	int64_t size, mtime;
} list_item;

typedef struct list_page {
	list_item *v;
	size_t n;
} list_page;

static void
list_one(const s3_xml_node *n, void *ud)
{
	list_page *p = ud;
	char *key = s3_xml_child(n, "Key");
	_cleanup_free_ char *size = s3_xml_child(n, "Size");
	_cleanup_free_ char *mod = s3_xml_child(n, "LastModified");

	if (key == NULL)
		return;
	p->v = xreallocarray(p->v, p->n + 1, sizeof(*p->v));
	p->v[p->n].key = key;
	p->v[p->n].size = size ? strtoll(size, NULL, 10) : 0;
	p->v[p->n].mtime = s3_iso8601(mod);
	p->n++;
}

int
s3_list(s3_client *c, const char *prefix,
	bool (*fn)(const char *key, int64_t size, int64_t mtime, void *ud),
	void *ud, berth_error **err)
{
	_cleanup_free_ char *eprefix = s3_uri_encode(prefix, false);
	_cleanup_free_ char *token = NULL;
	bool stop = false;
	int r = 0;

	do {
		_cleanup_free_ char *etok = NULL, *query = NULL;
		_cleanup_free_ char *trunc = NULL;
		s3_req q = {.method = "GET"};
		list_page p = {NULL, 0};
		s3_resp resp;
		size_t i;

		etok = token ? s3_uri_encode(token, false) : NULL;
		query = xasprintf("%s%s%slist-type=2&prefix=%s",
				  etok ? "continuation-token=" : "",
				  etok ? etok : "", etok ? "&" : "", eprefix);
		q.query = query;
		if ((r = s3_do(c, &q, &resp, err)) == 0)
			r = s3_xml_each(resp.body.ptr, resp.body.len,
					"Contents", list_one, &p, err);
		free(token);
		token = NULL;
		if (r == 0) {
			trunc = s3_xml_find(resp.body.ptr, resp.body.len,
					    "IsTruncated");
			if (trunc && strcmp(trunc, "true") == 0)
				token = s3_xml_find(resp.body.ptr,
						    resp.body.len,
						    "NextContinuationToken");
		}
		s3_resp_release(&resp);
		for (i = 0; i < p.n; i++) {
			if (!stop)
				stop = fn(p.v[i].key, p.v[i].size, p.v[i].mtime,
					  ud);
			free(p.v[i].key);
		}
		free(p.v);
	} while (r == 0 && !stop && token != NULL);
	return r;
}

typedef struct each_ctx {
	size_t skip; /* length of "<prefix>blobs/" */
	bool (*pass)(const berth_digest *d, void *ud); /* each's skip */
	bool (*fn)(const berth_digest *d, int64_t size, int64_t written,
		   void *ud);
	void *ud;
} each_ctx;

static bool
each_key(const char *key, int64_t size, int64_t mtime, void *ud)
{
	each_ctx *e = ud;
	const char *rest = key + e->skip;
	const char *alg_end = strchr(rest, '/');
	const char *hex = strrchr(rest, '/');
	_cleanup_free_ char *text = NULL;
	berth_digest d;

	if (alg_end == NULL || hex == NULL || hex - alg_end != 3)
		return false;
	hex++;
	text = xasprintf("%.*s:%s", (int)(alg_end - rest), rest, hex);
	if (berth_digest_parse(&d, text, NULL) < 0 ||
	    strncmp(alg_end + 1, hex, 2) != 0)
		return false;
	if (e->pass && e->pass(&d, e->ud))
		return false;
	return e->fn(&d, size, mtime, e->ud);
}

void
s3_each(berth_blobstore *bs, bool (*skip)(const berth_digest *d, void *ud),
	bool (*fn)(const berth_digest *d, int64_t size, int64_t written,
		   void *ud),
	void *ud)
{
	s3_store *s = (s3_store *)bs;
	_cleanup_free_ char *prefix =
		xasprintf("%sblobs/", s3_client_prefix(s->c));
	each_ctx e = {strlen(prefix), skip, fn, ud};
	berth_error *err = NULL;

	if (s3_list(s->c, prefix, each_key, &e, &err) < 0) {
		berth_log(BERTH_LOG_ERROR, "listing blobs: %s", err->msg);
		berth_error_free(err);
	}
}

/*
 * S3 has no rename: a blob not written since `before` is deleted at once
 * (under the metadata's writer lock, as gc.c calls it, so no link can
 * come to need it meanwhile). A commit of the same bytes racing with it
 * finds the blob gone when it links, and says so (storage.c).
 */
int
s3_set_aside(berth_blobstore *bs, const berth_digest *d, int64_t before,
	     char **aside, int64_t *size, berth_error **err)
{
	s3_store *s = (s3_store *)bs;
	_cleanup_free_ char *key = s3_blob_key(s, d);
	int64_t have, mtime;
	int r;

	*aside = NULL;
	if ((r = blob_head(s, d, &have, &mtime, err)) < 0)
		return r;
	if (mtime < 0 || mtime >= before)
		return 0;
	if ((r = delete_key(s, key, err)) < 0)
		return r;
	*size = have;
	*aside = steal_ptr(&key);
	return 0;
}

void
s3_drop_aside(berth_blobstore *bs, const char *aside)
{
	/* Deleted by s3_set_aside already. */
}
