/*
 * Pushing a local image to a registry: each blob is checked with HEAD
 * first and skipped when present, mounted from another repository of the
 * same registry when a local image came from there, otherwise uploaded in
 * one request; the manifest goes last. Blobs go up concurrently, at most
 * max-concurrent-uploads at a time (daemon.json; default 5, as dockerd).
 * Foreign (non-distributable) layers are left out unless the registry is
 * listed in allow-nondistributable-artifacts, as docker does.
 */
#ifndef BERTH_PUSH_H
#define BERTH_PUSH_H

#include "berth/common.h"
#include "berth/ref.h"
#include "berth/registry.h"
#include "berth/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum berth_push_event_kind {
	BERTH_PUSH_BLOB_EXISTS = 0,  /* the registry had it already */
	BERTH_PUSH_BLOB_MOUNTED = 1, /* ev->from names the source repository */
	BERTH_PUSH_BLOB_PUSHED = 2,
	BERTH_PUSH_BLOB_STARTED = 3,
	/* a foreign layer the registry may not hold */
	BERTH_PUSH_BLOB_SKIPPED = 4,
} berth_push_event_kind;

/* Callbacks are never concurrent, but may come from a worker thread. */

typedef struct berth_push_event {
	berth_push_event_kind kind;
	const berth_descriptor *desc;
	const char *from;
} berth_push_event;

typedef void (*berth_push_fn)(void *ud, const berth_push_event *ev);

typedef struct berth_push_opts {
	unsigned version; /* BERTH_PUSH_OPTS_VERSION */
	const berth_registry_opts *registry;
	berth_push_fn progress;
	void *ud;
} berth_push_opts;

#define BERTH_PUSH_OPTS_VERSION 1
#define BERTH_PUSH_OPTS_INIT                                                   \
	{                                                                      \
		BERTH_PUSH_OPTS_VERSION, NULL, NULL, NULL                      \
	}

/*
 * Pushes the local image named by `ref` (its canonical string) to the
 * registry and repository `ref` names, under its tag (or digest). The
 * manifest's descriptor goes to *out. `opts` may be NULL for defaults; an
 * unknown version of it or of opts->registry is refused (BERTH_EUSAGE).
 */
BERTH_EXTERN int berth_push(berth_descriptor *out, berth_store *store,
			    const berth_ref *ref, const berth_push_opts *opts,
			    berth_error **err);

#ifdef __cplusplus
}
#endif
#endif
