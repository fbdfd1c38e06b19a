/*
 * JSON Web Tokens (RFC 7519) in JWS compact form, as the Docker registry
 * token specification uses them: ES256 (ECDSA P-256, with JOSE's raw r||s
 * signature) and RS256, through OpenSSL EVP and jansson.
 *
 * A key set holds the keys tokens may be verified with (each with its
 * `kid`, libtrust's fingerprint format, so distribution can verify berth's
 * tokens and the other way round) and at most one signing key. Keys never
 * leave the set; verification is thread-safe.
 */
#ifndef BERTH_SERVER_ACCESS_JWT_H
#define BERTH_SERVER_ACCESS_JWT_H

#include <stdint.h>

#include <jansson.h>

#include "berth/common.h"

enum berth_jwt_alg {
	BERTH_JWT_ES256 = 1 << 0,
	BERTH_JWT_RS256 = 1 << 1,
};

typedef struct berth_jwt_keys berth_jwt_keys;

berth_jwt_keys *berth_jwt_keys_new(void);
void berth_jwt_keys_free(berth_jwt_keys *ks);

/*
 * Adds the keys of a PEM file: private keys, public keys and certificates
 * (their public key), any number of each. With `sign`, the file's first
 * private key becomes the signing key. BERTH_EUSAGE when the file holds no
 * usable key (EC P-256 or RSA of at least 2048 bits).
 */
int berth_jwt_keys_add_pem(berth_jwt_keys *ks, const char *path, bool sign,
			   berth_error **err);

/*
 * The built-in issuer's keys under `dir` (created 0700): `signing.pem` is
 * the signing key, generated (EC P-256, mode 0600) when absent; every other
 * `*.pem` there is an earlier key kept for verification, so tokens it
 * signed stay valid until they expire.
 */
int berth_jwt_keys_load_dir(berth_jwt_keys *ks, const char *dir,
			    berth_error **err);

/* Number of keys; the signing key's kid (NULL when there is none). */
size_t berth_jwt_keys_count(const berth_jwt_keys *ks);
const char *berth_jwt_keys_signing_kid(const berth_jwt_keys *ks);

/* Signs `claims` with the signing key; *out is the token (caller frees). */
int berth_jwt_sign(char **out, const berth_jwt_keys *ks, json_t *claims,
		   berth_error **err);

/* What a verified token must satisfy. */
typedef struct berth_jwt_check {
	unsigned algs;	      /* enum berth_jwt_alg accepted */
	const char *issuer;   /* required `iss` */
	const char *audience; /* required in `aud` */
	int64_t now;	      /* seconds since the epoch */
	int64_t skew;	      /* seconds of clock difference tolerated */
} berth_jwt_check;

/*
 * Verifies a compact JWS token: structure, `alg` (never "none", only
 * those in chk->algs, and matching the key's type), the signature by a key
 * of the set, `exp` (required), `nbf` and `iat`, `iss` and `aud`. On
 * success *claims is the payload (caller decrefs). Every failure is
 * BERTH_EAUTH with a message saying which check failed.
 */
int berth_jwt_verify(json_t **claims, const berth_jwt_keys *ks,
		     const char *token, const berth_jwt_check *chk,
		     berth_error **err);

/* base64url without padding (RFC 7515 §2); exposed for the tests. */
char *berth_b64url_encode(const void *p, size_t len);
int berth_b64url_decode(unsigned char **out, size_t *len, const char *s,
			size_t slen);

#endif
