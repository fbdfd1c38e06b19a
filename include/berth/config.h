/*
 * berth's client configuration. Today: berth's own JSON file; Docker's
 * daemon.json, config.json and certs.d join it here, each value keeping
 * where it came from so `berth config` can show it.
 *
 * berth's file is the first of $BERTH_CONFIG, ~/.config/berth/config.json
 * and /etc/berth/config.json that exists. Keys:
 *   "sync": true                     flush blobs and index before publishing
 *   "max-concurrent-downloads": N    layers fetched at once (1..64)
 */
#ifndef BERTH_CONFIG_H
#define BERTH_CONFIG_H

#include "berth/common.h"

typedef struct berth_config {
	char *path;               /* the file read, or NULL when none exists */
	bool sync;
	unsigned max_concurrent_downloads; /* 0: the default (3) */
} berth_config;

/*
 * Loads the configuration. A missing file is not an error; a file that is
 * not valid JSON, or a key with a value of the wrong type, is
 * (BERTH_EUSAGE, naming the file and the key).
 */
BERTH_EXTERN int berth_config_load(berth_config *out, berth_error **err);
BERTH_EXTERN void berth_config_release(berth_config *c);

#endif
