/*
 * Local manifest lists, as `docker manifest` keeps them: a list named like
 * an image ("registry.example.com/team/app:v1") gathers per-platform images
 * already in registries (their digest, size, media type and platform), is
 * annotated, and is pushed as one OCI image index (or Docker manifest
 * list) under its name. Lists live in the store's root, in
 * ROOT/manifests/ (docs/store.md), one JSON file each.
 */
#ifndef BERTH_MANIFEST_LIST_H
#define BERTH_MANIFEST_LIST_H

#include "berth/common.h"
#include "berth/digest.h"
#include "berth/registry.h"
#include "berth/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum berth_mlist_format {
	BERTH_MLIST_OCI = 0,	/* application/vnd.oci.image.index.v1+json */
	BERTH_MLIST_DOCKER = 1, /* ...docker.distribution.manifest.list.v2 */
	BERTH_MLIST_KEEP = 2,	/* --amend: the list's own format */
} berth_mlist_format;

typedef struct berth_mlist_opts {
	unsigned version; /* BERTH_MLIST_OPTS_VERSION */
	const berth_registry_opts *registry;
	bool amend;		   /* create: add to an existing list */
	berth_mlist_format format; /* create */
	bool purge;		   /* push: remove the local list afterwards */
} berth_mlist_opts;

#define BERTH_MLIST_OPTS_VERSION 1
#define BERTH_MLIST_OPTS_INIT                                                  \
	{                                                                      \
		BERTH_MLIST_OPTS_VERSION, NULL, false, BERTH_MLIST_OCI, false  \
	}

/*
 * An entry's platform as annotate changes it: NULL fields are left as
 * they are; os_features is a NULL-terminated array (an empty one clears).
 */
typedef struct berth_mlist_platform {
	const char *os, *arch, *variant, *os_version;
	const char *const *os_features;
} berth_mlist_platform;

/*
 * Creates the local list `list` from the images `refs` (each fetched from
 * its registry: manifest and config), or with opts->amend adds them to
 * it; an entry of the same digest is replaced. A ref that is itself an
 * index is refused (BERTH_EUNSUPPORTED), as docker refuses it; an
 * existing list without amend is BERTH_EEXIST.
 */
BERTH_EXTERN int berth_mlist_create(berth_store *s, const char *list,
				    const char *const *refs, size_t n,
				    const berth_mlist_opts *opts,
				    berth_error **err);

/* Changes the platform of the entry `ref` (as given to create, or its
 * digest) of `list`. BERTH_ENOTFOUND names the entries when none is it. */
BERTH_EXTERN int berth_mlist_annotate(berth_store *s, const char *list,
				      const char *ref,
				      const berth_mlist_platform *p,
				      berth_error **err);

/*
 * The local list as the index JSON it pushes (verbose: an array of
 * {"Ref", "Descriptor"} per entry), or with `entry` that entry's
 * {"Ref", "Descriptor"}. BERTH_ENOTFOUND when there is no such list or
 * entry. Caller frees *out.
 */
BERTH_EXTERN int berth_mlist_inspect(char **out, berth_store *s,
				     const char *list, const char *entry,
				     bool verbose, berth_error **err);

/*
 * A remote manifest or index as the registry serves it (verbose: an
 * object with Ref, Descriptor and the parsed manifest, and for an index
 * the same for each child). Caller frees *out.
 */
BERTH_EXTERN int berth_mlist_inspect_remote(char **out, const char *ref,
					    bool verbose,
					    const berth_registry_opts *opts,
					    berth_error **err);

/*
 * Pushes `list` to the registry and repository its name gives: each entry
 * from another repository of that registry is copied there first (blobs
 * mounted, or copied when the registry does not mount; then the child
 * manifest by digest, its bytes unchanged), then the index by tag. Two
 * entries of one platform are refused (BERTH_EUSAGE). The index digest
 * goes to *out.
 */
BERTH_EXTERN int berth_mlist_push(berth_digest *out, berth_store *s,
				  const char *list,
				  const berth_mlist_opts *opts,
				  berth_error **err);

/* Removes the local list `list`; BERTH_ENOTFOUND when there is none. */
BERTH_EXTERN int berth_mlist_remove(berth_store *s, const char *list,
				    berth_error **err);

#ifdef __cplusplus
}
#endif
#endif
