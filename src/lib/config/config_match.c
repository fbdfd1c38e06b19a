/*
 * Matching a registry host against the configuration: insecure-registries
 * (names and CIDRs, as Docker does), berth's per-registry settings and
 * mirrors.
 */
#include "berth/config.h"
#include "berth/ref.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "config/config_int.h"
#include "util/cidr.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

bool
config_split_host(const char *host, char **name, unsigned *port)
{
	const char *colon;
	char *end;
	unsigned long p = 0;

	*name = NULL;
	*port = 0;
	if (host == NULL || *host == '\0')
		return false;
	if (host[0] == '[') {
		const char *rb = strchr(host, ']');

		if (rb == NULL || rb == host + 1)
			return false;
		*name = xstrndup(host + 1, (size_t)(rb - host - 1));
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] != '\0' && colon == NULL)
			goto bad;
	} else {
		colon = strchr(host, ':');
		if (colon && strchr(colon + 1, ':'))
			goto bad; /* an IPv6 address needs brackets */
		*name = colon ? xstrndup(host, (size_t)(colon - host))
			      : xstrdup(host);
		if (**name == '\0')
			goto bad;
	}
	if (colon) {
		p = strtoul(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end || p == 0 || p > 65535)
			goto bad;
	}
	*port = (unsigned)p;
	return true;
bad:
	free(*name);
	*name = NULL;
	return false;
}

bool
config_entry_valid(const char *s)
{
	unsigned char a[16];
	_cleanup_free_ char *name = NULL;
	unsigned port;
	int f, b;

	if (strchr(s, '/'))
		return berth_cidr_parse(s, &f, a, &b);
	if (!config_split_host(s, &name, &port))
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-_:", *p))
			return false;
	return true;
}

bool
config_mirror_url_valid(const char *s)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *path = NULL, *query = NULL;
	bool ok = false;

	if (curl_url_set(u, CURLUPART_URL, s, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK)
		ok = (strcmp(scheme, "http") == 0 ||
		      strcmp(scheme, "https") == 0) &&
		     *host && (strcmp(path, "/") == 0 || *path == '\0') &&
		     curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK;
	curl_free(scheme);
	curl_free(host);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return ok;
}

/* The addresses `name` stands for (itself when it is one); NULL-ended. */
static char **
addresses(const char *name)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	unsigned char tmp[16];
	char **v = NULL;
	size_t n = 0;

	if (inet_pton(AF_INET, name, tmp) == 1 ||
	    inet_pton(AF_INET6, name, tmp) == 1) {
		v = xcalloc(2, sizeof(*v));
		v[0] = xstrdup(name);
		return v;
	}
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return NULL;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		char buf[INET6_ADDRSTRLEN];
		const void *a =
			ai->ai_family == AF_INET
				? (const void *)&(
					  (struct sockaddr_in *)ai->ai_addr)
					  ->sin_addr
				: (const void *)&(
					  (struct sockaddr_in6 *)ai->ai_addr)
					  ->sin6_addr;

		if (inet_ntop(ai->ai_family, a, buf, sizeof(buf)) == NULL)
			continue;
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = xstrdup(buf);
		v[n] = NULL;
	}
	freeaddrinfo(res);
	return v;
}

/* Whether `host` is named in `list` as host[:port], or its address is in
 * one of the list's CIDR entries; the matching entry goes to *why. */
static bool
host_listed(char *const *list, size_t n, const char *host, const char **why)
{
	_cleanup_free_ char *name = NULL;
	char **addrs = NULL;
	unsigned port;
	bool hit = false;

	for (size_t i = 0; i < n; i++)
		if (strchr(list[i], '/') == NULL &&
		    strcasecmp(list[i], host) == 0) {
			if (why)
				*why = list[i];
			return true;
		}
	if (!config_split_host(host, &name, &port))
		return false;
	for (size_t i = 0; i < n && !hit; i++) {
		if (strchr(list[i], '/') == NULL)
			continue;
		if (addrs == NULL && (addrs = addresses(name)) == NULL)
			break;
		for (char **a = addrs; *a && !hit; a++)
			if (berth_cidr_contains(list[i], *a)) {
				hit = true;
				if (why)
					*why = list[i];
			}
	}
	for (char **a = addrs; a && *a; a++)
		free(*a);
	free(addrs);
	return hit;
}

bool
berth_config_insecure(const char **why, const berth_config *c, const char *host)
{
	const berth_config_host *h;

	if (c == NULL)
		return false;
	if ((h = berth_config_host_find(c, host)) && h->insecure) {
		if (why)
			*why = h->host;
		return true;
	}
	return host_listed(c->insecure, c->n_insecure, host, why);
}

bool
berth_config_nondist_allowed(const berth_config *c, const char *host)
{
	return c && host_listed(c->nondist, c->n_nondist, host, NULL);
}

const berth_config_host *
berth_config_host_find(const berth_config *c, const char *host)
{
	for (size_t i = 0; c && i < c->n_hosts; i++)
		if (strcasecmp(c->hosts[i].host, host) == 0 ||
		    (berth_ref_is_docker_hub(host) &&
		     berth_ref_is_docker_hub(c->hosts[i].host)))
			return &c->hosts[i];
	return NULL;
}

char **
berth_config_mirrors(size_t *n, const berth_config *c, const char *registry)
{
	char **v = xcalloc(1, sizeof(*v));
	size_t k = 0;
	bool hub = berth_ref_is_docker_hub(registry);

	for (size_t i = 0; c && i < c->n_mirrors; i++) {
		const char *r = c->mirrors[i].registry;

		if (strcasecmp(r, registry) != 0 &&
		    !(hub && berth_ref_is_docker_hub(r)))
			continue;
		v = xreallocarray(v, k + 2, sizeof(*v));
		v[k++] = xstrdup(c->mirrors[i].url);
		v[k] = NULL;
	}
	if (n)
		*n = k;
	return v;
}
