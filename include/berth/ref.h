/*
 * Image references, parsed and normalised exactly as Docker does
 * (distribution/reference): "nginx" is "docker.io/library/nginx:latest".
 */
#ifndef BERTH_REF_H
#define BERTH_REF_H

#include "berth/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BERTH_DOCKER_HUB "docker.io"
/* Docker Hub's API host, the one requests go to. */
#define BERTH_DOCKER_HUB_API "registry-1.docker.io"

typedef struct berth_ref {
	char *domain; /* "docker.io", "localhost:5000", "registry.example.com"
		       */
	char *path;   /* "library/nginx", "dev/myapp" */
	char *tag;    /* "latest"; NULL when only a digest was given */
	char *digest; /* "sha256:…" or NULL */
} berth_ref;

/*
 * Parses and normalises a reference: Docker Hub names get "docker.io" (and
 * "library/" for one-component names); "index.docker.io" and
 * "registry-1.docker.io" are Docker Hub; a missing tag and digest means
 * ":latest". Errors (BERTH_EREF) name the offending part.
 */
BERTH_EXTERN int berth_ref_parse(berth_ref **out, const char *s,
				 berth_error **err);

/* Like berth_ref_parse but without defaulting the tag to "latest". */
BERTH_EXTERN int berth_ref_parse_name(berth_ref **out, const char *s,
				      berth_error **err);

/* "domain/path[:tag][@digest]"; caller frees. */
BERTH_EXTERN char *berth_ref_string(const berth_ref *r);

/* "domain/path"; caller frees. */
BERTH_EXTERN char *berth_ref_name(const berth_ref *r);

/* The shortest form Docker prints ("nginx:latest", "user/app:v1"); caller
 * frees. */
BERTH_EXTERN char *berth_ref_familiar(const berth_ref *r);

/* The reference to ask the registry for: the digest if any, else the tag. */
BERTH_EXTERN const char *berth_ref_reference(const berth_ref *r);

/* The host to connect to: "registry-1.docker.io" for Docker Hub, else domain.
 */
BERTH_EXTERN const char *berth_ref_api_host(const berth_ref *r);

/*
 * The distribution spec's repository name: lowercase components
 * [a-z0-9]+((.|_|__|-+)[a-z0-9]+)* joined by '/', at most 255 characters,
 * without a domain ("library/nginx", not "docker.io/library/nginx").
 */
BERTH_EXTERN bool berth_ref_name_valid(const char *name);

/* A tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
BERTH_EXTERN bool berth_ref_tag_valid(const char *tag);

/* Like berth_ref_tag_valid, for `len` bytes that need not end in NUL. */
BERTH_EXTERN bool berth_ref_tag_valid_len(const char *tag, size_t len);

/*
 * True when host names Docker Hub: "docker.io", "index.docker.io" or
 * "registry-1.docker.io", in any case.
 */
BERTH_EXTERN bool berth_ref_is_docker_hub(const char *host);

BERTH_EXTERN berth_ref *berth_ref_dup(const berth_ref *r);
BERTH_EXTERN void berth_ref_free(berth_ref *r);

static inline void
berth_ref_freep(berth_ref **r)
{
	berth_ref_free(*r);
	*r = NULL;
}

#ifdef __cplusplus
}
#endif
#endif
