/*
 * Pulling an image from a registry into the local store: resolve the
 * reference, pick the platform from an index, download (concurrently) only
 * the blobs the store lacks, verify each against its digest, then record
 * the image in index.json.
 */
#ifndef BERTH_PULL_H
#define BERTH_PULL_H

#include "berth/common.h"
#include "berth/manifest.h"
#include "berth/platform.h"
#include "berth/ref.h"
#include "berth/registry.h"
#include "berth/store.h"
#include "berth/unpack.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum berth_pull_event_kind {
	/* the manifest fetched: ev->digest, ev->desc (the image manifest) */
	BERTH_PULL_RESOLVED = 0,
	BERTH_PULL_LAYER_EXISTS = 1,   /* ev->desc already in the store */
	BERTH_PULL_LAYER_WAITING = 2,  /* ev->desc will be downloaded */
	BERTH_PULL_LAYER_PROGRESS = 3, /* ev->done of ev->total bytes */
	BERTH_PULL_LAYER_DONE = 4,  /* ev->desc downloaded, verified, stored */
	BERTH_PULL_CONFIG_DONE = 5, /* the image config, likewise */
} berth_pull_event_kind;

typedef struct berth_pull_event {
	berth_pull_event_kind kind;
	const berth_descriptor *desc;
	const char *digest; /* RESOLVED: digest of the top-level manifest or
			       index */
	int64_t done, total;
	const char *host; /* RESOLVED, *_DONE: the host that served it */
} berth_pull_event;

/*
 * One event as a line of JSON (no newline) for `berth pull --json`, e.g.
 * {"event":"blob","kind":"layer","digest":"sha256:…","size":N,
 *  "status":"downloaded","host":"mirror.example:5000"}. NULL for events
 * that are not reported (progress). Caller frees.
 */
BERTH_EXTERN char *berth_pull_event_json(const berth_pull_event *ev);

/* Never called concurrently; may be called from a worker thread. */
typedef void (*berth_pull_fn)(void *ud, const berth_pull_event *ev);

typedef struct berth_pull_opts {
	unsigned version;		     /* BERTH_PULL_OPTS_VERSION */
	const berth_platform *platform;	     /* NULL: the host's */
	unsigned max_concurrent;	     /* 0: 3, as dockerd */
	const berth_registry_opts *registry; /* NULL: defaults */
	berth_pull_fn progress;
	void *ud;
	/*
	 * Version 2: also unpack the image into unpack_dir (NULL: not) in
	 * the same pass, each layer decoded, verified against its diff ID
	 * and applied while it downloads, with `unpack`'s force, rootless
	 * and bounds (NULL: berth_unpack's defaults; its platform is not
	 * used). DIR is replaced only if the pull and every layer succeed,
	 * as with berth_unpack. Its progress, when set, gets the layers'
	 * LAYER_START, LAYER_PROGRESS and LAYER_DONE events from the
	 * unpacking thread, while `progress` gets the pull's: the two may
	 * be called at the same time.
	 */
	const char *unpack_dir;
	const berth_unpack_opts *unpack;
	/* Version 3: with unpack_dir, what was unpacked (NULL: not
	 * wanted), filled in on success. */
	berth_unpack_result *unpacked;
	/* Version 4: the signature policy (berth/sigpolicy.h) the image must
	 * satisfy, checked once its top-level manifest is known and before
	 * anything is downloaded or tagged; NULL: none. */
	const struct berth_sigpolicy *policy;
} berth_pull_opts;

#define BERTH_PULL_OPTS_VERSION 4
#define BERTH_PULL_OPTS_INIT                                                   \
	{                                                                      \
		BERTH_PULL_OPTS_VERSION, NULL, 0, NULL, NULL, NULL, NULL,      \
			NULL, NULL, NULL                                       \
	}

typedef struct berth_pull_result {
	unsigned version;	/* BERTH_PULL_RESULT_VERSION */
	char *name;		/* the name recorded in the store */
	berth_digest digest;	/* top-level manifest or index ("Digest:") */
	berth_descriptor image; /* the image manifest recorded */
	bool downloaded;	/* false: everything was present already */
} berth_pull_result;

#define BERTH_PULL_RESULT_VERSION 1
#define BERTH_PULL_RESULT_INIT                                                 \
	{                                                                      \
		BERTH_PULL_RESULT_VERSION, NULL, {BERTH_DIGEST_SHA256, ""},    \
			BERTH_DESCRIPTOR_INIT, false                           \
	}

/* Frees what berth_pull filled in; the version stays. */
BERTH_EXTERN void berth_pull_result_release(berth_pull_result *r);

/* The final line of `berth pull --json`: name, digests, whether anything
 * was downloaded. Caller frees. */
BERTH_EXTERN char *berth_pull_result_json(const berth_pull_result *r);

/* The same line for `berth pull --unpack DIR --json`, with what was
 * unpacked: "unpacked":{"image","dir","layers","entries","bytes"} as
 * berth unpack --json reports it. Caller frees. */
BERTH_EXTERN char *berth_pull_unpack_result_json(const berth_pull_result *r,
						 const berth_unpack_result *u,
						 const char *dir);

/*
 * Pulls `ref` into `store`. On failure nothing half-written is visible and
 * index.json is unchanged; blobs verified before the failure stay (the next
 * pull reuses them). `opts` may be NULL for defaults; an unknown version
 * of it, of opts->registry or of *out is refused (BERTH_EUSAGE).
 */
BERTH_EXTERN int berth_pull(berth_pull_result *out, berth_store *store,
			    const berth_ref *ref, const berth_pull_opts *opts,
			    berth_error **err);

/* The annotation carrying the digest of the index an image was chosen from. */
#define BERTH_ANNOTATION_INDEX_DIGEST "io.berth.index.digest"

#ifdef __cplusplus
}
#endif
#endif
