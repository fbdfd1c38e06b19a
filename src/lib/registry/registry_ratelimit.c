/*
 * berth_registry_ratelimit: a manifest HEAD to read the pull quota
 * (registry_quota.c) without spending a pull.
 */
#include "registry/registry.h"

#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/str.h"
#include "util/xalloc.h"

int
berth_registry_ratelimit(berth_ratelimit *out, berth_registry *r,
			 const char *repo, const char *reference,
			 berth_error **err)
{
	_cleanup_free_ char *subject = xasprintf("manifest '%s'", reference);
	berth_http_resp resp;
	const char *src;
	int rc;

	if (berth_opts_check(out->version, BERTH_RATELIMIT_VERSION,
			     "berth_ratelimit", err) < 0)
		return BERTH_EUSAGE;
	BERTH_VERSIONED_RESET(out);
	out->limit = out->window = out->remaining = -1;
	out->remaining_window = -1;
	rc = reg_manifest_head(r, repo, reference, &resp, err);
	if (rc == 0) {
		reg_parse_quota(&resp, out);
		src = resp.hdr[BERTH_H_RATELIMIT_SOURCE];
		if (src)
			out->source = berth_str_quote(src, strlen(src), 100);
		/* 429 is an answer here: the quota is spent. */
		if (resp.status != 200 && resp.status != 429)
			rc = reg_fail(r, &resp, repo, subject, "pull", err);
	}
	berth_http_resp_release(&resp);
	return rc;
}
