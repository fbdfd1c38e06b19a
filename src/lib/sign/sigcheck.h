/*
 * Whether a signature of an image holds: one home for the rule that
 * `berth verify` (verify.c, signatures fetched from a registry) and
 * `berth serve`'s require-signatures rules (signatures read from the
 * server's own storage) both apply. Where the bytes come from is the
 * caller's: a fetch callback reads a payload blob.
 *
 * A signature holds when the payload blob (at most SIGN_PAYLOAD_MAX
 * bytes) verifies against one of the keys with the layer's
 * dev.cosignproject.cosign/signature annotation, parses as cosign's
 * simple-signing payload, and names the image's digest.
 */
#ifndef BERTH_LIB_SIGN_SIGCHECK_H
#define BERTH_LIB_SIGN_SIGCHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "berth/manifest.h"
#include "berth/sign.h"
#include "util/buf.h"

/* Payload blobs larger than this are refused before they are fetched. */
#define SIGN_PAYLOAD_MAX (64 * 1024)

/* cosign's tag for the signatures of manifest d: "sha256-<hex>.sig";
 * caller frees. */
char *sign_sig_tag(const berth_digest *d);

/* Reads the payload blob `d` into *out (the caller's on success; the
 * callee checks its digest). */
typedef int (*sign_fetch_fn)(berth_buf *out, void *ud,
			     const berth_descriptor *d, berth_error **err);

typedef struct sign_check_ctx {
	const berth_digest *digest; /* the image's manifest */
	const berth_sign_key *const *keys;
	size_t n_keys;
	sign_fetch_fn fetch;
	void *ud;
} sign_check_ctx;

/* One layer of a signature manifest, borrowed from its JSON. */
typedef struct sign_layer {
	const char *digest;	  /* the payload blob's, as written, or NULL */
	const char *sig;	  /* the signature annotation, or NULL */
	berth_descriptor payload; /* valid unless `malformed` */
	bool malformed;		  /* the digest or size is not one */
} sign_layer;

/* Reads layer l of a signature manifest: false when it is no signature
 * (another media type: attestations share the scheme). */
bool sign_layer_read(sign_layer *out, json_t *l);

/*
 * Checks the payload `blob` and signature `sig` (NULL: none) of one
 * signature: fills s->identity, s->digest, s->optional from the payload
 * and s->verified, or s->problem saying why not. s is the caller's.
 */
void sign_check_payload(const sign_check_ctx *c, berth_signature *s,
			const char *blob, size_t len, const char *sig);

/* sign_check_payload for a layer, its payload fetched through c->fetch
 * (refused unread past SIGN_PAYLOAD_MAX). */
void sign_check_layer(const sign_check_ctx *c, berth_signature *s,
		      const sign_layer *l);

/* Frees what s holds (not s). */
void sign_signature_release(berth_signature *s);

/* What the signatures of a few signature manifests came to. */
typedef struct sign_tally {
	size_t n_sigs, n_verified;
	char *problem; /* the first failed signature's, or NULL */
} sign_tally;

void sign_tally_release(sign_tally *t);

/* Signatures one tally checks at most: a pusher must not make every pull
 * check thousands. */
#define SIGN_TALLY_MAX 256

/* The signature layers of the signature manifest `body` checked, added
 * to *t, until one verifies (or SIGN_TALLY_MAX were checked). A body
 * that is not JSON adds nothing. */
void sign_check_manifest(const sign_check_ctx *c, sign_tally *t,
			 const char *body, size_t len);

/* True when `body` is a cosign signature manifest: it has layers and
 * every one is of the simple-signing media type. */
bool sign_manifest_is_signature(const char *body, size_t len);

#endif
