/*
 * berth serve's settings: defaults, then the JSON config file, then flags.
 * The file's keys are the long flag names without the dashes in front:
 *
 *   { "addr": "0.0.0.0:5000", "storage": "/var/lib/berth/registry",
 *     "tls-cert": "...", "tls-key": "...", "tls-client-ca": "...",
 *     "htpasswd": "...", "realm": "berth", "log-level": "info",
 *     "access-log": "-", "threads": 8, "upload-ttl": 86400,
 *     "auth": "token", "policy": { ... } or "FILE",
 *     "pull-limit": "anonymous=100/6h,user=200/6h",
 *     "pull-limit-users": { "ci-bot": "unlimited" }, "rate-limit": 50,
 *     "audit-log": "FILE", "token-realm": "URL", "token-service": "...",
 *     "token-issuer": "...", "token-key": "FILE",
 *     "token-issuer-keys": "FILE", "token-ttl": 300,
 *     "refresh-token-ttl": 2592000, "insecure-auth": false }
 *
 * "policy" and "pull-limit-users" may be JSON objects in the file; they
 * are kept as JSON text (policy_json, pull_limit_users).
 */
#ifndef BERTH_SERVER_CONFIG_H
#define BERTH_SERVER_CONFIG_H

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

	char *auth;		/* none, htpasswd, token; NULL: from htpasswd */
	char *policy;		/* policy file, or NULL */
	char *policy_json;	/* the config file's inline policy, or NULL */
	char *pull_limit;	/* "anonymous=100/6h,user=200/6h", or NULL */
	char *pull_limit_users; /* JSON object user -> limit, or NULL */
	long rate_limit;	/* requests per second per address, 0: off */
	char *audit_log;	/* file, or NULL */
	char *token_realm;	/* URL of the token service, NULL: /token */
	char *token_service;	/* `aud` of tokens (default "berth") */
	char *token_issuer;	/* `iss` of tokens (default "berth") */
	char *token_key;	/* PEM signing key, NULL: generated */
	char *token_issuer_keys; /* PEM keys of an external issuer */
	long token_ttl;		 /* seconds an access token lives */
	long refresh_ttl;	 /* seconds a refresh token lives */
	long insecure_auth;	 /* 1: allow auth on plain non-loopback HTTP */
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
