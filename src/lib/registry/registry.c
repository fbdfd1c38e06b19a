/*
 * The registry client: construction and /v2/. The handle pool is in
 * registry_pool.c, authenticated requests in registry_send.c, manifests
 * and tags in registry_manifest.c, blobs in registry_blob.c, pushing in
 * registry_push.c.
 */
#include "registry/registry.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "berth/log.h"
#include "berth/ref.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/opts.h"
#include "util/str.h"
#include "util/xalloc.h"

bool
reg_host_auto_plain(const char *host)
{
	/* As Docker: only loopback registries are plain HTTP unconfigured. */
	return berth_host_is_loopback(host);
}

static bool
host_valid(const char *host)
{
	if (host == NULL || *host == '\0' || strlen(host) > 255)
		return false;
	for (const char *p = host; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-:[]_", *p))
			return false;
	return true;
}

/*
 * What the configuration says about `host`, into r: insecure-registries,
 * berth's per-registry settings, certs.d, timeouts, retries. Explicit
 * options win over all of it.
 */
static int
apply_config(berth_registry *r, const char *host, const berth_registry_opts *o,
	     long *timeout_ms, berth_error **err)
{
	const berth_config *c = o->config;
	const berth_config_host *h = NULL;
	const char *why = NULL;
	const char *cert_dir = o->version >= 2 ? o->cert_dir : NULL;
	int rc = 0;

	r->insecure = o->version >= 2 && o->insecure;
	if (c == NULL && cert_dir == NULL)
		return 0;
	if (c && !r->insecure)
		r->insecure = berth_config_insecure(&why, c, host);
	if (why)
		berth_log(BERTH_LOG_DEBUG,
			  "registry '%s' is insecure (listed as '%s')", host,
			  why);
	r->certs = (berth_certs)BERTH_CERTS_INIT;
	if (cert_dir)
		rc = berth_certs_load(&r->certs, cert_dir, err);
	else
		rc = berth_certs_lookup(&r->certs, c->certs_d, host, err);
	if (rc < 0)
		return berth_error_wrap(err, rc, "registry '%s'", host);
	if (c)
		h = berth_config_host_find(c, host);
	if (r->ca_file == NULL && h && h->ca_file)
		r->ca_file = xstrdup(h->ca_file);
	if (r->client_cert == NULL) {
		const char *cert = h && h->client_cert ? h->client_cert
						       : r->certs.client_cert;
		const char *key = h && h->client_cert ? h->client_key
						      : r->certs.client_key;

		r->client_cert = cert ? xstrdup(cert) : NULL;
		r->client_key = key ? xstrdup(key) : NULL;
	}
	/* curl and OpenSSL open these by name: a FIFO would hang them. */
	if ((r->ca_file &&
	     (rc = berth_file_check_regular(r->ca_file, err)) < 0) ||
	    (r->client_cert &&
	     (rc = berth_file_check_regular(r->client_cert, err)) < 0) ||
	    (r->client_key &&
	     (rc = berth_file_check_regular(r->client_key, err)) < 0))
		return berth_error_wrap(err, rc, "registry '%s'", host);
	if (c == NULL)
		return 0;
	if (*timeout_ms == 0)
		*timeout_ms = c->connect_timeout_ms;
	r->read_timeout = c->read_timeout;
	if (c->version >= 2)
		r->min_speed = c->min_speed;
	if (o->max_retries == 0)
		r->max_retries = c->retries;
	if (o->retry_after_max == 0)
		r->retry_after_max = c->retry_after_max;
	return 0;
}

int
berth_registry_new(berth_registry **out, const char *host,
		   const berth_registry_opts *opts, berth_error **err)
{
	static const berth_registry_opts defaults = BERTH_REGISTRY_OPTS_INIT;
	const berth_registry_opts *o = opts ? opts : &defaults;
	berth_registry *r;
	long timeout_ms;
	bool plain;
	int rc;

	if (berth_opts_check(o->version, BERTH_REGISTRY_OPTS_VERSION,
			     "berth_registry_opts", err) < 0)
		return BERTH_EUSAGE;
	timeout_ms = o->connect_timeout_ms;
	if (!host_valid(host))
		return berth_error_set(err, BERTH_EREF, 0,
				       "invalid registry host '%.100s'",
				       host ? host : "");
	r = xcalloc(1, sizeof(*r));
	r->host = xstrdup(host);
	r->ca_file = o->ca_file ? xstrdup(o->ca_file) : NULL;
	r->client_cert = o->client_cert ? xstrdup(o->client_cert) : NULL;
	r->client_key = o->client_key ? xstrdup(o->client_key) : NULL;
	r->max_retries = o->max_retries == 0  ? BERTH_CONFIG_RETRIES_DEFAULT
			 : o->max_retries < 0 ? 0
					      : o->max_retries;
	r->retry_after_max = o->retry_after_max > 0
				     ? o->retry_after_max
				     : BERTH_CONFIG_RETRY_AFTER_MAX_DEFAULT;
	if ((rc = apply_config(r, host, o, &timeout_ms, err)) < 0) {
		berth_registry_free(r);
		return rc;
	}
	plain = o->plain_http > 0 ||
		(o->plain_http < 0 && reg_host_auto_plain(host));
	/* Messages name Docker Hub as its users do. */
	r->name = xstrdup(berth_ref_is_docker_hub(host) ? BERTH_DOCKER_HUB
							: host);
	r->https = !plain;
	r->auto_scheme = plain && o->plain_http < 0;
	/* As Docker: an insecure registry is tried in HTTPS without
	 * verification, then in plain HTTP. */
	r->plain_fallback = !plain && o->plain_http < 0 && r->insecure;
	r->base = xasprintf("%s://%s", plain ? "http" : "https", host);
	r->user_agent =
		xstrdup(o->user_agent ? o->user_agent : BERTH_USER_AGENT);
	r->share = berth_http_share_new();
	r->hopts = (berth_http_opts){
		.user_agent = r->user_agent,
		.tls_verify_off = o->tls_verify_off || r->insecure,
		.ca_file = r->ca_file,
		.ca_files = (const char *const *)r->certs.ca_files,
		.certs_d = o->config ? o->config->certs_d : NULL,
		.client_cert = r->client_cert,
		.client_key = r->client_key,
		.connect_timeout_ms = timeout_ms,
		.read_timeout_s = r->read_timeout,
		.min_speed = r->min_speed,
		.share = r->share,
	};
	r->auth = berth_auth_new(host, r->name, r->https,
				 o->credentials ? o->credentials
				 : o->config	? berth_config_credentials_fn
						: NULL,
				 o->credentials ? o->credentials_ud
						: (void *)o->config);
	pthread_mutex_init(&r->pool_mu, NULL);
	berth_registry_set_interrupt(r, o->interrupt);
	berth_log(BERTH_LOG_DEBUG, "registry '%s' at %s%s", host, r->base,
		  r->hopts.tls_verify_off ? " (TLS unverified)" : "");
	*out = r;
	return 0;
}

void
berth_registry_free(berth_registry *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_pool; i++)
		berth_http_free(r->pool[i]);
	if (r->auth)
		pthread_mutex_destroy(&r->pool_mu);
	berth_certs_release(&r->certs);
	berth_auth_free(r->auth);
	berth_http_share_free(r->share);
	free(r->host);
	free(r->name);
	free(r->base);
	free(r->user_agent);
	free(r->ca_file);
	free(r->client_cert);
	free(r->client_key);
	free(r);
}

const char *
berth_registry_host(const berth_registry *r)
{
	return r->host;
}

const char *
berth_registry_name(const berth_registry *r)
{
	return r->name;
}

void
berth_registry_set_interrupt(berth_registry *r,
			     const volatile sig_atomic_t *flag)
{
	r->interrupt = flag;
}

int
reg_fail(berth_registry *r, const berth_http_resp *resp, const char *repo,
	 const char *subject, const char *action, berth_error **err)
{
	berth_http_ctx ctx = {r->name, repo, subject, action, r->hopts.certs_d};

	return berth_http_status_error(err, resp, &ctx);
}

char *
reg_url(berth_registry *r, const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL;
	va_list ap;

	char *url;

	va_start(ap, fmt);
	path = xvasprintf(fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&r->pool_mu);
	url = xasprintf("%s/v2/%s", r->base, path);
	pthread_mutex_unlock(&r->pool_mu);
	return url;
}

char *
reg_scope(const char *repo, const char *actions)
{
	return xasprintf("repository:%s:%s", repo, actions);
}

int
reg_check_repo(const berth_registry *r, const char *repo, berth_error **err)
{
	if (!berth_ref_name_valid(repo))
		return berth_error_set(err, BERTH_EREF, 0,
				       "invalid repository name '%.128s' for "
				       "registry '%s'",
				       repo ? repo : "", r->name);
	return 0;
}

int
reg_check_reference(const char *reference, berth_error **err)
{
	if (reference && strchr(reference, ':'))
		return berth_digest_valid(reference)
			       ? 0
			       : berth_error_set(err, BERTH_EREF, 0,
						 "invalid digest '%.140s'",
						 reference);
	if (!berth_ref_tag_valid(reference))
		return berth_error_set(err, BERTH_EREF, 0,
				       "invalid tag '%.140s'",
				       reference ? reference : "");
	return 0;
}

char *
reg_media_type(const char *content_type)
{
	char *s = berth_str_media_type(content_type);

	for (char *p = s; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/*
 * RFC 8288 Link values: `<uri>; param=value; …`, several joined by commas.
 * Returns the first URI whose rel lists "next".
 */
char *
reg_link_next(const char *link, const char *base)
{
	const char *p = link;

	while (p && *p) {
		const char *lt = strchr(p, '<'), *gt;
		_cleanup_free_ char *uri = NULL;
		bool next = false;

		if (lt == NULL || (gt = strchr(lt, '>')) == NULL)
			return NULL;
		uri = xstrndup(lt + 1, (size_t)(gt - lt - 1));
		p = gt + 1;
		/* Parameters up to the next link (a comma outside quotes). */
		while (*p && *p != ',') {
			const char *name, *val;
			size_t nlen, vlen;
			bool quoted;

			while (*p == ' ' || *p == '\t' || *p == ';')
				p++;
			name = p;
			while (*p && *p != '=' && *p != ';' && *p != ',')
				p++;
			nlen = (size_t)(p - name);
			while (nlen && (name[nlen - 1] == ' ' ||
					name[nlen - 1] == '\t'))
				nlen--;
			if (*p != '=')
				continue;
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			quoted = *p == '"';
			if (quoted)
				p++;
			val = p;
			while (*p &&
			       (quoted ? *p != '"' : (*p != ';' && *p != ',')))
				p++;
			vlen = (size_t)(p - val);
			if (quoted && *p == '"')
				p++;
			if (nlen == 3 && strncasecmp(name, "rel", 3) == 0) {
				_cleanup_free_ char *v = xstrndup(val, vlen);

				for (char *save = NULL,
					  *t = strtok_r(v, " \t", &save);
				     t; t = strtok_r(NULL, " \t", &save))
					if (strcasecmp(t, "next") == 0)
						next = true;
			}
		}
		if (next)
			return berth_http_url_resolve(base, uri);
		if (*p == ',')
			p++;
	}
	return NULL;
}

int
berth_registry_ping(berth_registry *r, berth_error **err)
{
	berth_http *h = reg_handle_get(r);
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	berth_http_resp resp;
	_cleanup_free_ char *url = reg_url(r, "%s", "");
	int rc;

	berth_http_resp_init(&resp);
	req.url = url;
	req.follow = true;
	req.max_body = (size_t)64 << 10;
	rc = reg_send(r, h, &req, NULL, &resp, err);
	if (rc == BERTH_ETOOBIG)
		rc = berth_error_set(err, BERTH_EPROTO, 0,
				     "'%s' is not an OCI registry: GET /v2/ "
				     "answered with a large body",
				     r->name);
	else if (rc == 0 && resp.status == 404) {
		rc = berth_error_set(err, BERTH_EPROTO, 0,
				     "'%s' is not an OCI registry: GET /v2/ "
				     "answered 404 Not Found",
				     r->name);
		berth_error_hint(err,
				 "check the registry's host name and port");
	} else if (rc == 0 && resp.status != 200)
		rc = reg_fail(r, &resp, NULL, NULL, "pull", err);
	berth_http_resp_release(&resp);
	reg_handle_put(r, h);
	return rc;
}
