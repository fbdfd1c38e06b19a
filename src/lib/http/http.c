/*
 * libcurl easy handles, configured once and reused so their connections
 * stay warm, and one request performed on them. Failures are mapped in
 * http_error.c (transport) and http_status.c (HTTP statuses); URL helpers
 * are in http_url.c.
 */
#include "http/http.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/config.h"
#include "berth/log.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define HTTP_BUFFER_SIZE (256L * 1024)
#define HTTP_DEFAULT_MAX_BODY ((size_t)1 << 20)
#define HTTP_ERROR_BODY_MAX ((size_t)64 << 10)
#define HTTP_CONNECT_TIMEOUT_MS 30000L
/* A download slower than min_speed() bytes/s over this long is cut off. */
#define HTTP_STALL_SECONDS 60L
#define HTTP_STALL_SECONDS_AFTER_UPLOAD 600L

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void
global_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
berth_http_global_init(void)
{
	pthread_once(&global_once, global_init_once);
}

/*
 * The share object. Only DNS answers and TLS sessions are shared: libcurl
 * 7.88 documents a shared connection cache as unsafe between concurrent
 * threads (KNOWN_BUGS 11.11), so each handle keeps its own connections,
 * and handles are reused rather than recreated to keep them warm. A new
 * connection to a host another handle already talks to then costs no DNS
 * lookup and only an abbreviated TLS handshake.
 */
struct berth_http_share {
	CURLSH *sh;
	pthread_mutex_t mu[CURL_LOCK_DATA_LAST];
};

static void
share_lock(CURL *c, curl_lock_data data, curl_lock_access access, void *ud)
{
	berth_http_share *s = ud;

	(void)c;
	(void)access;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&s->mu[data]);
}

static void
share_unlock(CURL *c, curl_lock_data data, void *ud)
{
	berth_http_share *s = ud;

	(void)c;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&s->mu[data]);
}

berth_http_share *
berth_http_share_new(void)
{
	berth_http_share *s;

	berth_http_global_init();
	s = xcalloc(1, sizeof(*s));
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&s->mu[i], NULL);
	s->sh = curl_share_init();
	if (s->sh == NULL)
		abort(); /* only fails when out of memory */
	curl_share_setopt(s->sh, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(s->sh, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(s->sh, CURLSHOPT_USERDATA, s);
	curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	return s;
}

void
berth_http_share_free(berth_http_share *s)
{
	if (s == NULL)
		return;
	curl_share_cleanup(s->sh);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&s->mu[i]);
	free(s);
}

struct berth_http {
	CURL *curl;
	const berth_http_opts *opts;
	char errbuf[CURL_ERROR_SIZE];
	berth_http_tls_info tls;  /* the current transfer's handshake */
	berth_http_tls_hook hook; /* {opts, &tls}, for berth_http_tls_ctx */
};

berth_http *
berth_http_new(const berth_http_opts *opts)
{
	berth_http *h;

	berth_http_global_init();
	h = xcalloc(1, sizeof(*h));
	h->opts = opts;
	h->curl = curl_easy_init();
	if (h->curl == NULL)
		abort();
	return h;
}

void
berth_http_free(berth_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

void
berth_http_resp_init(berth_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	berth_buf_init(&r->body, 0);
	r->content_length = -1;
}

void
berth_http_resp_release(berth_http_resp *r)
{
	berth_buf_release(&r->body);
	free(r->url);
	r->url = NULL;
	for (int i = 0; i < BERTH_H_COUNT; i++) {
		free(r->hdr[i]);
		r->hdr[i] = NULL;
	}
	r->status = 0;
	r->content_length = -1;
	r->curl_code = 0;
}

/* State of one transfer, shared by the callbacks. */
struct xfer {
	berth_http *h;
	const berth_http_req *req;
	berth_http_resp *resp;
	berth_error *err; /* set by a callback that aborted the transfer */
	bool too_big;
	int64_t sent; /* upload bytes read so far */
};

static bool
xfer_cancelled(const struct xfer *x)
{
	return (x->req->cancel && atomic_load(x->req->cancel)) ||
	       (x->req->interrupt && *x->req->interrupt);
}

static size_t
on_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	const berth_http_req *req = x->req;
	size_t len = size * nmemb;
	long status = 0;
	size_t cap;

	if (xfer_cancelled(x))
		return 0;
	curl_easy_getinfo(x->h->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		if (req->sink) {
			x->resp->sink_bytes += (int64_t)len;
			if (req->sink(req->sink_ud, p, len, &x->err) < 0) {
				if (x->err == NULL)
					berth_error_set(
						&x->err, BERTH_EGENERIC, 0,
						"the download was aborted");
				return 0;
			}
			return len;
		}
		cap = req->max_body ? req->max_body : HTTP_DEFAULT_MAX_BODY;
		if (x->resp->body.len == 0 &&
		    berth_http_content_length(x->h) > (int64_t)cap) {
			/* Refuse an announced oversize body before reading it.
			 */
			x->too_big = true;
			return 0;
		}
		if (len > cap - x->resp->body.len) {
			x->too_big = true;
			return 0;
		}
	} else {
		/* An error body is only read for its message: keep its start.
		 */
		cap = HTTP_ERROR_BODY_MAX;
		if (x->resp->body.len >= cap)
			return len;
		if (len > cap - x->resp->body.len)
			len = cap - x->resp->body.len;
		if (berth_buf_put(&x->resp->body, p, len, NULL) < 0)
			return 0;
		return size * nmemb;
	}
	if (berth_buf_put(&x->resp->body, p, len, NULL) < 0) {
		x->too_big = true;
		return 0;
	}
	return len;
}

static size_t
on_read(char *buf, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	const berth_http_req *req = x->req;
	size_t want = size * nitems;
	int64_t left = req->upload_size - x->sent;
	ssize_t n;

	if (xfer_cancelled(x))
		return CURL_READFUNC_ABORT;
	if (left <= 0)
		return 0;
	if ((int64_t)want > left)
		want = (size_t)left;
	do {
		if (req->upload_offset >= 0)
			n = pread(req->upload_fd, buf, want,
				  (off_t)(req->upload_offset + x->sent));
		else
			n = read(req->upload_fd, buf, want);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		berth_error_set(&x->err, BERTH_EIO, errno,
				"cannot read the data to upload: %s",
				strerror(errno));
		return CURL_READFUNC_ABORT;
	}
	if (n == 0) {
		berth_error_set(
			&x->err, BERTH_EIO, 0,
			"the data to upload ended after %lld of %lld bytes",
			(long long)x->sent, (long long)req->upload_size);
		return CURL_READFUNC_ABORT;
	}
	x->sent += n;
	return (size_t)n;
}

/* libcurl rewinds the body when it must send it again. */
static int
on_seek(void *ud, curl_off_t offset, int origin)
{
	struct xfer *x = ud;

	if (origin != SEEK_SET || x->req->upload_offset < 0 || offset < 0 ||
	    offset > x->req->upload_size)
		return CURL_SEEKFUNC_CANTSEEK;
	x->sent = offset;
	return CURL_SEEKFUNC_OK;
}

static int
on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
	    curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return xfer_cancelled(ud) ? 1 : 0;
}

static void
apply_base(berth_http *h)
{
	CURL *c = h->curl;
	const berth_http_opts *o = h->opts;

	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (o->share)
		curl_easy_setopt(c, CURLOPT_SHARE, o->share->sh);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, HTTP_BUFFER_SIZE);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 o->connect_timeout_ms > 0 ? o->connect_timeout_ms
						   : HTTP_CONNECT_TIMEOUT_MS);
	/* A CONNECT through a proxy must not look like the response. */
	curl_easy_setopt(c, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	if (o->tls_verify_off) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (o->ca_file || (o->ca_files && o->ca_files[0])) {
		/*
		 * libcurl's CAINFO would replace the system's CAs; the hook
		 * adds the files to the store, which keeps both. The store
		 * cache is off so the addition never leaks into a store
		 * reused for another connection.
		 */
		curl_easy_setopt(c, CURLOPT_CA_CACHE_TIMEOUT, 0L);
	}
	/* The hook also records what the handshake showed (http_tls.c). */
	h->hook.opts = o;
	h->hook.info = &h->tls;
	curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, berth_http_tls_ctx);
	curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, (void *)&h->hook);
	if (o->client_cert)
		curl_easy_setopt(c, CURLOPT_SSLCERT, o->client_cert);
	if (o->client_key)
		curl_easy_setopt(c, CURLOPT_SSLKEY, o->client_key);
}

static long
read_timeout(const berth_http_opts *o)
{
	return o->read_timeout_s > 0 ? o->read_timeout_s : HTTP_STALL_SECONDS;
}

static long
min_speed(const berth_http_opts *o)
{
	return o->min_speed > 0	  ? o->min_speed
	       : o->min_speed < 0 ? 1L
				  : BERTH_CONFIG_MIN_SPEED_DEFAULT;
}

/*
 * A download that was arriving, cut for being slower than the minimum
 * speed: say so, and which settings decide it (not "timed out", which
 * reads like a network failure).
 */
static int
too_slow(berth_error **err, const berth_http_opts *o, const char *url,
	 const char *peer)
{
	_cleanup_free_ char *hp = berth_http_url_hostport(url);
	int r;

	r = berth_error_set(err, BERTH_ENET, ETIMEDOUT,
			    "the download from %s '%s' is too slow: less than "
			    "%ld bytes/s over %ld s",
			    peer ? peer : "registry", hp ? hp : "?",
			    min_speed(o), read_timeout(o));
	berth_error_hint(err, "try again later; on a link this slow, lower "
			      "'min-speed' or raise 'read-timeout' in berth's "
			      "config file (docs/config.md)");
	return r;
}

static const char *const hdr_names[BERTH_H_COUNT] = {
	[BERTH_H_CONTENT_TYPE] = "Content-Type",
	[BERTH_H_DOCKER_CONTENT_DIGEST] = "Docker-Content-Digest",
	[BERTH_H_LOCATION] = "Location",
	[BERTH_H_LINK] = "Link",
	[BERTH_H_WWW_AUTHENTICATE] = "WWW-Authenticate",
	[BERTH_H_RATELIMIT_LIMIT] = "RateLimit-Limit",
	[BERTH_H_RATELIMIT_REMAINING] = "RateLimit-Remaining",
	[BERTH_H_RETRY_AFTER] = "Retry-After",
	[BERTH_H_RATELIMIT_SOURCE] = "Docker-RateLimit-Source",
	[BERTH_H_CONTENT_RANGE] = "Content-Range",
};

/* Copies the headers we use out of the last response, joining repeats. */
static void
snapshot_headers(berth_http *h, berth_http_resp *resp)
{
	for (int i = 0; i < BERTH_H_COUNT; i++) {
		_cleanup_buf_ berth_buf b = BERTH_BUF_INIT;
		struct curl_header *ch;
		size_t n = 1;

		berth_buf_init(&b, (size_t)64 << 10);
		for (size_t k = 0; k < n; k++) {
			if (curl_easy_header(h->curl, hdr_names[i], k,
					     CURLH_HEADER, -1,
					     &ch) != CURLHE_OK)
				break;
			n = ch->amount;
			if (k > 0 && berth_buf_puts(&b, ", ", NULL) < 0)
				break;
			if (berth_buf_puts(&b, ch->value, NULL) < 0)
				break;
		}
		if (b.ptr)
			resp->hdr[i] = berth_buf_detach(&b);
	}
}

int
berth_http_do(berth_http *h, const berth_http_req *req, berth_http_resp *resp,
	      berth_error **err)
{
	CURL *c = h->curl;
	struct curl_slist *hdrs = NULL;
	struct xfer x = {.h = h, .req = req, .resp = resp};
	_cleanup_free_ char *auth_line = NULL, *accept_line = NULL,
			    *ctype_line = NULL, *logurl = NULL,
			    *range_line = NULL;
	const char *method = req->method ? req->method : "GET";
	bool is_head = strcmp(method, "HEAD") == 0;
	bool is_get = strcmp(method, "GET") == 0;
	curl_off_t cl = -1;
	char *eff = NULL;
	long os_errno = 0, verify = 0;
	CURLcode rc;
	int r = 0;

	berth_http_resp_release(resp);
	berth_http_resp_init(resp);
	curl_easy_reset(c);
	apply_base(h);
	h->errbuf[0] = '\0';
	memset(&h->tls, 0, sizeof(h->tls));
	h->tls.alert = -1;

	curl_easy_setopt(c, CURLOPT_URL, req->url);
	/*
	 * libcurl reads only the lowercase http_proxy for plain HTTP (a CGI
	 * precaution); Docker honours HTTP_PROXY too, and so do we.
	 * NO_PROXY still applies.
	 */
	if (strncmp(req->url, "http://", 7) == 0 &&
	    getenv("http_proxy") == NULL && getenv("HTTP_PROXY") &&
	    *getenv("HTTP_PROXY"))
		curl_easy_setopt(c, CURLOPT_PROXY, getenv("HTTP_PROXY"));
	if (req->authorization) {
		auth_line = xasprintf("Authorization: %s", req->authorization);
		hdrs = curl_slist_append(hdrs, auth_line);
	}
	if (req->accept) {
		accept_line = xasprintf("Accept: %s", req->accept);
		hdrs = curl_slist_append(hdrs, accept_line);
	}
	if (req->content_type) {
		ctype_line = xasprintf("Content-Type: %s", req->content_type);
		hdrs = curl_slist_append(hdrs, ctype_line);
	}
	if (req->range) {
		range_line = xasprintf("Range: %s", req->range);
		hdrs = curl_slist_append(hdrs, range_line);
	}
	if (is_head) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (req->upload_fd >= 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE,
				 HTTP_BUFFER_SIZE);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)req->upload_size);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &x);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, &x);
		if (strcmp(method, "PUT") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	} else if (req->body || strcmp(method, "POST") == 0 ||
		   strcmp(method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(req->body ? req->body_len : 0));
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
				 req->body ? req->body : "");
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		/* A body in memory is sent at once, not after 100-continue. */
		hdrs = curl_slist_append(hdrs, "Expect:");
		if (req->content_type == NULL)
			hdrs = curl_slist_append(hdrs, "Content-Type:");
	} else if (!is_get) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	if (hdrs)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (req->follow) {
		/*
		 * libcurl (7.83 and later) sends our Authorization header
		 * only to the scheme, host and port first asked
		 * (CURLOPT_UNRESTRICTED_AUTH is off): the origin rule of
		 * berth_http_url_same_origin, so tokens never reach object
		 * storage we are redirected to.
		 */
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	}
	/*
	 * A download slower than the minimum speed over the read timeout
	 * fails (a peer trickling a few bytes a second would otherwise hold
	 * the pull for ever). After an upload the registry may verify a large
	 * blob before it answers, sending nothing: only a stall fails then,
	 * and it is allowed longer.
	 */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT,
			 !(is_get || is_head) ? 1L : min_speed(h->opts));
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
			 !(is_get || is_head) ? HTTP_STALL_SECONDS_AFTER_UPLOAD
					      : read_timeout(h->opts));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);

	rc = curl_easy_perform(c);

	curl_slist_free_all(hdrs);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	resp->curl_code = (int)rc;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	resp->content_length = cl;
	curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
	resp->url = xstrdup(eff ? eff : req->url);
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
	resp->tls = h->tls;
	/*
	 * The verdict on the chain, when the hook did not see it. (After the
	 * hook saw a good chain, curl reports 1 for its own failed check of
	 * the host name: that is no verdict on the chain.)
	 */
	if (!resp->tls.seen &&
	    curl_easy_getinfo(c, CURLINFO_SSL_VERIFYRESULT, &verify) ==
		    CURLE_OK &&
	    verify != 0)
		resp->tls.verify_error = (int)verify;
	if (resp->status > 0)
		snapshot_headers(h, resp);

	if (berth_log_get_level() >= BERTH_LOG_DEBUG) {
		logurl = berth_http_url_redact(resp->url);
		berth_log(BERTH_LOG_DEBUG, "%s %s: %ld (curl %d)", method,
			  logurl ? logurl : "(url)", resp->status, (int)rc);
	}

	if (x.err) {
		/* A sink's or the upload source's own failure, unchanged. */
		r = berth_error_move(err, &x.err, x.err->code);
	} else if (x.too_big) {
		r = berth_error_set(err, BERTH_ETOOBIG, 0,
				    "the response is larger than %zu bytes",
				    req->max_body ? req->max_body
						  : HTTP_DEFAULT_MAX_BODY);
	} else if (rc != CURLE_OK && xfer_cancelled(&x)) {
		r = berth_error_set(err, BERTH_EINTERRUPTED, 0, "interrupted");
	} else if (rc == CURLE_OPERATION_TIMEDOUT && (is_get || is_head) &&
		   resp->status > 0 &&
		   (resp->sink_bytes > 0 || resp->body.len > 0)) {
		r = too_slow(err, h->opts, resp->url, req->peer);
	} else if (rc != CURLE_OK) {
		r = berth_http_curl_error(err, rc, h->errbuf, (int)os_errno,
					  resp->status > 0, resp->url, req->url,
					  req->peer, h->opts->ca_file,
					  &resp->tls, h->opts->certs_d);
	}
	return r;
}

int64_t
berth_http_content_length(berth_http *h)
{
	curl_off_t cl = -1;

	if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
			      &cl) != CURLE_OK)
		return -1;
	return cl;
}

long
berth_http_status(berth_http *h)
{
	long status = 0;

	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	return status;
}
