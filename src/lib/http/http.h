/*
 * A thin layer over libcurl's easy interface: one reusable handle per
 * thread, requests described by a struct, the interesting response headers
 * copied out, and every failure (transport or HTTP status) turned into a
 * berth_error that names the peer and says what to do.
 *
 * Nothing here knows about tokens or registries' URL layout; the registry
 * module (src/lib/registry/) builds on it.
 */
#ifndef BERTH_LIB_HTTP_HTTP_H
#define BERTH_LIB_HTTP_HTTP_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <curl/curl.h>

#include "berth/common.h"
#include "util/buf.h"

/* Calls curl_global_init once per process (thread-safe). */
void berth_http_global_init(void);

/*
 * Connections, DNS answers and TLS sessions shared between the handles of
 * one registry client, each kind under its own lock, so handles used on
 * different threads reuse each other's warm connections.
 */
typedef struct berth_http_share berth_http_share;

berth_http_share *berth_http_share_new(void);
void berth_http_share_free(berth_http_share *s);

typedef struct berth_http_opts {
	const char *user_agent;	     /* never NULL */
	bool tls_verify_off;	     /* TLS without certificate verification */
	const char *ca_file;	     /* extra CAs, added to the system's */
	const char *const *ca_files; /* more of them (certs.d), NULL-ended */
	const char *certs_d;	     /* for hints; NULL: /etc/docker/certs.d */
	const char *client_cert;     /* PEM, mutual TLS */
	const char *client_key;
	long connect_timeout_ms; /* 0: 30 s */
	long read_timeout_s; /* a GET or HEAD without data this long fails; 0:
				60 s */
	long min_speed;	     /* bytes/s a GET or HEAD must average over
				read_timeout_s, or it fails "too slow"; 0:
			   BERTH_CONFIG_MIN_SPEED_DEFAULT,
				-1: none (only a stall fails) */
	berth_http_share *share; /* or NULL */
} berth_http_opts;

/*
 * One easy handle. Not thread-safe: use it from one thread at a time. `opts`
 * and the strings it points to are borrowed and must outlive the handle.
 */
typedef struct berth_http berth_http;

berth_http *berth_http_new(const berth_http_opts *opts);
void berth_http_free(berth_http *h);

/* Receives the body of a 2xx response; a negative return aborts. */
typedef int (*berth_http_sink_fn)(void *ud, const void *p, size_t len,
				  berth_error **err);

typedef struct berth_http_req {
	const char *method; /* "GET", "HEAD", "POST", "PUT", "DELETE" */
	const char *url;
	const char *peer; /* "registry", "token server": for messages */
	const char *authorization; /* header value, or NULL; never logged */
	const char *accept;	   /* or NULL */
	const char *content_type;  /* or NULL */
	const char *range; /* Range header value ("bytes=N-"), or NULL */
	const void *body;  /* POST/PUT body in memory, or NULL */
	size_t body_len;
	int upload_fd; /* PUT body read from this fd, or -1 */
	int64_t upload_size;
	int64_t upload_offset;	 /* pread from here; -1: read() onwards */
	bool follow;		 /* follow redirects (GET/HEAD) */
	size_t max_body;	 /* cap of a buffered 2xx body; 0: 1 MiB */
	berth_http_sink_fn sink; /* a 2xx body goes here instead */
	void *sink_ud;
	const atomic_int *cancel;		/* abort when non-zero */
	const volatile sig_atomic_t *interrupt; /* likewise (signals) */
} berth_http_req;

#define BERTH_HTTP_REQ_INIT                                                    \
	{                                                                      \
		.method = "GET", .upload_fd = -1, .upload_offset = -1          \
	}

/* Response headers copied out of each response (all occurrences, joined). */
enum berth_http_hdr {
	BERTH_H_CONTENT_TYPE = 0,
	BERTH_H_DOCKER_CONTENT_DIGEST,
	BERTH_H_LOCATION,
	BERTH_H_LINK,
	BERTH_H_WWW_AUTHENTICATE,
	BERTH_H_RATELIMIT_LIMIT,
	BERTH_H_RATELIMIT_REMAINING,
	BERTH_H_RETRY_AFTER,
	BERTH_H_RATELIMIT_SOURCE,
	BERTH_H_CONTENT_RANGE,
	BERTH_H_COUNT,
};

/*
 * What the TLS handshake of a transfer showed of the peer's certificate
 * (filled while libcurl verifies it, see http_tls.c): the first
 * verification error with the certificate it concerns, the leaf's names,
 * and what went wrong below the certificates. For messages and `berth
 * config --check`; all empty when the transfer reused a connection.
 */
typedef struct berth_http_tls_info {
	bool seen;	  /* a certificate chain was verified */
	int verify_error; /* X509_V_ERR_*, or 0 */
	char error_subject[256], error_issuer[256];
	char leaf_subject[256], leaf_issuer[256];
	char leaf_names[512];  /* "DNS:a, IP:127.0.0.1" */
	char not_after[64];    /* of the leaf */
	char bad_ca_file[512]; /* a CA file that could not be loaded */
	int alert;	       /* a TLS alert the peer sent (SSL_AD_*), or -1 */
	bool not_tls; /* the peer answered with bytes that are no TLS record */
} berth_http_tls_info;

/* The certs.d directory hints name when berth_http_opts has none. */
#define BERTH_HTTP_CERTS_D_DEFAULT "/etc/docker/certs.d"

typedef struct berth_http_resp {
	long status;	/* 0 when no response arrived */
	berth_buf body; /* buffered body (a non-2xx one up to 64 KiB) */
	char *url;	/* the URL finally requested (after redirects) */
	int64_t content_length; /* -1 when not announced */
	int curl_code;		/* CURLcode of the transfer */
	int64_t sink_bytes;	/* bytes handed to req->sink */
	char *hdr[BERTH_H_COUNT];
	berth_http_tls_info tls; /* this transfer's handshake, if it had one */
} berth_http_resp;

void berth_http_resp_init(berth_http_resp *r);
void berth_http_resp_release(berth_http_resp *r);

/*
 * Performs one request. Returns 0 when a whole response arrived, whatever
 * its status (the caller maps it with berth_http_status_error). Otherwise:
 * the sink's error unchanged, BERTH_ETOOBIG past max_body,
 * BERTH_EINTERRUPTED when cancelled, or the transport failure mapped by
 * berth_http_curl_error. resp is reset first and filled as far as the
 * transfer got.
 */
int berth_http_do(berth_http *h, const berth_http_req *req,
		  berth_http_resp *resp, berth_error **err);

/*
 * The Content-Length of the response being received (-1 if unknown); for
 * sinks, which run inside berth_http_do.
 */
int64_t berth_http_content_length(berth_http *h);

/* The status of the response being received (0 before one); for sinks. */
long berth_http_status(berth_http *h);

/*
 * Maps a libcurl failure to a berth error naming the peer ("registry
 * 'host:port'") and a hint. `url` is the URL that failed, `orig_url` the one
 * first requested (they differ after a redirect); `errbuf` is curl's error
 * buffer, `os_errno` CURLINFO_OS_ERRNO, `got_response` whether a status
 * line arrived, `ca_file` the extra CA file if any, `tls` what the
 * handshake showed (or NULL), `certs_d` the directory hints name (NULL:
 * BERTH_HTTP_CERTS_D_DEFAULT).
 */
int berth_http_curl_error(berth_error **err, CURLcode rc, const char *errbuf,
			  int os_errno, bool got_response, const char *url,
			  const char *orig_url, const char *peer,
			  const char *ca_file, const berth_http_tls_info *tls,
			  const char *certs_d);

/* What berth_http_tls_ctx needs: the options, and where to record. */
typedef struct berth_http_tls_hook {
	const berth_http_opts *opts;
	berth_http_tls_info *info;
} berth_http_tls_hook;

/*
 * CURLOPT_SSL_CTX_FUNCTION with a berth_http_tls_hook as its data: loads
 * the options' CAs into the connection's SSL_CTX and installs the hooks
 * that fill hook->info during the handshake.
 */
CURLcode berth_http_tls_ctx(CURL *c, void *ssl_ctx, void *hook);

/* What a failed response was about, for berth_http_status_error. */
typedef struct berth_http_ctx {
	const char *host;    /* the registry as given, "localhost:5000" */
	const char *repo;    /* or NULL */
	const char *subject; /* "manifest 'v9'", "blob 'sha256:…'", or NULL */
	const char *action;  /* "pull" or "push" */
	const char *certs_d; /* for hints; NULL: BERTH_HTTP_CERTS_D_DEFAULT */
} berth_http_ctx;

/*
 * Maps an HTTP status the caller did not expect to a berth error: 401
 * EAUTH, 403 EDENIED, 404 ENOTFOUND, 429 ETOOMANY (with the rate-limit
 * headers), 5xx ESERVER, other statuses EPROTO or a more specific code,
 * including the registry's own message from an OCI `errors` body.
 */
int berth_http_status_error(berth_error **err, const berth_http_resp *resp,
			    const berth_http_ctx *ctx);

/* The first `code` of an OCI errors body, or NULL; caller frees. */
char *berth_http_oci_error_code(const berth_http_resp *resp);

/* "Not Found" for 404; "" for unknown statuses. */
const char *berth_http_reason(long status);

/* "host:port" of an http(s) URL, the port defaulted; caller frees. */
char *berth_http_url_hostport(const char *url);

/*
 * True when both are valid URLs of one origin: the same scheme, host
 * (case-insensitive) and port (defaulted), as RFC 6454 defines it.
 * Credentials are only ever sent within their origin.
 */
bool berth_http_url_same_origin(const char *a, const char *b);

/* The URL without its query and fragment, safe to log; caller frees. */
char *berth_http_url_redact(const char *url);

/*
 * Resolves `ref` (absolute or relative, as Location and Link give it)
 * against `base`; NULL when either is not a valid http(s) URL.
 */
char *berth_http_url_resolve(const char *base, const char *ref);

/* Appends name=value (value URL-encoded) to the URL's query; NULL if invalid.
 */
char *berth_http_url_add_query(const char *url, const char *name,
			       const char *value);

/*
 * Seconds a Retry-After value asks to wait, counted from `now`: delta-seconds
 * (digits only, RFC 9110) or an HTTP-date, a date in the past being 0.
 * -1 when value is NULL or neither.
 */
long berth_http_retry_after(const char *value, time_t now);

/*
 * Reads a RateLimit-Limit or RateLimit-Remaining value as Docker Hub sends
 * it, "100;w=21600": *count 100, *window 21600 (s), or -1 when the ";w="
 * part is missing. False, with both -1, when value is NULL or does not
 * start with a count.
 */
bool berth_http_ratelimit_parse(long *count, long *window, const char *value);

#endif
