/*
 * Copy locations as skopeo writes them: "transport:rest". The transports
 * are one table, so a new one is a row; what no transport claims is a
 * reference into the local store.
 */
#include "berth/copy.h"

#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"

/* A location as typed, made safe for a one-line message. */
#define SHOWN_MAX 256

static char *
shown(const char *s)
{
	return berth_str_quote(s, strlen(s), SHOWN_MAX);
}

static int
parse_registry(berth_location *l, const char *rest, berth_error **err)
{
	_cleanup_free_ char *q = shown(rest);
	int r;

	if (strncmp(rest, "//", 2) != 0)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid location 'docker:%s': expected "
				       "'docker://NAME[:TAG|@DIGEST]'",
				       q);
	r = berth_ref_parse(&l->ref, rest + 2, err);
	return r < 0 ? berth_error_wrap(err, r, "location 'docker:%s'", q) : 0;
}

/* DIR[:TAG]: the last ':' starts the tag when what follows is one. */
static int
parse_path_tag(berth_location *l, const char *transport, const char *rest,
	       berth_error **err)
{
	_cleanup_free_ char *q = shown(rest);
	const char *colon = strrchr(rest, ':');
	const char *what = l->kind == BERTH_LOCATION_OCI ? "DIR" : "FILE";

	if (rest[0] == '\0' || colon == rest)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid location '%s:%s': expected "
				       "'%s:%s[:TAG]'",
				       transport, q, transport, what);
	if (colon == NULL || colon[1] == '\0') {
		l->path = colon ? xstrndup(rest, (size_t)(colon - rest))
				: xstrdup(rest);
		return 0;
	}
	if (!berth_ref_tag_valid(colon + 1))
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid tag after the last ':' of "
				       "location '%s:%s'",
				       transport, q);
	l->path = xstrndup(rest, (size_t)(colon - rest));
	l->tag = xstrdup(colon + 1);
	return 0;
}

static int
parse_oci(berth_location *l, const char *rest, berth_error **err)
{
	return parse_path_tag(l, "oci", rest, err);
}

static int
parse_oci_archive(berth_location *l, const char *rest, berth_error **err)
{
	return parse_path_tag(l, "oci-archive", rest, err);
}

/* FILE[:REF]: the first ':' ends FILE, as skopeo reads it (a REF holds
 * ':' of its own). A REF names a tagged image. */
static int
parse_docker_archive(berth_location *l, const char *rest, berth_error **err)
{
	_cleanup_free_ char *q = shown(rest);
	const char *colon = strchr(rest, ':');
	int r;

	if (rest[0] == '\0' || colon == rest)
		return berth_error_set(
			err, BERTH_EUSAGE, 0,
			"invalid location 'docker-archive:%s': "
			"expected 'docker-archive:FILE[:NAME:TAG]'",
			q);
	if (colon == NULL || colon[1] == '\0') {
		l->path = colon ? xstrndup(rest, (size_t)(colon - rest))
				: xstrdup(rest);
		return 0;
	}
	l->path = xstrndup(rest, (size_t)(colon - rest));
	r = berth_ref_parse(&l->ref, colon + 1, err);
	if (r == 0 && l->ref->digest)
		r = berth_error_set(err, BERTH_EUSAGE, 0,
				    "a docker-archive names images by tag, "
				    "not by digest");
	return r < 0 ? berth_error_wrap(err, r, "location 'docker-archive:%s'",
					q)
		     : 0;
}

static const struct transport {
	const char *name;
	berth_location_kind kind;
	int (*parse)(berth_location *l, const char *rest, berth_error **err);
} transports[] = {
	{"docker", BERTH_LOCATION_REGISTRY, parse_registry},
	{"oci", BERTH_LOCATION_OCI, parse_oci},
	{"oci-archive", BERTH_LOCATION_OCI_ARCHIVE, parse_oci_archive},
	{"docker-archive", BERTH_LOCATION_DOCKER_ARCHIVE, parse_docker_archive},
};

/* Transports of skopeo's that berth does not read: never a REF. */
static const char *const foreign[] = {
	"dir", "containers-storage", "docker-daemon", "ostree", "sif", NULL};

int
berth_location_parse(berth_location **out, const char *s, berth_error **err)
{
	_cleanup_(berth_location_freep) berth_location *l = NULL;
	_cleanup_free_ char *q = NULL;
	const char *colon = strchr(s, ':');
	bool other = false;

	for (size_t i = 0;
	     colon && i < sizeof(transports) / sizeof(*transports); i++) {
		const struct transport *t = &transports[i];

		if (strlen(t->name) != (size_t)(colon - s) ||
		    strncmp(s, t->name, (size_t)(colon - s)) != 0)
			continue;
		l = xcalloc(1, sizeof(*l));
		l->kind = t->kind;
		int r = t->parse(l, colon + 1, err);

		if (r < 0)
			return r;
		*out = steal_ptr(&l);
		return 0;
	}
	for (size_t i = 0; colon && foreign[i]; i++)
		other = other ||
			(strlen(foreign[i]) == (size_t)(colon - s) &&
			 strncmp(s, foreign[i], (size_t)(colon - s)) == 0);
	l = xcalloc(1, sizeof(*l));
	l->kind = BERTH_LOCATION_STORE;
	if (!other && !strstr(s, "://") &&
	    berth_ref_parse(&l->ref, s, NULL) == 0) {
		*out = steal_ptr(&l);
		return 0;
	}
	q = shown(s);
	berth_error_set(
		err, BERTH_EUSAGE, 0,
		"unknown location '%s': expected 'docker://NAME[:TAG]', "
		"'oci:DIR[:TAG]', 'oci-archive:FILE[:TAG]', "
		"'docker-archive:FILE[:NAME:TAG]' or a local image "
		"'NAME[:TAG]'",
		q);
	berth_error_hint(err, "write a registry image as 'docker://%s'", q);
	return BERTH_EUSAGE;
}

char *
berth_location_string(const berth_location *l)
{
	_cleanup_free_ char *ref = NULL;

	switch (l->kind) {
	case BERTH_LOCATION_REGISTRY:
		ref = berth_ref_string(l->ref);
		return xasprintf("docker://%s", ref);
	case BERTH_LOCATION_OCI:
		/* A ':' in DIR takes a ':' after it to end DIR. */
		if (l->tag)
			return xasprintf("oci:%s:%s", l->path, l->tag);
		return xasprintf("oci:%s%s", l->path,
				 strchr(l->path, ':') ? ":" : "");
	case BERTH_LOCATION_OCI_ARCHIVE:
		if (l->tag)
			return xasprintf("oci-archive:%s:%s", l->path, l->tag);
		return xasprintf("oci-archive:%s%s", l->path,
				 strchr(l->path, ':') ? ":" : "");
	case BERTH_LOCATION_DOCKER_ARCHIVE:
		if (l->ref == NULL)
			return xasprintf("docker-archive:%s", l->path);
		ref = berth_ref_string(l->ref);
		return xasprintf("docker-archive:%s:%s", l->path, ref);
	case BERTH_LOCATION_STORE:
		return berth_ref_string(l->ref);
	}
	return xstrdup("?");
}

void
berth_location_free(berth_location *l)
{
	if (l == NULL)
		return;
	berth_ref_free(l->ref);
	free(l->path);
	free(l->tag);
	free(l);
}
