/*
 * The one loop every registry request goes through (reg_send): the
 * authorisation the request's scope needs, answers to 401 challenges, the
 * scheme of registries that may speak either (loopback, insecure), and
 * bounded retries of idempotent requests.
 *
 * Retries: GET and HEAD only, and only while no byte of the body reached a
 * sink (a blob cut off mid-stream is continued by its caller with a Range
 * request instead). Retried: transport failures other than DNS, refused
 * connections and TLS (timeouts, resets, empty replies, broken streams),
 * 408, 429 and 5xx. Never another 4xx. The wait doubles from
 * RETRY_BASE_MS up to RETRY_CAP_MS, with jitter; a Retry-After the server
 * sends is honoured when it is at most retry_after_max seconds, and a
 * longer one fails at once (the message shows the wait).
 */
#include "registry/registry.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/log.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define RETRY_BASE_MS 200L
#define RETRY_CAP_MS 5000L

/* Did a plain HTTP request reach a TLS server? */
static bool
answered_like_tls(int rc, const berth_http_resp *resp)
{
	if (rc < 0)
		return resp->status == 0 &&
		       (resp->curl_code == CURLE_GOT_NOTHING ||
			resp->curl_code == CURLE_UNSUPPORTED_PROTOCOL ||
			resp->curl_code == CURLE_WEIRD_SERVER_REPLY ||
			resp->curl_code == CURLE_RECV_ERROR);
	return resp->status == 400 && resp->body.ptr &&
	       strstr(resp->body.ptr, "HTTP request to an HTTPS server");
}

/* Did an HTTPS request fail in a way plain HTTP might not? */
static bool
failed_like_plain(int rc, const berth_http_resp *resp)
{
	return rc < 0 && resp->status == 0 &&
	       (resp->curl_code == CURLE_SSL_CONNECT_ERROR ||
		resp->curl_code == CURLE_PEER_FAILED_VERIFICATION ||
		resp->curl_code == CURLE_GOT_NOTHING ||
		resp->curl_code == CURLE_RECV_ERROR);
}

/*
 * A loopback registry in auto mode is tried in plain HTTP first (Docker
 * treats loopback registries as insecure) and one that answers like a TLS
 * server is switched to HTTPS; an insecure-listed registry is tried in
 * HTTPS first and switched to plain HTTP when TLS fails. Once, before
 * anything else worked. Returns the rewritten URL to send again, or NULL.
 */
static char *
switch_scheme(berth_registry *r, const char *url, int rc,
	      const berth_http_resp *resp)
{
	char *out = NULL;
	bool to_https = r->auto_scheme && strncmp(url, "http://", 7) == 0 &&
			answered_like_tls(rc, resp);
	bool to_http = r->plain_fallback && strncmp(url, "https://", 8) == 0 &&
		       failed_like_plain(rc, resp);
	bool switched = false;

	pthread_mutex_lock(&r->pool_mu);
	if (to_https || to_http) {
		if (!r->scheme_settled && r->https != to_https) {
			free(r->base);
			r->base =
				xasprintf("%s://%s",
					  to_https ? "https" : "http", r->host);
			r->https = to_https;
			r->scheme_settled = true;
			switched = true;
		}
		/* Also for requests sent before another thread switched. */
		if (r->https == to_https)
			out = to_https ? xasprintf("https://%s", url + 7)
				       : xasprintf("http://%s", url + 8);
	} else if (rc == 0) {
		r->scheme_settled = true;
	}
	pthread_mutex_unlock(&r->pool_mu);
	if (switched) {
		berth_auth_set_https(r->auth, to_https);
		berth_log(BERTH_LOG_DEBUG, "registry '%s' speaks %s: using it",
			  r->name, to_https ? "TLS" : "plain HTTP");
	}
	return out;
}

/*
 * How long to wait before sending again, in ms, or -1 not to. `attempt`
 * counts the retries made so far.
 */
static long
retry_delay(const berth_registry *r, const berth_http_req *req, int rc,
	    const berth_http_resp *resp, int attempt)
{
	const char *m = req->method ? req->method : "GET";
	long base, ra;

	if (attempt >= r->max_retries || resp->sink_bytes > 0 ||
	    (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0))
		return -1;
	if (rc < 0) {
		switch (resp->curl_code) {
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_GOT_NOTHING:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_PARTIAL_FILE:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			break;
		default:
			return -1;
		}
		if (rc != BERTH_ENET)
			return -1;
	} else if (resp->status != 408 && resp->status != 429 &&
		   !(resp->status >= 500 && resp->status <= 599)) {
		return -1;
	}
	base = RETRY_BASE_MS << (attempt < 5 ? attempt : 5);
	if (base > RETRY_CAP_MS)
		base = RETRY_CAP_MS;
	ra = rc == 0 ? berth_http_retry_after(resp->hdr[BERTH_H_RETRY_AFTER],
					      time(NULL))
		     : -1;
	if (ra > r->retry_after_max)
		return -1;
	if (ra >= 0)
		return ra * 1000 + (long)(random() % 250);
	/* Jitter: between half and all of the backoff. */
	return base / 2 + (long)(random() % (base / 2 + 1));
}

/* Sleeps `ms`, waking early on an interrupt; false when interrupted. */
static bool
pause_ms(const berth_http_req *req, long ms)
{
	while (ms > 0) {
		long step = ms > 50 ? 50 : ms;
		struct timespec ts = {0, step * 1000000L};

		if ((req->interrupt && *req->interrupt) ||
		    (req->cancel && atomic_load(req->cancel)))
			return false;
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return true;
}

/*
 * Credentials (Basic, bearer and identity tokens alike) belong to the
 * registry's origin: a Link, Location or redirect that leads to another
 * scheme, host or port is followed without them, and a 401 from there
 * teaches the registry's authorisation nothing. libcurl applies the same
 * rule to the redirects it follows (http.c).
 */
static bool
own_origin(berth_registry *r, const char *url)
{
	bool same;

	pthread_mutex_lock(&r->pool_mu);
	same = berth_http_url_same_origin(url, r->base);
	pthread_mutex_unlock(&r->pool_mu);
	return same;
}

int
reg_send(berth_registry *r, berth_http *h, berth_http_req *req,
	 const char *scope, berth_http_resp *resp, berth_error **err)
{
	const char *caller_url = req->url;
	_cleanup_free_ char *other_url = NULL;
	int rc, attempt = 0;

	if (req->peer == NULL)
		req->peer = "registry";
	if (req->interrupt == NULL)
		req->interrupt = r->interrupt;
	for (int challenges = 0;; challenges++) {
		_cleanup_free_ char *auth = NULL;
		bool own = own_origin(r, req->url);
		long wait;

		rc = own ? berth_auth_header(r->auth, h, scope, &auth, err) : 0;
		if (rc < 0)
			break; /* req->url is restored below, not left on
				  other_url */
		req->authorization = auth;
		rc = berth_http_do(h, req, resp, err);
		req->authorization = NULL;
		if (other_url == NULL &&
		    (other_url = switch_scheme(r, req->url, rc, resp))) {
			if (err)
				berth_error_freep(err);
			req->url = other_url;
			challenges--;
			continue;
		}
		wait = retry_delay(r, req, rc, resp, attempt);
		if (wait >= 0) {
			berth_log(BERTH_LOG_INFO,
				  "registry '%s': %s, retrying in %.1f s "
				  "(%d of %d)",
				  r->name,
				  rc < 0 && err && *err
					  ? (*err)->msg
					  : berth_http_reason(resp->status),
				  (double)wait / 1000, attempt + 1,
				  r->max_retries);
			if (pause_ms(req, wait)) {
				if (err)
					berth_error_freep(err);
				attempt++;
				challenges--;
				continue;
			}
		}
		if (rc < 0 || resp->status != 401 || challenges == 2 || !own)
			break;
		/* A body read from a pipe cannot be sent twice. */
		if (req->upload_fd >= 0 && req->upload_offset < 0)
			break;
		rc = berth_auth_challenged(r->auth, h, resp, scope, auth, err);
		if (rc != 0) {
			/* 1: nothing more to try; the caller reports the 401.
			 */
			rc = rc > 0 ? 0 : rc;
			break;
		}
	}
	req->url = caller_url;
	return rc;
}

int
reg_request(berth_registry *r, berth_http_req *req, const char *scope,
	    berth_http_resp *resp, berth_error **err)
{
	berth_http *h = reg_handle_get(r);
	int rc;

	berth_http_resp_init(resp);
	rc = reg_send(r, h, req, scope, resp, err);
	reg_handle_put(r, h);
	return rc;
}
