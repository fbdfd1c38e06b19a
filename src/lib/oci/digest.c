/*
 * Content digests and streaming hashers over OpenSSL's EVP interface, which
 * picks the fastest implementation the CPU offers (SHA-NI, AVX2).
 */
#include "berth/digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"

struct berth_hasher {
	berth_digest_alg alg;
	EVP_MD_CTX *ctx;
};

static const struct {
	const char *name; /* with the trailing ':' */
	size_t hex_len;
} algs[] = {
	[BERTH_DIGEST_SHA256] = {"sha256:", 64},
	[BERTH_DIGEST_SHA512] = {"sha512:", 128},
};

static const EVP_MD *
alg_md(berth_digest_alg alg)
{
	return alg == BERTH_DIGEST_SHA512 ? EVP_sha512() : EVP_sha256();
}

const char *
berth_digest_alg_name(berth_digest_alg alg)
{
	return alg == BERTH_DIGEST_SHA512 ? "sha512" : "sha256";
}

static bool
is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Returns the algorithm of a well-formed digest, or -1. */
static int
digest_check(const char *s)
{
	for (size_t a = 0; a < BERTH_ARRAY_SIZE(algs); a++) {
		size_t pl = strlen(algs[a].name);

		if (strncmp(s, algs[a].name, pl) != 0)
			continue;
		if (strlen(s + pl) != algs[a].hex_len ||
		    !is_lower_hex(s + pl, algs[a].hex_len))
			return -1;
		return (int)a;
	}
	return -1;
}

bool
berth_digest_valid(const char *s)
{
	return s != NULL && digest_check(s) >= 0;
}

int
berth_digest_parse(berth_digest *out, const char *s, berth_error **err)
{
	_cleanup_free_ char *q = NULL;
	const char *colon;
	int a;

	if (s == NULL || *s == '\0')
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "invalid digest '': digest is empty");
	a = digest_check(s);
	if (a >= 0) {
		out->alg = (berth_digest_alg)a;
		memcpy(out->str, s, strlen(s) + 1);
		return 0;
	}
	q = berth_str_quote(s, strlen(s), 91);
	colon = strchr(s, ':');
	if (colon == NULL)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "invalid digest '%s': expected "
				       "'sha256:' or 'sha512:' and hex digits",
				       q);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(algs); i++)
		if (strncmp(s, algs[i].name, strlen(algs[i].name)) == 0)
			return berth_error_set(
				err, BERTH_EPROTO, 0,
				"invalid digest '%s': expected %zu lowercase "
				"hex digits after '%s'",
				q, algs[i].hex_len, algs[i].name);
	return berth_error_set(err, BERTH_EPROTO, 0,
			       "invalid digest '%s': algorithm '%.*s' is not "
			       "supported (only sha256 and sha512)",
			       q, (int)(colon - s < 32 ? colon - s : 32), q);
}

const char *
berth_digest_hex(const berth_digest *d)
{
	const char *c = strchr(d->str, ':');

	return c ? c + 1 : d->str;
}

static void
to_hex(berth_digest *out, berth_digest_alg alg, const unsigned char *md,
       unsigned int n)
{
	static const char hex[] = "0123456789abcdef";
	size_t pl = strlen(algs[alg].name);

	out->alg = alg;
	memcpy(out->str, algs[alg].name, pl);
	if (pl + 2 * (size_t)n >= BERTH_DIGEST_MAX)
		abort();
	for (unsigned int i = 0; i < n; i++) {
		out->str[pl + 2 * i] = hex[md[i] >> 4];
		out->str[pl + 2 * i + 1] = hex[md[i] & 0xf];
	}
	out->str[pl + 2 * n] = '\0';
}

void
berth_digest_of(berth_digest *out, berth_digest_alg alg, const void *p,
		size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(p, len, md, &n, alg_md(alg), NULL) != 1)
		abort(); /* only fails on allocation failure */
	to_hex(out, alg, md, n);
}

berth_hasher *
berth_hasher_new(berth_digest_alg alg)
{
	berth_hasher *h = xcalloc(1, sizeof(*h));

	h->alg = alg;
	h->ctx = EVP_MD_CTX_new();
	if (h->ctx == NULL)
		abort();
	berth_hasher_reset(h);
	return h;
}

void
berth_hasher_update(berth_hasher *h, const void *p, size_t len)
{
	if (len && EVP_DigestUpdate(h->ctx, p, len) != 1)
		abort();
}

void
berth_hasher_final(berth_digest *out, berth_hasher *h)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1)
		abort();
	to_hex(out, h->alg, md, n);
}

void
berth_hasher_reset(berth_hasher *h)
{
	if (EVP_DigestInit_ex(h->ctx, alg_md(h->alg), NULL) != 1)
		abort();
}

void
berth_hasher_free(berth_hasher *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}
