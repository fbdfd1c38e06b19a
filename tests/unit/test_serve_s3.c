/*
 * The S3 blob store's pure parts: presigned URLs (against AWS's own
 * worked example), the running SHA-256 kept between requests, SigV4's
 * URI encoding, S3's dates and the settings' checks. The store itself
 * runs against a real RADOS Gateway in tests/integration/t_serve_s3.sh.
 */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#include "berth/digest.h"
#include "server/storage/s3_int.h"
#include "util/error.h"
#include "util/xalloc.h"

/* "Authenticating Requests: Using Query Parameters (AWS Signature
 * Version 4)", the example GET of test.txt. */
TEST(presign_matches_aws_example)
{
	s3_presign_in in = {
		.scheme = "https",
		.host = "examplebucket.s3.amazonaws.com",
		.path = "/test.txt",
		.region = "us-east-1",
		.access_key = "AKIAIOSFODNN7EXAMPLE",
		.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		.ttl = 86400,
		.now = 1369353600, /* 2013-05-24T00:00:00Z */
	};
	char *url = s3_presign(&in);

	CHECK_STR(
		url,
		"https://examplebucket.s3.amazonaws.com/test.txt"
		"?X-Amz-Algorithm=AWS4-HMAC-SHA256"
		"&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-"
		"1%2Fs3%2Faws4_request"
		"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
		"&X-Amz-SignedHeaders=host"
		"&X-Amz-Signature="
		"aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d4"
		"04");
	free(url);
}

TEST(presign_session_token_is_signed_in_order)
{
	s3_presign_in in = {
		.scheme = "http",
		.host = "127.0.0.1:7480",
		.path = "/b/k",
		.region = "default",
		.access_key = "AK",
		.secret_key = "SK",
		.session_token = "to/ken=",
		.ttl = 60,
		.now = 0,
	};
	char *url = s3_presign(&in);

	CHECK(strstr(url, "&X-Amz-Expires=60&X-Amz-Security-Token=to%2Fken%3D"
			  "&X-Amz-SignedHeaders=host&X-Amz-Signature=") != NULL,
	      "%s", url);
	free(url);
}

TEST(sha_state_survives_text)
{
	size_t n = 64 * 1000 * 3 + 17, i, off = 0;
	unsigned char *p = xmalloc(n);
	berth_digest want, got;
	s3_sha s;
	char text[96];

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + (i >> 8));
	berth_digest_of(&want, BERTH_DIGEST_SHA256, p, n);
	s3_sha_init(&s);
	/* Three "parts", the state going through text between each. */
	for (i = 0; i < 3; i++) {
		s3_sha t;

		s3_sha_update(&s, p + off, 64 * 1000);
		off += 64 * 1000;
		s3_sha_format(&s, text);
		CHECK(s3_sha_parse(&t, text), "parse '%s'", text);
		s = t;
	}
	s3_sha_final(&s, p + off, n - off, &got);
	CHECK_STR(got.str, want.str);
	s3_sha_init(&s);
	s3_sha_final(&s, "", 0, &got);
	berth_digest_of(&want, BERTH_DIGEST_SHA256, "", 0);
	CHECK_STR(got.str, want.str);
	CHECK(!s3_sha_parse(&s, "zz"), "short text refused");
	CHECK(!s3_sha_parse(&s, "0000000000000000000000000000000000000000000000"
				"000000000000000000:65"),
	      "a count that is not whole blocks refused");
	free(p);
}

TEST(uri_encode_and_dates)
{
	char *e = s3_uri_encode("a b/c~d+é", true);

	CHECK_STR(e, "a%20b/c~d%2B%C3%A9");
	free(e);
	e = s3_uri_encode("a/b", false);
	CHECK_STR(e, "a%2Fb");
	free(e);
	CHECK(s3_iso8601("2013-05-24T00:00:00.000Z") == 1369353600, "ISO 8601");
	CHECK(s3_iso8601("yesterday") == -1, "not a date");
}

TEST(settings_are_checked)
{
	berth_s3_opts o = {.bucket = "b", .access_key = "a", .secret_key = "s"};
	berth_error *err = NULL;
	s3_client *c = NULL;

	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	o.endpoint = "ftp://x";
	CHECK(s3_client_new(&c, &o, &err) == BERTH_EUSAGE, "bad scheme");
	CHECK(err && strstr(err->msg, "'ftp://x'") && err->hint,
	      "names the endpoint, with a hint");
	berth_error_freep(&err);
	o.endpoint = "http://127.0.0.1:1/bucket";
	CHECK(s3_client_new(&c, &o, &err) == BERTH_EUSAGE, "path refused");
	berth_error_freep(&err);
	o.endpoint = "http://127.0.0.1:1";
	o.secret_key = NULL;
	CHECK(s3_client_new(&c, &o, &err) == BERTH_EUSAGE, "no secret");
	CHECK(err && err->hint && strstr(err->hint, "AWS_SECRET_ACCESS_KEY"),
	      "hint names the variable");
	berth_error_freep(&err);
	setenv("AWS_SECRET_ACCESS_KEY", "from-env", 1);
	CHECK(s3_client_new(&c, &o, &err) == 0, "secret from the environment");
	CHECK_STR(s3_client_prefix(c), "");
	s3_client_free(c);
	o.prefix = "reg//";
	CHECK(s3_client_new(&c, &o, &err) == 0, "prefix");
	CHECK_STR(s3_client_prefix(c), "reg/");
	s3_client_free(c);
	unsetenv("AWS_SECRET_ACCESS_KEY");
}

TEST(presigned_url_of_a_path_style_client)
{
	berth_s3_opts o = {.bucket = "reg",
			   .endpoint = "http://127.0.0.1:7480",
			   .path_style = true,
			   .region = "default",
			   .access_key = "AK",
			   .secret_key = "SK"};
	berth_error *err = NULL;
	s3_client *c = NULL;
	char *url;

	CHECK(s3_client_new(&c, &o, &err) == 0, "client");
	url = s3_presign_get(c, "blobs/sha256/ab/abc", 60, 0);
	CHECK(strncmp(url,
		      "http://127.0.0.1:7480/reg/blobs/sha256/ab/abc?X-Amz-",
		      52) == 0,
	      "%s", url);
	free(url);
	s3_client_free(c);
	o.path_style = false;
	CHECK(s3_client_new(&c, &o, &err) == 0, "client");
	url = s3_presign_get(c, "k", 60, 0);
	CHECK(strncmp(url, "http://reg.127.0.0.1:7480/k?", 28) == 0, "%s", url);
	free(url);
	s3_client_free(c);
}

TEST_MAIN("test_serve_s3")
