/*
 * Blob bytes into an HTTP response. The zero-copy path (a file descriptor
 * handed to libmicrohttpd, which sends it with sendfile) is the common
 * one for a file system store; a store without files (object storage) is
 * read through its callback in blocks.
 */
#include "server/handlers/blob_resp.h"

#include <stdlib.h>

#include "berth/log.h"
#include "server/server.h"
#include "util/error.h"

#define BLOB_RESP_BLOCK ((size_t)256 << 10)

static ssize_t
reader_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	berth_bs_reader *rd = cls;
	berth_error *err = NULL;
	ssize_t n = rd->ops->reader_read(rd, buf, max, &err);

	if (n < 0) {
		berth_log(BERTH_LOG_ERROR, "sending a blob: %s", err->msg);
		berth_error_free(err);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
}

static void
reader_free_cb(void *cls)
{
	berth_bs_reader_close(cls);
}

struct MHD_Response *
srv_resp_reader(berth_bs_reader *rd, bool may_redirect, unsigned *status,
		uint64_t *bytes)
{
	struct MHD_Response *resp;
	uint64_t len = (uint64_t)rd->len;

	if (may_redirect && rd->redirect != NULL) {
		resp = MHD_create_response_from_buffer(0, (void *)"",
						       MHD_RESPMEM_PERSISTENT);
		if (resp == NULL)
			abort();
		srv_resp_header(resp, MHD_HTTP_HEADER_LOCATION, rd->redirect);
		berth_bs_reader_close(rd);
		*status = MHD_HTTP_TEMPORARY_REDIRECT;
		*bytes = 0;
		return resp;
	}
	*bytes = len;
	if (rd->fd >= 0) {
		resp = MHD_create_response_from_fd_at_offset64(
			len, rd->fd, (uint64_t)rd->fd_off);
		if (resp == NULL)
			abort();
		rd->fd = -1; /* the response owns it now */
		berth_bs_reader_close(rd);
		return resp;
	}
	resp = MHD_create_response_from_callback(len, BLOB_RESP_BLOCK,
						 reader_cb, rd, reader_free_cb);
	if (resp == NULL)
		abort();
	return resp;
}
