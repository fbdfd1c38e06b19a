/* Answering with the bytes of a blob-store reader (storage/blobstore.h). */
#ifndef BERTH_SERVER_HANDLERS_BLOB_RESP_H
#define BERTH_SERVER_HANDLERS_BLOB_RESP_H

#include <microhttpd.h>

#include "server/storage/blobstore.h"

/*
 * A response for the reader's range, taking rd: when the store offers a
 * redirect URL and may_redirect, an empty 307 to it (*status set; the client
 * fetches the bytes itself); else the bytes, sent with sendfile from the
 * reader's file when it has one, through its read callback when not. *bytes
 * gets the body's length (0 for a redirect).
 */
struct MHD_Response *srv_resp_reader(berth_bs_reader *rd, bool may_redirect,
				     unsigned *status, uint64_t *bytes);

#endif
