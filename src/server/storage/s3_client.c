/*
 * S3 requests over libcurl, signed by libcurl (CURLOPT_AWS_SIGV4). Easy
 * handles are pooled so that connections to the endpoint are reused;
 * every failure becomes one berth_error naming the request, S3's own
 * error code and what to check.
 */
#include "server/storage/s3_int.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "berth/digest.h"
#include "berth/log.h"
#include "http/http.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define S3_POOL_MAX 32
#define S3_BODY_MAX ((size_t)32 << 20) /* listings, errors */
#define S3_EMPTY_SHA                                                           \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3_client {
	char *base;   /* scheme://host[:port][/bucket], no trailing slash */
	char *scheme; /* "http" or "https" */
	char *host;   /* the Host a presigned URL is signed for */
	char *path0;  /* "/bucket" (path style) or "" */
	char *bucket, *prefix, *region, *sigv4;
	char *access_key, *secret_key, *session_token, *ca_file;
	pthread_mutex_t mu; /* guards pool */
	CURL *pool[S3_POOL_MAX];
	size_t npool;
};

const char *
s3_client_prefix(const s3_client *c)
{
	return c->prefix;
}

const char *
s3_client_bucket(const s3_client *c)
{
	return c->bucket;
}

void
s3_resp_release(s3_resp *r)
{
	berth_buf_release(&r->body);
}

static char *
env_or(const char *v, const char *env)
{
	const char *e = getenv(env);

	if (v != NULL && *v)
		return xstrdup(v);
	return e != NULL && *e ? xstrdup(e) : NULL;
}

static void
s3_client_freep(s3_client **c)
{
	s3_client_free(*c);
}

int
s3_client_new(s3_client **out, const berth_s3_opts *o, berth_error **err)
{
	_cleanup_(s3_client_freep) s3_client *c = NULL;
	const char *ep, *hostpart;
	size_t plen;

	berth_http_global_init();
	if (o->bucket == NULL || !*o->bucket)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "no S3 bucket is set");
	c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	c->bucket = xstrdup(o->bucket);
	c->region = env_or(o->region, "AWS_REGION");
	if (c->region == NULL)
		c->region = env_or(NULL, "AWS_DEFAULT_REGION");
	if (c->region == NULL)
		c->region = xstrdup("us-east-1");
	c->access_key = env_or(o->access_key, "AWS_ACCESS_KEY_ID");
	c->secret_key = env_or(o->secret_key, "AWS_SECRET_ACCESS_KEY");
	c->session_token = env_or(o->session_token, "AWS_SESSION_TOKEN");
	c->ca_file = o->ca_file ? xstrdup(o->ca_file) : NULL;
	if (c->access_key == NULL || c->secret_key == NULL) {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"no S3 credentials: the access key or the "
				"secret key is missing");
		berth_error_hint(err, "set s3-access-key and s3-secret-key, "
				      "or AWS_ACCESS_KEY_ID and "
				      "AWS_SECRET_ACCESS_KEY");
		return BERTH_EUSAGE;
	}
	plen = o->prefix ? strlen(o->prefix) : 0;
	while (plen > 0 && o->prefix[plen - 1] == '/')
		plen--;
	c->prefix =
		plen ? xasprintf("%.*s/", (int)plen, o->prefix) : xstrdup("");
	c->sigv4 = xasprintf("aws:amz:%s:s3", c->region);
	if (o->endpoint != NULL && *o->endpoint)
		ep = o->endpoint;
	else
		ep = NULL;
	if (ep == NULL) {
		c->scheme = xstrdup("https");
		hostpart = NULL;
		c->host = xasprintf("s3.%s.amazonaws.com", c->region);
	} else {
		const char *sep = strstr(ep, "://");
		size_t n;

		if (sep == NULL || (strncmp(ep, "http", 4) != 0 ||
				    (sep - ep != 4 && sep - ep != 5))) {
			berth_error_set(err, BERTH_EUSAGE, 0,
					"S3 endpoint '%s' is not an http:// or "
					"https:// URL",
					ep);
			berth_error_hint(err, "write it like "
					      "http://127.0.0.1:7480");
			return BERTH_EUSAGE;
		}
		c->scheme = xstrndup(ep, (size_t)(sep - ep));
		hostpart = sep + 3;
		n = strcspn(hostpart, "/");
		c->host = xstrndup(hostpart, n);
		if (hostpart[n] != '\0' && strcmp(hostpart + n, "/") != 0) {
			berth_error_set(err, BERTH_EUSAGE, 0,
					"S3 endpoint '%s' has a path", ep);
			berth_error_hint(err, "give the scheme, host and port "
					      "only; the bucket is "
					      "s3-bucket");
			return BERTH_EUSAGE;
		}
	}
	if (o->path_style) {
		c->path0 = xasprintf("/%s", c->bucket);
		c->base =
			xasprintf("%s://%s/%s", c->scheme, c->host, c->bucket);
	} else {
		char *h = xasprintf("%s.%s", c->bucket, c->host);

		free(c->host);
		c->host = h;
		c->path0 = xstrdup("");
		c->base = xasprintf("%s://%s", c->scheme, c->host);
	}
	*out = steal_ptr(&c);
	return 0;
}

void
s3_client_free(s3_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->npool; i++)
		curl_easy_cleanup(c->pool[i]);
	pthread_mutex_destroy(&c->mu);
	free(c->base);
	free(c->scheme);
	free(c->host);
	free(c->path0);
	free(c->bucket);
	free(c->prefix);
	free(c->region);
	free(c->sigv4);
	free(c->access_key);
	free(c->secret_key);
	free(c->session_token);
	free(c->ca_file);
	free(c);
}

static CURL *
handle_get(s3_client *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->mu);
	if (c->npool > 0)
		h = c->pool[--c->npool];
	pthread_mutex_unlock(&c->mu);
	if (h == NULL && (h = curl_easy_init()) == NULL)
		abort();
	return h;
}

static void
handle_put(s3_client *c, CURL *h)
{
	pthread_mutex_lock(&c->mu);
	if (c->npool < S3_POOL_MAX) {
		c->pool[c->npool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	if (h != NULL)
		curl_easy_cleanup(h);
}

typedef struct xfer {
	const s3_req *q;
	s3_resp *resp;
	size_t up_off;
	bool sink_stopped;
} xfer;

static size_t
read_cb(char *buf, size_t size, size_t n, void *ud)
{
	xfer *x = ud;
	size_t left = x->q->body_len - x->up_off;

	if (left > size * n)
		left = size * n;
	memcpy(buf, (const char *)x->q->body + x->up_off, left);
	x->up_off += left;
	return left;
}

static size_t
write_cb(char *p, size_t size, size_t n, void *ud)
{
	xfer *x = ud;

	if (x->q->sink != NULL && x->resp->status / 100 == 2) {
		if (!x->q->sink(p, size * n, x->q->sink_ud)) {
			x->sink_stopped = true;
			return 0;
		}
		return size * n;
	}
	if (berth_buf_put(&x->resp->body, p, size * n, NULL) < 0)
		return 0;
	return size * n;
}

static bool
header_is(const char *line, size_t len, const char *name, const char **val)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return false;
	for (*val = line + n + 1; **val == ' '; (*val)++)
		;
	return true;
}

static size_t
header_cb(char *p, size_t size, size_t n, void *ud)
{
	xfer *x = ud;
	size_t len = size * n;
	_cleanup_free_ char *line = NULL;
	const char *v;
	char *end;

	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	line = xstrndup(p, len);
	if (strncmp(line, "HTTP/", 5) == 0) {
		/* A new answer (after a 100 Continue): forget the last. */
		char *sp = strchr(line, ' ');

		x->resp->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		x->resp->length = x->resp->total = x->resp->last_modified = -1;
		x->resp->etag[0] = '\0';
	} else if (header_is(line, len, "etag", &v)) {
		snprintf(x->resp->etag, sizeof(x->resp->etag), "%s", v);
	} else if (header_is(line, len, "content-length", &v)) {
		x->resp->length = strtoll(v, NULL, 10);
	} else if (header_is(line, len, "last-modified", &v)) {
		x->resp->last_modified = (int64_t)curl_getdate(v, NULL);
	} else if (header_is(line, len, "content-range", &v) &&
		   (end = strrchr(v, '/')) != NULL && end[1] != '*') {
		x->resp->total = strtoll(end + 1, NULL, 10);
	}
	return size * n;
}

/* The error of a non-2xx answer, with S3's <Code> and <Message>. */
static int
answer_error(s3_client *c, const s3_req *q, s3_resp *resp, berth_error **err)
{
	_cleanup_free_ char *code =
		s3_xml_find(resp->body.ptr, resp->body.len, "Code");
	_cleanup_free_ char *msg =
		s3_xml_find(resp->body.ptr, resp->body.len, "Message");
	const char *key = q->key && *q->key ? q->key : c->bucket;
	int bc;

	if (resp->status == 404)
		bc = BERTH_ENOTFOUND;
	else if (resp->status == 403)
		bc = BERTH_EDENIED;
	else if (resp->status >= 500)
		bc = BERTH_ESERVER;
	else
		bc = BERTH_EPROTO;
	berth_error_set(err, bc, 0, "S3 %s '%s' failed: %ld %s%s%s%s",
			q->method, key, resp->status, code ? code : "",
			msg ? " (" : "", msg ? msg : "", msg ? ")" : "");
	if (code && strcmp(code, "NoSuchBucket") == 0)
		berth_error_hint(err, "create the bucket '%s' first",
				 c->bucket);
	else if (bc == BERTH_EDENIED)
		berth_error_hint(err, "check s3-access-key and s3-secret-key "
				      "(or AWS_ACCESS_KEY_ID and "
				      "AWS_SECRET_ACCESS_KEY), s3-region "
				      "and the bucket's permissions");
	else if (bc == BERTH_ESERVER)
		berth_error_hint(err, "the S3 service failed; see its logs");
	else if (code && strcmp(code, "QuotaExceeded") == 0)
		berth_error_hint(err, "raise the bucket's quota or free "
				      "space in it");
	return bc;
}

int
s3_do(s3_client *c, const s3_req *q, s3_resp *out, berth_error **err)
{
	_cleanup_free_ char *ekey = s3_uri_encode(q->key ? q->key : "", true);
	_cleanup_free_ char *url = NULL;
	_cleanup_free_ char *sha_h = NULL;
	struct curl_slist *hdrs = NULL;
	xfer x = {q, out, 0, false};
	char errbuf[CURL_ERROR_SIZE] = "";
	berth_digest d;
	CURLcode cc;
	CURL *h;
	size_t i;
	bool head = strcmp(q->method, "HEAD") == 0;

	memset(out, 0, sizeof(*out));
	berth_buf_init(&out->body, S3_BODY_MAX);
	out->length = out->total = out->last_modified = -1;
	url = xasprintf("%s/%s%s%s", c->base, ekey, q->query ? "?" : "",
			q->query ? q->query : "");
	if (q->payload_sha) {
		sha_h = xasprintf("x-amz-content-sha256: %s", q->payload_sha);
	} else if (q->body_len > 0) {
		berth_digest_of(&d, BERTH_DIGEST_SHA256, q->body, q->body_len);
		sha_h = xasprintf("x-amz-content-sha256: %s",
				  berth_digest_hex(&d));
	} else {
		sha_h = xstrdup("x-amz-content-sha256: " S3_EMPTY_SHA);
	}
	hdrs = curl_slist_append(hdrs, sha_h);
	if (c->session_token) {
		_cleanup_free_ char *t =
			xasprintf("x-amz-security-token: %s", c->session_token);

		hdrs = curl_slist_append(hdrs, t);
	}
	for (i = 0; i < BERTH_ARRAY_SIZE(q->headers) && q->headers[i]; i++)
		hdrs = curl_slist_append(hdrs, q->headers[i]);
	if (hdrs == NULL)
		abort();

	h = handle_get(c);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4);
	curl_easy_setopt(h, CURLOPT_USERNAME, c->access_key);
	curl_easy_setopt(h, CURLOPT_PASSWORD, c->secret_key);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	/* A stalled transfer ends; a slow one may take as long as it needs. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (head) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(q->method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, &x);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)q->body_len);
	} else if (strcmp(q->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS,
				 q->body ? (const char *)q->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)q->body_len);
	} else if (strcmp(q->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
	}
	cc = curl_easy_perform(h);
	curl_slist_free_all(hdrs);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	if (cc != CURLE_OK && !(x.sink_stopped && cc == CURLE_WRITE_ERROR)) {
		/* A broken connection is not kept for the next request. */
		curl_easy_cleanup(h);
		berth_error_set(err, BERTH_ENET, 0,
				"cannot reach S3 at '%s' (%s '%s'): %s",
				c->base, q->method,
				q->key && *q->key ? q->key : "/",
				errbuf[0] ? errbuf : curl_easy_strerror(cc));
		berth_error_hint(err, "check that the S3 service is running "
				      "and that s3-endpoint is right");
		return BERTH_ENET;
	}
	handle_put(c, h);
	if (out->status / 100 == 2)
		return 0;
	return answer_error(c, q, out, err);
}

char *
s3_presign_get(const s3_client *c, const char *key, long ttl, int64_t now)
{
	_cleanup_free_ char *ekey = s3_uri_encode(key, true);
	_cleanup_free_ char *path = xasprintf("%s/%s", c->path0, ekey);
	s3_presign_in in = {
		.scheme = c->scheme,
		.host = c->host,
		.path = path,
		.region = c->region,
		.access_key = c->access_key,
		.secret_key = c->secret_key,
		.session_token = c->session_token,
		.ttl = ttl,
		.now = now,
	};

	return s3_presign(&in);
}
