/* The storage berth serve's settings choose: the file system, or S3. */
#ifndef BERTH_SERVER_STORAGE_CONFIG_H
#define BERTH_SERVER_STORAGE_CONFIG_H

#include "server/config.h"
#include "server/storage/storage.h"

/* srv_storage_open_with for c: blobs in S3 when c names a bucket, the
 * metadata where c->metadata says. */
int srv_storage_open_cfg(srv_storage **out, const berth_serve_config *c,
			 int conns, berth_error **err);

#endif
