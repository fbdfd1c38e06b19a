/*
 * libberth: the error type and the conventions every public header shares.
 *
 * A function that can fail returns 0 or a negative berth_code and takes
 * `berth_error **err` last; it sets *err only on failure, and the caller
 * owns it (free with berth_error_free). err may be NULL: the same code is
 * returned, only the description is not kept.
 */
#ifndef BERTH_COMMON_H
#define BERTH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BERTH_EXTERN __attribute__((visibility("default")))

/*
 * How public structs grow without breaking programs built against older
 * headers (the SONAME, libberth.so.0, stays the same):
 *
 * Versioned: the structs a program declares and hands in, to be read
 * (options: berth_registry_opts, berth_pull_opts, berth_push_opts,
 * berth_config_paths) or filled (results: berth_config, berth_certs,
 * berth_credentials, berth_pull_result, berth_ratelimit,
 * berth_manifest_body; berth_blob_job is both). Each starts with
 * `unsigned version` and is initialised with its BERTH_X_INIT macro,
 * which sets BERTH_X_VERSION, the version the program was built against,
 * and the defaults. The library reads and writes only the fields that
 * version has; a version it does not know (0 means the struct was never
 * initialised) fails with BERTH_EUSAGE and a hint naming the macro.
 * Releasing a result keeps its version, so it can be filled again.
 *
 *	berth_pull_opts po = BERTH_PULL_OPTS_INIT;
 *	berth_pull_result res = BERTH_PULL_RESULT_INIT;
 *	po.max_concurrent = 6;
 *
 * Reserved room: structs embedded in others or handed out in arrays,
 * whose size must not change (berth_descriptor, berth_config_host,
 * berth_blob_job), end with `void *reserved[4]`, NULL (their INIT macro,
 * or zeroed memory); later fields take those slots.
 *
 * Library-allocated: handles (berth_store, berth_registry, berth_ref,
 * berth_manifest, berth_error, ...) and the events handed to callbacks
 * are only reached through pointers; they may gain fields at their end.
 *
 * Frozen, each for a reason given at its declaration: berth_digest,
 * berth_platform, berth_image, berth_config_setting, berth_config_mirror.
 */

/*
 * Append-only: values are never renumbered (the CLI's exit statuses and the
 * server's HTTP statuses are derived from them; see docs/errors.md).
 * A code exists only where a caller acts differently on it.
 */
typedef enum berth_code {
	BERTH_OK = 0,
	BERTH_EGENERIC = -1,	  /* nothing more specific fits */
	BERTH_EUSAGE = -2,	  /* bad usage or option value */
	BERTH_EREF = -3,	  /* invalid image reference */
	BERTH_ENOTFOUND = -4,	  /* manifest, tag, repo or image unknown */
	BERTH_EAUTH = -5,	  /* 401: not logged in, bad credentials */
	BERTH_EDENIED = -6,	  /* 403: authenticated, not permitted */
	BERTH_ETOOMANY = -7,	  /* 429: rate limited */
	BERTH_ENET = -8,	  /* DNS, refused, timeout, reset */
	BERTH_ETLS = -9,	  /* certificate or TLS handshake failure */
	BERTH_EPROTO = -10,	  /* the peer sent something invalid */
	BERTH_EDIGEST = -11,	  /* content differs from digest or size */
	BERTH_EPLATFORM = -12,	  /* no manifest for the platform asked */
	BERTH_EIO = -13,	  /* local file system failure (disk full) */
	BERTH_EUNSUPPORTED = -14, /* valid but unsupported (schema 1) */
	BERTH_ESERVER = -15,	  /* 5xx from the peer */
	BERTH_ECORRUPT = -16,	  /* local store damaged */
	BERTH_EEXIST = -17,	  /* something that must not exist does */
	BERTH_ETOOBIG = -18,	  /* over a size limit (manifest > 4 MiB) */
	BERTH_EINTERRUPTED = -19, /* cancelled by a signal or the caller */
	BERTH_ESIGNATURE = -20,	  /* no signature verifies */
} berth_code;

typedef struct berth_error {
	berth_code code;
	int sys_errno; /* errno at the failure, or 0 */
	char *msg;     /* one line, lowercase, no full stop */
	char *hint;    /* what the user can do next, or NULL */
} berth_error;

/* Frees an error and its strings; NULL is a no-op. */
BERTH_EXTERN void berth_error_free(berth_error *e);

/* Frees a NULL-terminated array of strings libberth handed out; NULL is a
 * no-op. */
BERTH_EXTERN void berth_strv_free(char **v);

/* The short name of a code ("EAUTH"), for logs and --json output. */
BERTH_EXTERN const char *berth_code_name(berth_code code);

#ifdef __cplusplus
}
#endif
#endif
