/*
 * The simple-signing payload: what is signed. Written byte for byte as
 * cosign (sigstore's payload.Cosign) writes it, so that a signature made
 * by berth and one made by cosign over the same image are of the same
 * bytes; read as strictly as containers/image reads it (no unknown keys
 * in "critical"), since its fields decide what is trusted.
 */
#include "sign/sign_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/json.h"
#include "util/xalloc.h"

char *
berth_sign_payload(const char *docker_reference, const char *digest)
{
	json_auto_t *j =
		json_pack("{s:{s:{s:s},s:{s:s},s:s},s:n}", "critical",
			  "identity", "docker-reference", docker_reference,
			  "image", "docker-manifest-digest", digest, "type",
			  BERTH_COSIGN_SIG_TYPE, "optional");
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (s == NULL)
		abort(); /* out of memory, or a string that is not UTF-8 */
	return s;
}

char *
berth_sign_identity(const berth_ref *ref)
{
	/* go-containerregistry names Docker Hub's registry so. */
	const char *reg = strcmp(ref->domain, "docker.io") == 0
				  ? "index.docker.io"
				  : ref->domain;

	return xasprintf("%s/%s", reg, ref->path);
}

void
berth_sign_payload_info_release(berth_sign_payload_info *i)
{
	if (i == NULL)
		return;
	free(i->docker_reference);
	free(i->digest);
	free(i->optional);
	memset(i, 0, sizeof(*i));
}

/* An object whose keys are exactly `keys` (NULL-terminated). */
static bool
exact_keys(json_t *o, const char *const *keys)
{
	size_t n = 0;

	if (!json_is_object(o))
		return false;
	for (; keys[n]; n++)
		if (json_object_get(o, keys[n]) == NULL)
			return false;
	return json_object_size(o) == n;
}

static int
bad(berth_error **err, const char *why)
{
	return berth_error_set(err, BERTH_EPROTO, 0,
			       "signature payload is not a simple-signing "
			       "payload: %s",
			       why);
}

int
berth_sign_payload_parse(berth_sign_payload_info *out, const char *p,
			 size_t len, berth_error **err)
{
	static const char *const top[] = {"critical", "optional", NULL};
	static const char *const crit[] = {"identity", "image", "type", NULL};
	static const char *const ident[] = {"docker-reference", NULL};
	static const char *const image[] = {"docker-manifest-digest", NULL};
	json_auto_t *j = NULL;
	json_error_t jerr;
	json_t *c, *opt;
	const char *type, *ref, *dig;

	if (len > SIGN_PAYLOAD_MAX)
		return bad(err, "larger than 64 KiB");
	j = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		_cleanup_free_ char *why = berth_json_why(&jerr);

		return berth_error_set(err, BERTH_EPROTO, 0,
				       "signature payload is not valid JSON: "
				       "%s",
				       why);
	}
	if (!json_is_object(j))
		return bad(err, "not a JSON object");
	/* "optional" may be absent (containers/image writes it, cosign
	 * writes null). */
	if (!exact_keys(j, top) &&
	    !(json_object_size(j) == 1 && json_object_get(j, "critical")))
		return bad(err, "keys other than 'critical' and 'optional'");
	c = json_object_get(j, "critical");
	if (!exact_keys(c, crit))
		return bad(err, "'critical' must hold exactly 'identity', "
				"'image' and 'type'");
	type = json_string_value(json_object_get(c, "type"));
	if (type == NULL || strcmp(type, BERTH_COSIGN_SIG_TYPE) != 0)
		return bad(err,
			   "critical.type is not '" BERTH_COSIGN_SIG_TYPE "'");
	if (!exact_keys(json_object_get(c, "identity"), ident) ||
	    !exact_keys(json_object_get(c, "image"), image))
		return bad(err, "'identity' must hold exactly "
				"'docker-reference', 'image' exactly "
				"'docker-manifest-digest'");
	ref = json_string_value(json_object_get(json_object_get(c, "identity"),
						"docker-reference"));
	dig = json_string_value(json_object_get(json_object_get(c, "image"),
						"docker-manifest-digest"));
	if (ref == NULL || dig == NULL)
		return bad(err, "docker-reference and docker-manifest-digest "
				"must be strings");
	if (!berth_digest_valid(dig))
		return bad(err, "docker-manifest-digest is not a digest");
	opt = json_object_get(j, "optional");
	if (opt && !json_is_null(opt) && !json_is_object(opt))
		return bad(err, "'optional' is neither null nor an object");
	memset(out, 0, sizeof(*out));
	out->docker_reference = xstrdup(ref);
	out->digest = xstrdup(dig);
	if (json_is_object(opt)) {
		out->optional = json_dumps(opt, JSON_COMPACT | JSON_SORT_KEYS);
		if (out->optional == NULL)
			abort();
	}
	return 0;
}
