/*
 * The running SHA-256 of an upload session, kept in S3 between requests
 * so that any process can continue the session or commit it without
 * reading the bytes back (S3 cannot read the parts of an unfinished
 * multipart upload). EVP hides a digest's state, so this uses OpenSSL's
 * SHA256_CTX, whose chaining value is public: the deprecation of those
 * functions is about the API's style, not their correctness.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "server/storage/s3_int.h"

#include <assert.h>
#include <inttypes.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

static void
load(SHA256_CTX *ctx, const s3_sha *s)
{
	size_t i;

	SHA256_Init(ctx);
	for (i = 0; i < 8; i++)
		ctx->h[i] = s->h[i];
	ctx->Nl = (SHA_LONG)((s->n << 3) & 0xffffffffu);
	ctx->Nh = (SHA_LONG)(s->n >> 29);
	ctx->num = 0;
}

void
s3_sha_init(s3_sha *s)
{
	SHA256_CTX ctx;
	size_t i;

	SHA256_Init(&ctx);
	for (i = 0; i < 8; i++)
		s->h[i] = ctx.h[i];
	s->n = 0;
}

void
s3_sha_update(s3_sha *s, const void *p, size_t len)
{
	SHA256_CTX ctx;
	size_t i;

	assert(len % SHA256_CBLOCK == 0);
	load(&ctx, s);
	SHA256_Update(&ctx, p, len);
	assert(ctx.num == 0);
	for (i = 0; i < 8; i++)
		s->h[i] = ctx.h[i];
	s->n += len;
}

void
s3_sha_final(const s3_sha *s, const void *tail, size_t len, berth_digest *out)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char text[8 + 2 * SHA256_DIGEST_LENGTH];
	SHA256_CTX ctx;
	size_t i;

	load(&ctx, s);
	SHA256_Update(&ctx, tail, len);
	SHA256_Final(md, &ctx);
	memcpy(text, "sha256:", 7);
	for (i = 0; i < sizeof(md); i++)
		snprintf(text + 7 + 2 * i, 3, "%02x", md[i]);
	if (berth_digest_parse(out, text, NULL) < 0)
		abort();
}

void
s3_sha_format(const s3_sha *s, char buf[96])
{
	size_t i;

	for (i = 0; i < 8; i++)
		snprintf(buf + 8 * i, 9, "%08" PRIx32, s->h[i]);
	snprintf(buf + 64, 32, ":%" PRIu64, s->n);
}

bool
s3_sha_parse(s3_sha *s, const char *text)
{
	char *end;
	size_t i, j;

	if (text == NULL || strlen(text) < 66 || text[64] != ':')
		return false;
	for (i = 0; i < 8; i++) {
		uint32_t v = 0;

		for (j = 0; j < 8; j++) {
			int dg = berth_hex_digit(text[8 * i + j]);

			if (dg < 0)
				return false;
			v = v << 4 | (uint32_t)dg;
		}
		s->h[i] = v;
	}
	s->n = strtoull(text + 65, &end, 10);
	return *end == '\0' && s->n % SHA256_CBLOCK == 0;
}
