/*
 * berth_sbom_build: a local image's layers, read from their blobs and
 * decoded (unpack/decode.h) in order, walked as tar streams by the
 * catalogers (sbom/walk.h); nothing is written anywhere.
 */
#include "berth/sbom.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sbom/catalog.h"
#include "sbom/purl.h"
#include "sbom/walk.h"
#include "unpack/decode.h"
#include "unpack/local.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* A config is small; this bounds a hostile one. */
#define CONFIG_MAX ((size_t)16 << 20)

void
berth_sbom_free(berth_sbom *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n_pkgs; i++)
		berth_sbom_package_release(&b->pkgs[i]);
	free(b->pkgs);
	free(b->name);
	free(b->created);
	free(b->os_id);
	free(b->os_version_id);
	free(b->os_name);
	free(b);
}

static void
sbom_freep(berth_sbom **b)
{
	berth_sbom_free(*b);
}

int
berth_sbom_format_parse(berth_sbom_format *out, const char *s,
			berth_error **err)
{
	if (strcmp(s, "spdx") == 0 || strcmp(s, "spdx-json") == 0)
		*out = BERTH_SBOM_SPDX;
	else if (strcmp(s, "cyclonedx") == 0 ||
		 strcmp(s, "cyclonedx-json") == 0)
		*out = BERTH_SBOM_CYCLONEDX;
	else {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"unknown SBOM format '%s'", s);
		berth_error_hint(err, "use --format spdx or --format "
				      "cyclonedx");
		return BERTH_EUSAGE;
	}
	return 0;
}

const char *
berth_sbom_media_type(berth_sbom_format f)
{
	return f == BERTH_SBOM_CYCLONEDX ? "application/vnd.cyclonedx+json"
					 : "application/spdx+json";
}

/* The config's "created", for the documents' time stamps. */
static char *
config_created(berth_store *s, const berth_manifest *m)
{
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	json_t *root;
	const char *c;
	char *out = NULL;

	if (berth_store_read_blob(&body, &len, s, &m->config.digest, CONFIG_MAX,
				  NULL) < 0)
		return NULL;
	root = json_loadb(body, len, 0, NULL);
	c = json_string_value(json_object_get(root, "created"));
	if (c && *c)
		out = xstrdup(c);
	json_decref(root);
	return out;
}

static int
cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int
cmp_pkg(const void *x, const void *y)
{
	const berth_sbom_package *a = x, *b = y;
	int c;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if ((c = cmp_str(a->name, b->name)) != 0 ||
	    (c = cmp_str(a->version, b->version)) != 0)
		return c;
	return cmp_str(a->path, b->path);
}

static ssize_t
decoder_read(void *d, const void **buf, berth_error **err)
{
	return berth_layer_decoder_read(d, buf, err);
}

static int
walk_layer(berth_sbom_walk *w, berth_store *s, const berth_descriptor *l,
	   berth_layer_compression comp, size_t i, berth_error **err)
{
	_cleanup_free_ char *path = berth_store_blob_path(s, &l->digest);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	berth_layer_decoder *d = NULL;
	char what[64];
	int r;

	snprintf(what, sizeof(what), "layer %zu (%.19s)", i + 1, l->digest.str);
	if (fd < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "%s: cannot open '%s': %s", what, path,
				       strerror(errno));
	r = berth_layer_decoder_new(&d, fd, comp, false, 0, err);
	if (r < 0)
		return berth_error_wrap(err, r, "%s", what);
	r = berth_sbom_walk_layer(w, &l->digest, decoder_read, d, what, err);
	berth_layer_decoder_free(d);
	return r;
}

int
berth_sbom_build(berth_sbom **out, berth_store *s, const char *name,
		 const berth_platform *platform, berth_error **err)
{
	_cleanup_(sbom_freep) berth_sbom *b = xcalloc(1, sizeof(*b));
	_cleanup_free_ berth_layer_compression *comp = NULL;
	berth_manifest *m = NULL;
	berth_sbom_walk *w = NULL;
	berth_sbom_list pkgs = {NULL, 0, 0};
	int r;

	b->name = xstrdup(name);
	if ((r = berth_local_image(&m, &b->image, s, name, platform, err)) < 0)
		return r;
	comp = xcalloc(m->n_layers ? m->n_layers : 1, sizeof(*comp));
	if ((r = berth_local_layers(comp, s, m, name, err)) < 0 ||
	    (r = berth_sbom_walk_new(&w, err)) < 0)
		goto out;
	b->created = config_created(s, m);
	for (size_t i = 0; i < m->n_layers && r == 0; i++)
		r = walk_layer(w, s, &m->layers[i], comp[i], i, err);
	if (r < 0) {
		berth_error_wrap(err, r, "image '%s'", name);
		goto out;
	}
	berth_sbom_walk_finish(w, &pkgs, b);
	for (size_t i = 0; i < pkgs.n; i++)
		pkgs.v[i].purl =
			berth_sbom_purl(&pkgs.v[i], b->os_id, b->os_version_id);
	if (pkgs.n)
		qsort(pkgs.v, pkgs.n, sizeof(*pkgs.v), cmp_pkg);
	b->pkgs = steal_ptr(&pkgs.v);
	b->n_pkgs = pkgs.n;
	pkgs.n = 0;
	*out = steal_ptr(&b);
out:
	berth_sbom_list_release(&pkgs);
	berth_sbom_walk_free(w);
	berth_manifest_free(m);
	return r;
}
