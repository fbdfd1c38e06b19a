/*
 * The pull quota: RateLimit-Limit / RateLimit-Remaining ("100;w=21600":
 * 100 pulls per 21600 s window), as Docker Hub sends them on manifest
 * requests. The probe that reads them without spending a pull is in
 * registry_ratelimit.c.
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
	berth_ratelimit rl = BERTH_RATELIMIT_INIT;

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
