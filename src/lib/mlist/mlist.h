/*
 * Local manifest lists: their file in the store's root, their entries and
 * the index they become. A list is JSON:
 *   {"name": "host/repo:tag", "mediaType": "<index media type>",
 *    "entries": [{"ref": "host/repo:tag", "descriptor": {...}}]}
 * where each descriptor is the one the index will carry (mediaType,
 * digest, size, platform) and ref is where its manifest lives.
 */
#ifndef BERTH_LIB_MLIST_MLIST_H
#define BERTH_LIB_MLIST_MLIST_H

#include <jansson.h>

#include "berth/manifest_list.h"

/* ROOT/manifests/<name escaped>.json; caller frees. Every byte outside
 * [A-Za-z0-9.-] becomes %XX, so that two names never share a file. */
char *mlist_path(const char *root, const char *name);

/* A new empty list. */
json_t *mlist_new(const char *name, const char *media_type);

/* The list `name` of the store at `root`: BERTH_ENOTFOUND (with a hint
 * naming 'berth manifest create') when there is none. */
int mlist_load(json_t **out, const char *root, const char *name,
	       berth_error **err);

/* Takes the lock of the store's lists (ROOT/manifests/.lock), held
 * while a list is read, changed and written back, never across network
 * requests: the descriptor to close, or a negative code. */
int mlist_lock(const char *root, berth_error **err);

/* Writes the list atomically (ROOT/manifests/ made when missing). */
int mlist_save(const char *root, const json_t *list, berth_error **err);

/* Adds the entry, replacing one of the same digest (as docker --amend). */
void mlist_put(json_t *list, const char *ref, json_t *descriptor);

/* The entry named `ref` (normalised as a reference) or by its digest;
 * BERTH_ENOTFOUND lists the entries. */
int mlist_find(json_t **out, json_t *list, const char *ref, berth_error **err);

/* The "platform" object of an image config (os, architecture, variant,
 * os.version, os.features); NULL when the config names no os or arch. */
json_t *mlist_platform_of_config(const json_t *config);

/* Applies annotate's changes to an entry's descriptor platform. */
void mlist_annotate(json_t *descriptor, const berth_mlist_platform *p);

/*
 * The index the list pushes, as bytes: its media type's schemaVersion 2
 * body with the entries' descriptors in order. With `check` (for a
 * push), a list without entries and two entries of one platform (os,
 * architecture, variant, os.version) are BERTH_EUSAGE. Caller frees *out.
 */
int mlist_index(char **out, size_t *len, const json_t *list, bool check,
		berth_error **err);

#endif
