/*
 * SBOMs as OCI 1.1 referrers of their image (image-spec "artifacts",
 * distribution-spec "referrers API"): pushed as a manifest whose
 * artifactType is the document's media type, its config the empty
 * descriptor, its one layer the document, its subject the image; fetched
 * through GET /v2/<name>/referrers/<digest>, filtered by artifactType.
 */
#include "berth/sbom_registry.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "berth/manifest.h"
#include "fetch_small.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define EMPTY_MT "application/vnd.oci.empty.v1+json"
#define EMPTY_DIGEST                                                           \
	"sha256:"                                                              \
	"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

static int
push_bytes(berth_registry *reg, const char *repo, const berth_digest *d,
	   const void *p, size_t len, berth_error **err)
{
	_cleanup_close_ int fd = memfd_create("berth-sbom", MFD_CLOEXEC);
	bool have = false;

	if (berth_registry_stat_blob(&have, NULL, reg, repo, d, NULL) == 0 &&
	    have)
		return 0;
	if (fd < 0 || berth_write_full(fd, p, len) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot hold the document: %s",
				       strerror(errno));
	return berth_registry_push_blob(reg, repo, d, (int64_t)len, fd, err);
}

static void
registry_freep(berth_registry **r)
{
	berth_registry_free(*r);
}

int
berth_sbom_attach(berth_digest *out, const berth_ref *ref,
		  const berth_digest *subject, berth_sbom_format f,
		  const char *doc, size_t len, const berth_registry_opts *o,
		  berth_error **err)
{
	_cleanup_(registry_freep) berth_registry *reg = NULL;
	berth_descriptor sd = BERTH_DESCRIPTOR_INIT;
	const char *mt = berth_sbom_media_type(f);
	berth_digest dd, md;
	json_t *m;
	char *body;
	int r;

	if ((r = berth_registry_new(&reg, berth_ref_api_host(ref), o, err)) < 0)
		return r;
	r = berth_registry_head_manifest(&sd, reg, ref->path, subject->str,
					 err);
	if (r == BERTH_ENOTFOUND) {
		_cleanup_free_ char *name = berth_ref_string(ref);

		berth_error_hint(err, "push the image first: berth push %s",
				 name);
		return r;
	}
	if (r < 0)
		return r;
	berth_digest_of(&dd, BERTH_DIGEST_SHA256, doc, len);
	if ((r = push_bytes(reg, ref->path, &dd, doc, len, err)) < 0 ||
	    (r = push_bytes(reg, ref->path,
			    &(berth_digest){BERTH_DIGEST_SHA256, EMPTY_DIGEST},
			    "{}", 2, err)) < 0)
		goto out;
	m = json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:i, s:s}, s:[{s:s, s:s, "
		      "s:I}], s:{s:s, s:s, s:I}}",
		      "schemaVersion", 2, "mediaType", BERTH_MT_OCI_MANIFEST,
		      "artifactType", mt, "config", "mediaType", EMPTY_MT,
		      "digest", EMPTY_DIGEST, "size", 2, "data",
		      "e30=", "layers", "mediaType", mt, "digest", dd.str,
		      "size", (json_int_t)len, "subject", "mediaType",
		      sd.media_type, "digest", sd.digest.str, "size",
		      (json_int_t)sd.size);
	body = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(m);
	berth_digest_of(&md, BERTH_DIGEST_SHA256, body, strlen(body));
	r = berth_registry_put_manifest(reg, ref->path, md.str,
					BERTH_MT_OCI_MANIFEST, body,
					strlen(body), err);
	free(body);
	if (r == 0)
		*out = md;
out:
	berth_descriptor_release(&sd);
	return r;
}

/* The digest of the image ref names: an index resolved to the host's. */
static int
remote_image(berth_digest *out, berth_registry *reg, const berth_ref *ref,
	     berth_error **err)
{
	berth_manifest_body b = BERTH_MANIFEST_BODY_INIT;
	berth_manifest *m = NULL;
	const berth_descriptor *pick;
	berth_platform host;
	int r = berth_registry_get_manifest(&b, reg, ref->path,
					    berth_ref_reference(ref), err);

	if (r < 0)
		return r;
	r = berth_manifest_parse(&m, b.content_type, b.data, b.len, err);
	if (r == 0 && m->kind == BERTH_MANIFEST_IMAGE)
		*out = b.digest;
	else if (r == 0) {
		berth_platform_host(&host);
		r = berth_manifest_select(&pick, m, &host, err);
		if (r == 0)
			*out = pick->digest;
	}
	berth_manifest_free(m);
	berth_manifest_body_release(&b);
	return r;
}

int
berth_sbom_fetch(char **out, size_t *len, const berth_ref *ref,
		 berth_sbom_format f, const berth_registry_opts *o,
		 berth_error **err)
{
	_cleanup_(registry_freep) berth_registry *reg = NULL;
	berth_registry_answer a = BERTH_REGISTRY_ANSWER_INIT;
	berth_manifest_body mb = BERTH_MANIFEST_BODY_INIT;
	berth_manifest *idx = NULL, *m = NULL;
	const berth_descriptor *hit = NULL;
	const char *mt = berth_sbom_media_type(f);
	berth_buf doc = BERTH_BUF_INIT;
	berth_digest img;
	int r;

	if ((r = berth_registry_new(&reg, berth_ref_api_host(ref), o, err)) <
		    0 ||
	    (r = remote_image(&img, reg, ref, err)) < 0)
		return r;
	r = berth_registry_answer_get(&a, reg, ref->path, "referrers", img.str,
				      false, err);
	if (r < 0)
		return r;
	if (a.status != 200) {
		r = berth_error_set(
			err, a.status == 404 ? BERTH_ENOTFOUND : BERTH_EPROTO,
			0,
			"'%s' answered %ld to the referrers of "
			"%s",
			berth_registry_name(reg), a.status, img.str);
		berth_error_hint(err, "the registry must support the OCI "
				      "1.1 referrers API");
		goto out;
	}
	if ((r = berth_manifest_parse(&idx, BERTH_MT_OCI_INDEX, a.body, a.len,
				      err)) < 0)
		goto out;
	/* The last one listed of the document's type. */
	for (size_t i = 0; i < idx->n_manifests; i++)
		if (idx->manifests[i].artifact_type &&
		    strcmp(idx->manifests[i].artifact_type, mt) == 0)
			hit = &idx->manifests[i];
	if (hit == NULL) {
		_cleanup_free_ char *name = berth_ref_string(ref);

		r = berth_error_set(err, BERTH_ENOTFOUND, 0,
				    "no %s SBOM is attached to %s in '%s'", mt,
				    img.str, berth_registry_name(reg));
		berth_error_hint(
			err, "attach one: berth sbom --attach%s %s",
			f == BERTH_SBOM_CYCLONEDX ? " --format cyclonedx" : "",
			name);
		goto out;
	}
	if ((r = berth_registry_get_manifest(&mb, reg, ref->path,
					     hit->digest.str, err)) < 0 ||
	    (r = berth_manifest_parse(&m, mb.content_type, mb.data, mb.len,
				      err)) < 0)
		goto out;
	if (m->n_layers != 1) {
		r = berth_error_set(err, BERTH_EPROTO, 0,
				    "the SBOM manifest %s has %zu layers, not "
				    "one",
				    hit->digest.str, m->n_layers);
		goto out;
	}
	if ((r = fetch_small_blob(&doc, reg, ref->path, &m->layers[0], err)) <
	    0)
		goto out;
	*len = doc.len;
	*out = berth_buf_detach(&doc);
out:
	berth_buf_release(&doc);
	berth_manifest_free(m);
	berth_manifest_free(idx);
	berth_manifest_body_release(&mb);
	berth_registry_answer_release(&a);
	return r;
}
