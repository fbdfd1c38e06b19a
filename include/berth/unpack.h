/*
 * Unpacking an image from the local store into a directory, as umoci
 * unpack and docker's layer application do: the layers applied in order
 * in a staging directory beside DIR, each one's uncompressed digest
 * checked against the config's rootfs.diff_ids, and the result renamed
 * onto DIR only when every layer verified. A layer is hostile input:
 * nothing is ever written outside DIR.
 */
#ifndef BERTH_UNPACK_H
#define BERTH_UNPACK_H

#include "berth/common.h"
#include "berth/manifest.h"
#include "berth/platform.h"
#include "berth/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The defaults of --max-unpacked-size and of the entry bound. */
#define BERTH_UNPACK_MAX_SIZE_DEFAULT ((int64_t)64 << 30)    /* 64 GiB */
#define BERTH_UNPACK_MAX_ENTRIES_DEFAULT ((uint64_t)4 << 20) /* 4 Mi */

typedef enum berth_unpack_event_kind {
	BERTH_UNPACK_RESOLVED = 0,	 /* ev->image, ev->n_layers */
	BERTH_UNPACK_LAYER_START = 1,	 /* ev->index, ev->desc */
	BERTH_UNPACK_LAYER_PROGRESS = 2, /* ev->done of ev->total bytes */
	BERTH_UNPACK_LAYER_DONE = 3,	 /* ev->diff_id verified */
} berth_unpack_event_kind;

typedef struct berth_unpack_event {
	berth_unpack_event_kind kind;
	const char *image;	      /* the image manifest's digest */
	size_t index, n_layers;	      /* index counts from 0 */
	const berth_descriptor *desc; /* the layer */
	int64_t done, total;	      /* compressed bytes read, its size */
	const char *diff_id;	      /* LAYER_DONE */
} berth_unpack_event;

/* Called on the caller's thread. */
typedef void (*berth_unpack_fn)(void *ud, const berth_unpack_event *ev);

typedef struct berth_unpack_opts {
	unsigned version;		/* BERTH_UNPACK_OPTS_VERSION */
	const berth_platform *platform; /* of an index; NULL: the host's */
	bool force;			/* replace what a non-empty DIR holds */
	bool rootless;	      /* owners become the caller; no device nodes */
	int64_t max_size;     /* bytes unpacked; 0: the default, <0: none */
	uint64_t max_entries; /* tar entries; 0: the default */
	berth_unpack_fn progress;
	void *ud;
} berth_unpack_opts;

#define BERTH_UNPACK_OPTS_VERSION 1
#define BERTH_UNPACK_OPTS_INIT                                                 \
	{                                                                      \
		BERTH_UNPACK_OPTS_VERSION, NULL, false, false, 0, 0, NULL,     \
			NULL                                                   \
	}

typedef struct berth_unpack_result {
	unsigned version;   /* BERTH_UNPACK_RESULT_VERSION */
	berth_digest image; /* the image manifest unpacked */
	size_t n_layers;
	uint64_t entries; /* tar entries applied */
	int64_t bytes;	  /* file bytes written */
} berth_unpack_result;

#define BERTH_UNPACK_RESULT_VERSION 1
#define BERTH_UNPACK_RESULT_INIT                                               \
	{                                                                      \
		BERTH_UNPACK_RESULT_VERSION, {BERTH_DIGEST_SHA256, ""}, 0, 0,  \
			0                                                      \
	}

/*
 * Unpacks the local image `name` (a reference as the store records it;
 * an index is resolved to opts->platform) into `dir`, whose parent must
 * exist. Errors: BERTH_ENOTFOUND (no such image, or a layer missing from
 * the store), BERTH_EEXIST (DIR not empty without force), BERTH_EDIGEST
 * (a layer differs from its diff ID), BERTH_EPROTO (a layer refused),
 * BERTH_ETOOBIG (over a bound), BERTH_EIO (disk full and the like). On
 * failure DIR is as it was.
 */
BERTH_EXTERN int berth_unpack(berth_unpack_result *out, berth_store *s,
			      const char *name, const char *dir,
			      const berth_unpack_opts *opts, berth_error **err);

/* The result as a line of JSON (no newline) for --json. Caller frees. */
BERTH_EXTERN char *berth_unpack_result_json(const berth_unpack_result *r,
					    const char *dir);

#ifdef __cplusplus
}
#endif
#endif
