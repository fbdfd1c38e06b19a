/* GET /v2/<name>/tags/list and GET /v2/_catalog, with n/last paging. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/handlers/oci.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define PAGE_MAX 100000L

/* Reads n and last; answers 400 and returns <0 when n is not a number. */
int
srv_parse_page(srv_req *r, long *n, const char **last)
{
	const char *ns = srv_query(r, "n");
	char *end;

	*n = -1;
	*last = srv_query(r, "last");
	if (*last && (*last)[0] == '\0')
		*last = NULL;
	if (ns == NULL || ns[0] == '\0')
		return 0;
	errno = 0;
	*n = strtol(ns, &end, 10);
	if (errno || *end || *n < 0)
		return srv_fail(r, SRV_E_UNSUPPORTED, NULL,
				"invalid page size n='%.40s'", ns);
	if (*n > PAGE_MAX)
		*n = PAGE_MAX;
	return 0;
}

static void
link_next(struct MHD_Response *resp, const char *base, long n, const char *last)
{
	_cleanup_free_ char *link =
		xasprintf("<%s?n=%ld&last=%s>; rel=\"next\"", base, n, last);

	srv_resp_header(resp, "Link", link);
}

static int
send_list(srv_req *r, char *body, size_t len, const char *base, long n,
	  char **items, bool more)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		len, body, MHD_RESPMEM_MUST_FREE);
	size_t cnt = 0;

	if (resp == NULL)
		abort();
	while (items[cnt])
		cnt++;
	srv_resp_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (more && n > 0 && cnt > 0)
		link_next(resp, base, n, items[cnt - 1]);
	r->bytes = r->head ? 0 : len;
	return srv_send(r, MHD_HTTP_OK, resp);
}

int
h_tags_get(srv_req *r)
{
	_cleanup_free_ char *base = xasprintf("/v2/%s/tags/list", r->name);
	berth_error *err = NULL;
	char **tags = NULL;
	const char *last;
	bool more = false;
	char *body;
	size_t len;
	long n;
	int rc;

	if (srv_parse_page(r, &n, &last) < 0)
		return BERTH_EUSAGE;
	if (srv_storage_tags(r->s->store, &tags, &more, r->name, last, n,
			     &err) < 0)
		return srv_fail_err(r, SRV_E_AUTO, &err); /* NAME_UNKNOWN */
	body = berth_oci_tags_json(r->name, tags, &len);
	rc = send_list(r, body, len, base, n, tags, more);
	berth_strv_free(tags);
	return rc;
}

/*
 * The catalog shows only the repositories the caller may pull: pages are
 * read from the store and filtered until n are found or none are left.
 */
static int
catalog_visible(srv_req *r, const char *last, long n, char ***out, bool *more,
		berth_error **err)
{
	_cleanup_free_ char *cursor = last ? xstrdup(last) : NULL;
	char **got = NULL;
	size_t cnt = 0;
	int rc;

	got = xcalloc(1, sizeof(*got));
	*more = false;
	for (;;) {
		long batch = n < 0 ? -1 : (n - (long)cnt) + 64;
		char **page = NULL;
		bool page_more = false;
		size_t i;

		if (n >= 0 && (long)cnt >= n)
			break;
		if ((rc = srv_storage_catalog(r->s->store, &page, &page_more,
					      cursor, batch, err)) < 0) {
			berth_strv_free(got);
			return rc;
		}
		for (i = 0; page[i]; i++) {
			if (n >= 0 && (long)cnt >= n) {
				*more = true;
				break;
			}
			free(cursor);
			cursor = xstrdup(page[i]);
			if (!srv_can_list(r, page[i]))
				continue;
			got = xreallocarray(got, cnt + 2, sizeof(*got));
			got[cnt++] = xstrdup(page[i]);
			got[cnt] = NULL;
		}
		berth_strv_free(page);
		if (*more || !page_more)
			break;
		if (n >= 0 && (long)cnt >= n) {
			*more = true;
			break;
		}
	}
	*out = got;
	return 0;
}

int
h_catalog_get(srv_req *r)
{
	berth_error *err = NULL;
	char **repos = NULL;
	const char *last;
	bool more = false;
	char *body;
	size_t len;
	long n;
	int rc;

	if (srv_parse_page(r, &n, &last) < 0)
		return BERTH_EUSAGE;
	if (catalog_visible(r, last, n, &repos, &more, &err) < 0)
		return srv_fail_err(r, SRV_E_AUTO, &err);
	body = berth_oci_catalog_json(repos, &len);
	rc = send_list(r, body, len, "/v2/_catalog", n, repos, more);
	berth_strv_free(repos);
	return rc;
}
