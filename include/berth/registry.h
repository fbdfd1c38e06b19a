/*
 * A client of one registry host (OCI Distribution Specification), on
 * libcurl. It owns the connection cache and the authorisation state: a 401
 * with a Bearer challenge is answered from the token endpoint (anonymously
 * or with credentials), a Basic challenge with credentials, and the request
 * retried; tokens are cached per scope.
 *
 * Every failure names the host (and repository) and maps HTTP and transport
 * failures to berth codes: 401 EAUTH, 403 EDENIED, 404 ENOTFOUND, 429
 * ETOOMANY, 5xx ESERVER, connection/DNS/timeouts ENET, certificates ETLS.
 */
#ifndef BERTH_REGISTRY_H
#define BERTH_REGISTRY_H

#include <signal.h>

#include "berth/common.h"
#include "berth/digest.h"
#include "berth/manifest.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct berth_registry berth_registry;
struct berth_config;

typedef struct berth_credentials {
	unsigned version; /* BERTH_CREDENTIALS_VERSION */
	char *username;	  /* NULL when anonymous */
	char *password;
	char *identity_token; /* OAuth2 refresh token (docker's identitytoken),
				 or NULL */
} berth_credentials;

#define BERTH_CREDENTIALS_VERSION 1
#define BERTH_CREDENTIALS_INIT                                                 \
	{                                                                      \
		BERTH_CREDENTIALS_VERSION, NULL, NULL, NULL                    \
	}

/* Wipes and frees the strings; the version stays. */
BERTH_EXTERN void berth_credentials_release(berth_credentials *c);

/*
 * Looks up credentials for `host` (the configuration issue plugs
 * config.json and credential helpers in here). Leaves *out empty for
 * anonymous access. The library hands in *out initialised with
 * BERTH_CREDENTIALS_INIT of its own headers: a callback built against
 * newer ones sets only the fields out->version has.
 */
typedef int (*berth_credentials_fn)(void *ud, const char *host,
				    berth_credentials *out, berth_error **err);

typedef struct berth_registry_opts {
	unsigned version;	/* BERTH_REGISTRY_OPTS_VERSION */
	const char *user_agent; /* NULL: "berth/<version>" */
	int plain_http; /* -1 auto (loopback/localhost only), 0 never, 1 always
			 */
	bool tls_verify_off; /* insecure-registries: TLS without verification */
	const char *ca_file; /* extra CA bundle for this host, or NULL */
	const char *client_cert; /* mutual TLS, or NULL */
	const char *client_key;
	long connect_timeout_ms; /* 0: default */
	const volatile sig_atomic_t
		*interrupt; /* see berth_registry_set_interrupt */
	berth_credentials_fn credentials;
	void *credentials_ud;
	/*
	 * The configuration (berth/config.h), or NULL. When set, each client
	 * takes from it what concerns its host: insecure-registries (TLS
	 * without verification, then plain HTTP), certs.d CAs and client
	 * certificates, berth's per-registry settings, timeouts, retries, and
	 * credentials from config.json when `credentials` is NULL. Fields set
	 * here explicitly win. Borrowed: it must outlive the clients.
	 */
	const struct berth_config *config;
	int max_retries;      /* 0: the default (3); negative: none */
	long retry_after_max; /* seconds; 0: the default (10) */
} berth_registry_opts;

#define BERTH_REGISTRY_OPTS_VERSION 1
/* The defaults: plain HTTP only for loopback and localhost. Every field
 * is written out, so C and C++ compile it without warnings. */
#define BERTH_REGISTRY_OPTS_INIT                                               \
	{                                                                      \
		BERTH_REGISTRY_OPTS_VERSION, NULL, -1, false, NULL, NULL,      \
			NULL, 0, NULL, NULL, NULL, NULL, 0, 0                  \
	}

/*
 * `host` is the API host as the reference's domain gives it after
 * berth_ref_api_host ("registry-1.docker.io", "localhost:5000", "[::1]:5000").
 * `opts` may be NULL for defaults; it is copied. An unknown opts->version
 * is refused (BERTH_EUSAGE).
 */
BERTH_EXTERN int berth_registry_new(berth_registry **out, const char *host,
				    const berth_registry_opts *opts,
				    berth_error **err);
BERTH_EXTERN void berth_registry_free(berth_registry *r);

static inline void
berth_registry_freep(berth_registry **r)
{
	berth_registry_free(*r);
	*r = NULL;
}

/* "host[:port]" as given. */
BERTH_EXTERN const char *berth_registry_host(const berth_registry *r);

/* The name used in messages ("docker.io" for Docker Hub). */
BERTH_EXTERN const char *berth_registry_name(const berth_registry *r);

/*
 * Transfers in progress (and new ones) fail with BERTH_EINTERRUPTED once
 * *flag is non-zero, e.g. set by a SIGINT handler; NULL turns it off.
 * A berth_registry may be used from several threads at once.
 */
BERTH_EXTERN void
berth_registry_set_interrupt(berth_registry *r,
			     const volatile sig_atomic_t *flag);

/* GET /v2/ (authenticating if challenged): is this a registry we may use? */
BERTH_EXTERN int berth_registry_ping(berth_registry *r, berth_error **err);

/*
 * A ping that insists on authenticating with the credentials (for
 * `berth login`): a registry that lets anonymous users in is still asked
 * for a token with them. Asks the token server for an offline (refresh)
 * token; *out gets it when the server sent one, else NULL (caller frees).
 */
BERTH_EXTERN int berth_registry_login(char **out, berth_registry *r,
				      berth_error **err);

/* What RateLimit-* headers said; -1 where absent. */
typedef struct berth_ratelimit {
	unsigned version; /* BERTH_RATELIMIT_VERSION */
	long limit, window, remaining, remaining_window;
	char *source; /* docker-ratelimit-source, or NULL */
	long status;  /* the HTTP status of the HEAD request */
} berth_ratelimit;

#define BERTH_RATELIMIT_VERSION 1
#define BERTH_RATELIMIT_INIT                                                   \
	{                                                                      \
		BERTH_RATELIMIT_VERSION, -1, -1, -1, -1, NULL, 0               \
	}

/* HEAD a manifest (which Docker Hub does not count) for the quota.
 * An unknown out->version is refused (BERTH_EUSAGE). */
BERTH_EXTERN int berth_registry_ratelimit(berth_ratelimit *out,
					  berth_registry *r, const char *repo,
					  const char *reference,
					  berth_error **err);
BERTH_EXTERN void berth_ratelimit_release(berth_ratelimit *rl);

typedef struct berth_manifest_body {
	unsigned version; /* BERTH_MANIFEST_BODY_VERSION */
	char *data;	  /* the exact bytes (NUL-terminated) */
	size_t len;
	char *content_type; /* Content-Type without parameters */
	berth_digest
		digest; /* sha256 of data (or of the reference's algorithm) */
} berth_manifest_body;

#define BERTH_MANIFEST_BODY_VERSION 1
#define BERTH_MANIFEST_BODY_INIT                                               \
	{                                                                      \
		BERTH_MANIFEST_BODY_VERSION, NULL, 0, NULL,                    \
		{                                                              \
			BERTH_DIGEST_SHA256, ""                                \
		}                                                              \
	}

BERTH_EXTERN void berth_manifest_body_release(berth_manifest_body *b);

/*
 * GET a manifest by tag or digest with the Accept header for OCI index,
 * OCI manifest, Docker list and Docker schema 2. Bodies over
 * BERTH_MANIFEST_MAX are refused (BERTH_ETOOBIG). When `reference` is a
 * digest the body must hash to it (BERTH_EDIGEST otherwise). An unknown
 * out->version is refused (BERTH_EUSAGE).
 */
BERTH_EXTERN int berth_registry_get_manifest(berth_manifest_body *out,
					     berth_registry *r,
					     const char *repo,
					     const char *reference,
					     berth_error **err);

/*
 * HEAD a manifest: its digest, size and media type (no body). out's
 * media_type is allocated (berth_descriptor_release frees it).
 */
BERTH_EXTERN int berth_registry_head_manifest(berth_descriptor *out,
					      berth_registry *r,
					      const char *repo,
					      const char *reference,
					      berth_error **err);

/* Receives blob bytes in order; a negative return aborts the transfer. */
typedef int (*berth_sink_fn)(void *ud, const void *p, size_t len,
			     berth_error **err);

/*
 * Jobs travel in arrays, so their size is fixed for the SONAME: later
 * fields take the reserved slots, which BERTH_BLOB_JOB_INIT sets to NULL,
 * and the version tells the library which of them the caller knows.
 */
typedef struct berth_blob_job {
	unsigned version;	      /* BERTH_BLOB_JOB_VERSION */
	const berth_descriptor *desc; /* digest and size to fetch */
	berth_sink_fn sink;
	void *sink_ud;
	/*
	 * Bytes the sink already holds (a partial download, or what another
	 * host sent before it failed): only the rest is fetched, with a
	 * Range request; a server that ignores Range has the held bytes
	 * skipped. `received` counts from here.
	 */
	int64_t offset;
	/* set by the registry: */
	int64_t received;  /* offset + bytes delivered to the sink so far */
	int result;	   /* 0 or a berth_code, once finished */
	berth_error *err;  /* the job's own failure, owned by the job */
	void *reserved[4]; /* NULL */
} berth_blob_job;

#define BERTH_BLOB_JOB_VERSION 1
#define BERTH_BLOB_JOB_INIT                                                    \
	{                                                                      \
		BERTH_BLOB_JOB_VERSION, NULL, NULL, NULL, 0, 0, 0, NULL,       \
		{                                                              \
			NULL, NULL, NULL, NULL                                 \
		}                                                              \
	}

typedef enum berth_blob_event {
	BERTH_BLOB_STARTED = 0,
	BERTH_BLOB_PROGRESS = 1,
	BERTH_BLOB_DONE = 2,   /* the sink got every byte; job->result is 0 */
	BERTH_BLOB_FAILED = 3, /* job->result and job->err are set */
} berth_blob_event;

/* Never called concurrently, but possibly from a worker thread. */
typedef void (*berth_blob_progress_fn)(void *ud, berth_blob_job *job,
				       berth_blob_event ev);

/*
 * Downloads the blobs of `jobs` from `repo`, at most `max_concurrent` at a
 * time over reused connections, following redirects (object storage), each
 * streamed into its sink. Sinks run on worker threads: one job's sink is
 * only ever called from one thread at a time. A response that ends early or
 * carries more bytes than desc->size fails the job. The first failure
 * cancels the jobs not yet finished and is returned (a copy in *err).
 * max_concurrent 0 means 3. A sink's own error is passed through unchanged.
 * Jobs cancelled in flight end with BERTH_BLOB_FAILED and result
 * BERTH_EINTERRUPTED; jobs never started get that result and an err
 * without any event. A blob of size 0 never reaches its sink. A job with
 * an unknown version fails the call (BERTH_EUSAGE) before any transfer.
 */
BERTH_EXTERN int berth_registry_fetch_blobs(berth_registry *r, const char *repo,
					    berth_blob_job *jobs, size_t n,
					    unsigned max_concurrent,
					    berth_blob_progress_fn progress,
					    void *ud, berth_error **err);

/* HEAD a blob: *exists, and its size in *size when not NULL. */
BERTH_EXTERN int berth_registry_stat_blob(bool *exists, int64_t *size,
					  berth_registry *r, const char *repo,
					  const berth_digest *d,
					  berth_error **err);

/*
 * Cross-repository mount (POST ?mount=&from=). *out (mounted) is false when the
 * registry answered 202 (it does not have the blob there, or refuses to
 * mount); the upload it opened is cancelled.
 */
BERTH_EXTERN int berth_registry_mount_blob(bool *out, berth_registry *r,
					   const char *repo,
					   const berth_digest *d,
					   const char *from_repo,
					   berth_error **err);

/*
 * Uploads `size` bytes read from `fd` (from its current offset) as blob `d`:
 * POST for a session, then one PUT ?digest= (monolithic).
 */
BERTH_EXTERN int berth_registry_push_blob(berth_registry *r, const char *repo,
					  const berth_digest *d, int64_t size,
					  int fd, berth_error **err);

/* PUT a manifest under `reference` (tag or digest). */
BERTH_EXTERN int
berth_registry_put_manifest(berth_registry *r, const char *repo,
			    const char *reference, const char *media_type,
			    const void *body, size_t len, berth_error **err);

/*
 * What a registry answered, whatever the status: for a pull-through cache,
 * which passes an upstream's status, message and Retry-After on to its own
 * clients instead of turning them into a berth error.
 */
typedef struct berth_registry_answer {
	unsigned version;   /* BERTH_REGISTRY_ANSWER_VERSION */
	long status;	    /* the final HTTP status (after auth and retries) */
	char *content_type; /* without parameters, lowercase, or NULL */
	char *digest; /* Docker-Content-Digest (200 GET: checked), or NULL */
	char *retry_after; /* as sent, or NULL */
	char *body;	   /* the body (an error's up to 64 KiB), or NULL */
	size_t len;
	int64_t size; /* the body's length, or Content-Length for HEAD (-1) */
} berth_registry_answer;

#define BERTH_REGISTRY_ANSWER_VERSION 1
#define BERTH_REGISTRY_ANSWER_INIT                                             \
	{                                                                      \
		BERTH_REGISTRY_ANSWER_VERSION, 0, NULL, NULL, NULL, NULL, 0,   \
			-1                                                     \
	}

/*
 * GET or HEAD of /v2/REPO/KIND/REFERENCE, KIND "manifests", "blobs"
 * (HEAD only; their bytes come with berth_registry_fetch_blobs) or
 * "referrers" (the OCI 1.1 referrers API, GET; REFERENCE a digest, the
 * answer an image index of every referrer).
 * 0 with any status in *out; a negative code only when no answer came
 * (transport, token server) or a manifest answered 200 does not hash to
 * the digest asked for or announced (BERTH_EDIGEST). A 200 manifest GET
 * has out->digest set to the body's digest. An unknown out->version is
 * refused (BERTH_EUSAGE).
 */
BERTH_EXTERN int berth_registry_answer_get(berth_registry_answer *out,
					   berth_registry *r, const char *repo,
					   const char *kind,
					   const char *reference, bool head,
					   berth_error **err);
BERTH_EXTERN void berth_registry_answer_release(berth_registry_answer *a);

/* For _cleanup_(). */
static inline void
berth_registry_answer_releasep(berth_registry_answer *a)
{
	berth_registry_answer_release(a);
}

/*
 * The repository's tags, following `Link: <…>; rel="next"` pagination.
 * *tags is a NULL-terminated array; free with berth_strv_free.
 */
BERTH_EXTERN int berth_registry_list_tags(char ***tags, size_t *n,
					  berth_registry *r, const char *repo,
					  berth_error **err);

#ifdef __cplusplus
}
#endif
#endif
