/*
 * Mirroring repositories (skopeo sync's job): every tag of a repository,
 * or of the repositories a YAML or JSON file lists, into a destination
 * prefix of a registry, each tag by berth_copy. A tag whose manifest the
 * destination already has under the same digest is not copied again, so
 * a second run sends only what changed.
 */
#ifndef BERTH_SYNC_H
#define BERTH_SYNC_H

#include "berth/common.h"
#include "berth/digest.h"
#include "berth/ref.h"
#include "berth/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One repository to mirror, as the file (or the command line) gives it. */
typedef struct berth_sync_repo {
	char *registry; /* "docker.io", "host:5000" */
	char *repo;	/* its path there: "library/nginx" */
	char **tags;	/* the tags listed; none (and no regex): every tag */
	size_t n_tags;
	char *tag_regex; /* images-by-tag-regex (POSIX ERE), or NULL */
	int tls_verify;	 /* -1: the configuration's; 0: false; 1: true */
	char *cert_dir;	 /* or NULL */
	char *username, *password; /* credentials, or NULL */
	/* The destination's name below the prefix: the repository's last
	 * component, as skopeo sync names it. */
	char *dest_name;
} berth_sync_repo;

typedef struct berth_sync_list {
	berth_sync_repo *repos;
	size_t n;
} berth_sync_list;

/*
 * Parses a sync file in the shape `skopeo sync --src yaml` takes (YAML,
 * or JSON, which YAML reads too):
 *
 *   registry.example.com:
 *     images:              { REPO: [TAG, ...], REPO2: [] }
 *     images-by-tag-regex: { REPO3: '^v1\.' }
 *     tls-verify: false
 *     cert-dir: /path
 *     credentials: { username: u, password: p }
 *
 * `what` names the input in messages. Unknown keys, wrong types and
 * invalid names or regexes are BERTH_EUSAGE naming the line.
 */
BERTH_EXTERN int berth_sync_list_parse(berth_sync_list **out, const char *text,
				       size_t len, const char *what,
				       berth_error **err);
/* The one repository of "docker://REG/REPO" (every tag, or the one
 * given). */
BERTH_EXTERN int berth_sync_list_repo(berth_sync_list **out, const char *ref,
				      berth_error **err);
BERTH_EXTERN void berth_sync_list_free(berth_sync_list *l);

static inline void
berth_sync_list_freep(berth_sync_list **l)
{
	berth_sync_list_free(*l);
	*l = NULL;
}

typedef enum berth_sync_event_kind {
	BERTH_SYNC_UNCHANGED = 0,  /* the destination has ev->digest already */
	BERTH_SYNC_COPIED = 1,	   /* copied: ev->bytes sent */
	BERTH_SYNC_WOULD_COPY = 2, /* --dry-run: would be copied */
} berth_sync_event_kind;

typedef struct berth_sync_event {
	berth_sync_event_kind kind;
	const char *src, *dst; /* "host/repo:tag" */
	const berth_digest *digest;
	int64_t bytes;
} berth_sync_event;

typedef void (*berth_sync_fn)(void *ud, const berth_sync_event *ev);

typedef struct berth_sync_opts {
	unsigned version;		     /* BERTH_SYNC_OPTS_VERSION */
	const berth_registry_opts *registry; /* both ends; NULL: defaults */
	const char *tag_regex; /* POSIX ERE every tag must match, or NULL */
	/* Semantic-version range, comparators joined by spaces
	 * (">=1.2 <2", "=1.4.0"); tags that are no version are left out. */
	const char *semver;
	unsigned keep; /* the N newest of each repository (0: all) */
	bool dry_run;
	unsigned max_concurrent; /* blobs at once, as berth_copy's */
	berth_sync_fn progress;
	void *ud;
} berth_sync_opts;

#define BERTH_SYNC_OPTS_VERSION 1
#define BERTH_SYNC_OPTS_INIT                                                   \
	{                                                                      \
		BERTH_SYNC_OPTS_VERSION, NULL, NULL, NULL, 0, false, 0, NULL,  \
			NULL                                                   \
	}

typedef struct berth_sync_result {
	unsigned version; /* BERTH_SYNC_RESULT_VERSION */
	size_t tags, unchanged, copied;
	int64_t bytes; /* blob bytes sent */
} berth_sync_result;

#define BERTH_SYNC_RESULT_VERSION 1
#define BERTH_SYNC_RESULT_INIT                                                 \
	{                                                                      \
		BERTH_SYNC_RESULT_VERSION, 0, 0, 0, 0                          \
	}

/*
 * Copies the tags of `src` to `dest` ("docker://REG/PREFIX"): tag T of
 * repository R goes to REG/PREFIX/<R's last component>:T, every platform of
 * it, digests unchanged. Stops at the first failure (the tags copied
 * before it stay; the failed one is not tagged).
 */
BERTH_EXTERN int berth_sync(berth_sync_result *out, const berth_sync_list *src,
			    const char *dest, const berth_sync_opts *opts,
			    berth_error **err);

/* Semantic versions, for --semver and --keep: "v1.2.3-rc.1" and the
 * like ("1", "1.2" too). 0, or -1 when `tag` is none. */
typedef struct berth_semver {
	long major, minor, patch;
	char pre[64]; /* the pre-release, "" for a release */
} berth_semver;

BERTH_EXTERN int berth_semver_parse(berth_semver *out, const char *tag);
BERTH_EXTERN int berth_semver_cmp(const berth_semver *a, const berth_semver *b);
/* Does `v` satisfy `range`? BERTH_EUSAGE for a range that is none. */
BERTH_EXTERN int berth_semver_match(bool *out, const berth_semver *v,
				    const char *range, berth_error **err);

#ifdef __cplusplus
}
#endif
#endif
