/*
 * The S3 client under the S3 blob store: one request at a time over a
 * pool of libcurl handles (connections are reused), signed by libcurl's
 * own AWS Signature V4 (CURLOPT_AWS_SIGV4). Presigned GET URLs, which
 * libcurl cannot make, come from s3_presign.c; the XML answers are read
 * with libxml2 (s3_xml.c); the running SHA-256 of an upload session,
 * kept in S3 between requests, from s3_sha.c.
 *
 * Private to src/server/storage.
 */
#ifndef BERTH_SERVER_STORAGE_S3_INT_H
#define BERTH_SERVER_STORAGE_S3_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/common.h"
#include "server/storage/blobstore.h"
#include "util/buf.h"

typedef struct s3_client s3_client;

/* A request: the key is the object's full key (prefix included). */
typedef struct s3_req {
	const char *method;	/* GET, HEAD, PUT, POST, DELETE */
	const char *key;	/* NULL or "": the bucket itself */
	const char *query;	/* canonical (sorted, encoded), or NULL */
	const char *headers[6]; /* "Name: value", NULL-terminated */
	const void *body;	/* PUT and POST bodies, from memory */
	size_t body_len;
	/* The x-amz-content-sha256 value; NULL: computed from body. */
	const char *payload_sha;
	/* A GET's body, streamed: returns false to stop the transfer. */
	bool (*sink)(const char *p, size_t n, void *ud);
	void *sink_ud;
} s3_req;

typedef struct s3_resp {
	long status;
	berth_buf body;	       /* the answer's body (when no sink) */
	int64_t length;	       /* Content-Length, or -1 */
	int64_t total;	       /* the size in Content-Range, or -1 */
	int64_t last_modified; /* seconds since the epoch, or -1 */
	char etag[80];	       /* ETag as sent (quoted) */
} s3_resp;

void s3_resp_release(s3_resp *r);

/*
 * Copies what it needs of o. BERTH_EUSAGE when a setting is missing or
 * malformed (no bucket, no credentials, a bad endpoint).
 */
int s3_client_new(s3_client **out, const berth_s3_opts *o, berth_error **err);
void s3_client_free(s3_client *c);

/* The key prefix ("" or "dir/") and the bucket. */
const char *s3_client_prefix(const s3_client *c);
const char *s3_client_bucket(const s3_client *c);

/*
 * Sends q. 0 on a 2xx answer (out filled; release it); else the error:
 * BERTH_ENOTFOUND (404), BERTH_EDENIED (403), BERTH_ESERVER (5xx),
 * BERTH_ENET (no connection), BERTH_EPROTO (anything else), with S3's
 * own code and message, and out still filled.
 */
int s3_do(s3_client *c, const s3_req *q, s3_resp *out, berth_error **err);

/*
 * A presigned GET URL of key valid for ttl seconds from now (AWS SigV4,
 * query parameters). Caller frees.
 */
char *s3_presign_get(const s3_client *c, const char *key, long ttl,
		     int64_t now);

/* The pieces the presigner needs, exposed for its unit test. */
typedef struct s3_presign_in {
	const char *scheme, *host; /* host with ":port" when not default */
	const char *path;	   /* canonical URI, already encoded */
	const char *region, *access_key, *secret_key, *session_token;
	long ttl;
	int64_t now;
} s3_presign_in;
char *s3_presign(const s3_presign_in *in);

/* The URI encoding of SigV4 (RFC 3986 unreserved kept; '/' kept when
 * keep_slash). Caller frees. */
char *s3_uri_encode(const char *s, bool keep_slash);

/* ---- XML answers (s3_xml.c) ---- */

/*
 * Calls fn for every element named `name` in the document, with a
 * getter of its children's text; BERTH_EPROTO when it is not XML.
 */
typedef struct s3_xml_node s3_xml_node;
int s3_xml_each(const char *xml, size_t len, const char *name,
		void (*fn)(const s3_xml_node *n, void *ud), void *ud,
		berth_error **err);
/* The text of n's first child element `child`, or NULL; caller frees. */
char *s3_xml_child(const s3_xml_node *n, const char *child);
/* The text of the first element `name` anywhere, or NULL; caller frees. */
char *s3_xml_find(const char *xml, size_t len, const char *name);
/* "2026-01-02T03:04:05.000Z" as seconds since the epoch, or -1. */
int64_t s3_iso8601(const char *s);

/* ---- the running SHA-256 of a session (s3_sha.c) ---- */

/*
 * SHA-256 midway: the chaining value after a whole number of 64-byte
 * blocks. Parts are multiples of 64 bytes, so the state between parts
 * is always of this form and can be kept in S3 as text.
 */
typedef struct s3_sha {
	uint32_t h[8];
	uint64_t n; /* bytes hashed, a multiple of 64 */
} s3_sha;

void s3_sha_init(s3_sha *s);
/* Hashes p (len a multiple of 64) into s. */
void s3_sha_update(s3_sha *s, const void *p, size_t len);
/* The digest of what s saw followed by tail. */
void s3_sha_final(const s3_sha *s, const void *tail, size_t len,
		  berth_digest *out);
/* As 64 + 1 + decimal characters ("<h hex>:<n>") into buf[96], and back
 * (false when malformed). */
void s3_sha_format(const s3_sha *s, char buf[96]);
bool s3_sha_parse(s3_sha *s, const char *text);

/* ---- the store's shared parts (blobstore_s3.c) ---- */

typedef struct s3_store {
	berth_blobstore base;
	s3_client *c;
	bool redirect;
	long redirect_ttl;
	size_t part_size;
	pthread_mutex_t mu; /* guards busy */
	struct s3_busy *busy;
} s3_store;

/* Blob operations (blobstore_s3.c). */
int s3_stat(berth_blobstore *bs, const berth_digest *d, int64_t *size,
	    berth_error **err);
int s3_open_range(berth_blobstore *bs, berth_bs_reader **out,
		  const berth_digest *d, int64_t off, int64_t len,
		  berth_error **err);
int s3_put(berth_blobstore *bs, const berth_digest *d, const void *p,
	   size_t len, berth_error **err);
int s3_remove(berth_blobstore *bs, const berth_digest *d, berth_error **err);
void s3_each(berth_blobstore *bs, bool (*skip)(const berth_digest *d, void *ud),
	     bool (*fn)(const berth_digest *d, int64_t size, int64_t written,
			void *ud),
	     void *ud);
int s3_set_aside(berth_blobstore *bs, const berth_digest *d, int64_t before,
		 char **aside, int64_t *size, berth_error **err);
void s3_drop_aside(berth_blobstore *bs, const char *aside);
ssize_t s3_reader_read(berth_bs_reader *r, void *buf, size_t n,
		       berth_error **err);
void s3_reader_close(berth_bs_reader *r);

/* The full key of blob d, of session id's object `what`; caller frees. */
char *s3_blob_key(s3_store *s, const berth_digest *d);
char *s3_upload_key(s3_store *s, const char *id, const char *what);

/* HEAD of key: its size. */
int s3_head_size(s3_store *s, const char *key, int64_t *size,
		 berth_error **err);
/* Two writers of the same bytes race for one content key, and a store may
 * fail the loser (s3rver answers 500): when the key holds an object of
 * size bytes, which only a verified write puts there, a failed write r
 * succeeded after all; after a refusal by the store, the winner is waited
 * for a few seconds. Returns r, or 0 with *err cleared. */
int s3_settle_race(s3_store *s, const char *key, int64_t size, int r,
		   berth_error **err);

/* Session operations (blobstore_s3_upload.c). */
int s3_upload_create(berth_blobstore *bs, const char *id, berth_error **err);
int s3_upload_size(berth_blobstore *bs, const char *id, int64_t *size,
		   berth_error **err);
int s3_upload_active(berth_blobstore *bs, const char *id, int64_t *when,
		     berth_error **err);
int s3_upload_open(berth_blobstore *bs, const char *id, berth_bs_writer **out,
		   berth_error **err);
int s3_upload_verify(berth_blobstore *bs, const char *id,
		     const berth_digest *want, berth_error **err);
int s3_upload_commit(berth_blobstore *bs, const char *id,
		     const berth_digest *want, int64_t *size,
		     berth_error **err);
int s3_upload_read(berth_blobstore *bs, const char *id, int64_t off,
		   int64_t len, berth_bs_reader **out, berth_error **err);
int s3_upload_remove(berth_blobstore *bs, const char *id, berth_error **err);
void s3_uploads_each(berth_blobstore *bs,
		     void (*fn)(const char *id, int64_t active, void *ud),
		     void *ud);
void s3_tmp_sweep(berth_blobstore *bs, int64_t before, bool dry_run,
		  void (*fn)(const char *name, int64_t size, void *ud),
		  void *ud);
int s3_writer_write(berth_bs_writer *w, const void *p, size_t len,
		    berth_error **err);
int s3_writer_sync(berth_bs_writer *w, berth_error **err);
int64_t s3_writer_offset(berth_bs_writer *w);
void s3_writer_close(berth_bs_writer *w);
int s3_writer_abort(berth_bs_writer *w, berth_error **err);

/*
 * Lists keys under prefix (ListObjectsV2), calling fn with each key,
 * size and last modification until fn returns true. BERTH_E* when a
 * page cannot be listed.
 */
int s3_list(s3_client *c, const char *prefix,
	    bool (*fn)(const char *key, int64_t size, int64_t mtime, void *ud),
	    void *ud, berth_error **err);

/* ---- multipart uploads and copies (s3_multipart.c) ---- */

/* Starts a multipart upload of key; *upload_id (caller frees). */
int s3_mpu_create(s3_client *c, const char *key, char **upload_id,
		  berth_error **err);
/* Completes it from parts 1..n with these ETags. */
int s3_mpu_complete(s3_client *c, const char *key, const char *upload_id,
		    char *const *etags, size_t n, berth_error **err);
/* Drops it and its parts (an unknown one is not an error). */
int s3_mpu_abort(s3_client *c, const char *key, const char *upload_id,
		 berth_error **err);
/* Calls fn for every unfinished multipart upload under prefix. */
int s3_mpu_each(s3_client *c, const char *prefix,
		void (*fn)(const char *key, const char *upload_id,
			   int64_t initiated, void *ud),
		void *ud, berth_error **err);
/* Server-side copy of key `from` (size bytes) to key `to`, in parts
 * when it is beyond what one copy may move. */
int s3_copy(s3_client *c, const char *from, const char *to, int64_t size,
	    berth_error **err);

#endif
