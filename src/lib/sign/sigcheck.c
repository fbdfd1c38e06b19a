/*
 * Whether one signature of an image holds (see sigcheck.h): the rule
 * `berth verify` and berth serve's require-signatures share.
 */
#include "sign/sigcheck.h"

#include <stdlib.h>
#include <string.h>

#include "sign/sign_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

void
sign_signature_release(berth_signature *s)
{
	free(s->source);
	free(s->location);
	free(s->payload);
	free(s->identity);
	free(s->digest);
	free(s->optional);
	free(s->problem);
	memset(s, 0, sizeof(*s));
}

bool
sign_layer_read(sign_layer *out, json_t *l)
{
	const char *mt = json_string_value(json_object_get(l, "mediaType"));
	json_t *size = json_object_get(l, "size");

	memset(out, 0, sizeof(*out));
	if (mt == NULL || strcmp(mt, BERTH_MT_SIMPLESIGNING) != 0)
		return false;
	out->digest = json_string_value(json_object_get(l, "digest"));
	out->sig = json_string_value(
		json_object_get(json_object_get(l, "annotations"),
				BERTH_COSIGN_SIG_ANNOTATION));
	out->payload.media_type = NULL;
	out->malformed = out->digest == NULL ||
			 berth_digest_parse(&out->payload.digest, out->digest,
					    NULL) < 0 ||
			 !json_is_integer(size);
	if (!out->malformed)
		out->payload.size = json_integer_value(size);
	return true;
}

static void
take_problem(berth_signature *s, berth_error **e)
{
	free(s->problem);
	s->problem = xstrdup(*e ? (*e)->msg : "failed");
	berth_error_free(*e);
	*e = NULL;
}

void
sign_check_payload(const sign_check_ctx *c, berth_signature *s,
		   const char *blob, size_t len, const char *sig)
{
	berth_sign_payload_info info = {0};
	berth_error *e = NULL, *parse_err = NULL;
	int r = BERTH_ESIGNATURE;

	s->verified = false;
	if (berth_sign_payload_parse(&info, blob, len, &parse_err) == 0) {
		s->identity = steal_ptr(&info.docker_reference);
		s->digest = steal_ptr(&info.digest);
		s->optional = steal_ptr(&info.optional);
	}
	if (sig == NULL) {
		s->problem = xstrdup("no " BERTH_COSIGN_SIG_ANNOTATION
				     " annotation");
		goto out;
	}
	if (c->n_keys == 0)
		s->problem = xstrdup("no key to check it with");
	for (size_t i = 0; r < 0 && i < c->n_keys; i++) {
		berth_error_free(e);
		e = NULL;
		r = berth_verify_bytes(c->keys[i], blob, len, sig, &e);
	}
	if (r < 0) {
		if (c->n_keys > 0)
			take_problem(s, &e);
	} else if (s->digest == NULL) {
		take_problem(s, &parse_err);
	} else if (strcmp(s->digest, c->digest->str) != 0) {
		s->problem = xasprintf("the payload names '%s', the image is "
				       "'%s'",
				       s->digest, c->digest->str);
	} else {
		s->verified = true;
	}
out:
	berth_error_free(e);
	berth_error_free(parse_err);
}

void
sign_check_layer(const sign_check_ctx *c, berth_signature *s,
		 const sign_layer *l)
{
	berth_buf blob;
	berth_error *e = NULL;

	if (l->malformed) {
		s->problem = xstrdup("the layer's digest or size is malformed");
		return;
	}
	if (l->payload.size < 0 || l->payload.size > SIGN_PAYLOAD_MAX) {
		s->problem = xasprintf("payload blob of %lld bytes (over "
				       "64 KiB)",
				       (long long)l->payload.size);
		return;
	}
	if (c->fetch(&blob, c->ud, &l->payload, &e) < 0) {
		take_problem(s, &e);
		return;
	}
	sign_check_payload(c, s, berth_buf_cstr(&blob), blob.len, l->sig);
	berth_buf_release(&blob);
}

void
sign_tally_release(sign_tally *t)
{
	free(t->problem);
	memset(t, 0, sizeof(*t));
}

void
sign_check_manifest(const sign_check_ctx *c, sign_tally *t, const char *body,
		    size_t len)
{
	json_auto_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *l;
	size_t i;

	json_array_foreach(json_object_get(j, "layers"), i, l)
	{
		berth_signature s = {0};
		sign_layer sl;

		if (t->n_verified > 0 || t->n_sigs >= SIGN_TALLY_MAX)
			break;
		if (!sign_layer_read(&sl, l))
			continue;
		sign_check_layer(c, &s, &sl);
		t->n_sigs++;
		if (s.verified)
			t->n_verified++;
		else if (t->problem == NULL)
			t->problem = steal_ptr(&s.problem);
		sign_signature_release(&s);
	}
}

bool
sign_manifest_is_signature(const char *body, size_t len)
{
	json_auto_t *j = json_loadb(body, len, 0, NULL);
	json_t *layers = json_object_get(j, "layers"), *l;
	size_t i;

	if (json_array_size(layers) == 0)
		return false;
	json_array_foreach(layers, i, l)
	{
		const char *mt =
			json_string_value(json_object_get(l, "mediaType"));

		if (mt == NULL || strcmp(mt, BERTH_MT_SIMPLESIGNING) != 0)
			return false;
	}
	return true;
}
