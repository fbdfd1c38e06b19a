/*
 * Copying an image from one location to another (skopeo copy's job): a
 * registry (docker://REF), an OCI image layout directory (oci:DIR[:TAG]),
 * a tar of one (oci-archive:FILE[:TAG]), a `docker save` archive
 * (docker-archive:FILE[:REF]) or berth's local store (a bare REF) at
 * either end. An archive is read into, or assembled in, a temporary
 * directory, and written to FILE only once complete.
 *
 * Each blob goes from source to destination as it arrives, through a
 * bounded buffer, never through a file: it is hashed on the way and its
 * last bytes are only handed on once the digest matches, so a lying
 * source never completes an upload. Blobs the destination has are skipped
 * (an interrupted copy resumes where it stopped), blobs on the same
 * registry are mounted across repositories. A manifest is written only
 * once all its blobs are there, an index only after its children, so a
 * failed copy tags nothing at the destination.
 */
#ifndef BERTH_COPY_H
#define BERTH_COPY_H

#include "berth/common.h"
#include "berth/manifest.h"
#include "berth/platform.h"
#include "berth/ref.h"
#include "berth/registry.h"
#include "berth/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Append-only. */
typedef enum berth_location_kind {
	BERTH_LOCATION_REGISTRY = 0,	   /* docker://REF */
	BERTH_LOCATION_OCI = 1,		   /* oci:DIR[:TAG] */
	BERTH_LOCATION_OCI_ARCHIVE = 2,	   /* oci-archive:FILE[:TAG] */
	BERTH_LOCATION_DOCKER_ARCHIVE = 3, /* docker-archive:FILE[:REF] */
	BERTH_LOCATION_STORE = 4,	   /* REF: berth's local store */
} berth_location_kind;

typedef struct berth_location {
	berth_location_kind kind;
	/* REGISTRY, STORE: the reference (tag "latest" by default);
	 * DOCKER_ARCHIVE: the image's name in the archive, or NULL */
	berth_ref *ref;
	char *path; /* OCI: the layout directory; *_ARCHIVE: the file */
	char *tag;  /* OCI*: org.opencontainers.image.ref.name, or NULL */
} berth_location;

/*
 * Parses a location as skopeo users write it: "docker://REF" (REF as
 * berth_ref_parse reads it), "oci:DIR[:TAG]" and "oci-archive:FILE[:TAG]"
 * (the last ':' followed by a valid tag ends DIR), or
 * "docker-archive:FILE[:REF]" (the first ':' ends FILE). A bare REF
 * ("nginx", "host:5000/app:v1") is the local store. Anything else is
 * BERTH_EUSAGE naming the transports berth knows.
 */
BERTH_EXTERN int berth_location_parse(berth_location **out, const char *s,
				      berth_error **err);

/* The location as berth_location_parse reads it back; caller frees. */
BERTH_EXTERN char *berth_location_string(const berth_location *l);

BERTH_EXTERN void berth_location_free(berth_location *l);

static inline void
berth_location_freep(berth_location **l)
{
	berth_location_free(*l);
	*l = NULL;
}

typedef enum berth_copy_event_kind {
	BERTH_COPY_BLOB_EXISTS = 0,   /* the destination has ev->desc */
	BERTH_COPY_BLOB_MOUNTED = 1,  /* mounted from ev->from */
	BERTH_COPY_BLOB_STARTED = 2,  /* ev->desc is being copied */
	BERTH_COPY_BLOB_PROGRESS = 3, /* ev->done of ev->total bytes */
	BERTH_COPY_BLOB_COPIED = 4,   /* copied and verified */
	BERTH_COPY_MANIFEST = 5,      /* ev->desc written at the destination */
} berth_copy_event_kind;

typedef struct berth_copy_event {
	berth_copy_event_kind kind;
	const berth_descriptor *desc;
	const char *from; /* MOUNTED: the source repository */
	int64_t done, total;
} berth_copy_event;

/* Never called concurrently; may be called from a worker thread. */
typedef void (*berth_copy_fn)(void *ud, const berth_copy_event *ev);

typedef struct berth_copy_opts {
	unsigned version; /* BERTH_COPY_OPTS_VERSION */
	/* Both ends' clients (credentials are looked up per host); NULL:
	 * defaults. */
	const berth_registry_opts *registry;
	/* An index source: false copies one image, the host's platform (or
	 * platforms[0]); true copies the whole index with every child. */
	bool all;
	/*
	 * Platforms to copy from an index. One (without `all`): that image
	 * alone. Several (or one with `all`): a new index of just those,
	 * whose digest differs from the source's.
	 */
	const berth_platform *platforms;
	size_t n_platforms;
	unsigned max_concurrent; /* blobs at once; 0: max-concurrent-uploads
				    of the configuration, else 5 */
	berth_copy_fn progress;
	void *ud;
	/* Version 2: the local store, for a bare REF at either end (else
	 * such a location is BERTH_EUSAGE). */
	berth_store *store;
	/* Version 2: the source's and the destination's clients when they
	 * differ from `registry` (skopeo's --src-creds, --dest-tls-verify,
	 * ...), or NULL for `registry`. */
	const berth_registry_opts *src_registry, *dst_registry;
} berth_copy_opts;

#define BERTH_COPY_OPTS_VERSION 2
#define BERTH_COPY_OPTS_INIT                                                   \
	{                                                                      \
		BERTH_COPY_OPTS_VERSION, NULL, false, NULL, 0, 0, NULL, NULL,  \
			NULL, NULL, NULL                                       \
	}

typedef struct berth_copy_result {
	unsigned version;    /* BERTH_COPY_RESULT_VERSION */
	berth_digest digest; /* of what was written at the top */
	bool digest_changed; /* a new index: not the source's digest */
	size_t copied, existed, mounted; /* blobs */
} berth_copy_result;

#define BERTH_COPY_RESULT_VERSION 1
#define BERTH_COPY_RESULT_INIT                                                 \
	{                                                                      \
		BERTH_COPY_RESULT_VERSION, {BERTH_DIGEST_SHA256, ""}, false,   \
			0, 0, 0                                                \
	}

/*
 * Copies the image at `src` to `dst`. On failure nothing new is tagged at
 * the destination; blobs copied in full stay (the next copy skips them).
 * `opts` may be NULL for defaults; an unknown version of it, of
 * opts->registry or of *out is refused (BERTH_EUSAGE).
 */
BERTH_EXTERN int berth_copy(berth_copy_result *out, const berth_location *src,
			    const berth_location *dst,
			    const berth_copy_opts *opts, berth_error **err);

#ifdef __cplusplus
}
#endif
#endif
