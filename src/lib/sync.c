/*
 * berth_sync: per repository, the tags to mirror (listed, or the
 * registry's, through the filters), then per tag a HEAD at both ends:
 * the same digest at the destination is "unchanged", anything else is
 * copied whole (berth_copy --all, so digests stay).
 */
#include "berth/sync.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "berth/copy.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/str.h"
#include "util/xalloc.h"

typedef struct sync_job {
	const berth_sync_opts *o;
	berth_sync_result res;
	berth_registry *dst;
	char *dst_host, *prefix;
	int64_t bytes; /* of the copy under way */
} sync_job;

typedef struct repo_creds {
	const char *user, *pass;
} repo_creds;

static int
fixed_creds(void *ud, const char *host, berth_credentials *out,
	    berth_error **err)
{
	const repo_creds *c = ud;

	(void)host, (void)err;
	out->username = xstrdup(c->user);
	out->password = xstrdup(c->pass ? c->pass : "");
	return 0;
}

static void
on_copy(void *ud, const berth_copy_event *ev)
{
	sync_job *j = ud;

	if (ev->kind == BERTH_COPY_BLOB_COPIED)
		j->bytes += ev->desc->size;
}

static bool
regex_ok(const char *re, const char *tag)
{
	regex_t rx;
	bool ok;

	if (re == NULL)
		return true;
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	ok = regexec(&rx, tag, 0, NULL, 0) == 0;
	regfree(&rx);
	return ok;
}

/* Newest first: by version, tags that are none after, by name. */
static int
newest_first(const void *a, const void *b)
{
	const char *ta = *(char *const *)a, *tb = *(char *const *)b;
	berth_semver va, vb;
	bool ha = berth_semver_parse(&va, ta) == 0;
	bool hb = berth_semver_parse(&vb, tb) == 0;

	if (ha && hb) {
		int c = berth_semver_cmp(&vb, &va);

		return c ? c : strcmp(tb, ta);
	}
	if (ha != hb)
		return ha ? -1 : 1;
	return strcmp(tb, ta);
}

/* The tags of r to mirror, filtered, in `tags` (a strv). */
static int
select_tags(char ***out, size_t *n, sync_job *j, berth_registry *src,
	    const berth_sync_repo *r, berth_error **err)
{
	char **all = NULL, **keep;
	size_t n_all = 0, k = 0;
	int rc;

	if (r->n_tags > 0) {
		all = xcalloc(r->n_tags + 1, sizeof(*all));
		for (size_t i = 0; i < r->n_tags; i++)
			all[i] = xstrdup(r->tags[i]);
		n_all = r->n_tags;
	} else if ((rc = berth_registry_list_tags(&all, &n_all, src, r->repo,
						  err)) < 0) {
		return berth_error_wrap(err, rc, "listing the tags of '%s/%s'",
					r->registry, r->repo);
	}
	keep = xcalloc(n_all + 1, sizeof(*keep));
	for (size_t i = 0; i < n_all; i++) {
		berth_semver v;
		bool in = regex_ok(r->tag_regex, all[i]) &&
			  regex_ok(j->o->tag_regex, all[i]);

		if (in && j->o->semver) {
			in = berth_semver_parse(&v, all[i]) == 0;
			if (in && (rc = berth_semver_match(
					   &in, &v, j->o->semver, err)) < 0) {
				berth_strv_free(all);
				berth_strv_free(keep);
				return rc;
			}
		}
		if (in)
			keep[k++] = steal_ptr(&all[i]);
	}
	berth_strv_free(all);
	if (j->o->keep) {
		qsort(keep, k, sizeof(*keep), newest_first);
		while (k > j->o->keep)
			free(keep[--k]), keep[k] = NULL;
	}
	*out = keep;
	*n = k;
	return 0;
}

static void
emit(sync_job *j, berth_sync_event_kind kind, const char *src, const char *dst,
     const berth_digest *d, int64_t bytes)
{
	berth_sync_event ev = {kind, src, dst, d, bytes};

	if (j->o->progress)
		j->o->progress(j->o->ud, &ev);
}

static int
sync_tag(sync_job *j, berth_registry *src, const berth_registry_opts *sro,
	 const berth_sync_repo *r, const char *tag, berth_error **err)
{
	_cleanup_free_ char *dst_repo =
		j->prefix[0] ? xasprintf("%s/%s", j->prefix, r->dest_name)
			     : xstrdup(r->dest_name);
	_cleanup_free_ char *s_name =
		xasprintf("%s/%s:%s", r->registry, r->repo, tag);
	_cleanup_free_ char *d_name =
		xasprintf("%s/%s:%s", j->dst_host, dst_repo, tag);
	_cleanup_(berth_location_freep) berth_location *sl = NULL, *dl = NULL;
	_cleanup_free_ char *s_loc = xasprintf("docker://%s", s_name);
	_cleanup_free_ char *d_loc = xasprintf("docker://%s", d_name);
	berth_descriptor have = BERTH_DESCRIPTOR_INIT;
	berth_descriptor want = BERTH_DESCRIPTOR_INIT;
	berth_copy_opts co = BERTH_COPY_OPTS_INIT;
	berth_copy_result cr = BERTH_COPY_RESULT_INIT;
	berth_error *e = NULL;
	bool same;
	int rc;

	j->res.tags++;
	rc = berth_registry_head_manifest(&want, src, r->repo, tag, err);
	if (rc < 0)
		return berth_error_wrap(err, rc, "image '%s'", s_name);
	same = berth_registry_head_manifest(&have, j->dst, dst_repo, tag, &e) ==
		       0 &&
	       strcmp(have.digest.str, want.digest.str) == 0;
	berth_error_free(e);
	berth_descriptor_release(&have);
	if (same || j->o->dry_run) {
		if (same)
			j->res.unchanged++;
		emit(j, same ? BERTH_SYNC_UNCHANGED : BERTH_SYNC_WOULD_COPY,
		     s_name, d_name, &want.digest, 0);
		berth_descriptor_release(&want);
		return 0;
	}
	if ((rc = berth_location_parse(&sl, s_loc, err)) < 0 ||
	    (rc = berth_location_parse(&dl, d_loc, err)) < 0) {
		berth_descriptor_release(&want);
		return rc;
	}
	co.registry = j->o->registry;
	co.src_registry = sro;
	co.all = true;
	co.max_concurrent = j->o->max_concurrent;
	co.progress = on_copy;
	co.ud = j;
	j->bytes = 0;
	rc = berth_copy(&cr, sl, dl, &co, err);
	berth_descriptor_release(&want);
	if (rc < 0)
		return rc;
	j->res.copied++;
	j->res.bytes += j->bytes;
	emit(j, BERTH_SYNC_COPIED, s_name, d_name, &cr.digest, j->bytes);
	return 0;
}

static int
sync_repo(sync_job *j, const berth_sync_repo *r, berth_error **err)
{
	static const berth_registry_opts defaults = BERTH_REGISTRY_OPTS_INIT;
	berth_registry_opts ro = j->o->registry ? *j->o->registry : defaults;
	_cleanup_(berth_registry_freep) berth_registry *src = NULL;
	_cleanup_free_ char *host = NULL;
	repo_creds creds = {r->username, r->password};
	char **tags = NULL;
	size_t n = 0;
	int rc;

	ro.version = BERTH_REGISTRY_OPTS_VERSION;
	if (r->tls_verify == 0)
		ro.insecure = true;
	if (r->cert_dir)
		ro.cert_dir = r->cert_dir;
	if (r->username) {
		ro.credentials = fixed_creds;
		ro.credentials_ud = &creds;
	}
	{
		_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
		_cleanup_free_ char *s =
			xasprintf("%s/%s", r->registry, r->repo);

		if ((rc = berth_ref_parse(&ref, s, err)) < 0)
			return rc;
		host = xstrdup(berth_ref_api_host(ref));
	}
	if ((rc = berth_registry_new(&src, host, &ro, err)) < 0)
		return rc;
	if ((rc = select_tags(&tags, &n, j, src, r, err)) < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = sync_tag(j, src, &ro, r, tags[i], err);
	berth_strv_free(tags);
	return rc;
}

/* "docker://REG[/PREFIX]" into the host and the prefix. */
static int
parse_dest(sync_job *j, const char *dest, berth_error **err)
{
	_cleanup_free_ char *q = berth_str_quote(dest, strlen(dest), 200);
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	_cleanup_free_ char *probe = NULL;
	const char *rest, *slash;

	if (strncmp(dest, "docker://", 9) != 0 || dest[9] == '\0')
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid sync destination '%s': "
				       "expected 'docker://REGISTRY[/PREFIX]'",
				       q);
	rest = dest + 9;
	slash = strchr(rest, '/');
	j->dst_host =
		slash ? xstrndup(rest, (size_t)(slash - rest)) : xstrdup(rest);
	j->prefix = xstrdup(slash ? slash + 1 : "");
	while (j->prefix[0] && j->prefix[strlen(j->prefix) - 1] == '/')
		j->prefix[strlen(j->prefix) - 1] = '\0';
	probe = xasprintf("%s/%s%sx", j->dst_host, j->prefix,
			  j->prefix[0] ? "/" : "");
	/* The host must read as one (a '.' or ':' or localhost), or the
	 * prefix would land on Docker Hub. */
	if (berth_ref_parse(&ref, probe, NULL) < 0 ||
	    strcmp(ref->domain, j->dst_host) != 0 || strpbrk(j->prefix, ":@"))
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid sync destination '%s': "
				       "expected 'docker://REGISTRY[/PREFIX]'",
				       q);
	return 0;
}

int
berth_sync(berth_sync_result *out, const berth_sync_list *src, const char *dest,
	   const berth_sync_opts *opts, berth_error **err)
{
	static const berth_sync_opts defaults = BERTH_SYNC_OPTS_INIT;
	const berth_sync_opts *o = opts ? opts : &defaults;
	sync_job j = {.o = o, .res = BERTH_SYNC_RESULT_INIT};
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	int rc;

	if (berth_opts_check(o->version, BERTH_SYNC_OPTS_VERSION,
			     "berth_sync_opts", err) < 0 ||
	    berth_opts_check(out->version, BERTH_SYNC_RESULT_VERSION,
			     "berth_sync_result", err) < 0)
		return BERTH_EUSAGE;
	if (o->tag_regex) {
		regex_t rx;
		int bad = regcomp(&rx, o->tag_regex, REG_EXTENDED | REG_NOSUB);

		if (bad)
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "invalid tag regex '%s'",
					       o->tag_regex);
		regfree(&rx);
	}
	if (o->semver) {
		berth_semver zero = {0};
		bool in;

		if ((rc = berth_semver_match(&in, &zero, o->semver, err)) < 0)
			return rc;
	}
	rc = parse_dest(&j, dest, err);
	if (rc == 0) {
		_cleanup_free_ char *s = xasprintf("%s/x", j.dst_host);

		rc = berth_ref_parse(&ref, s, err);
	}
	if (rc == 0)
		rc = berth_registry_new(&j.dst, berth_ref_api_host(ref),
					o->registry, err);
	for (size_t i = 0; rc == 0 && i < src->n; i++)
		rc = sync_repo(&j, &src->repos[i], err);
	berth_registry_free(j.dst);
	free(j.dst_host);
	free(j.prefix);
	if (rc < 0)
		return rc;
	*out = j.res;
	return 0;
}
