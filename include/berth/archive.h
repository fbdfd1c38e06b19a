/*
 * Image archives: `docker save` / `docker load` and OCI image-layout
 * archives (docs/archives.md describes the layouts, entry by entry).
 *
 * berth_save writes local images as one tar stream: a docker-archive as
 * docker 20.10 writes it (layers uncompressed, each checked against its
 * diff ID while it is written) or an OCI image layout with the blobs as
 * they are stored. berth_load reads either kind (also gzip or zstd
 * compressed), verifies every digest and records the images under their
 * names; when anything fails, no image is recorded.
 */
#ifndef BERTH_ARCHIVE_H
#define BERTH_ARCHIVE_H

#include <signal.h>

#include "berth/common.h"
#include "berth/digest.h"
#include "berth/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum berth_archive_format {
	BERTH_ARCHIVE_DOCKER = 0, /* docker save: manifest.json, layer.tar */
	BERTH_ARCHIVE_OCI = 1,	  /* OCI image layout: index.json, blobs/ */
} berth_archive_format;

typedef enum berth_archive_event_kind {
	BERTH_ARCHIVE_PROGRESS = 0, /* bytes of `id` written or read so far */
	BERTH_ARCHIVE_DONE = 1,	    /* `id` complete */
} berth_archive_event_kind;

/* Handed to the progress callback; valid during the call only. */
typedef struct berth_archive_event {
	berth_archive_event_kind kind;
	const char *id;	  /* a layer's digest, or an archive entry's name */
	const char *what; /* "layer", "config", "blob" or "file" */
	int64_t done;	  /* bytes so far */
	int64_t total;	  /* bytes in all, or -1 when not known */
} berth_archive_event;

typedef void (*berth_archive_progress_fn)(void *ud,
					  const berth_archive_event *ev);

typedef struct berth_save_opts {
	unsigned version; /* BERTH_SAVE_OPTS_VERSION */
	berth_archive_format format;
	berth_archive_progress_fn progress; /* or NULL */
	void *ud;
	/* non-zero (a signal handler sets it): stop with BERTH_EINTERRUPTED */
	const volatile sig_atomic_t *interrupt;
} berth_save_opts;

#define BERTH_SAVE_OPTS_VERSION 1
#define BERTH_SAVE_OPTS_INIT                                                   \
	{                                                                      \
		BERTH_SAVE_OPTS_VERSION, BERTH_ARCHIVE_DOCKER, NULL, NULL,     \
			NULL                                                   \
	}

/*
 * Writes the images `names[0..n)` (full references, as the store records
 * them) as one archive to `fd`, which stays open. The same layer is
 * written once however many images share it. A failure half-way leaves a
 * partial stream on fd; berth_save_file does not.
 */
BERTH_EXTERN int berth_save(berth_store *s, const char *const *names, size_t n,
			    int fd, const berth_save_opts *o,
			    berth_error **err);

/*
 * berth_save into `path`: written to a temporary file beside it, which
 * replaces `path` only once complete (removed on failure).
 */
BERTH_EXTERN int berth_save_file(berth_store *s, const char *const *names,
				 size_t n, const char *path,
				 const berth_save_opts *o, berth_error **err);

typedef struct berth_load_opts {
	unsigned version;		    /* BERTH_LOAD_OPTS_VERSION */
	berth_archive_progress_fn progress; /* or NULL */
	void *ud;
	const volatile sig_atomic_t *interrupt;
} berth_load_opts;

#define BERTH_LOAD_OPTS_VERSION 1
#define BERTH_LOAD_OPTS_INIT                                                   \
	{                                                                      \
		BERTH_LOAD_OPTS_VERSION, NULL, NULL, NULL                      \
	}

/* One image of an archive. Frozen size (array element): reserved slots. */
typedef struct berth_loaded_image {
	char *name;	       /* full reference, or NULL when untagged */
	berth_digest id;       /* the config's digest (docker's image ID) */
	berth_digest manifest; /* the manifest recorded in the store */
	void *reserved[4];
} berth_loaded_image;

typedef struct berth_load_result {
	unsigned version; /* BERTH_LOAD_RESULT_VERSION */
	berth_archive_format format;
	berth_loaded_image *images; /* one per name, untagged ones once */
	size_t n_images;
} berth_load_result;

#define BERTH_LOAD_RESULT_VERSION 1
#define BERTH_LOAD_RESULT_INIT                                                 \
	{                                                                      \
		BERTH_LOAD_RESULT_VERSION, BERTH_ARCHIVE_DOCKER, NULL, 0       \
	}

/*
 * Reads an archive from `fd` to its end (a pipe will do: entries are
 * staged as they come and checked once the whole archive is read), and
 * records its images. Errors: BERTH_EPROTO (not an image archive, unsafe
 * entry names, invalid JSON, missing files), BERTH_EDIGEST (content that
 * does not match its digest or diff ID), BERTH_EIO.
 */
BERTH_EXTERN int berth_load(berth_load_result *out, berth_store *s, int fd,
			    const berth_load_opts *o, berth_error **err);

BERTH_EXTERN void berth_load_result_release(berth_load_result *r);

#ifdef __cplusplus
}
#endif
#endif
