/*
 * Image signatures in sigstore/cosign's format, so that `cosign verify
 * --key` and containers/image's `sigstoreSigned` policy accept what berth
 * writes, and berth verifies what they wrote:
 *
 * - keys: cosign's encrypted private key (PEM "ENCRYPTED SIGSTORE PRIVATE
 *   KEY", older cosign "ENCRYPTED COSIGN PRIVATE KEY": a JSON document with
 *   scrypt key derivation and a NaCl secretbox around a PKCS#8 key), the
 *   public key as PEM "PUBLIC KEY";
 * - payloads: the simple-signing JSON naming the manifest digest, signed
 *   as SHA-256 with ECDSA (DER, base64 in the layer annotation
 *   dev.cosignproject.cosign/signature);
 * - storage: the layers of the manifest tagged sha256-<hex>.sig beside the
 *   image, and an OCI 1.1 referrer of the image where the registry has the
 *   referrers API.
 */
#ifndef BERTH_SIGN_H
#define BERTH_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/common.h"
#include "berth/digest.h"
#include "berth/ref.h"
#include "berth/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BERTH_MT_SIMPLESIGNING                                                 \
	"application/vnd.dev.cosign.simplesigning.v1+json"
#define BERTH_COSIGN_SIG_ANNOTATION "dev.cosignproject.cosign/signature"
/* The artifactType of a signature stored as a referrer (cosign's). */
#define BERTH_COSIGN_SIG_ARTIFACT                                              \
	"application/vnd.dev.cosign.artifact.sig.v1+json"
/* The payload's critical.type. */
#define BERTH_COSIGN_SIG_TYPE "cosign container image signature"

/* A private key (signs and verifies) or a public key (verifies). */
typedef struct berth_sign_key berth_sign_key;

BERTH_EXTERN void berth_sign_key_free(berth_sign_key *k);

static inline void
berth_sign_key_freep(berth_sign_key **k)
{
	berth_sign_key_free(*k);
	*k = NULL;
}

/*
 * A new ECDSA P-256 key pair as cosign's generate-key-pair writes it:
 * *priv_pem the private key encrypted with `pass` (scrypt N=32768 r=8
 * p=1, random salt and nonce) in PEM "ENCRYPTED SIGSTORE PRIVATE KEY",
 * *pub_pem PEM "PUBLIC KEY". The caller frees both.
 */
BERTH_EXTERN int berth_key_generate(char **priv_pem, char **pub_pem,
				    const char *pass, size_t pass_len,
				    berth_error **err);

/*
 * Decrypts a private key in cosign's encrypted PEM (either label). A
 * wrong passphrase is BERTH_EAUTH; a block that is not cosign's format,
 * or a key inside that OpenSSL cannot use, BERTH_EUSAGE. `what` names the
 * key in messages (its file name).
 */
BERTH_EXTERN int berth_key_load_private(berth_sign_key **out, const char *pem,
					size_t len, const char *pass,
					size_t pass_len, const char *what,
					berth_error **err);

/* A public key from PEM "PUBLIC KEY" (SubjectPublicKeyInfo). */
BERTH_EXTERN int berth_key_load_public(berth_sign_key **out, const char *pem,
				       size_t len, const char *what,
				       berth_error **err);

/* The public half as PEM "PUBLIC KEY"; caller frees. */
BERTH_EXTERN int berth_key_public_pem(char **out, const berth_sign_key *k,
				      berth_error **err);

/*
 * Signs the SHA-256 of p[0..len) with a private key: *out is the DER
 * signature in base64 (caller frees).
 */
BERTH_EXTERN int berth_sign_bytes(char **out, const berth_sign_key *k,
				  const void *p, size_t len, berth_error **err);

/* 0 when sig_b64 is a signature of p[0..len) by k, else BERTH_ESIGNATURE. */
BERTH_EXTERN int berth_verify_bytes(const berth_sign_key *k, const void *p,
				    size_t len, const char *sig_b64,
				    berth_error **err);

/*
 * The simple-signing payload, byte for byte as cosign writes it:
 * {"critical":{"identity":{"docker-reference":REF},"image":
 * {"docker-manifest-digest":DIGEST},"type":"cosign container image
 * signature"},"optional":null}. Caller frees.
 */
BERTH_EXTERN char *berth_sign_payload(const char *docker_reference,
				      const char *digest);

/* The docker-reference cosign writes for an image: its repository with
 * the registry ("index.docker.io/library/nginx" for Docker Hub). */
BERTH_EXTERN char *berth_sign_identity(const berth_ref *ref);

typedef struct berth_sign_payload_info {
	char *docker_reference;
	char *digest;	/* critical.image.docker-manifest-digest */
	char *optional; /* the "optional" object as JSON, or NULL */
} berth_sign_payload_info;

/*
 * Parses a payload as containers/image does, strictly: critical with
 * exactly identity, image and type (the type cosign's), a valid digest;
 * optional null or an object. BERTH_EPROTO otherwise.
 */
BERTH_EXTERN int berth_sign_payload_parse(berth_sign_payload_info *out,
					  const char *p, size_t len,
					  berth_error **err);
BERTH_EXTERN void berth_sign_payload_info_release(berth_sign_payload_info *i);

typedef struct berth_sign_opts {
	unsigned version;		     /* BERTH_SIGN_OPTS_VERSION */
	const berth_registry_opts *registry; /* NULL: defaults */
	bool no_referrer; /* the .sig tag only, even with a referrers API */
} berth_sign_opts;

#define BERTH_SIGN_OPTS_VERSION 1
#define BERTH_SIGN_OPTS_INIT                                                   \
	{                                                                      \
		BERTH_SIGN_OPTS_VERSION, NULL, false                           \
	}

typedef struct berth_sign_result {
	unsigned version;      /* BERTH_SIGN_RESULT_VERSION */
	berth_digest digest;   /* the signed manifest */
	char *identity;	       /* the payload's docker-reference */
	char *sig_tag;	       /* "sha256-<hex>.sig" */
	size_t n_signatures;   /* layers of the .sig manifest now */
	bool referrers_api;    /* the registry answered the referrers API */
	berth_digest referrer; /* the referrer pushed, when referrers_api */
} berth_sign_result;

#define BERTH_SIGN_RESULT_VERSION 1
#define BERTH_SIGN_RESULT_INIT                                                 \
	{                                                                      \
		BERTH_SIGN_RESULT_VERSION, {BERTH_DIGEST_SHA256, ""}, NULL,    \
			NULL, 0, false,                                        \
		{                                                              \
			BERTH_DIGEST_SHA256, ""                                \
		}                                                              \
	}

BERTH_EXTERN void berth_sign_result_release(berth_sign_result *r);

/*
 * Signs the manifest `ref` names in its registry with private key `key`:
 * the payload blob goes up, the sha256-<hex>.sig manifest gets it as one
 * more layer (created when missing; its other signatures are kept), and
 * where the registry answers the referrers API the signature is also
 * pushed as a referrer (subject: the image).
 */
BERTH_EXTERN int berth_sign_image(berth_sign_result *out, const berth_ref *ref,
				  const berth_sign_key *key,
				  const berth_sign_opts *opts,
				  berth_error **err);

/* One signature found for an image. */
typedef struct berth_signature {
	char *source;	/* "tag" or "referrer" */
	char *location; /* "sha256-<hex>.sig" or the referrer's digest */
	char *payload;	/* the payload blob's digest */
	char *identity; /* docker-reference, or NULL when unreadable */
	char *digest;	/* the digest the payload names, or NULL */
	char *optional; /* JSON, or NULL */
	bool verified;	/* key, payload and digest all check out */
	char *problem;	/* why not, when !verified */
} berth_signature;

typedef struct berth_verify_result {
	unsigned version;    /* BERTH_VERIFY_RESULT_VERSION */
	berth_digest digest; /* the image's manifest now */
	bool referrers_api;
	berth_signature *sigs;
	size_t n_sigs, n_verified;
} berth_verify_result;

#define BERTH_VERIFY_RESULT_VERSION 1
#define BERTH_VERIFY_RESULT_INIT                                               \
	{                                                                      \
		BERTH_VERIFY_RESULT_VERSION, {BERTH_DIGEST_SHA256, ""}, false, \
			NULL, 0, 0                                             \
	}

BERTH_EXTERN void berth_verify_result_release(berth_verify_result *r);

/*
 * Finds every signature of the manifest `ref` names now (the .sig tag's
 * layers and the referrers of cosign's artifactType) and checks each
 * against public key `key` and the digest. *out lists them all; the
 * return is 0 when at least one verified, else BERTH_ESIGNATURE saying
 * why (none found, or why each failed).
 */
BERTH_EXTERN int berth_verify_image(berth_verify_result *out,
				    const berth_ref *ref,
				    const berth_sign_key *key,
				    const berth_sign_opts *opts,
				    berth_error **err);

/* The same check over the signatures of a known digest in an open
 * client (for pull's policy). */
BERTH_EXTERN int berth_verify_digest(berth_verify_result *out,
				     berth_registry *reg, const char *repo,
				     const berth_digest *digest,
				     const berth_sign_key *const *keys,
				     size_t n_keys, berth_error **err);

#ifdef __cplusplus
}
#endif
#endif
