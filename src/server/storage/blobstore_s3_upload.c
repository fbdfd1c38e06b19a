/*
 * Upload sessions in S3, kept entirely in the bucket so that any berth
 * serve process sharing it can continue or commit a session:
 *
 *   <prefix>uploads/<id>/state   JSON: the multipart upload's id and
 *                                parts, the running SHA-256 of the parts,
 *                                the tail's length, the last activity
 *   <prefix>uploads/<id>/tail    the bytes after the last part (less
 *                                than one part), written when a request
 *                                ends (writer_sync)
 *   <prefix>uploads/<id>/data    the multipart upload's object
 *
 * Bytes arrive into one part-sized buffer; each full buffer is hashed
 * and sent as the next part, so memory stays at one part per writer
 * whatever the blob's size. The state is written after every part and
 * at every sync, the tail before the state: the first `tail` bytes of
 * the tail object are always the right ones. Committing checks the
 * digest from the running hash and the tail before anything is
 * completed, completes the upload into `data`, checks its size and
 * copies it, server-side, to the blob's content-addressed key.
 *
 * Within one process a session has one writer at a time; across
 * processes that is the metadata store's job (it serialises a session's
 * requests).
 */
#include "server/storage/s3_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/log.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

typedef struct session {
	char *upload_id; /* NULL until the first part */
	char **etags;	 /* of parts 1..nparts */
	size_t nparts;
	int64_t parts_size;
	int64_t tail;
	int64_t assembled; /* the data object's size once completed, or -1 */
	s3_sha sha;	   /* of the parts */
	int64_t active;
} session;

struct s3_busy {
	char id[72];
	struct s3_busy *next;
};

typedef struct s3_writer {
	berth_bs_writer base;
	s3_store *s;
	char id[72];
	session cur;
	char *orig;	    /* the state as opened or last synced (JSON) */
	unsigned char *buf; /* the tail: cur's bytes after its parts */
	size_t len;
	bool dirty; /* bytes since the last sync */
} s3_writer;

static void
session_release(session *ss)
{
	size_t i;

	for (i = 0; i < ss->nparts; i++)
		free(ss->etags[i]);
	free(ss->etags);
	free(ss->upload_id);
	memset(ss, 0, sizeof(*ss));
}

static char *
session_json(const session *ss)
{
	json_t *o = json_object(), *parts = json_array();
	char sha[96];
	char *text;
	size_t i;

	for (i = 0; i < ss->nparts; i++)
		json_array_append_new(parts, json_string(ss->etags[i]));
	s3_sha_format(&ss->sha, sha);
	json_object_set_new(o, "upload_id",
			    ss->upload_id ? json_string(ss->upload_id)
					  : json_null());
	json_object_set_new(o, "parts", parts);
	json_object_set_new(o, "parts_size", json_integer(ss->parts_size));
	json_object_set_new(o, "tail", json_integer(ss->tail));
	json_object_set_new(o, "assembled", json_integer(ss->assembled));
	json_object_set_new(o, "sha256", json_string(sha));
	json_object_set_new(o, "active", json_integer(ss->active));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		abort();
	return text;
}

static int
session_parse(session *ss, const char *id, const char *text, size_t len,
	      berth_error **err)
{
	json_t *o = json_loadb(text ? text : "", len, 0, NULL);
	json_t *parts = json_object_get(o, "parts");
	const char *uid = json_string_value(json_object_get(o, "upload_id"));
	size_t i;
	int r = 0;

	memset(ss, 0, sizeof(*ss));
	if (!json_is_array(parts) ||
	    !s3_sha_parse(&ss->sha,
			  json_string_value(json_object_get(o, "sha256")))) {
		r = berth_error_set(err, BERTH_ECORRUPT, 0,
				    "upload '%s' has a damaged state object "
				    "in S3",
				    id);
		goto out;
	}
	ss->upload_id = uid ? xstrdup(uid) : NULL;
	ss->nparts = json_array_size(parts);
	ss->etags = xcalloc(ss->nparts + 1, sizeof(*ss->etags));
	for (i = 0; i < ss->nparts; i++) {
		const char *e = json_string_value(json_array_get(parts, i));

		ss->etags[i] = xstrdup(e ? e : "");
	}
	ss->parts_size = json_integer_value(json_object_get(o, "parts_size"));
	ss->tail = json_integer_value(json_object_get(o, "tail"));
	ss->assembled =
		json_is_integer(json_object_get(o, "assembled"))
			? json_integer_value(json_object_get(o, "assembled"))
			: -1;
	ss->active = json_integer_value(json_object_get(o, "active"));
out:
	json_decref(o);
	return r;
}

static int
put_key(s3_store *s, const char *key, const void *p, size_t len,
	const char *sha, berth_error **err)
{
	s3_req q = {.method = "PUT", .key = key, .body = p, .body_len = len};
	s3_resp resp;
	int r;

	q.payload_sha = sha;
	r = s3_do(s->c, &q, &resp, err);
	s3_resp_release(&resp);
	return r;
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

static int
session_save_text(s3_store *s, const char *id, const char *text,
		  berth_error **err)
{
	_cleanup_free_ char *key = s3_upload_key(s, id, "state");

	return put_key(s, key, text, strlen(text), NULL, err);
}

static int
session_save(s3_store *s, const char *id, const session *ss, berth_error **err)
{
	_cleanup_free_ char *text = session_json(ss);

	return session_save_text(s, id, text, err);
}

/* GETs a small object whole; BERTH_ENOTFOUND when absent. */
static int
get_key(s3_store *s, const char *key, s3_resp *resp, berth_error **err)
{
	s3_req q = {.method = "GET", .key = key};

	return s3_do(s->c, &q, resp, err);
}

static int
session_load(s3_store *s, const char *id, session *ss, berth_error **err)
{
	_cleanup_free_ char *key = NULL;
	berth_error *e = NULL;
	s3_resp resp;
	int r;

	if (!berth_upload_id_valid(id))
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "upload '%s' is unknown", id);
	key = s3_upload_key(s, id, "state");
	r = get_key(s, key, &resp, &e);
	if (r == BERTH_ENOTFOUND) {
		berth_error_free(e);
		r = berth_error_set(err, BERTH_ENOTFOUND, 0,
				    "upload '%s' is unknown", id);
	} else if (r < 0) {
		r = berth_error_move(err, &e, r);
	} else {
		r = session_parse(ss, id, resp.body.ptr, resp.body.len, err);
	}
	s3_resp_release(&resp);
	return r;
}

/* The session's tail bytes into buf (room for ss->tail). */
static int
tail_load(s3_store *s, const char *id, const session *ss, unsigned char *buf,
	  berth_error **err)
{
	_cleanup_free_ char *key = NULL;
	s3_resp resp;
	int r;

	if (ss->tail == 0)
		return 0;
	key = s3_upload_key(s, id, "tail");
	r = get_key(s, key, &resp, err);
	if (r == 0 && (int64_t)resp.body.len < ss->tail)
		r = berth_error_set(err, BERTH_ECORRUPT, 0,
				    "upload '%s' lost its last %" PRId64
				    " bytes in S3",
				    id, ss->tail);
	if (r == 0)
		memcpy(buf, resp.body.ptr, (size_t)ss->tail);
	s3_resp_release(&resp);
	return r;
}

static bool
busy_take(s3_store *s, const char *id)
{
	struct s3_busy *b;
	bool ok = true;

	pthread_mutex_lock(&s->mu);
	for (b = s->busy; b; b = b->next)
		if (strcmp(b->id, id) == 0)
			ok = false;
	if (ok) {
		b = xcalloc(1, sizeof(*b));
		snprintf(b->id, sizeof(b->id), "%s", id);
		b->next = s->busy;
		s->busy = b;
	}
	pthread_mutex_unlock(&s->mu);
	return ok;
}

static void
busy_drop(s3_store *s, const char *id)
{
	struct s3_busy **pp, *b;

	pthread_mutex_lock(&s->mu);
	for (pp = &s->busy; (b = *pp) != NULL; pp = &b->next) {
		if (strcmp(b->id, id) == 0) {
			*pp = b->next;
			free(b);
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
}

static int
busy_error(const char *id, berth_error **err)
{
	return berth_error_set(err, BERTH_EEXIST, 0,
			       "upload '%s' is in use by another request", id);
}

int
s3_upload_create(berth_blobstore *bs, const char *id, berth_error **err)
{
	session ss = {.assembled = -1, .active = (int64_t)time(NULL)};

	if (!berth_upload_id_valid(id))
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid upload id '%s'", id);
	s3_sha_init(&ss.sha);
	return session_save((s3_store *)bs, id, &ss, err);
}

int
s3_upload_size(berth_blobstore *bs, const char *id, int64_t *size,
	       berth_error **err)
{
	session ss;
	int r = session_load((s3_store *)bs, id, &ss, err);

	if (r == 0)
		*size = ss.parts_size + ss.tail;
	session_release(&ss);
	return r;
}

int
s3_upload_active(berth_blobstore *bs, const char *id, int64_t *when,
		 berth_error **err)
{
	session ss;
	int r = session_load((s3_store *)bs, id, &ss, err);

	if (r == 0)
		*when = ss.active;
	session_release(&ss);
	return r;
}

int
s3_upload_open(berth_blobstore *bs, const char *id, berth_bs_writer **out,
	       berth_error **err)
{
	s3_store *s = (s3_store *)bs;
	s3_writer *w;
	int r;

	if (!berth_upload_id_valid(id))
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "upload '%s' is unknown", id);
	if (!busy_take(s, id))
		return busy_error(id, err);
	w = xcalloc(1, sizeof(*w));
	w->base.ops = s->base.ops;
	w->s = s;
	snprintf(w->id, sizeof(w->id), "%s", id);
	if ((r = session_load(s, id, &w->cur, err)) < 0)
		goto fail;
	if (w->cur.assembled >= 0) {
		r = busy_error(id, err);
		goto fail;
	}
	w->buf = xmalloc(s->part_size);
	if (w->cur.tail > (int64_t)s->part_size) {
		r = berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				    "upload '%s' was begun with a larger S3 "
				    "part size",
				    id);
		goto fail;
	}
	if ((r = tail_load(s, id, &w->cur, w->buf, err)) < 0)
		goto fail;
	w->len = (size_t)w->cur.tail;
	/* Active now, even when the request brings no byte. */
	w->cur.active = (int64_t)time(NULL);
	w->orig = session_json(&w->cur);
	if ((r = session_save_text(s, id, w->orig, err)) < 0)
		goto fail;
	*out = &w->base;
	return 0;
fail:
	busy_drop(s, id);
	session_release(&w->cur);
	free(w->buf);
	free(w->orig);
	free(w);
	return r;
}

/* Sends the full buffer as the next part and records it. */
static int
flush_part(s3_writer *w, berth_error **err)
{
	s3_store *s = w->s;
	_cleanup_free_ char *key = s3_upload_key(s, w->id, "data");
	_cleanup_free_ char *eid = NULL, *query = NULL, *md5h = NULL;
	unsigned char md5[16];
	char b64[32];
	unsigned int mdlen = 0;
	s3_req q = {.method = "PUT", .payload_sha = "UNSIGNED-PAYLOAD"};
	s3_resp resp;
	int r;

	if (w->cur.upload_id == NULL &&
	    (r = s3_mpu_create(s->c, key, &w->cur.upload_id, err)) < 0)
		return r;
	eid = s3_uri_encode(w->cur.upload_id, false);
	query = xasprintf("partNumber=%zu&uploadId=%s", w->cur.nparts + 1, eid);
	/* S3 refuses a part whose bytes do not match this. */
	if (EVP_Digest(w->buf, w->len, md5, &mdlen, EVP_md5(), NULL) != 1)
		abort();
	EVP_EncodeBlock((unsigned char *)b64, md5, 16);
	md5h = xasprintf("Content-MD5: %s", b64);
	q.key = key;
	q.query = query;
	q.headers[0] = md5h;
	q.body = w->buf;
	q.body_len = w->len;
	r = s3_do(s->c, &q, &resp, err);
	if (r == 0 && resp.etag[0] == '\0')
		r = berth_error_set(err, BERTH_EPROTO, 0,
				    "S3 took a part of upload '%s' without "
				    "an ETag",
				    w->id);
	if (r == 0) {
		s3_sha_update(&w->cur.sha, w->buf, w->len);
		w->cur.etags = xreallocarray(w->cur.etags, w->cur.nparts + 1,
					     sizeof(*w->cur.etags));
		w->cur.etags[w->cur.nparts++] = xstrdup(resp.etag);
		w->cur.parts_size += (int64_t)w->len;
		w->cur.tail = 0;
		w->len = 0;
	}
	s3_resp_release(&resp);
	if (r < 0)
		return r;
	/* The tail object is stale now, and the state says so (tail 0). */
	w->cur.active = (int64_t)time(NULL);
	return session_save(s, w->id, &w->cur, err);
}

int
s3_writer_write(berth_bs_writer *bw, const void *p, size_t len,
		berth_error **err)
{
	s3_writer *w = (s3_writer *)bw;
	const unsigned char *b = p;
	int r;

	while (len > 0) {
		size_t n = w->s->part_size - w->len;

		if (n > len)
			n = len;
		memcpy(w->buf + w->len, b, n);
		w->len += n;
		b += n;
		len -= n;
		w->dirty = true;
		if (w->len == w->s->part_size && (r = flush_part(w, err)) < 0)
			return r;
	}
	return 0;
}

int
s3_writer_sync(berth_bs_writer *bw, berth_error **err)
{
	s3_writer *w = (s3_writer *)bw;
	_cleanup_free_ char *key = NULL;
	int r;

	if (!w->dirty)
		return 0;
	if (w->len > 0) {
		key = s3_upload_key(w->s, w->id, "tail");
		if ((r = put_key(w->s, key, w->buf, w->len, NULL, err)) < 0)
			return r;
	}
	w->cur.tail = (int64_t)w->len;
	w->cur.active = (int64_t)time(NULL);
	free(w->orig);
	w->orig = session_json(&w->cur);
	if ((r = session_save_text(w->s, w->id, w->orig, err)) < 0)
		return r;
	w->dirty = false;
	return 0;
}

int64_t
s3_writer_offset(berth_bs_writer *bw)
{
	s3_writer *w = (s3_writer *)bw;

	return w->cur.parts_size + (int64_t)w->len;
}

static void
writer_free(s3_writer *w)
{
	busy_drop(w->s, w->id);
	session_release(&w->cur);
	free(w->buf);
	free(w->orig);
	free(w);
}

void
s3_writer_close(berth_bs_writer *bw)
{
	s3_writer *w = (s3_writer *)bw;
	berth_error *err = NULL;

	if (s3_writer_sync(bw, &err) < 0) {
		berth_log(BERTH_LOG_ERROR, "upload '%s': %s", w->id, err->msg);
		berth_error_free(err);
	}
	writer_free(w);
}

int
s3_writer_abort(berth_bs_writer *bw, berth_error **err)
{
	s3_writer *w = (s3_writer *)bw;
	int r = 0;

	/* Parts sent since are left out of the state, and so of the blob
	 * (a later part of the same number replaces them). */
	if (w->dirty)
		r = session_save_text(w->s, w->id, w->orig, err);
	writer_free(w);
	return r;
}

typedef struct hash_sink {
	berth_hasher *h;
	int64_t n;
} hash_sink;

static bool
hash_cb(const char *p, size_t n, void *ud)
{
	hash_sink *hs = ud;

	berth_hasher_update(hs->h, p, n);
	hs->n += (int64_t)n;
	return true;
}

/* Digests other than SHA-256 have no running state: read back. */
static int
hash_object(s3_store *s, const char *key, berth_digest_alg alg,
	    berth_digest *out, berth_error **err)
{
	hash_sink hs = {berth_hasher_new(alg), 0};
	s3_req q = {
		.method = "GET", .key = key, .sink = hash_cb, .sink_ud = &hs};
	s3_resp resp;
	int r = s3_do(s->c, &q, &resp, err);

	s3_resp_release(&resp);
	if (r == 0)
		berth_hasher_final(out, hs.h);
	berth_hasher_free(hs.h);
	return r;
}

/* Completes the session's multipart upload, tail as its last part. */
static int
assemble(s3_store *s, const char *id, session *ss, unsigned char *tail,
	 berth_error **err)
{
	_cleanup_free_ char *key = s3_upload_key(s, id, "data");
	int64_t size = ss->parts_size + ss->tail;
	int r;

	if (ss->tail > 0) {
		_cleanup_free_ char *eid = s3_uri_encode(ss->upload_id, false);
		_cleanup_free_ char *query = xasprintf(
			"partNumber=%zu&uploadId=%s", ss->nparts + 1, eid);
		s3_req q = {.method = "PUT",
			    .key = key,
			    .query = query,
			    .body = tail,
			    .body_len = (size_t)ss->tail};
		s3_resp resp;

		r = s3_do(s->c, &q, &resp, err);
		if (r == 0) {
			ss->etags = xreallocarray(ss->etags, ss->nparts + 1,
						  sizeof(*ss->etags));
			ss->etags[ss->nparts++] = xstrdup(resp.etag);
		}
		s3_resp_release(&resp);
		if (r < 0)
			return r;
	}
	if ((r = s3_mpu_complete(s->c, key, ss->upload_id, ss->etags,
				 ss->nparts, err)) < 0)
		return r;
	ss->assembled = size;
	/* A retried commit goes on from here. */
	return session_save(s, id, ss, err);
}

static int
commit_locked(s3_store *s, const char *id, const berth_digest *want,
	      int64_t *size, berth_error **err)
{
	_cleanup_free_ char *data = s3_upload_key(s, id, "data");
	_cleanup_free_ char *final = s3_blob_key(s, want);
	_cleanup_free_ unsigned char *tail = NULL;
	session ss;
	berth_digest got;
	int64_t have;
	int r;

	if ((r = session_load(s, id, &ss, err)) < 0)
		return r;
	tail = xmalloc((size_t)ss.tail + 1);
	if (ss.assembled < 0 && (r = tail_load(s, id, &ss, tail, err)) < 0)
		goto out;
	*size = ss.parts_size + ss.tail;
	if (ss.assembled < 0 && ss.upload_id == NULL) {
		/* Less than a part: one PUT, checked by S3 too. */
		berth_digest_of(&got, want->alg, tail, (size_t)ss.tail);
		if (strcmp(got.str, want->str) != 0)
			goto mismatch;
		r = put_key(s, final, tail, (size_t)ss.tail,
			    want->alg == BERTH_DIGEST_SHA256
				    ? berth_digest_hex(want)
				    : NULL,
			    err);
		goto verify;
	}
	if (ss.assembled < 0 && want->alg == BERTH_DIGEST_SHA256) {
		s3_sha_final(&ss.sha, tail, (size_t)ss.tail, &got);
		if (strcmp(got.str, want->str) != 0)
			goto mismatch;
	}
	if (ss.assembled < 0 && (r = assemble(s, id, &ss, tail, err)) < 0)
		goto out;
	if ((r = s3_head_size(s, data, &have, err)) < 0)
		goto out;
	if (have != *size) {
		r = berth_error_set(err, BERTH_ECORRUPT, 0,
				    "S3 assembled upload '%s' as %" PRId64
				    " bytes, not %" PRId64,
				    id, have, *size);
		goto out;
	}
	if (want->alg != BERTH_DIGEST_SHA256) {
		if ((r = hash_object(s, data, want->alg, &got, err)) < 0)
			goto out;
		if (strcmp(got.str, want->str) != 0)
			goto mismatch;
	}
	r = s3_copy(s->c, data, final, *size, err);
verify:
	r = s3_settle_race(s, final, *size, r, err);
	/* Whatever copied it, the blob must be these many bytes. */
	if (r == 0 && (r = s3_head_size(s, final, &have, err)) == 0 &&
	    have != *size) {
		delete_key(s, final, NULL);
		r = berth_error_set(err, BERTH_ECORRUPT, 0,
				    "S3 stored blob '%s' as %" PRId64
				    " bytes, not %" PRId64,
				    want->str, have, *size);
	}
	if (r == 0) {
		/* The session is over; leftovers are swept later. */
		_cleanup_free_ char *tkey = s3_upload_key(s, id, "tail");
		_cleanup_free_ char *skey = s3_upload_key(s, id, "state");

		delete_key(s, skey, NULL);
		delete_key(s, data, NULL);
		delete_key(s, tkey, NULL);
	}
	goto out;
mismatch:
	r = berth_error_set(err, BERTH_EDIGEST, 0,
			    "uploaded content is '%s', not '%s'", got.str,
			    want->str);
out:
	session_release(&ss);
	return r;
}

/* upload_verify: the running hash, or the bytes read back once assembled
 * or for another algorithm; nothing is stored. */
static int
verify_locked(s3_store *s, const char *id, const berth_digest *want,
	      berth_error **err)
{
	_cleanup_free_ char *data = s3_upload_key(s, id, "data");
	_cleanup_free_ unsigned char *tail = NULL;
	session ss;
	berth_digest got;
	int r;

	if ((r = session_load(s, id, &ss, err)) < 0)
		return r;
	tail = xmalloc((size_t)ss.tail + 1);
	if (ss.assembled < 0 && (r = tail_load(s, id, &ss, tail, err)) < 0)
		goto out;
	if (ss.assembled < 0 && ss.upload_id == NULL)
		berth_digest_of(&got, want->alg, tail, (size_t)ss.tail);
	else if (ss.assembled < 0 && want->alg == BERTH_DIGEST_SHA256)
		s3_sha_final(&ss.sha, tail, (size_t)ss.tail, &got);
	else if (ss.assembled < 0)
		/* Parts of an unfinished multipart upload cannot be read. */
		goto out;
	else if ((r = hash_object(s, data, want->alg, &got, err)) < 0)
		goto out;
	if (strcmp(got.str, want->str) != 0)
		r = berth_error_set(err, BERTH_EDIGEST, 0,
				    "uploaded content is '%s', not '%s'",
				    got.str, want->str);
out:
	session_release(&ss);
	return r;
}

int
s3_upload_verify(berth_blobstore *bs, const char *id, const berth_digest *want,
		 berth_error **err)
{
	s3_store *s = (s3_store *)bs;
	int r;

	if (!berth_upload_id_valid(id))
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "upload '%s' is unknown", id);
	if (!busy_take(s, id))
		return busy_error(id, err);
	r = verify_locked(s, id, want, err);
	busy_drop(s, id);
	return r;
}

int
s3_upload_commit(berth_blobstore *bs, const char *id, const berth_digest *want,
		 int64_t *size, berth_error **err)
{
	s3_store *s = (s3_store *)bs;
	int r;

	if (!berth_upload_id_valid(id))
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "upload '%s' is unknown", id);
	if (!busy_take(s, id))
		return busy_error(id, err);
	r = commit_locked(s, id, want, size, err);
	busy_drop(s, id);
	return r;
}

int
s3_upload_read(berth_blobstore *bs, const char *id, int64_t off, int64_t len,
	       berth_bs_reader **out, berth_error **err)
{
	berth_error_set(err, BERTH_EUNSUPPORTED, 0,
			"upload '%s' cannot be read before it is committed: "
			"S3 keeps no readable bytes of an unfinished "
			"multipart upload",
			id);
	berth_error_hint(err, "a pull-through cache streams while it fetches "
			      "on the file-system store only");
	return BERTH_EUNSUPPORTED;
}

static int
remove_locked(s3_store *s, const char *id, berth_error **err)
{
	static const char *const what[] = {"data", "tail", "state"};
	berth_error *e = NULL;
	session ss;
	size_t i;
	int r, first = 0;

	if ((r = session_load(s, id, &ss, err)) < 0)
		return r;
	/* Every piece is tried, the state last: a session that lost some
	 * objects is still found (and removed) by the next sweep. */
	if (ss.upload_id && ss.assembled < 0) {
		_cleanup_free_ char *key = s3_upload_key(s, id, "data");

		first = s3_mpu_abort(s->c, key, ss.upload_id, &e);
	}
	session_release(&ss);
	for (i = 0; i < BERTH_ARRAY_SIZE(what); i++) {
		_cleanup_free_ char *key = s3_upload_key(s, id, what[i]);

		if (first < 0 && i == BERTH_ARRAY_SIZE(what) - 1)
			break; /* keep the state while parts may remain */
		r = delete_key(s, key, first < 0 ? NULL : &e);
		if (first == 0)
			first = r;
	}
	return first < 0 ? berth_error_move(err, &e, first) : 0;
}

int
s3_upload_remove(berth_blobstore *bs, const char *id, berth_error **err)
{
	s3_store *s = (s3_store *)bs;
	int r;

	if (!berth_upload_id_valid(id))
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "upload '%s' is unknown", id);
	if (!busy_take(s, id))
		return busy_error(id, err);
	r = remove_locked(s, id, err);
	busy_drop(s, id);
	return r;
}

/* "<prefix>uploads/<id>/<what>": id into buf; false for other keys. */
static bool
key_id(s3_store *s, const char *key, char id[72], const char **what)
{
	size_t skip = strlen(s3_client_prefix(s->c)) + strlen("uploads/");
	const char *rest = key + skip, *slash;

	if (strlen(key) <= skip || (slash = strchr(rest, '/')) == NULL ||
	    (size_t)(slash - rest) >= 72)
		return false;
	snprintf(id, 72, "%.*s", (int)(slash - rest), rest);
	*what = slash + 1;
	return berth_upload_id_valid(id);
}

typedef struct each_ctx {
	s3_store *s;
	void (*fn)(const char *id, int64_t active, void *ud);
	void *ud;
} each_ctx;

/* The state object's time is the last activity: every open and every
 * sync writes it. */
static bool
each_state(const char *key, int64_t size, int64_t mtime, void *ud)
{
	each_ctx *e = ud;
	const char *what;
	char id[72];

	if (key_id(e->s, key, id, &what) && strcmp(what, "state") == 0)
		e->fn(id, mtime, e->ud);
	return false;
}

void
s3_uploads_each(berth_blobstore *bs,
		void (*fn)(const char *id, int64_t active, void *ud), void *ud)
{
	s3_store *s = (s3_store *)bs;
	_cleanup_free_ char *prefix =
		xasprintf("%suploads/", s3_client_prefix(s->c));
	each_ctx e = {s, fn, ud};
	berth_error *err = NULL;

	if (s3_list(s->c, prefix, each_state, &e, &err) < 0) {
		berth_log(BERTH_LOG_ERROR, "listing upload sessions: %s",
			  err->msg);
		berth_error_free(err);
	}
}

typedef struct sweep_ctx {
	s3_store *s;
	int64_t before;
	bool dry_run;
	void (*fn)(const char *name, int64_t size, void *ud);
	void *ud;
	char **keys; /* objects of sessions without a state */
	int64_t *sizes;
	size_t n;
	char **with_state; /* ids that have one */
	size_t nstate;
} sweep_ctx;

static bool
has_state(const sweep_ctx *t, const char *id)
{
	size_t i;

	for (i = 0; i < t->nstate; i++)
		if (strcmp(t->with_state[i], id) == 0)
			return true;
	return false;
}

static bool
sweep_key(const char *key, int64_t size, int64_t mtime, void *ud)
{
	sweep_ctx *t = ud;
	const char *what;
	char id[72];

	if (!key_id(t->s, key, id, &what))
		return false;
	if (strcmp(what, "state") == 0) {
		t->with_state = xreallocarray(t->with_state, t->nstate + 1,
					      sizeof(char *));
		t->with_state[t->nstate++] = xstrdup(id);
	} else if (mtime >= 0 && mtime < t->before) {
		t->keys = xreallocarray(t->keys, t->n + 1, sizeof(char *));
		t->sizes = xreallocarray(t->sizes, t->n + 1, sizeof(int64_t));
		t->keys[t->n] = xstrdup(key);
		t->sizes[t->n++] = size;
	}
	return false;
}

static void
sweep_mpu(const char *key, const char *upload_id, int64_t initiated, void *ud)
{
	sweep_ctx *t = ud;
	berth_error *e = NULL;
	const char *what;
	session ss;
	char id[72];
	bool mine = false;

	if (!key_id(t->s, key, id, &what) || initiated < 0 ||
	    initiated >= t->before)
		return;
	if (session_load(t->s, id, &ss, &e) == 0) {
		mine = ss.upload_id && strcmp(ss.upload_id, upload_id) == 0;
		session_release(&ss);
	} else if (e->code != BERTH_ENOTFOUND) {
		mine = true; /* unsure: left alone */
	}
	berth_error_free(e);
	if (mine)
		return;
	if (!t->dry_run && s3_mpu_abort(t->s->c, key, upload_id, NULL) < 0)
		return;
	if (!t->dry_run)
		berth_log(BERTH_LOG_INFO,
			  "aborted stale multipart upload of '%s'", key);
	if (t->fn)
		t->fn(key, 0, t->ud);
}

void
s3_tmp_sweep(berth_blobstore *bs, int64_t before, bool dry_run,
	     void (*fn)(const char *name, int64_t size, void *ud), void *ud)
{
	s3_store *s = (s3_store *)bs;
	_cleanup_free_ char *prefix =
		xasprintf("%suploads/", s3_client_prefix(s->c));
	sweep_ctx t = {s, before, dry_run, fn, ud, NULL, NULL, 0, NULL, 0};
	berth_error *err = NULL;
	size_t i;

	if (s3_list(s->c, prefix, sweep_key, &t, &err) < 0 ||
	    s3_mpu_each(s->c, prefix, sweep_mpu, &t, &err) < 0) {
		berth_log(BERTH_LOG_ERROR, "sweeping S3 leftovers: %s",
			  err->msg);
		berth_error_freep(&err);
	}
	for (i = 0; i < t.n; i++) {
		const char *what;
		char id[72];

		/* A crash between a commit's deletes, or a session that
		 * expired with its state removed first. */
		if (key_id(s, t.keys[i], id, &what) && !has_state(&t, id) &&
		    (dry_run || delete_key(s, t.keys[i], NULL) == 0)) {
			if (!dry_run)
				berth_log(BERTH_LOG_INFO,
					  "removed stale object '%s'",
					  t.keys[i]);
			if (fn)
				fn(t.keys[i], t.sizes[i], ud);
		}
		free(t.keys[i]);
	}
	for (i = 0; i < t.nstate; i++)
		free(t.with_state[i]);
	free(t.keys);
	free(t.sizes);
	free(t.with_state);
}
