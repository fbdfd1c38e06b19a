/*
 * Image references with Docker's grammar and normalisation
 * (distribution/reference), see docs/references.md:
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path
 *   domain    := host [ ":" port ]    host: DNS name, IPv4, or [IPv6]
 *   path      := component ( "/" component )*
 *   component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag       := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
 *
 * The first component is a domain when it contains '.' or ':', is
 * "localhost", or has an uppercase letter; otherwise the name is on Docker
 * Hub ("docker.io"), where one-component paths live under "library/".
 */
#include "berth/ref.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/digest.h"
#include "oci/names.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"

#define LIBRARY "library/"

/* Quotes an untrusted string for a one-line message. */
static char *
quote(const char *s, size_t len)
{
	return berth_str_quote(s, len, 128);
}

/* The parse in progress: the input, and the error context. */
typedef struct parse {
	const char *input;
	berth_error **err;
} parse;

static int fail(parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
fail(parse *p, const char *fmt, ...)
{
	_cleanup_free_ char *what = NULL;
	_cleanup_free_ char *in = quote(p->input, strlen(p->input));
	va_list ap;

	va_start(ap, fmt);
	what = xvasprintf(fmt, ap);
	va_end(ap);
	return berth_error_set(p->err, BERTH_EREF, 0,
			       "invalid reference '%s': %s", in, what);
}

static int
check_tag(parse *p, const char *tag, size_t len)
{
	_cleanup_free_ char *q = NULL;

	if (berth_ref_tag_valid_len(tag, len))
		return 0;
	if (len == 0)
		return fail(p, "tag is empty after ':'");
	q = quote(tag, len);
	if (len > BERTH_TAG_MAX)
		return fail(p, "tag '%s' is longer than %d characters", q,
			    BERTH_TAG_MAX);
	return fail(p,
		    "tag '%s' may contain only letters, digits, '_', "
		    "'.' and '-', and must not start with '.' or '-'",
		    q);
}

/* A DNS name component: alnum, or alnum [alnum-]* alnum. */
static bool
check_host_label(const char *s, size_t len)
{
	if (len == 0 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[len - 1]))
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool
check_domain(const char *d, size_t len)
{
	const char *end = d + len, *host_end, *c;

	if (len > 0 && d[0] == '[') {
		/* IPv6 literal, without zone identifiers */
		host_end = memchr(d, ']', len);
		if (host_end == NULL || host_end == d + 1)
			return false;
		for (c = d + 1; c < host_end; c++)
			if (!isxdigit((unsigned char)*c) && *c != ':')
				return false;
		host_end++;
	} else {
		const char *label = d;

		host_end = memchr(d, ':', len);
		if (host_end == NULL)
			host_end = end;
		for (c = d; c <= host_end; c++) {
			if (c < host_end && *c != '.')
				continue;
			if (!check_host_label(label, (size_t)(c - label)))
				return false;
			label = c + 1;
		}
	}
	if (host_end == end)
		return true;
	if (*host_end != ':' || host_end + 1 == end)
		return false;
	for (c = host_end + 1; c < end; c++)
		if (!isdigit((unsigned char)*c))
			return false;
	return true;
}

/* One path component; uppercase is checked separately (see check_path). */
static int
check_component(parse *p, const char *s, size_t len)
{
	_cleanup_free_ char *q = NULL;
	size_t at, at_len;
	char bad[8];
	unsigned char c;

	switch (berth_name_component_check(&at, &at_len, s, len, true)) {
	case BERTH_NAME_OK:
		return 0;
	case BERTH_NAME_EMPTY:
		return -1; /* reported by the caller, which has the context */
	case BERTH_NAME_BAD_START:
		q = quote(s, len);
		return fail(p,
			    "path component '%s' must start with a lowercase "
			    "letter or digit",
			    q);
	case BERTH_NAME_BAD_END:
		q = quote(s, len);
		return fail(p,
			    "path component '%s' must end with a lowercase "
			    "letter or digit",
			    q);
	case BERTH_NAME_BAD_SEPARATOR: {
		_cleanup_free_ char *sep = quote(s + at, at_len);

		q = quote(s, len);
		return fail(p,
			    "path component '%s' has an invalid separator '%s' "
			    "(use '.', '_', '__' or dashes)",
			    q, sep);
	}
	case BERTH_NAME_BAD_CHAR:
		break;
	}
	q = quote(s, len);
	c = (unsigned char)s[at];
	if (c >= 0x20 && c < 0x7f)
		snprintf(bad, sizeof(bad), "'%c'", c);
	else
		snprintf(bad, sizeof(bad), "0x%02x", c);
	return fail(p, "path component '%s' has an invalid character %s", q,
		    bad);
}

/* `shown` is the part of the input to name as the repository. */
static int
check_path(parse *p, const char *path, size_t len, const char *shown,
	   size_t shown_len)
{
	_cleanup_free_ char *q = quote(shown, shown_len);
	const char *c = path, *end = path + len;

	if (len == 0)
		return fail(p, "repository name is empty");
	for (;;) {
		const char *slash = memchr(c, '/', (size_t)(end - c));
		size_t clen = slash ? (size_t)(slash - c) : (size_t)(end - c);

		if (clen == 0)
			return fail(
				p,
				"repository name '%s' has an empty path "
				"component (leading, trailing or double '/')",
				q);
		if (check_component(p, c, clen) < 0)
			return BERTH_EREF;
		if (slash == NULL)
			break;
		c = slash + 1;
	}
	for (c = path; c < end; c++)
		if (*c >= 'A' && *c <= 'Z')
			return fail(p, "repository name '%s' must be lowercase",
				    q);
	return 0;
}

static bool
is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static bool
has_upper(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return true;
	return false;
}

static int
ref_parse(berth_ref **out, const char *s, bool default_tag, berth_error **err)
{
	parse p = {s ? s : "", err};
	_cleanup_(berth_ref_freep) berth_ref *r = NULL;
	const char *at, *name, *name_end, *colon, *slash, *path, *shown;
	size_t first_len;
	bool explicit_domain = false;

	if (s == NULL || *s == '\0')
		return fail(&p, "reference is empty");
	if (is_hex64(s)) {
		fail(&p, "a 64-character hexadecimal string is not a "
			 "repository name");
		berth_error_hint(err, "to name an image by digest, write "
				      "NAME@sha256:<hex>");
		return BERTH_EREF;
	}
	r = xcalloc(1, sizeof(*r));

	name = s;
	at = strchr(s, '@');
	name_end = at ? at : s + strlen(s);
	if (at) {
		berth_digest d;
		_cleanup_(berth_error_freep) berth_error *derr = NULL;

		if (berth_digest_parse(&d, at + 1, &derr) < 0)
			return fail(&p, "%s", derr->msg);
		r->digest = xstrdup(d.str);
	}

	/* A ':' after the last '/' starts the tag ("host:5000/a" has none). */
	colon = memrchr(name, ':', (size_t)(name_end - name));
	slash = memrchr(name, '/', (size_t)(name_end - name));
	if (colon && (slash == NULL || colon > slash)) {
		if (check_tag(&p, colon + 1, (size_t)(name_end - colon - 1)) <
		    0)
			return BERTH_EREF;
		r->tag = xstrndup(colon + 1, (size_t)(name_end - colon - 1));
		name_end = colon;
	}
	if (name_end == name)
		return fail(&p, "repository name is empty");

	slash = memchr(name, '/', (size_t)(name_end - name));
	first_len = slash ? (size_t)(slash - name) : 0;
	if (slash &&
	    ((first_len == 9 && !memcmp(name, "localhost", 9)) ||
	     memchr(name, '.', first_len) || memchr(name, ':', first_len) ||
	     has_upper(name, first_len))) {
		explicit_domain = !has_upper(name, first_len) ||
				  memchr(name, '.', first_len) ||
				  memchr(name, ':', first_len);
		if (!check_domain(name, first_len)) {
			_cleanup_free_ char *q = quote(name, first_len);

			return fail(&p,
				    "domain '%s' is not a valid host name or "
				    "address with an optional ':port'",
				    q);
		}
		r->domain = xstrndup(name, first_len);
		path = slash + 1;
	} else {
		r->domain = xstrdup(BERTH_DOCKER_HUB);
		path = name;
	}
	/* Name the repository as written; a domain guessed from uppercase
	 * alone is more likely a mistyped repository, so show it too. */
	shown = explicit_domain ? path : name;
	if (check_path(&p, path, (size_t)(name_end - path), shown,
		       (size_t)(name_end - shown)) < 0)
		return BERTH_EREF;

	if (berth_ref_is_docker_hub(r->domain)) {
		free(r->domain);
		r->domain = xstrdup(BERTH_DOCKER_HUB);
	}
	if (!strcmp(r->domain, BERTH_DOCKER_HUB) &&
	    !memchr(path, '/', (size_t)(name_end - path)))
		r->path =
			xasprintf(LIBRARY "%.*s", (int)(name_end - path), path);
	else
		r->path = xstrndup(path, (size_t)(name_end - path));
	if (strlen(r->path) > BERTH_NAME_MAX) {
		_cleanup_free_ char *q = quote(r->path, strlen(r->path));

		return fail(&p,
			    "repository name '%s' is longer than %d characters",
			    q, BERTH_NAME_MAX);
	}
	if (default_tag && r->tag == NULL && r->digest == NULL)
		r->tag = xstrdup("latest");
	*out = steal_ptr(&r);
	return 0;
}

int
berth_ref_parse(berth_ref **out, const char *s, berth_error **err)
{
	return ref_parse(out, s, true, err);
}

int
berth_ref_parse_name(berth_ref **out, const char *s, berth_error **err)
{
	return ref_parse(out, s, false, err);
}

static char *
ref_format(const char *domain, const char *path, const berth_ref *r)
{
	return xasprintf("%s%s%s%s%s%s%s", domain ? domain : "",
			 domain ? "/" : "", path, r->tag ? ":" : "",
			 r->tag ? r->tag : "", r->digest ? "@" : "",
			 r->digest ? r->digest : "");
}

char *
berth_ref_string(const berth_ref *r)
{
	return ref_format(r->domain, r->path, r);
}

char *
berth_ref_name(const berth_ref *r)
{
	return xasprintf("%s/%s", r->domain, r->path);
}

/* True when the first of several components would be read as a domain. */
static bool
looks_like_domain(const char *path)
{
	const char *slash = strchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;

	return slash && ((len == 9 && !memcmp(path, "localhost", 9)) ||
			 memchr(path, '.', len) || memchr(path, ':', len));
}

char *
berth_ref_familiar(const berth_ref *r)
{
	const char *path = r->path;

	/* Unlike Docker, keep "docker.io/" where dropping it would change the
	 * meaning: "docker.io/example.com/app" is not "example.com/app". */
	if (strcmp(r->domain, BERTH_DOCKER_HUB) != 0 || looks_like_domain(path))
		return ref_format(r->domain, path, r);
	if (!strncmp(path, LIBRARY, strlen(LIBRARY)) &&
	    !strchr(path + strlen(LIBRARY), '/'))
		path += strlen(LIBRARY);
	return ref_format(NULL, path, r);
}

const char *
berth_ref_reference(const berth_ref *r)
{
	return r->digest ? r->digest : r->tag;
}

const char *
berth_ref_api_host(const berth_ref *r)
{
	if (strcmp(r->domain, BERTH_DOCKER_HUB) == 0)
		return BERTH_DOCKER_HUB_API;
	return r->domain;
}

berth_ref *
berth_ref_dup(const berth_ref *r)
{
	berth_ref *d = xcalloc(1, sizeof(*d));

	d->domain = xstrdup(r->domain);
	d->path = xstrdup(r->path);
	d->tag = r->tag ? xstrdup(r->tag) : NULL;
	d->digest = r->digest ? xstrdup(r->digest) : NULL;
	return d;
}

void
berth_ref_free(berth_ref *r)
{
	if (r == NULL)
		return;
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	free(r);
}
