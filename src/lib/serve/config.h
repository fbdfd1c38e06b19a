/*
 * berth serve's settings: defaults, then the JSON config file, then flags.
 * The file's keys are the long flag names without the dashes in front:
 *
 *   { "addr": "0.0.0.0:5000", "storage": "/var/lib/berth/registry",
 *     "tls-cert": "...", "tls-key": "...", "tls-client-ca": "...",
 *     "htpasswd": "...", "realm": "berth", "log-level": "info",
 *     "access-log": "-", "threads": 8, "upload-ttl": 86400 }
 */
#ifndef BERTH_SERVE_CONFIG_H
#define BERTH_SERVE_CONFIG_H

#include <stdint.h>

#include "berth/common.h"

typedef struct berth_serve_config {
	char *addr;	/* "HOST:PORT" */
	char *storage;	/* root directory of blobs and metadata */
	char *tls_cert; /* PEM file, or NULL for plain HTTP */
	char *tls_key;
	char *tls_client_ca; /* PEM file: require client certificates it signed
			      */
	char *htpasswd;	  /* bcrypt htpasswd file, or NULL: no authentication */
	char *realm;	  /* Basic realm */
	char *log_level;  /* error, warn, info, debug */
	char *access_log; /* file, "-" for stderr, "off" */
	long threads;	  /* worker threads, 0: automatic */
	long upload_ttl;  /* seconds before an idle upload is dropped */
} berth_serve_config;

/* Fills in the defaults (addr 127.0.0.1:5000, storage ./registry, ...). */
void berth_serve_config_init(berth_serve_config *c);
void berth_serve_config_release(berth_serve_config *c);

/*
 * Sets one setting by its key ("addr", "tls-cert", "threads", ...) from a
 * string. BERTH_EUSAGE for an unknown key or a bad value.
 */
int berth_serve_config_set(berth_serve_config *c, const char *key,
			   const char *value, berth_error **err);

/* Applies a JSON config file; unknown keys are errors (BERTH_EUSAGE). */
int berth_serve_config_load(berth_serve_config *c, const char *path,
			    berth_error **err);

#endif
