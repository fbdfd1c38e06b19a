/*
 * `berth config --check HOST`: probes a registry step by step — DNS, TCP,
 * TLS (who issued the certificate, whether and why it is trusted), the
 * /v2/ challenge, the stored credentials, each mirror — and reports a
 * verdict per step.
 */
#include "berth/config.h"
#include "berth/ref.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "registry/registry.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/str.h"
#include "util/xalloc.h"

#define CHECK_CONNECT_MS 5000

struct check {
	berth_check_fn fn;
	void *ud;
	int first_failure;
	berth_error *first; /* what the first failed step reported */
};

static void
step(struct check *k, const char *name, berth_check_verdict v, const char *fmt,
     ...)
{
	_cleanup_free_ char *detail = NULL;
	va_list ap;

	va_start(ap, fmt);
	detail = xvasprintf(fmt, ap);
	va_end(ap);
	k->fn(k->ud, name, v, detail);
}

static void
failed(struct check *k, const char *name, berth_error *e)
{
	step(k, name, BERTH_CHECK_FAIL, "%s%s%s", e ? e->msg : "failed",
	     e && e->hint ? "; hint: " : "", e && e->hint ? e->hint : "");
	if (k->first_failure != 0)
		return;
	k->first_failure = e ? e->code : BERTH_EGENERIC;
	berth_error_set(&k->first, k->first_failure, e ? e->sys_errno : 0,
			"check of '%s' failed: %s", name,
			e ? e->msg : "failed");
	if (e && e->hint)
		berth_error_hint(&k->first, "%s", e->hint);
}

/* A failed step that has no berth_error of its own. */
static void failed_msg(struct check *k, const char *name, berth_code code,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
failed_msg(struct check *k, const char *name, berth_code code, const char *fmt,
	   ...)
{
	_cleanup_free_ char *msg = NULL;
	berth_error e = {.code = code};
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	e.msg = msg;
	failed(k, name, &e);
}

/* DNS and TCP; returns false when the host cannot be reached at all. */
static bool
check_reach(struct check *k, const char *host)
{
	_cleanup_free_ char *name = NULL;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char port_s[16], addr[INET6_ADDRSTRLEN + 2];
	unsigned port;
	int rc, fd;
	bool ok = false;

	if (!config_split_host(host, &name, &port)) {
		failed_msg(k, "dns", BERTH_EUSAGE, "invalid host '%s'", host);
		return false;
	}
	snprintf(port_s, sizeof(port_s), "%u", port ? port : 443);
	rc = getaddrinfo(name, port_s, &hints, &res);
	if (rc != 0) {
		failed_msg(k, "dns", BERTH_ENET, "cannot resolve '%s': %s",
			   name, gai_strerror(rc));
		return false;
	}
	getnameinfo(res->ai_addr, res->ai_addrlen, addr, sizeof(addr), NULL, 0,
		    NI_NUMERICHOST);
	step(k, "dns", BERTH_CHECK_OK, "'%s' is %s", name, addr);
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd >= 0) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int e = 0;
		socklen_t len = sizeof(e);

		if (connect(fd, res->ai_addr, res->ai_addrlen) == 0)
			ok = true;
		else if (errno == EINPROGRESS &&
			 poll(&p, 1, CHECK_CONNECT_MS) == 1 &&
			 getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == 0)
			ok = e == 0;
		else
			e = errno ? errno : ETIMEDOUT;
		if (!ok)
			failed_msg(k, "tcp", BERTH_ENET,
				   "cannot connect to %s port %s: %s", addr,
				   port_s, strerror(e ? e : ETIMEDOUT));
		close(fd);
	}
	freeaddrinfo(res);
	if (!ok) {
		if (k->first_failure == 0)
			failed_msg(k, "tcp", BERTH_ENET,
				   "cannot open a socket");
		return false;
	}
	step(k, "tcp", BERTH_CHECK_OK, "%s port %s accepts connections", addr,
	     port_s);
	return true;
}

/* Sends GET /v2/ anonymously; reports TLS and the challenge. */
static void
check_v2(struct check *k, const berth_config *c,
	 const berth_registry_opts *base, const char *host)
{
	_cleanup_(berth_registry_freep) berth_registry *r = NULL;
	berth_registry_opts o = *base;
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	berth_http_resp resp;
	berth_error *e = NULL;
	const berth_http_tls_info *t;
	_cleanup_free_ char *url = NULL, *other = NULL;
	const char *why = NULL;
	berth_http *h;
	int rc;

	o.credentials = NULL;
	o.config = c;
	o.max_retries = -1;
	if (berth_registry_new(&r, host, &o, &e) < 0) {
		failed(k, "tls", e);
		berth_error_free(e);
		return;
	}
	url = reg_url(r, "%s", "");
	req.url = url;
	req.peer = "registry";
	req.max_body = (size_t)64 << 10;
	h = reg_handle_get(r);
	berth_http_resp_init(&resp);
	/* Without credentials: the registry's own challenge is the answer. */
	rc = berth_http_do(h, &req, &resp, &e);
	if ((rc < 0 || (resp.status == 400 && !r->https)) &&
	    (r->auto_scheme || r->plain_fallback)) {
		other = xasprintf("%s://%s/v2/", r->https ? "http" : "https",
				  r->host);
		berth_error_freep(&e);
		req.url = other;
		rc = berth_http_do(h, &req, &resp, &e);
		if (rc == 0)
			r->https = !r->https;
	}
	reg_handle_put(r, h);
	t = &resp.tls;
	if (rc < 0 && resp.status == 0) {
		failed(k, strncmp(req.url, "https", 5) == 0 ? "tls" : "http",
		       e);
	} else {
		if (!r->https)
			step(k, "tls", BERTH_CHECK_SKIP, "plain HTTP (%s)",
			     berth_config_insecure(&why, c, host)
				     ? "listed in insecure-registries"
				     : "a loopback registry");
		else if (r->hopts.tls_verify_off)
			step(k, "tls", BERTH_CHECK_WARN,
			     "HTTPS without certificate verification "
			     "(insecure-registries)");
		else
			step(k, "tls", BERTH_CHECK_OK,
			     "certificate for '%s' issued by '%s', trusted "
			     "(valid until %s)",
			     t->leaf_subject, t->leaf_issuer, t->not_after);
		if (resp.status == 200)
			step(k, "/v2/", BERTH_CHECK_OK,
			     "200: no authentication required");
		else if (resp.status == 401) {
			const char *wa = resp.hdr[BERTH_H_WWW_AUTHENTICATE];
			_cleanup_free_ char *q =
				wa ? berth_str_quote(wa, strlen(wa), 300)
				   : xstrdup("(none)");

			step(k, "/v2/", BERTH_CHECK_OK,
			     "401 with challenge: %s", q);
		} else {
			berth_error_freep(&e);
			reg_fail(r, &resp, NULL, NULL, "pull", &e);
			failed(k, "/v2/", e);
		}
	}
	berth_error_free(e);
	berth_http_resp_release(&resp);
}

static void
check_credentials(struct check *k, const berth_config *c,
		  const berth_registry_opts *base, const char *host)
{
	_cleanup_(berth_registry_freep) berth_registry *r = NULL;
	_cleanup_(berth_credentials_release) berth_credentials cred =
		BERTH_CREDENTIALS_INIT;
	_cleanup_free_ char *from = NULL, *tok = NULL;
	berth_registry_opts o = *base;
	berth_error *e = NULL;

	if (berth_config_get_credentials(&cred, &from, c, host, &e) < 0) {
		failed(k, "credentials", e);
		berth_error_free(e);
		return;
	}
	if (from == NULL) {
		step(k, "credentials", BERTH_CHECK_SKIP,
		     "none stored (anonymous access)");
		return;
	}
	o.credentials = NULL;
	o.config = c;
	o.max_retries = -1;
	if (berth_registry_new(&r, host, &o, &e) < 0 ||
	    berth_registry_login(&tok, r, &e) < 0)
		failed(k, "credentials", e);
	else
		step(k, "credentials", BERTH_CHECK_OK,
		     "%s%s%s from %s accepted",
		     cred.username ? "user '" : "identity token",
		     cred.username ? cred.username : "",
		     cred.username ? "'" : "", from);
	berth_error_free(e);
}

static void
check_mirrors(struct check *k, const berth_config *c,
	      const berth_registry_opts *base, const char *host)
{
	const char *name = berth_ref_is_docker_hub(host) ? "docker.io" : host;
	char **mirrors = berth_config_mirrors(NULL, c, name);

	for (char **m = mirrors; *m; m++) {
		_cleanup_(berth_registry_freep) berth_registry *r = NULL;
		_cleanup_free_ char *label = xasprintf("mirror %s", *m);
		_cleanup_free_ char *mh = NULL;
		berth_registry_opts o = *base;
		berth_error *e = NULL;
		bool https = strncmp(*m, "https://", 8) == 0;

		mh = xstrdup(*m + (https ? 8 : 7));
		mh[strcspn(mh, "/")] = '\0';
		o.plain_http = https ? 0 : 1;
		o.config = c;
		o.credentials = NULL;
		o.max_retries = -1;
		if (berth_registry_new(&r, mh, &o, &e) < 0 ||
		    berth_registry_ping(r, &e) < 0)
			failed(k, label, e);
		else
			step(k, label, BERTH_CHECK_OK, "answers /v2/");
		berth_error_free(e);
	}
	berth_strv_free(mirrors);
}

int
berth_config_check(const berth_config *c, const berth_registry_opts *base,
		   const char *host, berth_check_fn fn, void *ud,
		   berth_error **err)
{
	static const berth_registry_opts defaults = BERTH_REGISTRY_OPTS_INIT;
	struct check k = {fn, ud, 0, NULL};
	const berth_registry_opts *o = base ? base : &defaults;

	if (berth_opts_check(o->version, BERTH_REGISTRY_OPTS_VERSION,
			     "berth_registry_opts", err) < 0)
		return BERTH_EUSAGE;
	if (check_reach(&k, host)) {
		check_v2(&k, c, o, host);
		check_credentials(&k, c, o, host);
	}
	check_mirrors(&k, c, o, host);
	if (k.first_failure < 0)
		return berth_error_move(err, &k.first, k.first_failure);
	return 0;
}
