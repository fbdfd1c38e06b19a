/*
 * The docker-archive's own files, as docker 20.10 reads and writes them:
 * manifest.json (one entry per image: Config, RepoTags, Layers),
 * repositories (name -> tag -> top layer's v1 ID) and the v1 IDs that
 * name the layer directories. Pure logic: no I/O.
 */
#ifndef BERTH_LIB_ARCHIVE_DOCKER_H
#define BERTH_LIB_ARCHIVE_DOCKER_H

#include <jansson.h>
#include <stddef.h>

#include "berth/common.h"
#include "berth/digest.h"

/* One image of manifest.json. */
typedef struct docker_image {
	char *config;	  /* the config's file name in the archive */
	char **repo_tags; /* familiar names ("busybox:latest"), NULL-ended */
	size_t n_tags;
	char **layers; /* file names, base layer first, NULL-ended */
	size_t n_layers;
} docker_image;

/*
 * Parses manifest.json: an array of objects with a string Config, an
 * array of strings Layers and RepoTags (an array of strings, or null).
 * BERTH_EPROTO naming what is wrong; an empty array is valid (no images).
 */
int docker_manifest_parse(docker_image **out, size_t *n, const char *text,
			  size_t len, berth_error **err);

/* manifest.json's text for `v[0..n)` (RepoTags null when there are none,
 * as docker writes it); caller frees. */
char *docker_manifest_write(const docker_image *v, size_t n);

void docker_images_free(docker_image *v, size_t n);

/*
 * repositories: {"busybox": {"latest": "<v1 id>"}}. Adds the familiar
 * tagged name `tagged` ("busybox:latest", "host:5000/a/b:v1") to `repos`;
 * a name without a tag is ignored.
 */
void docker_repositories_add(json_t *repos, const char *tagged,
			     const char *v1_id);

/*
 * Parses repositories into "name:tag" -> v1 ID pairs (names[i], ids[i],
 * both NULL-ended; caller frees with berth_strv_free). BERTH_EPROTO when
 * it is not an object of objects of strings.
 */
int docker_repositories_parse(char ***names, char ***ids, const char *text,
			      size_t len, berth_error **err);

/* The chain ID of a layer: its diff ID for the base layer, else
 * sha256("<parent chain ID> <diff ID>") (image-spec config.md). */
void docker_chain_id(berth_digest *out, const berth_digest *parent,
		     const berth_digest *diff_id);

/*
 * The legacy v1 JSON of layer `i` of `n` ("json" in its directory), as
 * docker writes it: the top layer carries the image's config fields
 * (without rootfs and history), the others only a zero creation time;
 * `parent` is the v1 ID of the layer below (hex) or NULL. Its v1 ID (the
 * directory's name, hex) goes to id_hex: sha256 over the same object
 * without "id", with "layer_id" (the chain ID) and "parent" added, as
 * docker derives it. Caller frees the text.
 */
char *docker_v1_json(char id_hex[65], json_t *config, size_t i, size_t n,
		     const berth_digest *chain_id, const char *parent);

#endif
