/*
 * The S3 blob store's table of operations and its constructor: the one
 * file that knows both halves, blobs (blobstore_s3.c) and upload sessions
 * (blobstore_s3_upload.c).
 */
#include "server/storage/s3_int.h"

#include <inttypes.h>
#include <stdlib.h>

#include "util/error.h"
#include "util/xalloc.h"

#define S3_MIN_PART ((int64_t)5 << 20)

static void
s3_free(berth_blobstore *bs)
{
	s3_store *s = (s3_store *)bs;

	s3_client_free(s->c);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static const struct berth_blobstore_ops s3_ops = {
	.stat = s3_stat,
	.open_range = s3_open_range,
	.put = s3_put,
	.remove = s3_remove,
	.upload_create = s3_upload_create,
	.upload_size = s3_upload_size,
	.upload_active = s3_upload_active,
	.upload_open = s3_upload_open,
	.upload_verify = s3_upload_verify,
	.upload_commit = s3_upload_commit,
	.upload_read = s3_upload_read,
	.upload_remove = s3_upload_remove,
	.uploads_each = s3_uploads_each,
	.tmp_sweep = s3_tmp_sweep,
	.each = s3_each,
	.set_aside = s3_set_aside,
	.drop_aside = s3_drop_aside,
	.writer_write = s3_writer_write,
	.writer_sync = s3_writer_sync,
	.writer_offset = s3_writer_offset,
	.writer_close = s3_writer_close,
	.writer_abort = s3_writer_abort,
	.reader_read = s3_reader_read,
	.reader_close = s3_reader_close,
	.free = s3_free,
};

int
berth_blobstore_s3_new(berth_blobstore **out, const berth_s3_opts *o,
		       berth_error **err)
{
	s3_store *s;
	s3_req q = {.method = "HEAD", .key = ""};
	berth_error *e = NULL;
	s3_resp resp;
	int r;

	if (o->part_size < S3_MIN_PART || o->part_size % (1 << 20) != 0)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "S3 part size %" PRId64
				       " is not a whole number of MiB of at "
				       "least 5 MiB",
				       o->part_size);
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &s3_ops;
	pthread_mutex_init(&s->mu, NULL);
	s->redirect = o->redirect;
	s->redirect_ttl = o->redirect_ttl;
	s->part_size = (size_t)o->part_size;
	if ((r = s3_client_new(&s->c, o, err)) < 0) {
		s3_free(&s->base);
		return r;
	}
	/* The bucket must answer now: a wrong setting fails at start. */
	r = s3_do(s->c, &q, &resp, &e);
	s3_resp_release(&resp);
	if (r == BERTH_ENOTFOUND) {
		berth_error_freep(&e);
		berth_error_set(err, BERTH_ENOTFOUND, 0,
				"S3 bucket '%s' does not exist", o->bucket);
		berth_error_hint(err, "create it, or fix s3-bucket");
	} else if (r < 0) {
		berth_error_move(err, &e, r);
	}
	if (r < 0) {
		s3_free(&s->base);
		return r;
	}
	*out = &s->base;
	return 0;
}
