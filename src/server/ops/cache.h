/*
 * The pull-through cache: repositories routed to upstream registries
 * (the config file's "upstreams"), read from them through libberth's
 * registry client and kept in local storage.
 *
 *   cache_upstream.c  the "upstreams" setting: parsing, clients, routing
 *   cache.c           the cache object: the upstreams in effect (replaced
 *                     on SIGHUP), when each tag was last validated
 *   cache_manifest.c  manifests: by digest forever, by tag within the
 *                     TTL, then re-validated with a HEAD
 *   cache_blob.c      blobs: one upstream fetch per blob, streamed to
 *                     every client asking for it while it arrives
 *
 * Validation times live in memory only: after a restart every tag is
 * re-validated once (a HEAD, which Docker Hub does not count).
 */
#ifndef BERTH_SERVER_OPS_CACHE_H
#define BERTH_SERVER_OPS_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "berth/common.h"
#include "berth/digest.h"
#include "berth/registry.h"

typedef struct srv srv;
typedef struct srv_req srv_req;
typedef struct srv_cache srv_cache;

/* One entry of "upstreams". */
typedef struct srv_upstream {
	char *url;	 /* "https://registry-1.docker.io", no trailing slash */
	char *prefix;	 /* "hub" for hub/..., NULL for the mirror */
	bool docker_hub; /* one-word names get "library/" */
	long tag_ttl;	 /* seconds a validated tag is served as is */
	berth_credentials creds; /* username/password or identity token */
	berth_registry *reg;
} srv_upstream;

/* The upstreams in effect: immutable, shared by reference. */
typedef struct srv_upstreams {
	atomic_int refs;
	srv_upstream *v;
	size_t n;
	srv_upstream *mirror; /* the entry without prefix, or NULL */
} srv_upstreams;

/* Tag TTL and connect timeout when an entry does not say. */
#define SRV_UPSTREAM_TTL_DEFAULT 300
#define SRV_UPSTREAM_TIMEOUT_DEFAULT 30

/*
 * Parses the "upstreams" JSON array (NULL: none) into a set with one
 * reference, its clients created. BERTH_EUSAGE naming the entry and the
 * key for a bad one.
 */
int srv_upstreams_parse(srv_upstreams **out, const char *json,
			berth_error **err);
srv_upstreams *srv_upstreams_ref(srv_upstreams *u);
void srv_upstreams_put(srv_upstreams *u); /* NULL is a no-op */

/*
 * The upstream that serves repo, or NULL when it is a local one;
 * *up_repo (caller frees) gets the upstream's name for it.
 */
srv_upstream *srv_upstreams_route(const srv_upstreams *u, const char *repo,
				  char **up_repo);

/* ---- the cache object (cache.c) ---- */

/* Takes u (may be NULL: no upstreams). */
srv_cache *srv_cache_new(srv_upstreams *u);
/* After srv_cache_stop and the daemon stopped. NULL is a no-op. */
void srv_cache_free(srv_cache *c);

/* Makes u the upstreams of requests from now on (taking it). */
void srv_cache_swap(srv_cache *c, srv_upstreams *u);

/* The upstreams in effect, with a reference for the caller. */
srv_upstreams *srv_cache_upstreams(srv_cache *c);

/*
 * When repo's tag was last seen to point at digest upstream (0: never,
 * or at another digest); noting it sets it to now.
 */
int64_t srv_cache_validated(srv_cache *c, const char *repo, const char *tag,
			    const char *digest);
void srv_cache_note_valid(srv_cache *c, const char *repo, const char *tag,
			  const char *digest);

/* ---- for the handlers ---- */

/*
 * For a write (push, delete) to r's repository: 0 when it is local;
 * else answers DENIED (a cache is read-only) and returns BERTH_EDENIED.
 */
int srv_cache_refuse_write(srv_req *r);

/*
 * Manifest GET/HEAD: when r's repository is routed to an upstream, makes
 * sure local storage has what the upstream has now (within the tag TTL).
 * Returns 0 with *answered false when the handler should serve from local
 * storage (*warning, caller frees, is then a Warning header to add, or
 * NULL); with *answered true the request has been answered (the
 * upstream's failure passed on) and the result is srv_send's.
 */
int srv_cache_manifest(srv_req *r, bool *answered, char **warning);

/*
 * Ends the fetches in flight, cutting their clients' answers short, and
 * waits for their threads (cache_blob.c): before the HTTP daemon stops,
 * as no connection may stay suspended then. NULL is a no-op.
 */
void srv_cache_stop(srv_cache *c);

/*
 * Blob GET/HEAD of digest d: 0 with *answered false when the handler
 * should serve from local storage (a local repository, or the blob is
 * linked there already); else the request is answered: streamed from a
 * fetch in flight, or the upstream's failure passed on.
 */
int srv_cache_blob(srv_req *r, const berth_digest *d, bool *answered);

/*
 * Answers r with an upstream's failure: its status, its OCI error body
 * (or one made from `msg`), Retry-After when it sent one.
 */
int srv_cache_pass_failure(srv_req *r, const berth_registry_answer *a,
			   const char *upstream, const char *msg);

/* The fetch result label of an upstream's status (0: no answer). */
unsigned srv_cache_fetch_result(long status);

#endif
