/*
 * Presigned GET URLs: AWS Signature V4 with query parameters, written
 * from AWS's "Authenticating Requests: Using Query Parameters". libcurl
 * signs requests it sends, not URLs for others to use, so this one thing
 * is computed here, with OpenSSL's HMAC-SHA256.
 */
#include "server/storage/s3_int.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "berth/digest.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

static void
hmac(unsigned char out[32], const void *key, size_t klen, const char *msg)
{
	unsigned int n = 32;

	if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg,
		 strlen(msg), out, &n) == NULL)
		abort();
}

static void
hex(char *out, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

char *
s3_presign(const s3_presign_in *in)
{
	_cleanup_free_ char *cred = NULL, *ecred = NULL, *etok = NULL;
	_cleanup_free_ char *query = NULL, *canon = NULL, *sts = NULL;
	_cleanup_free_ char *k0 = xasprintf("AWS4%s", in->secret_key);
	unsigned char k[32], sig[32];
	char date[9], stamp[17], sighex[65];
	struct tm tm;
	time_t t = (time_t)in->now;
	berth_digest d;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y%m%d", &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	cred = xasprintf("%s/%s/%s/s3/aws4_request", in->access_key, date,
			 in->region);
	ecred = s3_uri_encode(cred, false);
	if (in->session_token)
		etok = s3_uri_encode(in->session_token, false);
	/* The parameters in byte order, as the canonical query wants. */
	query = xasprintf("X-Amz-Algorithm=AWS4-HMAC-SHA256"
			  "&X-Amz-Credential=%s&X-Amz-Date=%s"
			  "&X-Amz-Expires=%ld%s%s&X-Amz-SignedHeaders=host",
			  ecred, stamp, in->ttl,
			  etok ? "&X-Amz-Security-Token=" : "",
			  etok ? etok : "");
	canon = xasprintf("GET\n%s\n%s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD",
			  in->path, query, in->host);
	berth_digest_of(&d, BERTH_DIGEST_SHA256, canon, strlen(canon));
	sts = xasprintf("AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s",
			stamp, date, in->region, berth_digest_hex(&d));
	hmac(k, k0, strlen(k0), date);
	hmac(k, k, 32, in->region);
	hmac(k, k, 32, "s3");
	hmac(k, k, 32, "aws4_request");
	hmac(sig, k, 32, sts);
	hex(sighex, sig, 32);
	return xasprintf("%s://%s%s?%s&X-Amz-Signature=%s", in->scheme,
			 in->host, in->path, query, sighex);
}
