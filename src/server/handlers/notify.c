/*
 * The request's side of an event (ops/events.h): who asked, from where,
 * and the content's URL as distribution builds it, from the Host the
 * client used.
 */
#include <stdlib.h>

#include "server/server.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

void
srv_notify(srv_req *r, const char *action, const char *media_type,
	   const char *digest, int64_t size, const char *tag, const char *from)
{
	_cleanup_free_ char *url = NULL;
	const char *host = srv_header(r, MHD_HTTP_HEADER_HOST);
	srv_event ev = {0};

	if (!srv_events_enabled(r->s->events))
		return;
	if (host == NULL || host[0] == '\0')
		host = r->s->cfg.addr;
	if (digest)
		url = xasprintf(
			"%s://%s/v2/%s/%s/%s",
			r->s->tls_cert_pem ? "https" : "http", host, r->name,
			r->route->id == SRV_RT_MANIFEST ? "manifests" : "blobs",
			digest);
	ev.action = action;
	ev.repository = r->name;
	ev.media_type = media_type;
	ev.digest = digest;
	ev.size = size;
	ev.tag = tag;
	ev.from_repository = from;
	ev.url = url;
	ev.addr = r->ip;
	ev.host = srv_header(r, MHD_HTTP_HEADER_HOST);
	ev.method = r->method;
	ev.user_agent = srv_header(r, MHD_HTTP_HEADER_USER_AGENT);
	ev.actor = r->user;
	srv_event_emit(r->s, &ev);
}
