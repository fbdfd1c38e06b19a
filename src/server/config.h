/*
 * berth serve's settings: defaults, then the JSON config file, then flags.
 * Every setting is one row of berth_serve_settings (config.c): its name
 * (the long flag and the config file's key), type, default, limits and
 * help. That table drives the flags, the file, `--help` and the settings
 * table of docs/server.md (`berth-serve --help-markdown`).
 *
 * "policy" may be a JSON object in the file, "pull-limit-users" must be
 * one and "upstreams" and "require-signatures" must be arrays; they are
 * kept as JSON text (policy_json, pull_limit_users, upstreams,
 * require_signatures).
 */
#ifndef BERTH_SERVER_CONFIG_H
#define BERTH_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "berth/common.h"

typedef struct berth_serve_config {
	char *addr;	/* "HOST:PORT" */
	char *storage;	/* root directory of blobs and metadata */
	char *metadata; /* postgres:// URL or SQLite file; NULL: in storage */
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
	long uploads_per_client; /* open upload sessions per address, 0: any */
	long uploads_per_repo;	 /* open upload sessions per repository */

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

	long max_conns;	       /* connections at once, 0: from the fd limit */
	long max_conns_per_ip; /* per client address, 0: no cap */
	long header_timeout;   /* seconds for a request's line and headers */
	long body_timeout;     /* seconds of each body-rate window */
	long body_min_rate;    /* bytes per second a body must average */

	/* event notifications (ops/events.h) */
	char *notifications;   /* JSON object {"endpoints": [...]}, or NULL */
	long notify_queue_max; /* undelivered events per endpoint */

	/* logins (access/pwcheck.c, access/guard.c) */
	char *login_limit;	   /* failed logins per user, "10/1m" */
	char *login_limit_address; /* failed logins per address */
	long login_threads;	   /* password-checking threads */

	char *metrics_allow; /* addresses that may scrape /metrics */

	char *upstreams; /* JSON array: the pull-through cache's upstreams */

	/* JSON array: the require-signatures rules (access/sigrules.h) */
	char *require_signatures;

	/* garbage collection (ops/gc.c) */
	long gc_interval; /* seconds between scheduled runs, 0: none */
	long gc_grace;	  /* seconds new or touched content is kept */

	/* blobs in S3 (storage/blobstore_s3.c); NULL bucket: the file system */
	char *s3_bucket;
	char *s3_endpoint;
	char *s3_region;
	char *s3_addressing; /* path, virtual; NULL: from the endpoint */
	char *s3_prefix;
	char *s3_access_key, *s3_secret_key, *s3_session_token;
	char *s3_ca_file;
	long s3_part_size;
	long s3_redirect; /* 1: blob GETs answer 307 to presigned URLs */
	long s3_redirect_ttl;

	/* retention (ops/retention.c) */
	char *retention;	 /* the "retention" object as JSON, or NULL */
	long retention_interval; /* seconds between scheduled runs, 0: none */
} berth_serve_config;

typedef enum berth_serve_setting_type {
	BERTH_SERVE_STR,      /* a non-empty string */
	BERTH_SERVE_ENUM,     /* one of `choices` */
	BERTH_SERVE_LONG,     /* an integer from min to max */
	BERTH_SERVE_DURATION, /* "90s", "36h", "30d" (util/duration.h) as
				 seconds in a long, from min to max */
	BERTH_SERVE_BOOL, /* a flag without value; true or false in the file */
	BERTH_SERVE_JSON, /* a JSON object (or array), in the config file only
			   */
	BERTH_SERVE_FILE, /* --config itself: a flag, never a key */
} berth_serve_setting_type;

typedef struct berth_serve_setting {
	const char *name; /* the long flag without "--", the file's key */
	const char *arg;  /* the value's name in --help ("FILE"), or NULL */
	berth_serve_setting_type type;
	size_t off;	     /* of the field in berth_serve_config */
	size_t json_off;     /* STR: field for an inline JSON object, or 0 */
	const char *deflt;   /* the value set by init, or NULL */
	const char *shown;   /* the default as the docs say it, or NULL */
	long min, max;	     /* LONG */
	const char *choices; /* ENUM: "none, htpasswd, token" */
	const char *help;    /* one paragraph, plain text */
	bool restart; /* a change takes a restart; SIGHUP applies the rest */
} berth_serve_setting;

extern const berth_serve_setting berth_serve_settings[];
extern const size_t berth_serve_n_settings;

/* Fills in the defaults (addr 127.0.0.1:5000, storage ./registry, ...). */
void berth_serve_config_init(berth_serve_config *c);
void berth_serve_config_release(berth_serve_config *c);

/* dst becomes a copy of src (its strings duplicated). */
void berth_serve_config_copy(berth_serve_config *dst,
			     const berth_serve_config *src);

/* The row of a setting's name, or NULL. */
const berth_serve_setting *berth_serve_setting_find(const char *name);

/*
 * Sets one setting by its key ("addr", "tls-cert", "threads", ...) from a
 * string. BERTH_EUSAGE for an unknown key or a bad value.
 */
int berth_serve_config_set(berth_serve_config *c, const char *key,
			   const char *value, berth_error **err);

/* Applies a JSON config file; unknown keys are errors (BERTH_EUSAGE). */
int berth_serve_config_load(berth_serve_config *c, const char *path,
			    berth_error **err);

/* `berth serve --help`, the Markdown table of docs/server.md and the man
 * page berth-serve.1 (--help-man), all written from berth_serve_settings
 * (config_doc.c). */
void berth_serve_config_usage(FILE *f);
void berth_serve_config_markdown(FILE *f);
void berth_serve_config_man(FILE *f);

/*
 * The flags for `berth completion` (--help-options), one a line:
 * "NAME<TAB>ARG<TAB>HELP", ARG empty for a flag without value. The CLI
 * cannot link the server, so it reads these from the program.
 */
void berth_serve_config_options(FILE *f);

#endif
