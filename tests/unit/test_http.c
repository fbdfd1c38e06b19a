/*
 * The HTTP layer's pure parts: the messages for HTTP statuses and libcurl
 * failures, URL helpers, and the registry client's header parsing (Link,
 * Content-Type) and name checks.
 */
#include "test.h"

#include <errno.h>
#include <strings.h>

#include "http/http.h"
#include "registry/registry.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

struct status_case {
	long status;
	const char *body;
	const char *ctype;
	const char *repo;
	const char *subject;
	const char *action;
	berth_code code;
	const char *msg;
	const char *hint; /* a part of the hint, or NULL for none expected */
};

static const struct status_case status_cases[] = {
	{404,
	 "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest "
	 "unknown\"}]}",
	 "application/json", "test/app", "manifest 'v9'", "pull",
	 BERTH_ENOTFOUND,
	 "manifest 'v9' not found in '127.0.0.1:5000/test/app'",
	 "berth ls 127.0.0.1:5000/test/app"},
	{404,
	 "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository "
	 "name not known to registry\"}]}",
	 "application/json", "test/app", "manifest 'v1'", "pull",
	 BERTH_ENOTFOUND, "repository '127.0.0.1:5000/test/app' not found",
	 "berth login"},
	{404, "", NULL, "test/app", "blob 'sha256:ab'", "pull", BERTH_ENOTFOUND,
	 "blob 'sha256:ab' not found in '127.0.0.1:5000/test/app'", NULL},
	{401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}", "application/json",
	 "test/app", "manifest 'v1'", "pull", BERTH_EAUTH,
	 "not logged in, or your account lacks pull permission on "
	 "'127.0.0.1:5000/test/app'",
	 "run 'berth login 127.0.0.1:5000', or ask the registry's "
	 "administrator "
	 "for access"},
	{401, NULL, NULL, "test/app", "blob 'sha256:ab'", "push", BERTH_EAUTH,
	 "not logged in, or your account lacks push permission on "
	 "'127.0.0.1:5000/test/app'",
	 "berth login"},
	{401, NULL, NULL, NULL, NULL, "pull", BERTH_EAUTH,
	 "not logged in to registry '127.0.0.1:5000'", "berth login"},
	{403,
	 "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to "
	 "the resource is denied\"}]}",
	 "application/json", "test/app", "manifest 'v1'", "push", BERTH_EDENIED,
	 "access denied: your account lacks push permission on "
	 "'127.0.0.1:5000/test/app': DENIED: requested access to the resource "
	 "is "
	 "denied",
	 "push access"},
	{403,
	 "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"unsigned\","
	 "\"detail\":\"sign it\"}]}",
	 "application/json", "test/app", "manifest 'v1'", "pull", BERTH_EDENIED,
	 "access denied: registry '127.0.0.1:5000' refuses to pull "
	 "'127.0.0.1:5000/test/app': DENIED: unsigned",
	 "sign it"},
	{403,
	 "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"no\","
	 "\"detail\":{\"a\":1}}]}",
	 "application/json", "test/app", "manifest 'v1'", "pull", BERTH_EDENIED,
	 "access denied: your account lacks pull permission on "
	 "'127.0.0.1:5000/test/app': DENIED: no",
	 "pull access"},
	{429, "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\"}]}",
	 "application/json", "library/nginx", "manifest 'latest'", "pull",
	 BERTH_ETOOMANY,
	 "registry '127.0.0.1:5000' is rate-limiting requests (429 Too Many "
	 "Requests, limit 100 per 21600 s, 0 remaining, retry after 60 s)",
	 "mirror"},
	{503, "<html>busy</html>", "text/html", "test/app", "manifest 'v1'",
	 "pull", BERTH_ESERVER,
	 "registry '127.0.0.1:5000' failed with 503 Service Unavailable",
	 "try again later"},
	{500,
	 "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"unknown error\"}]}",
	 "application/json", "test/app", "manifest 'v1'", "pull", BERTH_ESERVER,
	 "registry '127.0.0.1:5000' failed with 500 Internal Server Error: "
	 "UNKNOWN: unknown error",
	 NULL},
	{502, "bad gateway\n", "text/plain", "a", NULL, "pull", BERTH_ESERVER,
	 "registry '127.0.0.1:5000' failed with 502 Bad Gateway: bad gateway",
	 NULL},
	{599, NULL, NULL, "a", NULL, "pull", BERTH_ESERVER,
	 "registry '127.0.0.1:5000' failed with 599", NULL},
	{302, NULL, NULL, "a", "blob 'sha256:ab'", "pull", BERTH_EPROTO,
	 "registry '127.0.0.1:5000' answered 302 Found without a Location "
	 "header",
	 NULL},
	{400,
	 "{\"errors\":[{\"code\":\"DIGEST_INVALID\",\"message\":\"provided "
	 "digest did not match uploaded content\"}]}",
	 "application/json", "test/app", "blob 'sha256:ab'", "push",
	 BERTH_EDIGEST,
	 "registry '127.0.0.1:5000' rejected blob 'sha256:ab' for "
	 "'127.0.0.1:5000/test/app': DIGEST_INVALID: provided digest did not "
	 "match uploaded content",
	 NULL},
	{400,
	 "{\"errors\":[{\"code\":\"MANIFEST_INVALID\",\"message\":\"manifest "
	 "invalid\"}]}",
	 "application/json", "test/app", "manifest 'v1'", "push", BERTH_EPROTO,
	 "registry '127.0.0.1:5000' refused the request for manifest 'v1' in "
	 "'127.0.0.1:5000/test/app' with 400 Bad Request: MANIFEST_INVALID: "
	 "manifest invalid",
	 NULL},
	{400, "Client sent an HTTP request to an HTTPS server.\n", "text/plain",
	 "a", NULL, "pull", BERTH_ETLS,
	 "registry '127.0.0.1:5000' speaks HTTPS, but was addressed in plain "
	 "HTTP",
	 "plain HTTP"},
	{405,
	 "{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"The operation "
	 "is unsupported.\"}]}",
	 "application/json", "test/app", "blob 'sha256:ab'", "push",
	 BERTH_EUNSUPPORTED,
	 "registry '127.0.0.1:5000' does not support this request for blob "
	 "'sha256:ab' in '127.0.0.1:5000/test/app' (405 Method Not Allowed: "
	 "UNSUPPORTED: The operation is unsupported)",
	 NULL},
	{413, NULL, NULL, "a", "blob 'sha256:ab'", "push", BERTH_ETOOBIG,
	 "registry '127.0.0.1:5000' refused blob 'sha256:ab' for "
	 "'127.0.0.1:5000/a' as too large (413 Content Too Large)",
	 NULL},
	/* Hostile bodies: not JSON, JSON of the wrong shape, control bytes. */
	{418, "{\"errors\":\"nope\"}", "application/json", "a", NULL, "pull",
	 BERTH_EPROTO,
	 "registry '127.0.0.1:5000' refused the request for the content in "
	 "'127.0.0.1:5000/a' with 418",
	 NULL},
	{400,
	 "{\"errors\":[{\"code\":\"X\\u001b[31m\",\"message\":\"a\\nb\"}]}",
	 "application/json", "a", NULL, "pull", BERTH_EPROTO,
	 "registry '127.0.0.1:5000' refused the request for the content in "
	 "'127.0.0.1:5000/a' with 400 Bad Request: X?[31m: a b",
	 NULL},
	/* C1 controls, raw (8-bit CSI) and UTF-8-encoded (U+009B). */
	{400,
	 "\x9b"
	 "2J\xc2\x9b"
	 "31mgone",
	 "text/plain", "a", NULL, "pull", BERTH_EPROTO,
	 "registry '127.0.0.1:5000' refused the request for the content in "
	 "'127.0.0.1:5000/a' with 400 Bad Request: ?2J??31mgone",
	 NULL},
	{400, "{\"errors\":[{\"code\":\"X\",\"message\":\"\\u009b2Jt\"}]}",
	 "application/json", "a", NULL, "pull", BERTH_EPROTO,
	 "registry '127.0.0.1:5000' refused the request for the content in "
	 "'127.0.0.1:5000/a' with 400 Bad Request: X: ??2Jt",
	 NULL},
	{204, NULL, NULL, "a", "manifest 'v1'", "push", BERTH_EPROTO,
	 "registry '127.0.0.1:5000' answered 204 No Content to the request for "
	 "manifest 'v1' in '127.0.0.1:5000/a', which berth did not expect",
	 NULL},
};

TEST(status)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(status_cases); i++) {
		const struct status_case *c = &status_cases[i];
		berth_http_ctx ctx = {"127.0.0.1:5000", c->repo, c->subject,
				      c->action, NULL};
		berth_http_resp resp;
		berth_error *err = NULL;
		int r;

		berth_http_resp_init(&resp);
		resp.status = c->status;
		if (c->body)
			berth_buf_puts(&resp.body, c->body, NULL);
		if (c->ctype)
			resp.hdr[BERTH_H_CONTENT_TYPE] = xstrdup(c->ctype);
		if (c->status == 429) {
			resp.hdr[BERTH_H_RATELIMIT_LIMIT] =
				xstrdup("100;w=21600");
			resp.hdr[BERTH_H_RATELIMIT_REMAINING] =
				xstrdup("0;w=21600");
			resp.hdr[BERTH_H_RETRY_AFTER] = xstrdup("60");
		}
		r = berth_http_status_error(&err, &resp, &ctx);
		CHECK(r == (int)c->code && err && err->code == c->code,
		      "status case %zu: code %d", i, r);
		if (err) {
			CHECK_STR(err->msg, c->msg);
			if (c->hint)
				CHECK(err->hint && strstr(err->hint, c->hint),
				      "status case %zu: hint '%s'", i,
				      err->hint ? err->hint : "(none)");
		}
		berth_error_free(err);
		berth_http_resp_release(&resp);
	}
}

TEST(rate_limit_date)
{
	berth_http_ctx ctx = {"h", "r", NULL, "pull", NULL};
	berth_http_resp resp;
	berth_error *err = NULL;

	/* An HTTP date in the past: retry at once. */
	berth_http_resp_init(&resp);
	resp.status = 429;
	resp.hdr[BERTH_H_RETRY_AFTER] =
		xstrdup("Wed, 21 Oct 2015 07:28:00 GMT");
	berth_http_status_error(&err, &resp, &ctx);
	CHECK_STR(err->msg, "registry 'h' is rate-limiting requests (429 Too "
			    "Many Requests, retry after 0 s)");
	berth_error_free(err);
	berth_http_resp_release(&resp);
}

struct curl_case {
	CURLcode rc;
	const char *errbuf;
	int os_errno;
	const char *url, *orig;
	berth_code code;
	const char *msg;
	const char *hint;
};

static const struct curl_case curl_cases[] = {
	{CURLE_COULDNT_CONNECT, "Failed to connect", ECONNREFUSED,
	 "http://127.0.0.1:5000/v2/", NULL, BERTH_ENET,
	 "cannot connect to registry '127.0.0.1:5000': connection refused",
	 "is the registry running and listening on that address?"},
	{CURLE_COULDNT_CONNECT, "", EHOSTUNREACH, "https://r.example.com/v2/",
	 NULL, BERTH_ENET,
	 "cannot connect to registry 'r.example.com:443': no route to host",
	 NULL},
	{CURLE_COULDNT_RESOLVE_HOST, "Could not resolve host: r.invalid", 0,
	 "https://r.invalid/v2/", NULL, BERTH_ENET,
	 "cannot resolve 'r.invalid'", "DNS"},
	{CURLE_COULDNT_RESOLVE_HOST, "", 0, "https://[::1]:5000/v2/", NULL,
	 BERTH_ENET, "cannot resolve '[::1]'", NULL},
	{CURLE_OPERATION_TIMEDOUT,
	 "Connection timed out after 30001 milliseconds", 0,
	 "https://r.example.com:5000/v2/", NULL, BERTH_ENET,
	 "connection to registry 'r.example.com:5000' timed out: Connection "
	 "timed "
	 "out after 30001 milliseconds",
	 NULL},
	{CURLE_PEER_FAILED_VERIFICATION,
	 "SSL certificate problem: unable to get local issuer certificate", 0,
	 "https://127.0.0.1:5443/v2/", NULL, BERTH_ETLS,
	 "the TLS certificate of registry '127.0.0.1:5443' is not trusted: SSL "
	 "certificate problem: unable to get local issuer certificate",
	 "/etc/docker/certs.d/127.0.0.1:5443/ca.crt"},
	{CURLE_SSL_CONNECT_ERROR,
	 "OpenSSL/3.0.22: error:0A00010B:SSL routines::wrong version number", 0,
	 "https://127.0.0.1:5000/v2/", NULL, BERTH_ETLS,
	 "registry '127.0.0.1:5000' answered in plain HTTP on a TLS connection",
	 "insecure-registries"},
	{CURLE_UNSUPPORTED_PROTOCOL, "Received HTTP/0.9 when not allowed", 0,
	 "http://127.0.0.1:5443/v2/", NULL, BERTH_ETLS,
	 "registry '127.0.0.1:5443' answered a plain HTTP request with "
	 "something "
	 "else, probably TLS: Received HTTP/0.9 when not allowed",
	 "HTTPS"},
	{CURLE_RECV_ERROR,
	 "OpenSSL SSL_read: OpenSSL/3.0.22: error:0A000412:SSL routines::sslv3 "
	 "alert bad certificate, errno 0",
	 0, "https://127.0.0.1:5443/v2/", NULL, BERTH_ETLS,
	 "TLS connection to registry '127.0.0.1:5443' was rejected: OpenSSL "
	 "SSL_read: sslv3 alert bad certificate",
	 "client.cert"},
	{CURLE_GOT_NOTHING, "Empty reply from server", 0,
	 "http://127.0.0.1:5000/v2/", NULL, BERTH_ENET,
	 "registry '127.0.0.1:5000' closed the connection without answering",
	 NULL},
	{CURLE_COULDNT_CONNECT, "", ECONNREFUSED,
	 "https://storage.example.com/b?sig=x",
	 "http://127.0.0.1:5000/v2/a/blobs/x", BERTH_ENET,
	 "cannot connect to 'storage.example.com:443' (where registry "
	 "'127.0.0.1:5000' redirected): connection refused",
	 NULL},
	{CURLE_TOO_MANY_REDIRECTS, "Maximum (10) redirects followed", 0,
	 "http://127.0.0.1:5000/x", NULL, BERTH_EPROTO,
	 "too many redirects from registry '127.0.0.1:5000'", NULL},
	{CURLE_SEND_ERROR, "Send failure: Broken pipe", EPIPE,
	 "http://127.0.0.1:5000/x", NULL, BERTH_ENET,
	 "connection to registry '127.0.0.1:5000' broke: Send failure: Broken "
	 "pipe",
	 "try again"},
};

TEST(curl)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(curl_cases); i++) {
		const struct curl_case *c = &curl_cases[i];
		berth_error *err = NULL;
		berth_http_tls_info tls = {.alert = -1};

		/* What the handshake showed, as http_tls.c records it. */
		if (c->rc == CURLE_SSL_CONNECT_ERROR)
			tls.not_tls = true; /* a plain HTTP answer */
		if (c->rc == CURLE_RECV_ERROR)
			tls.alert = 42; /* SSL_AD_BAD_CERTIFICATE */
		int r = berth_http_curl_error(&err, c->rc, c->errbuf,
					      c->os_errno, false, c->url,
					      c->orig ? c->orig : c->url,
					      "registry", NULL, &tls, NULL);

		CHECK(r == (int)c->code && err && err->code == c->code,
		      "curl case %zu: code %d", i, r);
		if (err) {
			CHECK_STR(err->msg, c->msg);
			CHECK(err->hint != NULL, "curl case %zu: no hint", i);
			if (c->hint)
				CHECK(err->hint && strstr(err->hint, c->hint),
				      "curl case %zu: hint '%s'", i,
				      err->hint ? err->hint : "(none)");
		}
		berth_error_free(err);
	}
}

TEST(urls)
{
	char *s;

	s = berth_http_url_resolve("http://127.0.0.1:5000/v2/a/blobs/uploads/",
				   "/v2/a/blobs/uploads/uuid?_state=xyz");
	CHECK_STR(s,
		  "http://127.0.0.1:5000/v2/a/blobs/uploads/uuid?_state=xyz");
	free(s);
	s = berth_http_url_resolve("https://r.example.com/v2/a/tags/list?n=2",
				   "https://other.example.com/x");
	CHECK_STR(s, "https://other.example.com/x");
	free(s);
	s = berth_http_url_resolve("https://r.example.com/v2/a/tags/list",
				   "list?n=2&last=b");
	CHECK_STR(s, "https://r.example.com/v2/a/tags/list?n=2&last=b");
	free(s);
	s = berth_http_url_resolve("https://r.example.com/",
				   "file:///etc/passwd");
	CHECK(s == NULL, "file URL accepted: %s", s);
	free(s);
	s = berth_http_url_resolve("https://r.example.com/", "/a\r\nX-Evil: 1");
	CHECK(s == NULL, "CRLF accepted: %s", s);
	free(s);
	s = berth_http_url_resolve("https://r.example.com/", "");
	CHECK(s == NULL, "empty accepted");
	free(s);

	s = berth_http_url_add_query("http://h/v2/a/blobs/uploads/u?_state=x",
				     "digest", "sha256:ab");
	CHECK(s && strcasecmp(s, "http://h/v2/a/blobs/uploads/u?_state=x&"
				 "digest=sha256%3Aab") == 0,
	      "got %s", s);
	free(s);
	s = berth_http_url_add_query("https://auth.example.com/token", "scope",
				     "repository:a/b:pull,push");
	/* libcurl 7.88 encodes with lowercase hex digits. */
	CHECK(s && strcasecmp(s, "https://auth.example.com/token?scope="
				 "repository%3Aa%2Fb%3Apull%2Cpush") == 0,
	      "got %s", s);
	free(s);

	s = berth_http_url_redact("https://u:p@h:5000/v2/a?token=secret#f");
	CHECK_STR(s, "https://h:5000/v2/a");
	free(s);
	s = berth_http_url_hostport("https://h/v2/");
	CHECK_STR(s, "h:443");
	free(s);
	s = berth_http_url_hostport("http://[::1]:5000/v2/");
	CHECK_STR(s, "[::1]:5000");
	free(s);
	CHECK_STR(berth_http_reason(404), "Not Found");
	CHECK_STR(berth_http_reason(299), "");
}

TEST(same_origin)
{
	CHECK(berth_http_url_same_origin("https://r.example.com/v2/",
					 "https://R.Example.com:443/x?y"),
	      "default port and case");
	CHECK(berth_http_url_same_origin(
		      "http://127.0.0.1:5000",
		      "http://127.0.0.1:5000/v2/a/tags/list"),
	      "same host and port");
	CHECK(!berth_http_url_same_origin("http://127.0.0.1:5000",
					  "http://127.0.0.1:5001/upload"),
	      "another port");
	CHECK(!berth_http_url_same_origin("https://r.example.com",
					  "http://r.example.com/"),
	      "another scheme");
	CHECK(!berth_http_url_same_origin("https://r.example.com",
					  "https://r.example.com.evil/"),
	      "another host");
	CHECK(!berth_http_url_same_origin("https://r.example.com",
					  "https://user@evil/"),
	      "another host behind a user");
	CHECK(!berth_http_url_same_origin("https://r.example.com", "not a url"),
	      "invalid URL");
	CHECK(!berth_http_url_same_origin(NULL, "https://r.example.com"),
	      "NULL");
}

TEST(link)
{
	static const struct {
		const char *link, *want;
	} t[] = {
		{"</v2/a/tags/list?n=2&last=b>; rel=\"next\"",
		 "http://h:5000/v2/a/tags/list?n=2&last=b"},
		{"<https://h2/x>; rel=next", "https://h2/x"},
		{"</p>; rel=\"prev\", </n>; rel=\"next\"", "http://h:5000/n"},
		{"</n>; title=\"a, b; c\"; rel=\"next last\"",
		 "http://h:5000/n"},
		{"</n>;REL=NEXT", "http://h:5000/n"},
		{"</p>; rel=\"prev\"", NULL},
		{"</n>", NULL},
		{"garbage", NULL},
		{"<", NULL},
		{"<file:///etc/passwd>; rel=next", NULL},
		{"", NULL},
	};

	for (size_t i = 0; i < BERTH_ARRAY_SIZE(t); i++) {
		char *got = reg_link_next(t[i].link,
					  "http://h:5000/v2/a/tags/list");

		CHECK_STR(got, t[i].want);
		free(got);
	}
	CHECK(reg_link_next(NULL, "http://h/") == NULL, "NULL link");
}

TEST(media_type)
{
	char *s = reg_media_type("application/vnd.oci.image.manifest.v1+json; "
				 "charset=utf-8");

	CHECK_STR(s, "application/vnd.oci.image.manifest.v1+json");
	free(s);
	s = reg_media_type("  Application/JSON");
	CHECK_STR(s, "application/json");
	free(s);
	s = reg_media_type(";x");
	CHECK(s == NULL, "empty type");
	CHECK(reg_media_type(NULL) == NULL, "NULL type");
}

TEST(names)
{
	berth_registry r = {.host = "h"};
	static const char *good_repos[] = {"a", "library/nginx", "a-b/c_d.e/f"};
	static const char *bad_repos[] = {"",	 "/a",	"a/",	  "a//b",
					  "A",	 "a b", "a/../b", "a?x",
					  "a#b", "a%2f"};
	static const char *good_refs[] = {"latest", "v1.2.3", "_x", "A-b_c.D",
					  "sha256:"
					  "000000000000000000000000000000000000"
					  "0000000000000000000000000000"};
	static const char *bad_refs[] = {"",	".x",	     "-x",     "a/b",
					 "a b", "sha256:00", "md5:ab", "x?y"};

	for (size_t i = 0; i < BERTH_ARRAY_SIZE(good_repos); i++)
		CHECK(reg_check_repo(&r, good_repos[i], NULL) == 0,
		      "repo '%s' refused", good_repos[i]);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(bad_repos); i++)
		CHECK(reg_check_repo(&r, bad_repos[i], NULL) == BERTH_EREF,
		      "repo '%s' accepted", bad_repos[i]);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(good_refs); i++)
		CHECK(reg_check_reference(good_refs[i], NULL) == 0,
		      "reference '%s' refused", good_refs[i]);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(bad_refs); i++)
		CHECK(reg_check_reference(bad_refs[i], NULL) == BERTH_EREF,
		      "reference '%s' accepted", bad_refs[i]);
	CHECK(reg_host_auto_plain("localhost:5000"), "localhost not plain");
	CHECK(reg_host_auto_plain("127.0.0.1:5000"), "127.0.0.1 not plain");
	CHECK(!reg_host_auto_plain("registry-1.docker.io"), "hub plain");
}

TEST(registry_new)
{
	berth_registry *r = NULL;
	berth_error *err = NULL;
	berth_registry_opts o = BERTH_REGISTRY_OPTS_INIT;

	CHECK(berth_registry_new(&r, "localhost:5000", NULL, &err) == 0,
	      "new failed");
	CHECK_STR(r->base, "http://localhost:5000");
	CHECK_STR(berth_registry_host(r), "localhost:5000");
	berth_registry_free(r);
	CHECK(berth_registry_new(&r, "registry.example.com", &o, &err) == 0,
	      "new failed");
	CHECK_STR(r->base, "https://registry.example.com");
	CHECK_STR(r->user_agent, "berth/0.1");
	berth_registry_free(r);
	o.plain_http = 0;
	CHECK(berth_registry_new(&r, "[::1]:5000", &o, &err) == 0,
	      "new failed");
	CHECK_STR(r->base, "https://[::1]:5000");
	berth_registry_free(r);
	o.plain_http = 1;
	CHECK(berth_registry_new(&r, "r.example.com:80", &o, &err) == 0,
	      "new failed");
	CHECK_STR(r->base, "http://r.example.com:80");
	berth_registry_free(r);
	CHECK(berth_registry_new(&r, "registry-1.docker.io", NULL, &err) == 0,
	      "new failed");
	CHECK_STR(berth_registry_host(r), "registry-1.docker.io");
	CHECK_STR(r->name, "docker.io");
	CHECK_STR(r->base, "https://registry-1.docker.io");
	berth_registry_free(r);
	r = NULL;
	CHECK(berth_registry_new(&r, "bad host/x", NULL, &err) == BERTH_EREF &&
		      r == NULL,
	      "bad host accepted");
	berth_error_free(err);
}

TEST_MAIN("test_http")
