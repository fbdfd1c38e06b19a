/*
 * URL helpers over libcurl's URL API (curl_url): resolving Location and
 * Link targets, adding query parameters, and redacting URLs for logs.
 */
#include "http/http.h"

#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

char *
berth_http_url_hostport(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *out = NULL;

	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
		    CURLUE_OK)
		out = xasprintf("%s:%s", host, port);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out;
}

/* Scheme, host and port (defaulted) of a URL, lowercased; false if invalid. */
static bool
url_origin(CURLU *u, const char *url, char **scheme, char **host, char **port)
{
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) !=
		    CURLUE_OK)
		return false;
	for (char *p = *host; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return true;
}

bool
berth_http_url_same_origin(const char *a, const char *b)
{
	CURLU *ua = curl_url(), *ub = curl_url();
	char *sa = NULL, *ha = NULL, *pa = NULL;
	char *sb = NULL, *hb = NULL, *pb = NULL;
	bool same = false;

	if (a && b && url_origin(ua, a, &sa, &ha, &pa) &&
	    url_origin(ub, b, &sb, &hb, &pb))
		same = strcmp(sa, sb) == 0 && strcmp(ha, hb) == 0 &&
		       strcmp(pa, pb) == 0;
	curl_free(sa);
	curl_free(ha);
	curl_free(pa);
	curl_free(sb);
	curl_free(hb);
	curl_free(pb);
	curl_url_cleanup(ua);
	curl_url_cleanup(ub);
	return same;
}

char *
berth_http_url_redact(const char *url)
{
	CURLU *u = curl_url();
	char *s = NULL, *out = NULL;

	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
		curl_url_set(u, CURLUPART_QUERY, NULL, 0);
		curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
		curl_url_set(u, CURLUPART_USER, NULL, 0);
		curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
		if (curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
			out = xstrdup(s);
	}
	curl_free(s);
	curl_url_cleanup(u);
	return out;
}

static bool
url_is_http(CURLU *u)
{
	char *scheme = NULL;
	bool ok;

	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		return false;
	ok = strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0;
	curl_free(scheme);
	return ok;
}

char *
berth_http_url_resolve(const char *base, const char *ref)
{
	CURLU *u = curl_url();
	char *s = NULL, *out = NULL;

	if (ref == NULL || *ref == '\0')
		goto out;
	/* A header value must not smuggle bytes into a URL. */
	for (const char *p = ref; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			goto out;
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK ||
	    !url_is_http(u))
		goto out;
	if (curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
		out = xstrdup(s);
out:
	curl_free(s);
	curl_url_cleanup(u);
	return out;
}

char *
berth_http_url_add_query(const char *url, const char *name, const char *value)
{
	CURLU *u = curl_url();
	char *s = NULL, *out = NULL;
	_cleanup_free_ char *pair = xasprintf("%s=%s", name, value);

	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_QUERY, pair,
			 CURLU_APPENDQUERY | CURLU_URLENCODE) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
		out = xstrdup(s);
	curl_free(s);
	curl_url_cleanup(u);
	return out;
}
