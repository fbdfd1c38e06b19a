/*
 * libFuzzer harness for berth_manifest_parse and berth_manifest_select.
 * The first input byte picks the Content-Type; the rest is the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "berth/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const content_types[] = {
	NULL,
	BERTH_MT_OCI_MANIFEST,
	BERTH_MT_OCI_INDEX,
	BERTH_MT_DOCKER_V2,
	BERTH_MT_DOCKER_LIST,
	BERTH_MT_DOCKER_V1_SIGNED,
	"application/json",
	"application/vnd.oci.image.index.v1+json; charset=utf-8",
};

static const char *const platforms[] = {
	"linux/amd64",
	"linux/arm64",
	"linux/arm/v6",
	"linux/amd64/v3",
};

static void
check_descriptor(const berth_descriptor *d)
{
	berth_descriptor c;

	if (d->media_type == NULL || d->size < 0 ||
	    !berth_digest_valid(d->digest.str))
		abort();
	berth_descriptor_copy(&c, d);
	berth_descriptor_release(&c);
}

static void
check(const berth_manifest *m)
{
	for (size_t i = 0; i < m->n_layers; i++)
		check_descriptor(&m->layers[i]);
	for (size_t i = 0; i < m->n_manifests; i++)
		check_descriptor(&m->manifests[i]);
	if (m->kind == BERTH_MANIFEST_IMAGE)
		check_descriptor(&m->config);
	if (m->has_subject)
		check_descriptor(&m->subject);
	if (m->kind != BERTH_MANIFEST_INDEX)
		return;
	for (size_t i = 0; i < sizeof(platforms) / sizeof(platforms[0]); i++) {
		berth_platform p;
		const berth_descriptor *d = NULL;
		berth_error *err = NULL;

		if (berth_platform_parse(&p, platforms[i], NULL) < 0)
			abort();
		if (berth_manifest_select(&d, m, &p, NULL) !=
		    berth_manifest_select(&d, m, &p, &err))
			abort();
		if (err == NULL) {
			if (d < m->manifests ||
			    d >= m->manifests + m->n_manifests)
				abort();
		} else if (err->code != BERTH_EPLATFORM ||
			   strchr(err->msg, '\n')) {
			abort();
		}
		berth_error_free(err);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *ct;
	berth_manifest *m = NULL, *m2 = NULL;
	berth_error *err = NULL;
	int rc;

	if (size == 0)
		return 0;
	ct = content_types[data[0] %
			   (sizeof(content_types) / sizeof(content_types[0]))];
	rc = berth_manifest_parse(&m, ct, (const char *)data + 1, size - 1,
				  &err);
	/* the same code without an error object */
	if (berth_manifest_parse(&m2, ct, (const char *)data + 1, size - 1,
				 NULL) != rc)
		abort();
	berth_manifest_free(m2);
	if (rc == 0) {
		check(m);
		berth_manifest_free(m);
	} else {
		if (err == NULL || err->msg == NULL || strchr(err->msg, '\n'))
			abort();
		berth_error_free(err);
	}
	return 0;
}
