/*
 * What surrounds access control: the caller's address, the request-rate
 * guard, pull limits, and the audit log. The pull limit leaves its numbers
 * in srv_req; the response layer turns them into RateLimit headers.
 *
 * A pull is a request on a route that needs SRV_NEED_PULL_LIMIT (a
 * manifest GET) and passed access control; HEAD requests get
 * the headers without being counted, blob requests are never counted.
 * Authenticated callers are counted per user, anonymous ones per address
 * (IPv6 per /64, since one host owns at least that much).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "berth/log.h"
#include "server/ops/metrics.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
srv_peer_init(srv_req *r)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(r->ip, sizeof(r->ip), "-");
	snprintf(r->limit_key, sizeof(r->limit_key), "ip:-");
	ci = MHD_get_connection_info(r->conn,
				     MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	sa = ci->client_addr;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  r->ip, sizeof(r->ip));
		snprintf(r->limit_key, sizeof(r->limit_key), "ip:%s", r->ip);
	} else if (sa->sa_family == AF_INET6) {
		struct in6_addr a =
			((const struct sockaddr_in6 *)sa)->sin6_addr;
		char net[INET6_ADDRSTRLEN];

		if (IN6_IS_ADDR_V4MAPPED(&a)) {
			inet_ntop(AF_INET, &a.s6_addr[12], r->ip,
				  sizeof(r->ip));
			snprintf(r->limit_key, sizeof(r->limit_key), "ip:%s",
				 r->ip);
			return;
		}
		inet_ntop(AF_INET6, &a, r->ip, sizeof(r->ip));
		memset(&a.s6_addr[8], 0, 8);
		inet_ntop(AF_INET6, &a, net, sizeof(net));
		snprintf(r->limit_key, sizeof(r->limit_key), "ip:%s/64", net);
	}
}

static void
too_many(srv_req *r, long retry_after, const char *msg, const char *hint)
{
	berth_error e = {.code = BERTH_ETOOMANY,
			 .msg = (char *)msg,
			 .hint = (char *)hint};
	struct MHD_Response *resp;
	char ra[32];
	unsigned status;

	resp = srv_error_response(SRV_E_TOOMANYREQUESTS, &e, NULL, &status);
	snprintf(ra, sizeof(ra), "%ld", retry_after);
	srv_resp_header(resp, "Retry-After", ra);
	srv_send(r, status, resp);
}

int
srv_rate_guard(srv_req *r)
{
	_cleanup_free_ char *msg = NULL;

	if (berth_rate_take(r->s->rate, r->ip, now_ms()))
		return 0;
	srv_metric_inc(SRV_M_LIMIT_REFUSALS, SRV_LIMIT_RATE);
	r->denied = true;
	r->audit_detail = xstrdup("request rate");
	msg = xasprintf("too many requests from %s: at most %ld per second",
			r->ip, srv_cfg(r)->rate_limit);
	too_many(r, 1, msg, "slow down and retry in a second");
	return BERTH_ETOOMANY;
}

int
srv_login_guard(srv_req *r, const char *user)
{
	_cleanup_free_ char *key = xasprintf("user:%s", user), *msg = NULL;
	int64_t now = now_ms();
	long wu = 0, wa = 0;

	if (r->s->fails_user)
		wu = berth_fails_blocked(r->s->fails_user, key, now);
	if (r->s->fails_addr)
		wa = berth_fails_blocked(r->s->fails_addr, r->limit_key, now);
	if (wu == 0 && wa == 0)
		return 0;
	msg = wu >= wa ? xasprintf("too many failed logins for user '%s'", user)
		       : xasprintf("too many failed logins from %s", r->ip);
	berth_log(BERTH_LOG_WARN, "login of '%s' from %s refused: %s", user,
		  r->ip, msg);
	srv_metric_inc(SRV_M_LOGINS, SRV_LOGIN_REFUSED);
	r->denied = true;
	free(r->audit_detail);
	r->audit_detail = xstrdup(msg);
	too_many(r, wu > wa ? wu : wa, msg,
		 "wait for the time Retry-After says, then sign in with the "
		 "right password");
	return BERTH_ETOOMANY;
}

void
srv_login_result(srv_req *r, const char *user, bool ok)
{
	_cleanup_free_ char *key = xasprintf("user:%s", user);
	int64_t now = now_ms();

	if (r->pw_counted)
		return;
	r->pw_counted = true;
	if (ok) {
		if (r->s->fails_user)
			berth_fails_clear(r->s->fails_user, key);
		return;
	}
	if (r->s->fails_user)
		berth_fails_add(r->s->fails_user, key, now);
	if (r->s->fails_addr)
		berth_fails_add(r->s->fails_addr, r->limit_key, now);
}

/* The limit of the caller of r, and the key it is counted under. */
static const berth_limit *
caller_limit(srv_req *r, const char **key, char *buf, size_t len)
{
	size_t i;

	if (r->user == NULL) {
		*key = r->limit_key;
		return &r->s->limit_anon;
	}
	snprintf(buf, len, "user:%s", r->user);
	*key = buf;
	for (i = 0; i < r->s->n_user_limits; i++)
		if (strcmp(r->s->user_limits[i].user, r->user) == 0)
			return &r->s->user_limits[i].limit;
	return &r->s->limit_user;
}

static const char *
window_text(long w, char *buf, size_t len)
{
	if (w % 86400 == 0)
		snprintf(buf, len, "%ldd", w / 86400);
	else if (w % 3600 == 0)
		snprintf(buf, len, "%ldh", w / 3600);
	else if (w % 60 == 0)
		snprintf(buf, len, "%ldm", w / 60);
	else
		snprintf(buf, len, "%lds", w);
	return buf;
}

int
srv_pull_limit(srv_req *r)
{
	_cleanup_free_ char *msg = NULL;
	const berth_limit *l;
	const char *key;
	char ubuf[300], wbuf[32];
	long remaining, retry;

	if (r->s->pulls == NULL)
		return 0;
	l = caller_limit(r, &key, ubuf, sizeof(ubuf));
	if (l->count < 0)
		return 0;
	r->rl_set = true;
	r->rl_limit = l->count;
	r->rl_window = l->window;
	if (berth_pulls_take(r->s->pulls, key, l, now_ms(), r->head, &remaining,
			     &retry)) {
		r->rl_remaining = remaining;
		if (!r->head)
			r->rl_taken_ms = now_ms();
		return 0;
	}
	r->rl_remaining = 0;
	if (r->head)
		return 0; /* a HEAD is never refused for pulls it did not make
			   */
	srv_metric_inc(SRV_M_LIMIT_REFUSALS, SRV_LIMIT_PULL);
	r->denied = true;
	r->audit_detail = xstrdup("pull limit");
	window_text(l->window, wbuf, sizeof(wbuf));
	if (r->user)
		msg = xasprintf("pull limit reached: '%s' may pull %ld "
				"manifests per %s; retry in %ld seconds",
				r->user, l->count, wbuf, retry);
	else
		msg = xasprintf("pull limit reached: anonymous callers from "
				"%s may pull %ld manifests per %s; retry in "
				"%ld seconds",
				r->ip, l->count, wbuf, retry);
	too_many(r, retry, msg,
		 r->user ? "wait for the window to slide, or ask the "
			   "registry's administrators for a higher limit"
			 : "log in (docker login, podman login, berth login) "
			   "for a higher limit, or wait for the window to "
			   "slide");
	return BERTH_ETOOMANY;
}

void
srv_pull_give_back(srv_req *r)
{
	const berth_limit *l;
	const char *key;
	char ubuf[300];

	if (r->s->pulls == NULL || r->rl_taken_ms == 0)
		return;
	l = caller_limit(r, &key, ubuf, sizeof(ubuf));
	berth_pulls_give_back(r->s->pulls, key, l, r->rl_taken_ms);
	r->rl_taken_ms = 0;
	if (r->rl_remaining < r->rl_limit)
		r->rl_remaining++;
}

static const char *
need_name(unsigned need)
{
	if (need & SRV_NEED_PUSH)
		return "push";
	if (need & SRV_NEED_DELETE)
		return "delete";
	if (need & SRV_NEED_CATALOG)
		return "catalog";
	if (need & SRV_NEED_PULL)
		return "pull";
	if (need & SRV_NEED_METRICS)
		return "metrics";
	if (need & SRV_NEED_ADMIN)
		return "admin";
	return NULL;
}

void
srv_audit(srv_req *r)
{
	berth_audit_event ev = {0};
	_cleanup_free_ char *detail = NULL;
	const srv_route *rt = r->route;

	if (r->s->audit == NULL)
		return;
	ev.user = r->user;
	ev.ip = r->ip;
	ev.repository = r->name;
	ev.reference = r->ref;
	ev.digest = r->digest;
	ev.status = r->status;
	if (rt && (rt->needs & SRV_NEED_TOKEN)) {
		ev.action = "login";
		ev.detail =
			r->audit_detail; /* the scopes granted, or why not */
	} else if (r->denied) {
		const char *what = need_name(r->denied_need);

		ev.action = "denied";
		detail = xasprintf("%s%s%s", what ? what : "",
				   what && r->audit_detail ? ": " : "",
				   r->audit_detail ? r->audit_detail : "");
		ev.detail = detail;
	} else if (rt && rt->audit && !r->head) {
		ev.action = rt->audit; /* a HEAD is not a pull */
	} else {
		return;
	}
	berth_audit_write(r->s->audit, &ev);
}
