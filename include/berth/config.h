/*
 * berth's client configuration: Docker's own files with Docker's meaning,
 * plus berth's file for what Docker lacks. Every value keeps where it came
 * from, so `berth config` can show it.
 *
 * Sources (each path moved by a flag, an environment variable, or both):
 *   daemon.json   $BERTH_DAEMON_JSON, else /etc/docker/daemon.json
 *                 registry-mirrors, insecure-registries,
 *                 allow-nondistributable-artifacts,
 *                 max-concurrent-downloads, max-concurrent-uploads
 *   config.json   $DOCKER_CONFIG/config.json, else ~/.docker/config.json
 *                 auths, credsStore, credHelpers (credentials only)
 *   certs.d       $BERTH_CERTS_D, else /etc/docker/certs.d
 *                 <host[:port]>/ *.crt (CAs), *.cert + *.key (client)
 *   berth's file  $BERTH_CONFIG, else ~/.config/berth/config.json, else
 *                 /etc/berth/config.json. The daemon.json keys and
 *                 berth's own (sync, mirrors, registries, timeouts,
 *                 retries…): berth_config_key_at lists every key with its
 *                 type, limits, default and meaning.
 *
 * Precedence: flags over berth's file over daemon.json over defaults.
 * Lists (insecure-registries, allow-nondistributable-artifacts) are joined;
 * a registry's mirrors come from berth's "mirrors" when it names that
 * registry, else (Docker Hub only) from registry-mirrors.
 */
#ifndef BERTH_CONFIG_H
#define BERTH_CONFIG_H

#include "berth/common.h"
#include "berth/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where the files are; NULL fields fall back to the environment, then
 * the defaults. */
typedef struct berth_config_paths {
	unsigned version;	   /* BERTH_CONFIG_PATHS_VERSION */
	const char *config;	   /* berth's file */
	const char *daemon_json;   /* Docker's daemon.json */
	const char *docker_config; /* the directory of config.json */
	const char *certs_d;	   /* the certs.d directory */
} berth_config_paths;

#define BERTH_CONFIG_PATHS_VERSION 1
#define BERTH_CONFIG_PATHS_INIT                                                \
	{                                                                      \
		BERTH_CONFIG_PATHS_VERSION, NULL, NULL, NULL, NULL             \
	}

/* One value as `berth config` shows it. Frozen (see berth/common.h): a
 * key, its value and where it came from say all a setting is. */
typedef struct berth_config_setting {
	char *key;    /* "registry-mirrors", "mirrors.ghcr.io", … */
	char *value;  /* as text */
	char *origin; /* the file, "default", "environment" or "flag" */
} berth_config_setting;

/* Frozen: a mirror is a registry and a URL. */
typedef struct berth_config_mirror {
	char *registry; /* "docker.io", "ghcr.io", "127.0.0.1:5000" */
	char *url;	/* "https://mirror.example.com" */
} berth_config_mirror;

typedef struct berth_config_host {
	char *host; /* as written: "registry.example.com:5000" */
	char *ca_file, *client_cert, *client_key;
	bool insecure;
	void *reserved[4]; /* NULL; room for later per-registry settings */
} berth_config_host;

/*
 * The configuration in effect. Declare it with BERTH_CONFIG_INIT; a load
 * fills the fields of its version, and berth_config_release keeps the
 * version, so the struct can be loaded again.
 */
typedef struct berth_config {
	unsigned version; /* BERTH_CONFIG_VERSION */
	char *path;	  /* berth's file read, or NULL when none exists */
	bool sync;
	unsigned max_concurrent_downloads; /* 0: the default (3) */
	unsigned max_concurrent_uploads;   /* 0: the default (5) */

	char *daemon_json;   /* the paths in effect */
	char *docker_config; /* directory */
	char *certs_d;

	berth_config_mirror *mirrors; /* in the order they are tried */
	size_t n_mirrors;
	char **insecure; /* host, host:port or CIDR */
	size_t n_insecure;
	char **nondist; /* allow-nondistributable-artifacts */
	size_t n_nondist;
	berth_config_host *hosts;
	size_t n_hosts;

	long connect_timeout_ms; /* 0: the default (30 s) */
	long read_timeout;    /* seconds without data; 0: the default (60 s) */
	int retries;	      /* idempotent requests retried this often */
	long retry_after_max; /* seconds */
	long partial_max_age; /* seconds */

	berth_config_setting *settings; /* everything, for `berth config` */
	size_t n_settings;

	/* version 2: */
	long min_speed; /* bytes/s a download must average over read_timeout;
			   0: BERTH_CONFIG_MIN_SPEED_DEFAULT, -1: none
			   (only a stall fails) */
} berth_config;

#define BERTH_CONFIG_VERSION 2
#define BERTH_CONFIG_INIT                                                      \
	{                                                                      \
		BERTH_CONFIG_VERSION, NULL, false, 0, 0, NULL, NULL, NULL,     \
			NULL, 0, NULL, 0, NULL, 0, NULL, 0, 0, 0, 0, 0, 0,     \
			NULL, 0, 0                                             \
	}

/* ---- the keys of berth's file, for documentation ---- */

/* What a key's value is in the JSON file. */
typedef enum berth_config_key_type {
	BERTH_CONFIG_KEY_BOOL = 0,    /* true or false */
	BERTH_CONFIG_KEY_COUNT = 1,   /* an integer from min to max */
	BERTH_CONFIG_KEY_SECONDS = 2, /* an integer of seconds, min to max */
	BERTH_CONFIG_KEY_STRINGS = 3, /* a list of strings */
	BERTH_CONFIG_KEY_OBJECT = 4,  /* an object, as the help describes */
} berth_config_key_type;

/*
 * One key of berth's file, as the loader checks it and docs/config.md
 * describes it. Later versions may add fields at the end: read it through
 * the pointer berth_config_key_at returns, never copy it or size it.
 */
typedef struct berth_config_key {
	const char *key; /* "max-concurrent-downloads" */
	berth_config_key_type type;
	bool docker;	   /* also a key of Docker's daemon.json */
	long min, max;	   /* COUNT and SECONDS: the limits, inclusive */
	const char *deflt; /* the default as text ("3"), or NULL: none */
	const char *help;  /* what it means: one sentence, plain text */
} berth_config_key;

/*
 * The i-th key of berth's file (0, 1, …, in the order they are applied),
 * or NULL past the last one. The table is static: do not free it.
 */
BERTH_EXTERN const berth_config_key *berth_config_key_at(size_t i);

#define BERTH_CONFIG_RETRIES_DEFAULT 3
#define BERTH_CONFIG_RETRY_AFTER_MAX_DEFAULT 10
#define BERTH_CONFIG_PARTIAL_MAX_AGE_DEFAULT (7L * 24 * 3600)
/* bytes/s; min_speed 0 means this */
#define BERTH_CONFIG_MIN_SPEED_DEFAULT 1024L

/*
 * Loads the configuration from the default places (the environment
 * applies). A missing file is not an error; a file that is not valid JSON,
 * or a key with a value of the wrong type, is (BERTH_EUSAGE, naming the
 * file and the key), and so is an unknown out->version.
 */
BERTH_EXTERN int berth_config_load(berth_config *out, berth_error **err);

/* The same with paths given by flags (`paths` may be NULL; an unknown
 * paths->version is refused with BERTH_EUSAGE). */
BERTH_EXTERN int berth_config_load_paths(berth_config *out,
					 const berth_config_paths *paths,
					 berth_error **err);
BERTH_EXTERN void berth_config_release(berth_config *c);

/*
 * True when `host` ("name", "name:port", "[v6]:port") is listed in
 * insecure-registries (by name, or by an address in a listed CIDR; the
 * name is resolved for that) or marked "insecure" in berth's file.
 * *why (may be NULL) gets the matching entry; do not free.
 */
BERTH_EXTERN bool berth_config_insecure(const char **why, const berth_config *c,
					const char *host);

/*
 * True when allow-nondistributable-artifacts lists `host` (the same way):
 * foreign layers may be pushed there.
 */
BERTH_EXTERN bool berth_config_nondist_allowed(const berth_config *c,
					       const char *host);

/* berth's "registries" entry for `host`, or NULL. */
BERTH_EXTERN const berth_config_host *
berth_config_host_find(const berth_config *c, const char *host);

/*
 * The mirror URLs of a registry (its name as references write it:
 * "docker.io" for Docker Hub), NULL-terminated, in order; free with
 * berth_strv_free. *n may be NULL.
 */
BERTH_EXTERN char **berth_config_mirrors(size_t *n, const berth_config *c,
					 const char *registry);

/*
 * TLS material for `host` from certs.d/<host>/ (Docker's layout): CA
 * files (*.crt, sorted) and a client certificate and key (the first
 * *.cert with its *.key). A *.cert without its *.key is an error
 * (BERTH_ETLS). Missing directory: nothing, no error.
 */
typedef struct berth_certs {
	unsigned version; /* BERTH_CERTS_VERSION */
	char *dir;	  /* the directory looked at */
	char **ca_files;  /* NULL-terminated */
	size_t n_ca_files;
	char *client_cert, *client_key;
} berth_certs;

#define BERTH_CERTS_VERSION 1
#define BERTH_CERTS_INIT                                                       \
	{                                                                      \
		BERTH_CERTS_VERSION, NULL, NULL, 0, NULL, NULL                 \
	}

/* An unknown out->version is refused (BERTH_EUSAGE); the release keeps
 * it. */
BERTH_EXTERN int berth_certs_lookup(berth_certs *out, const char *certs_d,
				    const char *host, berth_error **err);
/* The same from the directory `dir` itself (skopeo's --cert-dir), which
 * must exist (BERTH_ETLS otherwise). */
BERTH_EXTERN int berth_certs_load(berth_certs *out, const char *dir,
				  berth_error **err);
BERTH_EXTERN void berth_certs_release(berth_certs *c);

/* ---- credentials: config.json and docker-credential-* helpers ---- */

/*
 * The key config.json uses for a registry: "https://index.docker.io/v1/"
 * for Docker Hub (any of its names), else the host as given. Caller frees.
 */
BERTH_EXTERN char *berth_config_auth_key(const char *host);

/*
 * Credentials for `host` from config.json: credHelpers[host], else
 * credsStore, else auths (matching keys with or without a scheme or path,
 * as docker does). Leaves *out zeroed when there are none. *from (may be
 * NULL) names the source ("config.json", "docker-credential-NAME");
 * caller frees.
 */
BERTH_EXTERN int berth_config_get_credentials(berth_credentials *out,
					      char **from,
					      const berth_config *c,
					      const char *host,
					      berth_error **err);

/*
 * Stores credentials for `host` as docker login does: through the helper
 * configured for it, else base64 "user:password" (or an identitytoken) in
 * config.json's auths, written atomically with mode 0600 and every other
 * key kept. *plaintext (may be NULL) tells whether the secret was written
 * to the file itself; *where names the helper or the file (caller frees).
 */
BERTH_EXTERN int berth_config_store_credentials(bool *plaintext, char **where,
						const berth_config *c,
						const char *host,
						const berth_credentials *cred,
						berth_error **err);

/* Removes them (helper erase and config.json). *out: were there any. */
BERTH_EXTERN int berth_config_erase_credentials(bool *out,
						const berth_config *c,
						const char *host,
						berth_error **err);

/*
 * A berth_credentials_fn reading config.json and helpers; `ud` is the
 * const berth_config *.
 */
BERTH_EXTERN int berth_config_credentials_fn(void *ud, const char *host,
					     berth_credentials *out,
					     berth_error **err);

/* ---- `berth config --check` ---- */

typedef enum berth_check_verdict {
	BERTH_CHECK_OK = 0,
	BERTH_CHECK_WARN = 1,
	BERTH_CHECK_FAIL = 2,
	BERTH_CHECK_SKIP = 3,
} berth_check_verdict;

/* One step's verdict: step is "dns", "tcp", "tls", "/v2/",
 * "credentials" or "mirror URL"; detail says what was found. */
typedef void (*berth_check_fn)(void *ud, const char *step,
			       berth_check_verdict v, const char *detail);

/*
 * Probes `host` (the API host: "registry-1.docker.io" for Docker Hub)
 * with the configuration: DNS, TCP, TLS (issuer, trust), the /v2/
 * challenge, stored credentials, then each mirror. Returns 0 when every
 * step passed, else the code of the first failure, with *err (when err
 * is not NULL) describing it (BERTH_EUSAGE, with no step run, for an
 * unknown base->version).
 */
BERTH_EXTERN int berth_config_check(const berth_config *c,
				    const berth_registry_opts *base,
				    const char *host, berth_check_fn fn,
				    void *ud, berth_error **err);

#ifdef __cplusplus
}
#endif
#endif
