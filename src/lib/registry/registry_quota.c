/*
 * Login checks and the pull quota: RateLimit-Limit / RateLimit-Remaining
 * ("100;w=21600": 100 pulls per 21600 s window), as Docker Hub sends them
 * on manifest requests, and a HEAD request to read them without spending
 * a pull.
 */
#include "registry/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

void
reg_parse_quota(const berth_http_resp *resp, berth_ratelimit *rl)
{
	berth_http_ratelimit_parse(&rl->limit, &rl->window,
				   resp->hdr[BERTH_H_RATELIMIT_LIMIT]);
	berth_http_ratelimit_parse(&rl->remaining, &rl->remaining_window,
				   resp->hdr[BERTH_H_RATELIMIT_REMAINING]);
	rl->status = resp->status;
}

void
reg_log_quota(berth_registry *r, const berth_http_resp *resp)
{
	berth_ratelimit rl = {0};

	if (resp->hdr[BERTH_H_RATELIMIT_REMAINING] == NULL)
		return;
	reg_parse_quota(resp, &rl);
	if (rl.limit >= 0 && rl.window > 0)
		berth_log(BERTH_LOG_INFO,
			  "registry '%s': pull quota %ld of %ld remaining "
			  "(per %ld s)",
			  r->name, rl.remaining, rl.limit, rl.window);
	else
		berth_log(BERTH_LOG_INFO,
			  "registry '%s': pull quota %ld remaining", r->name,
			  rl.remaining);
}

void
berth_ratelimit_release(berth_ratelimit *rl)
{
	free(rl->source);
	rl->source = NULL;
}

int
berth_registry_ratelimit(berth_registry *r, const char *repo,
			 const char *reference, berth_ratelimit *out,
			 berth_error **err)
{
	_cleanup_free_ char *subject = xasprintf("manifest '%s'", reference);
	berth_http_resp resp;
	int rc;

	memset(out, 0, sizeof(*out));
	out->limit = out->window = out->remaining = -1;
	out->remaining_window = -1;
	rc = reg_manifest_head(r, repo, reference, &resp, err);
	if (rc == 0) {
		reg_parse_quota(&resp, out);
		if (resp.hdr[BERTH_H_RATELIMIT_SOURCE])
			out->source = xstrdup(resp.hdr[BERTH_H_RATELIMIT_SOURCE]);
		/* 429 is an answer here: the quota is spent. */
		if (resp.status != 200 && resp.status != 429)
			rc = reg_fail(r, &resp, repo, subject, "pull", err);
	}
	berth_http_resp_release(&resp);
	return rc;
}

int
berth_registry_login(berth_registry *r, char **identity_token,
		     berth_error **err)
{
	int rc;

	*identity_token = NULL;
	berth_auth_set_offline(r->auth, true);
	rc = berth_registry_ping(r, err);
	if (rc == 0)
		*identity_token = berth_auth_take_refresh_token(r->auth);
	return rc;
}
