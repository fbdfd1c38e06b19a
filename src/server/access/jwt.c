/*
 * JWS compact tokens: base64url, ES256/RS256 signing and verification, and
 * the claim checks. ES256 signatures travel as JOSE's fixed 64 bytes r||s
 * (RFC 7518 §3.4), not as the DER that OpenSSL produces and expects.
 */
#include "server/access/jwt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "server/access/jwt_int.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TOKEN_MAX (16 << 10)
#define ES256_SIG 64

char *
berth_b64url_encode(const void *p, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	int n = EVP_EncodeBlock((unsigned char *)out, p, (int)len);
	int i;

	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (i = 0; i < n; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

int
berth_b64url_decode(unsigned char **out, size_t *len, const char *s,
		    size_t slen)
{
	_cleanup_free_ char *std = NULL;
	unsigned char *bin;
	size_t i, pad = (4 - slen % 4) % 4;
	int n;

	/* Strict: the url alphabet only, no padding, no whitespace. */
	if (slen % 4 == 1)
		return BERTH_EAUTH;
	std = xmalloc(slen + pad + 1);
	for (i = 0; i < slen; i++) {
		char c = s[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			   (c >= '0' && c <= '9')))
			return BERTH_EAUTH;
		std[i] = c;
	}
	memset(std + slen, '=', pad);
	std[slen + pad] = '\0';
	bin = xmalloc((slen + pad) / 4 * 3 + 1);
	n = EVP_DecodeBlock(bin, (unsigned char *)std, (int)(slen + pad));
	if (n < 0 || (size_t)n < pad) {
		free(bin);
		return BERTH_EAUTH;
	}
	*len = (size_t)n - pad;
	*out = bin;
	return 0;
}

static const char *
alg_name(unsigned alg)
{
	return alg == BERTH_JWT_ES256 ? "ES256" : "RS256";
}

/* DER ECDSA-Sig-Value -> 64 bytes r||s. */
static bool
der_to_raw(unsigned char raw[ES256_SIG], const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	bool ok;

	if (sig == NULL)
		return false;
	ECDSA_SIG_get0(sig, &r, &s);
	ok = BN_bn2binpad(r, raw, 32) == 32 &&
	     BN_bn2binpad(s, raw + 32, 32) == 32;
	ECDSA_SIG_free(sig);
	return ok;
}

/* 64 bytes r||s -> DER (caller OPENSSL_frees). */
static int
raw_to_der(unsigned char **der, const unsigned char *raw)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, 32, NULL),
	       *s = BN_bin2bn(raw + 32, 32, NULL);
	int len;

	if (sig == NULL || r == NULL || s == NULL ||
	    ECDSA_SIG_set0(sig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return -1;
	}
	*der = NULL;
	len = i2d_ECDSA_SIG(sig, der);
	ECDSA_SIG_free(sig);
	return len;
}

int
berth_jwt_sign(char **out, const berth_jwt_keys *ks, json_t *claims,
	       berth_error **err)
{
	const jwt_key *k;
	json_auto_t *hdr = NULL;
	_cleanup_free_ char *h = NULL, *p = NULL, *hj = NULL, *pj = NULL;
	_cleanup_free_ char *input = NULL, *sig64 = NULL;
	unsigned char *sig = NULL, raw[ES256_SIG];
	EVP_MD_CTX *ctx = NULL;
	size_t siglen = 0;
	int rc = 0;

	if (!ks->has_signer)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "no key to sign tokens with");
	k = &ks->keys[ks->signer];
	hdr = json_pack("{s:s, s:s, s:s}", "typ", "JWT", "alg",
			alg_name(k->alg), "kid", k->kid);
	hj = json_dumps(hdr, JSON_COMPACT);
	pj = json_dumps(claims, JSON_COMPACT);
	if (hj == NULL || pj == NULL)
		abort();
	h = berth_b64url_encode(hj, strlen(hj));
	p = berth_b64url_encode(pj, strlen(pj));
	input = xasprintf("%s.%s", h, p);
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, (unsigned char *)input,
			   strlen(input)) != 1) {
		rc = berth_error_set(err, BERTH_EIO, 0, "cannot sign a token");
		goto out;
	}
	sig = xmalloc(siglen);
	if (EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)input,
			   strlen(input)) != 1) {
		rc = berth_error_set(err, BERTH_EIO, 0, "cannot sign a token");
		goto out;
	}
	if (k->alg == BERTH_JWT_ES256) {
		if (!der_to_raw(raw, sig, siglen)) {
			rc = berth_error_set(err, BERTH_EIO, 0,
					     "cannot encode a signature");
			goto out;
		}
		sig64 = berth_b64url_encode(raw, sizeof(raw));
	} else {
		sig64 = berth_b64url_encode(sig, siglen);
	}
	*out = xasprintf("%s.%s", input, sig64);
out:
	free(sig);
	EVP_MD_CTX_free(ctx);
	return rc;
}

static bool
sig_ok(const jwt_key *k, const char *input, size_t ilen,
       const unsigned char *sig, size_t slen)
{
	unsigned char *der = NULL;
	EVP_MD_CTX *ctx;
	int dlen = (int)slen;
	bool ok = false;

	if (k->alg == BERTH_JWT_ES256) {
		/* Exactly r||s: DER or any other length is refused. */
		if (slen != ES256_SIG)
			return false;
		dlen = raw_to_der(&der, sig);
		if (dlen < 0)
			return false;
	}
	ctx = EVP_MD_CTX_new();
	if (ctx &&
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1)
		ok = EVP_DigestVerify(ctx, der ? der : sig, (size_t)dlen,
				      (const unsigned char *)input, ilen) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return ok;
}

static json_t *
decode_json(const char *s, size_t len)
{
	unsigned char *raw = NULL;
	size_t n = 0;
	json_t *j;

	if (berth_b64url_decode(&raw, &n, s, len) < 0)
		return NULL;
	j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Checks the header; sets *alg. */
static int
check_header(json_t *hdr, const berth_jwt_check *chk, unsigned *alg,
	     const char **kid, berth_error **err)
{
	const char *a = json_string_value(json_object_get(hdr, "alg"));

	if (a == NULL)
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token header has no 'alg'");
	if (strcmp(a, "ES256") == 0)
		*alg = BERTH_JWT_ES256;
	else if (strcmp(a, "RS256") == 0)
		*alg = BERTH_JWT_RS256;
	else
		*alg = 0;
	if (*alg == 0 || !(chk->algs & *alg))
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token algorithm '%.20s' is not "
				       "accepted",
				       a);
	/* Extensions we do not understand must not be ignored (RFC 7515). */
	if (json_object_get(hdr, "crit"))
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token header has critical extensions");
	*kid = json_string_value(json_object_get(hdr, "kid"));
	return 0;
}

static bool
aud_ok(json_t *aud, const char *want)
{
	size_t i;
	json_t *v;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	json_array_foreach(aud, i, v)
	{
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), want) == 0)
			return true;
	}
	return false;
}

static int
check_claims(json_t *c, const berth_jwt_check *chk, berth_error **err)
{
	json_t *exp = json_object_get(c, "exp"),
	       *nbf = json_object_get(c, "nbf");
	json_t *iat = json_object_get(c, "iat");
	const char *iss = json_string_value(json_object_get(c, "iss"));

	if (!json_is_integer(exp))
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token has no expiry");
	if (chk->now > json_integer_value(exp) + chk->skew)
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token has expired");
	if (nbf && (!json_is_integer(nbf) ||
		    chk->now + chk->skew < json_integer_value(nbf)))
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token is not valid yet");
	if (iat && (!json_is_integer(iat) ||
		    chk->now + chk->skew < json_integer_value(iat)))
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token was issued in the future");
	if (chk->issuer && (iss == NULL || strcmp(iss, chk->issuer) != 0))
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token issuer '%.100s' is not trusted",
				       iss ? iss : "");
	if (chk->audience && !aud_ok(json_object_get(c, "aud"), chk->audience))
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token is not meant for service '%s'",
				       chk->audience);
	return 0;
}

int
berth_jwt_verify(json_t **claims, const berth_jwt_keys *ks, const char *token,
		 const berth_jwt_check *chk, berth_error **err)
{
	const char *dot1, *dot2, *kid = NULL;
	json_auto_t *hdr = NULL, *payload = NULL;
	_cleanup_free_ unsigned char *sig = NULL;
	size_t tlen = strlen(token), slen = 0, i;
	unsigned alg = 0;
	bool ok = false;

	if (tlen > TOKEN_MAX)
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token is too long");
	dot1 = strchr(token, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (dot1 == NULL || dot2 == NULL || strchr(dot2 + 1, '.'))
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token is not a signed JWT");
	hdr = decode_json(token, (size_t)(dot1 - token));
	if (hdr == NULL)
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token header is not base64url JSON");
	if (check_header(hdr, chk, &alg, &kid, err) < 0)
		return BERTH_EAUTH;
	if (berth_b64url_decode(&sig, &slen, dot2 + 1, strlen(dot2 + 1)) < 0 ||
	    slen == 0)
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token signature is not base64url");
	/* The key named by kid; without one, any key of the algorithm. */
	for (i = 0; i < ks->n && !ok; i++) {
		const jwt_key *k = &ks->keys[i];

		if (k->alg != alg || (kid && strcmp(kid, k->kid) != 0))
			continue;
		ok = sig_ok(k, token, (size_t)(dot2 - token), sig, slen);
	}
	for (i = 0; kid && i < ks->n && !ok; i++) {
		const jwt_key *k = &ks->keys[i];

		/* An unknown kid (another naming scheme): try every key. */
		if (k->alg == alg && strcmp(kid, k->kid) != 0)
			ok = sig_ok(k, token, (size_t)(dot2 - token), sig,
				    slen);
	}
	if (!ok)
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token signature does not verify");
	payload = decode_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (payload == NULL)
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token claims are not base64url JSON");
	if (check_claims(payload, chk, err) < 0)
		return BERTH_EAUTH;
	*claims = steal_ptr(&payload);
	return 0;
}
