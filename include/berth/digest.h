/*
 * Content digests ("sha256:<64 hex>", "sha512:<128 hex>") and streaming
 * hashers over OpenSSL's EVP (SHA-NI where the CPU has it).
 */
#ifndef BERTH_DIGEST_H
#define BERTH_DIGEST_H

#include "berth/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum berth_digest_alg {
	BERTH_DIGEST_SHA256 = 0,
	BERTH_DIGEST_SHA512 = 1,
} berth_digest_alg;

/* Long enough for "sha512:" + 128 hex + NUL. */
#define BERTH_DIGEST_MAX 136

/* Frozen (see berth/common.h): an algorithm and its canonical string,
 * which fits BERTH_DIGEST_MAX for every algorithm the OCI spec registers. */
typedef struct berth_digest {
	berth_digest_alg alg;
	char str[BERTH_DIGEST_MAX]; /* canonical "alg:hex", lowercase */
} berth_digest;

/*
 * Validates and copies a digest string. Only sha256 and sha512 with the
 * exact hex length are accepted; the error names the offending string.
 */
BERTH_EXTERN int berth_digest_parse(berth_digest *out, const char *s,
				    berth_error **err);

/* True when s is a well-formed sha256/sha512 digest. */
BERTH_EXTERN bool berth_digest_valid(const char *s);

/* The hex part of a parsed digest ("sha256:ab.." -> "ab.."). */
BERTH_EXTERN const char *berth_digest_hex(const berth_digest *d);

/* Name of the algorithm as it appears in digests and blob paths. */
BERTH_EXTERN const char *berth_digest_alg_name(berth_digest_alg alg);

/* Digest of a memory buffer. */
BERTH_EXTERN void berth_digest_of(berth_digest *out, berth_digest_alg alg,
				  const void *p, size_t len);

typedef struct berth_hasher berth_hasher;

/* A streaming hasher; free with berth_hasher_free. */
BERTH_EXTERN berth_hasher *berth_hasher_new(berth_digest_alg alg);
BERTH_EXTERN void berth_hasher_update(berth_hasher *h, const void *p,
				      size_t len);
/* Finishes the hash into *out; the hasher may then only be freed or reset. */
BERTH_EXTERN void berth_hasher_final(berth_digest *out, berth_hasher *h);
BERTH_EXTERN void berth_hasher_reset(berth_hasher *h);
BERTH_EXTERN void berth_hasher_free(berth_hasher *h);

#ifdef __cplusplus
}
#endif
#endif
