/*
 * The route table. Order matters only where two patterns could match the
 * same path: upload routes come before the blob routes.
 *
 * {name} spans one or more path segments (repository names have slashes);
 * {ref} is exactly one non-empty segment. A path is matched from its end,
 * so a repository may well be called "x/blobs".
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

/* {method, pattern, handler, needs, audit action, name} */
static const srv_route routes[] = {
	{"GET", "/v2/", h_base_get, SRV_NEED_NONE, NULL, SRV_RT_BASE},
	{"GET", "/v2/_catalog", h_catalog_get, SRV_NEED_CATALOG, NULL,
	 SRV_RT_CATALOG},
	{"GET", "/v2/{name}/tags/list", h_tags_get, SRV_NEED_PULL, NULL,
	 SRV_RT_TAGS},
	{"GET", "/v2/{name}/manifests/{ref}", h_manifest_get,
	 SRV_NEED_PULL | SRV_NEED_PULL_LIMIT, "pull", SRV_RT_MANIFEST},
	{"PUT", "/v2/{name}/manifests/{ref}", h_manifest_put,
	 SRV_NEED_PUSH | SRV_BODY_BUFFER, "push", SRV_RT_MANIFEST},
	{"DELETE", "/v2/{name}/manifests/{ref}", h_manifest_delete,
	 SRV_NEED_DELETE, "delete", SRV_RT_MANIFEST},
	{"POST", "/v2/{name}/blobs/uploads/", h_upload_post,
	 SRV_NEED_PUSH | SRV_BODY_STREAM, NULL, SRV_RT_UPLOAD},
	{"GET", "/v2/{name}/blobs/uploads/{ref}", h_upload_get, SRV_NEED_PUSH,
	 NULL, SRV_RT_UPLOAD_CHUNK},
	{"PATCH", "/v2/{name}/blobs/uploads/{ref}", h_upload_patch,
	 SRV_NEED_PUSH | SRV_BODY_STREAM, NULL, SRV_RT_UPLOAD_CHUNK},
	{"PUT", "/v2/{name}/blobs/uploads/{ref}", h_upload_put,
	 SRV_NEED_PUSH | SRV_BODY_STREAM, NULL, SRV_RT_UPLOAD_CHUNK},
	{"DELETE", "/v2/{name}/blobs/uploads/{ref}", h_upload_delete,
	 SRV_NEED_PUSH, NULL, SRV_RT_UPLOAD_CHUNK},
	{"GET", "/v2/{name}/blobs/{ref}", h_blob_get, SRV_NEED_PULL, NULL,
	 SRV_RT_BLOB},
	{"DELETE", "/v2/{name}/blobs/{ref}", h_blob_delete, SRV_NEED_DELETE,
	 "delete", SRV_RT_BLOB},
	{"GET", "/v2/{name}/referrers/{ref}", h_referrers_get, SRV_NEED_PULL,
	 NULL, SRV_RT_REFERRERS},
	{"GET", "/token", h_token_get, SRV_NEED_TOKEN, NULL, SRV_RT_TOKEN},
	{"POST", "/token", h_token_post, SRV_NEED_TOKEN | SRV_BODY_BUFFER, NULL,
	 SRV_RT_TOKEN},
	{"GET", "/metrics", h_metrics_get, SRV_NEED_METRICS, NULL,
	 SRV_RT_METRICS},
	{"POST", "/admin/v1/gc", h_admin_gc_post, SRV_NEED_ADMIN, "gc",
	 SRV_RT_ADMIN},
	{"POST", "/admin/v1/retention", h_admin_retention_post, SRV_NEED_ADMIN,
	 NULL, SRV_RT_ADMIN},
};

/* Label values: distribution's names for the same endpoints. */
const char *const srv_route_names[SRV_RT_N] = {
	[SRV_RT_BASE] = "base",
	[SRV_RT_CATALOG] = "catalog",
	[SRV_RT_TAGS] = "tags",
	[SRV_RT_MANIFEST] = "manifest",
	[SRV_RT_UPLOAD] = "blob_upload",
	[SRV_RT_UPLOAD_CHUNK] = "blob_upload_chunk",
	[SRV_RT_BLOB] = "blob",
	[SRV_RT_REFERRERS] = "referrers",
	[SRV_RT_TOKEN] = "token",
	[SRV_RT_METRICS] = "metrics",
	[SRV_RT_ADMIN] = "admin",
	[SRV_RT_NONE] = "none",
};

#define MAX_SEGS 64

/* Splits "/a/b/" into {"a","b",""}; returns the count or -1 if too many. */
static int
split(char *p, char **segs)
{
	int n = 0;

	if (*p == '/')
		p++;
	for (;;) {
		char *slash = strchr(p, '/');

		if (n == MAX_SEGS)
			return -1;
		segs[n++] = p;
		if (slash == NULL)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	return n;
}

/* Matches path segments against a pattern; on success sets name/ref. */
static bool
match(const char *pattern, char **segs, int nseg, char **name, char **ref)
{
	char pbuf[128];
	char *pseg[MAX_SEGS];
	int np, i, name_at = -1, tail, nname;

	snprintf(pbuf, sizeof(pbuf), "%s", pattern);
	np = split(pbuf, pseg);
	for (i = 0; i < np; i++)
		if (strcmp(pseg[i], "{name}") == 0)
			name_at = i;
	/* "/v2/x/blobs/uploads" answers like "/v2/x/blobs/uploads/". */
	if (np > 1 && pseg[np - 1][0] == '\0' && segs[nseg - 1][0] != '\0')
		np--;
	if (name_at < 0) {
		if (np != nseg)
			return false;
		for (i = 0; i < np; i++)
			if (strcmp(pseg[i], segs[i]) != 0)
				return false;
		return true;
	}
	tail = np - name_at - 1;
	nname = nseg - name_at - tail;
	if (nname < 1)
		return false;
	for (i = 0; i < name_at; i++)
		if (strcmp(pseg[i], segs[i]) != 0)
			return false;
	for (i = 0; i < tail; i++) {
		const char *p = pseg[name_at + 1 + i];
		const char *s = segs[name_at + nname + i];

		if (strcmp(p, "{ref}") == 0) {
			if (s[0] == '\0')
				return false;
		} else if (strcmp(p, s) != 0) {
			return false;
		}
	}
	/* Rebuild the name from its segments. */
	{
		berth_buf b = BERTH_BUF_INIT;

		for (i = 0; i < nname; i++) {
			if (i)
				berth_buf_puts(&b, "/", NULL);
			berth_buf_puts(&b, segs[name_at + i], NULL);
		}
		*name = berth_buf_detach(&b);
	}
	*ref = NULL;
	for (i = 0; i < tail; i++)
		if (strcmp(pseg[name_at + 1 + i], "{ref}") == 0)
			*ref = xstrdup(segs[name_at + nname + i]);
	return true;
}

srv_match
srv_route_find(const char *method, const char *path, const srv_route **route,
	       char **name, char **ref)
{
	_cleanup_free_ char *copy = NULL;
	char *segs[MAX_SEGS];
	bool path_known = false;
	int nseg;
	size_t i;

	*name = *ref = NULL;
	if (strncmp(path, "/v2", 3) != 0 && strcmp(path, "/token") != 0 &&
	    strcmp(path, "/metrics") != 0 && strncmp(path, "/admin/", 7) != 0)
		return SRV_MATCH_NONE;
	copy = xstrdup(path);
	nseg = split(copy, segs);
	if (nseg < 0)
		return SRV_MATCH_NONE;
	for (i = 0; i < BERTH_ARRAY_SIZE(routes); i++) {
		char *n = NULL, *rf = NULL;
		bool same_method;

		/* segs were split in place; each match works on copies. */
		if (!match(routes[i].pattern, segs, nseg, &n, &rf))
			continue;
		same_method = strcmp(routes[i].method, method) == 0 ||
			      (strcmp(method, "HEAD") == 0 &&
			       strcmp(routes[i].method, "GET") == 0);
		if (!same_method) {
			path_known = true;
			free(n);
			free(rf);
			continue;
		}
		*route = &routes[i];
		*name = n;
		*ref = rf;
		return SRV_MATCH_OK;
	}
	return path_known ? SRV_MATCH_METHOD : SRV_MATCH_NONE;
}
