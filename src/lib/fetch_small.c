/* A small blob (an image config) fetched into memory and verified. */
#include "fetch_small.h"

#include <string.h>

#include "util/error.h"

typedef struct mem_sink {
	berth_buf buf;
} mem_sink;

static int
mem_write(void *ud, const void *p, size_t len, berth_error **err)
{
	return berth_buf_put(&((mem_sink *)ud)->buf, p, len, err);
}

int
fetch_small_blob(berth_buf *out, berth_registry *reg, const char *repo,
		 const berth_descriptor *d, berth_error **err)
{
	mem_sink sink;
	berth_blob_job job = BERTH_BLOB_JOB_INIT;
	berth_digest got;
	int r;

	berth_buf_init(&sink.buf, 16 << 20);
	job.desc = d;
	job.sink = mem_write;
	job.sink_ud = &sink;
	r = berth_registry_fetch_blobs(reg, repo, &job, 1, 1, NULL, NULL, err);
	berth_error_free(job.err);
	if (r == 0) {
		berth_digest_of(&got, d->digest.alg, sink.buf.ptr,
				sink.buf.len);
		if (strcmp(got.str, d->digest.str) != 0)
			r = berth_error_set(
				err, BERTH_EDIGEST, 0,
				"digest mismatch for blob '%s' from "
				"'%s': content is %s",
				d->digest.str, berth_registry_host(reg),
				got.str);
	}
	if (r < 0) {
		berth_buf_release(&sink.buf);
		return r;
	}
	*out = sink.buf;
	return 0;
}
