/* The registry client's internals, shared by registry*.c and unit tests. */
#ifndef BERTH_LIB_REGISTRY_REGISTRY_H
#define BERTH_LIB_REGISTRY_REGISTRY_H

#include <pthread.h>
#include <signal.h>

#include "registry/auth.h"
#include "berth/config.h"
#include "berth/registry.h"
#include "http/http.h"

#define BERTH_USER_AGENT "berth/0.1"
#define REG_POOL_MAX 16

struct berth_registry {
	char *host; /* as given: "localhost:5000" */
	char *name; /* for messages: host, or "docker.io" for Docker Hub */
	char *base; /* "http://localhost:5000"; read under pool_mu */
	bool https;
	bool auto_scheme;    /* loopback in auto mode: may switch to https */
	bool scheme_settled; /* the scheme has been seen to work */
	bool plain_fallback; /* insecure: https unverified, then plain http */
	bool insecure;	     /* listed in insecure-registries */
	char *user_agent, *ca_file, *client_cert, *client_key;
	berth_certs certs; /* certs.d/<host>/ */
	int max_retries;
	long retry_after_max;  /* seconds */
	long read_timeout;     /* seconds; 0: the default */
	long min_speed;	       /* bytes/s; 0: the default, -1: none */
	berth_http_opts hopts; /* points at the strings above */
	berth_http_share *share;
	berth_auth *auth;
	const volatile sig_atomic_t *interrupt;

	/* Idle easy handles, most recently used last (LIFO: warm first). */
	pthread_mutex_t pool_mu; /* the pool, base, https, scheme_settled */
	berth_http *pool[REG_POOL_MAX];
	size_t n_pool;
};

/* Borrows an idle handle (or makes one); give it back with reg_handle_put. */
berth_http *reg_handle_get(berth_registry *r);
void reg_handle_put(berth_registry *r, berth_http *h);

/*
 * Sends `req` with the authorisation `scope` needs, answering 401
 * challenges (at most twice) and sending again. Returns 0 with the final
 * response in *resp, whatever its status, or a negative error (transport,
 * token server, sink).
 */
int reg_send(berth_registry *r, berth_http *h, berth_http_req *req,
	     const char *scope, berth_http_resp *resp, berth_error **err);

/*
 * HEAD of a manifest (repository and reference checked first): 0 with the
 * response, whatever its status, in *resp (initialised here, released by
 * the caller), or a negative error.
 */
int reg_manifest_head(berth_registry *r, const char *repo,
		      const char *reference, berth_http_resp *resp,
		      berth_error **err);

/* reg_send on a borrowed handle, for a request that needs only one;
 * *resp is initialised here and released by the caller. */
int reg_request(berth_registry *r, berth_http_req *req, const char *scope,
		berth_http_resp *resp, berth_error **err);

/* Maps an unexpected response status (berth_http_status_error). */
int reg_fail(berth_registry *r, const berth_http_resp *resp, const char *repo,
	     const char *subject, const char *action, berth_error **err);

/* base + "/v2/" + printf(fmt); caller frees. */
char *reg_url(berth_registry *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "repository:REPO:ACTIONS"; caller frees. */
char *reg_scope(const char *repo, const char *actions);

/* Repository names and references go into URL paths: check them. */
int reg_check_repo(const berth_registry *r, const char *repo,
		   berth_error **err);
int reg_check_reference(const char *reference, berth_error **err);

/* Content-Type without parameters, lowercase; NULL when absent. */
char *reg_media_type(const char *content_type);

/* The URL of `Link: <…>; rel="next"` resolved against `base`, or NULL. */
char *reg_link_next(const char *link, const char *base);

/* Logs (info) the pull quota RateLimit-* headers announce, if any. */
void reg_log_quota(berth_registry *r, const berth_http_resp *resp);

/* Parses RateLimit-Limit/-Remaining ("100;w=21600") into *rl. */
void reg_parse_quota(const berth_http_resp *resp, berth_ratelimit *rl);

/* True when `host` is reached over plain HTTP in auto mode (loopback). */
bool reg_host_auto_plain(const char *host);

#endif
