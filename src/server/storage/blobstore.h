/*
 * The registry's blob store: content-addressed bytes, shared by every
 * repository (which repository may see which blob is the metadata store's
 * business, never this one's).
 *
 * An interface of streams and ranges, so that an object store (S3: GET
 * with Range, multipart uploads, presigned URLs) can replace the local file
 * system without touching the request handlers. Reading hands out a
 * reader over a byte range: its read callback always works; a backend that
 * has a local file also gives its descriptor, so the server can sendfile
 * it (zero-copy); a backend that can let clients fetch the bytes
 * themselves gives a redirect URL. Writing goes through upload sessions,
 * appended to in order and committed against a digest.
 *
 * The local implementation keeps
 *
 *   <root>/blobs/<alg>/<first two hex>/<hex>   complete, verified blobs
 *   <root>/uploads/<id>                         upload sessions in progress
 *   <root>/tmp/                                 small writes before rename
 *
 * A blob becomes visible only by rename(2) after its content was hashed,
 * checked against its digest and fsynced, so every visible blob is complete.
 */
#ifndef BERTH_SERVER_STORAGE_BLOBSTORE_H
#define BERTH_SERVER_STORAGE_BLOBSTORE_H

#include <stdint.h>
#include <sys/types.h>

#include "berth/common.h"
#include "berth/digest.h"

typedef struct berth_blobstore berth_blobstore;
typedef struct berth_bs_writer berth_bs_writer;
typedef struct berth_bs_reader berth_bs_reader;

struct berth_blobstore_ops {
	/* Size of a stored blob; BERTH_ENOTFOUND when absent. */
	int (*stat)(berth_blobstore *bs, const berth_digest *d, int64_t *size,
		    berth_error **err);
	/*
	 * Opens [off, off + len) of a stored blob for reading (len < 0: to
	 * the end; a range past the end is cut at it). The caller owns *out
	 * and closes it. BERTH_ENOTFOUND when absent.
	 */
	int (*open_range)(berth_blobstore *bs, berth_bs_reader **out,
			  const berth_digest *d, int64_t off, int64_t len,
			  berth_error **err);
	/* Stores a small blob from memory, verifying it against d. */
	int (*put)(berth_blobstore *bs, const berth_digest *d, const void *p,
		   size_t len, berth_error **err);
	/* Removes a stored blob; BERTH_ENOTFOUND when absent. */
	int (*remove)(berth_blobstore *bs, const berth_digest *d,
		      berth_error **err);

	/* Creates an empty upload session `id` (caller-chosen, [0-9a-f]+). */
	int (*upload_create)(berth_blobstore *bs, const char *id,
			     berth_error **err);
	/* Bytes received so far; BERTH_ENOTFOUND for an unknown session. */
	int (*upload_size)(berth_blobstore *bs, const char *id, int64_t *size,
			   berth_error **err);
	/*
	 * When the session was last active (seconds since the epoch): opened
	 * for writing or written to. BERTH_ENOTFOUND for an unknown session.
	 */
	int (*upload_active)(berth_blobstore *bs, const char *id, int64_t *when,
			     berth_error **err);
	/*
	 * Opens a session for appending, exclusively: BERTH_EEXIST while
	 * another writer holds it. The writer starts at the current end, and
	 * the session counts as active now.
	 */
	int (*upload_open)(berth_blobstore *bs, const char *id,
			   berth_bs_writer **out, berth_error **err);
	/*
	 * Checks the session's bytes against `want` (BERTH_EDIGEST on a
	 * mismatch) without storing them: a pull-through fetch lets its
	 * clients have the last byte then, before upload_commit makes the
	 * blob durable. The commit that follows need not hash them again.
	 */
	int (*upload_verify)(berth_blobstore *bs, const char *id,
			     const berth_digest *want, berth_error **err);
	/*
	 * Verifies the session's bytes against `want`, makes them durable and
	 * moves them into the store. BERTH_EDIGEST on a mismatch (the session
	 * stays as it was). *size receives the blob's size.
	 */
	int (*upload_commit)(berth_blobstore *bs, const char *id,
			     const berth_digest *want, int64_t *size,
			     berth_error **err);
	/*
	 * A reader over [off, off + len) of a session's bytes while they are
	 * still being written (a pull-through fetch streams them to its
	 * clients as they arrive). The caller reads only bytes it knows were
	 * written; the reader keeps working after the session is committed
	 * or removed. BERTH_ENOTFOUND for an unknown session.
	 */
	int (*upload_read)(berth_blobstore *bs, const char *id, int64_t off,
			   int64_t len, berth_bs_reader **out,
			   berth_error **err);
	/* Drops a session and its bytes; BERTH_ENOTFOUND when unknown. */
	int (*upload_remove)(berth_blobstore *bs, const char *id,
			     berth_error **err);
	/*
	 * Calls fn for every session with its last activity (upload_active),
	 * for the caller to decide which have expired. A crash between
	 * creating a session and recording it leaves one the metadata does
	 * not know: the caller sweeps those too.
	 */
	void (*uploads_each)(berth_blobstore *bs,
			     void (*fn)(const char *id, int64_t active,
					void *ud),
			     void *ud);
	/*
	 * Removes temporary files left before `before` by a crash, telling
	 * fn (when not NULL) each one's name and size; with dry_run it only
	 * tells.
	 */
	void (*tmp_sweep)(berth_blobstore *bs, int64_t before, bool dry_run,
			  void (*fn)(const char *name, int64_t size, void *ud),
			  void *ud);

	/*
	 * Garbage collection (ops/gc.c). each calls fn for every stored
	 * blob with its size and when it was last written (a commit counts
	 * as a write), until fn returns true; a blob `skip` (when not NULL)
	 * is true for is passed over without looking at its file (in use:
	 * the collector needs no size or time for it).
	 */
	void (*each)(berth_blobstore *bs,
		     bool (*skip)(const berth_digest *d, void *ud),
		     bool (*fn)(const berth_digest *d, int64_t size,
				int64_t written, void *ud),
		     void *ud);
	/*
	 * Takes blob d out of the store (readers no longer find it), unless
	 * it was written at or after `before`: then it stays, and *aside is
	 * NULL. Otherwise *aside (caller frees) names the bytes for
	 * drop_aside, and *size is their size. BERTH_ENOTFOUND when absent.
	 */
	int (*set_aside)(berth_blobstore *bs, const berth_digest *d,
			 int64_t before, char **aside, int64_t *size,
			 berth_error **err);
	/* Frees what set_aside took out. */
	void (*drop_aside)(berth_blobstore *bs, const char *aside);

	/* Appends to an open session. */
	int (*writer_write)(berth_bs_writer *w, const void *p, size_t len,
			    berth_error **err);
	/*
	 * Makes every byte written so far part of the session, so that a
	 * request can say they were received (NULL where writing does so;
	 * a store that buffers writes needs it: its writer_close cannot
	 * report a failure).
	 */
	int (*writer_sync)(berth_bs_writer *w, berth_error **err);
	/* Offset of the next byte (the session's size). */
	int64_t (*writer_offset)(berth_bs_writer *w);
	/* Releases the writer (the bytes written stay in the session). */
	void (*writer_close)(berth_bs_writer *w);
	/*
	 * Releases the writer and drops every byte it wrote: the session is
	 * as it was when opened (a refused chunk leaves no trace).
	 */
	int (*writer_abort)(berth_bs_writer *w, berth_error **err);

	/*
	 * Reads the next bytes of the range into buf: the count, 0 at the
	 * range's end, or a negative berth_code.
	 */
	ssize_t (*reader_read)(berth_bs_reader *r, void *buf, size_t n,
			       berth_error **err);
	/* Releases the reader and whatever it holds (its fd too). */
	void (*reader_close)(berth_bs_reader *r);

	void (*free)(berth_blobstore *bs);
};

struct berth_blobstore {
	const struct berth_blobstore_ops *ops;
};

/* Every implementation's writer starts with this. */
struct berth_bs_writer {
	const struct berth_blobstore_ops *ops;
};

/*
 * Every implementation's reader starts with this; the fields are set by
 * open_range and only read by the caller.
 */
struct berth_bs_reader {
	const struct berth_blobstore_ops *ops;
	int64_t size; /* the whole blob's */
	int64_t off;  /* the range: [off, off + len) */
	int64_t len;
	/*
	 * Zero-copy: >= 0 when the range is [fd_off, fd_off + len) of this
	 * plain file. The reader owns it; a caller that hands it on (to a
	 * sendfile response) sets fd to -1 first.
	 */
	int fd;
	int64_t fd_off;
	/* Where a client may fetch the range itself, or NULL (reader owns). */
	char *redirect;
};

/*
 * The local file system implementation rooted at `root` (created if
 * missing). BERTH_EIO when the directory cannot be used.
 */
int berth_blobstore_fs_new(berth_blobstore **out, const char *root,
			   berth_error **err);

/*
 * Where an S3 blob store keeps its bytes and how it signs in; the
 * strings are copied. See docs/server.md, "Blobs in S3".
 */
typedef struct berth_s3_opts {
	const char *endpoint; /* "http://127.0.0.1:7480"; NULL: AWS's */
	const char *bucket;
	const char *prefix; /* of every key, or NULL */
	const char *region;
	bool path_style; /* endpoint/bucket/key, else bucket.endpoint/key */
	const char *access_key, *secret_key, *session_token;
	const char *ca_file; /* trust for an https endpoint, or NULL */
	bool redirect;	     /* blob GETs answer 307 to a presigned URL */
	long redirect_ttl;   /* seconds a presigned URL is valid */
	int64_t part_size;   /* multipart upload part size */
} berth_s3_opts;

/*
 * The S3 implementation (blobstore_s3.c): blobs at
 * <prefix>blobs/<alg>/<xx>/<hex>, sessions as multipart uploads with
 * their state in <prefix>uploads/<id>/. Checks that the bucket answers:
 * BERTH_ENET, BERTH_EDENIED, BERTH_ENOTFOUND (no such bucket) or
 * BERTH_EUSAGE (bad settings) otherwise.
 */
int berth_blobstore_s3_new(berth_blobstore **out, const berth_s3_opts *o,
			   berth_error **err);

/* Path of a blob inside a local store (for tests and fsck); caller frees. */
char *berth_blobstore_fs_path(berth_blobstore *bs, const berth_digest *d);

static inline void
berth_blobstore_free(berth_blobstore *bs)
{
	if (bs != NULL)
		bs->ops->free(bs);
}

/* Closes a writer of any implementation; NULL is a no-op. */
static inline void
berth_bs_writer_close(berth_bs_writer *w)
{
	if (w != NULL)
		w->ops->writer_close(w);
}

static inline void
berth_bs_writer_closep(berth_bs_writer **w)
{
	berth_bs_writer_close(*w);
	*w = NULL;
}

/* Closes a reader of any implementation; NULL is a no-op. */
static inline void
berth_bs_reader_close(berth_bs_reader *r)
{
	if (r != NULL)
		r->ops->reader_close(r);
}

static inline void
berth_bs_reader_closep(berth_bs_reader **r)
{
	berth_bs_reader_close(*r);
	*r = NULL;
}

/* True when id is a well-formed upload session id. */
bool berth_upload_id_valid(const char *id);

/* A fresh random session id (32 hex digits) into buf[33]. */
int berth_upload_id_new(char buf[33], berth_error **err);

#endif
