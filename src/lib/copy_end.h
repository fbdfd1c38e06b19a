/*
 * The two ends of a copy (copy.c), one set of operations per kind of
 * location: copy_registry.c (docker://), copy_oci.c (oci:), copy_store.c
 * (the local store) and copy_archive.c (oci-archive:, docker-archive:,
 * over the other two in a temporary directory). A source
 * hands out manifests and streams blobs into a sink; a destination says
 * which blobs it has, takes blobs through a writer that completes only
 * when told the bytes were verified, and stores manifests.
 */
#ifndef BERTH_LIB_COPY_END_H
#define BERTH_LIB_COPY_END_H

#include "berth/copy.h"

typedef struct copy_end copy_end;
typedef struct copy_writer copy_writer;

typedef struct copy_end_ops {
	/* `dest`: the end is written to (an OCI layout is created).
	 * `store`: the local store, or NULL. */
	int (*open)(copy_end **out, const berth_location *loc,
		    const berth_registry_opts *ro, berth_store *store,
		    bool dest, berth_error **err);
	void (*free)(copy_end *e);
	/* The manifest `digest` names, or with NULL the location's own. */
	int (*get_manifest)(copy_end *e, const berth_digest *digest,
			    berth_manifest_body *out, berth_error **err);
	/* Streams the blob into `sink`; fails when it is cut short or runs
	 * past d->size. A blob of size 0 never reaches the sink. */
	int (*fetch_blob)(copy_end *e, const berth_descriptor *d,
			  berth_sink_fn sink, void *ud, berth_error **err);
	int (*has_blob)(bool *exists, copy_end *e, const berth_descriptor *d,
			berth_error **err);
	/* Mounts d from `src` when both are in one registry: *mounted. */
	int (*mount_blob)(bool *mounted, const char **from, copy_end *e,
			  copy_end *src, const berth_descriptor *d,
			  berth_error **err);
	int (*blob_begin)(copy_writer **out, copy_end *e,
			  const berth_descriptor *d, berth_error **err);
	/* Stores a manifest; `top`: under the location's own tag (or
	 * digest), else by its digest only. */
	int (*put_manifest)(copy_end *e, const berth_manifest_body *body,
			    bool top, berth_error **err);
} copy_end_ops;

/* A blob on its way in. write may block (bounded buffer). */
typedef struct copy_writer_ops {
	int (*write)(copy_writer *w, const void *p, size_t len,
		     berth_error **err);
	/* complete: the bytes are all there and verified, keep them;
	 * otherwise abandon the blob. Returns the destination's own failure
	 * (also when abandoning: it may be why writes stopped). Frees w. */
	int (*finish)(copy_writer *w, bool complete, berth_error **err);
} copy_writer_ops;

struct copy_writer {
	const copy_writer_ops *ops;
};

struct copy_end {
	const copy_end_ops *ops;
	berth_location_kind kind;
	char *name; /* for messages: "host/repo" or the directory */
};

extern const copy_end_ops copy_registry_ops, copy_oci_ops, copy_store_ops,
	copy_archive_ops;

/*
 * Streams the file `path` holding blob `d` into `sink`, failing (as
 * BERTH_EDIGEST, naming `where`) when the file is shorter or longer than
 * d->size.
 */
int copy_file_blob(const char *path, const berth_descriptor *d,
		   const char *where, berth_sink_fn sink, void *ud,
		   berth_error **err);

/* An end over `store`, for the image `name` (a full reference). The
 * store is borrowed: the caller frees it after the end. */
int copy_store_end_new(copy_end **out, berth_store *store, const char *name,
		       bool dest, berth_error **err);

#endif
