/*
 * Deadlines for the connections: libmicrohttpd's own timeout is one of
 * inactivity and restarts with every byte, so a client sending a header
 * byte every two seconds would hold its connection forever. Every
 * connection is tracked here from its start (MHD's notify-connection
 * callback) in one of three states, which the dispatcher moves it
 * through, and a sweep thread closes, once a second, those that overstay:
 *
 *   HEAD  waiting for a request's line and headers, since the connection
 *         started or the previous answer was done: --header-timeout
 *   BODY  receiving a request body: at least --body-min-rate bytes a
 *         second over each window of --body-timeout seconds
 *   BUSY  the handler and the answer: MHD's inactivity timeout only
 *
 * Closing is shutdown(2) on the socket from the sweep thread: MHD's
 * thread then reads the end of the stream and closes the connection its
 * own way. The socket cannot be closed under the sweep: MHD reports the
 * connection closed (and its entry leaves the list, under the lock)
 * before it closes the socket.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "berth/log.h"
#include "server/http/http_int.h"
#include "server/ops/metrics.h"
#include "server/server.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/xalloc.h"

#define SWEEP_EVERY_MS 1000

typedef enum conn_state {
	CONN_HEAD,
	CONN_BODY,
	CONN_BUSY,
} conn_state;

struct srv_conn {
	struct srv_conn *prev, *next;
	int fd;
	char ip[48];
	conn_state state;
	int64_t since_ms;	     /* the state was entered */
	int64_t window_ms;	     /* BODY: the current window began */
	uint64_t window_bytes;	     /* BODY: body bytes when it began */
	_Atomic uint64_t body_bytes; /* BODY: received so far */
	bool cut; /* shut down, waiting for MHD to close it */
};

struct srv_conns {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running, stop;
	srv_conn *head;
	int64_t header_ms, body_ms;
	uint64_t body_min; /* bytes per body window */
};

static void
conn_ip(srv_conn *c, struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(c->ip, sizeof(c->ip), "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  c->ip, sizeof(c->ip));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, c->ip,
			  sizeof(c->ip));
}

void
srv_conns_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
		 enum MHD_ConnectionNotificationCode code)
{
	srv_conns *cs = ((srv *)cls)->conns;
	srv_conn *c;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
			mc, MHD_CONNECTION_INFO_CONNECTION_FD);

		c = xcalloc(1, sizeof(*c));
		c->fd = ci ? ci->connect_fd : -1;
		conn_ip(c, mc);
		c->state = CONN_HEAD;
		c->since_ms = berth_monotonic_ms();
		pthread_mutex_lock(&cs->lock);
		c->next = cs->head;
		if (cs->head)
			cs->head->prev = c;
		cs->head = c;
		pthread_mutex_unlock(&cs->lock);
		*socket_context = c;
		srv_metric_add(SRV_M_CONNS_OPEN, 0, 0, 0, 1);
		return;
	}
	c = *socket_context;
	if (c == NULL)
		return;
	pthread_mutex_lock(&cs->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		cs->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&cs->lock);
	free(c);
	*socket_context = NULL;
	srv_metric_add(SRV_M_CONNS_OPEN, 0, 0, 0, -1);
}

srv_conn *
srv_conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void
set_state(srv *s, srv_conn *c, conn_state st)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&s->conns->lock);
	c->state = st;
	c->since_ms = c->window_ms = berth_monotonic_ms();
	c->window_bytes = 0;
	atomic_store(&c->body_bytes, 0);
	pthread_mutex_unlock(&s->conns->lock);
}

void
srv_conn_headers_in(srv *s, srv_conn *c, bool has_body)
{
	set_state(s, c, has_body ? CONN_BODY : CONN_BUSY);
}

void
srv_conn_body(srv_conn *c, size_t len)
{
	if (c)
		atomic_fetch_add(&c->body_bytes, len);
}

void
srv_conn_body_done(srv *s, srv_conn *c)
{
	set_state(s, c, CONN_BUSY);
}

void
srv_conn_answered(srv *s, srv_conn *c)
{
	set_state(s, c, CONN_HEAD);
}

/* What a connection overstayed, if anything (an index of why[]). */
enum { LATE_NONE, LATE_HEAD, LATE_BODY, LATE_N };

static const char *const why[LATE_N] = {
	[LATE_HEAD] = "request headers not complete in time",
	[LATE_BODY] = "request body slower than the minimum rate",
};

/* Whether c is past its deadline; moves a BODY window on. */
static int
overdue(srv_conns *cs, srv_conn *c, int64_t now)
{
	uint64_t got;

	if (c->cut || c->fd < 0)
		return LATE_NONE;
	if (c->state == CONN_HEAD)
		return now - c->since_ms >= cs->header_ms ? LATE_HEAD
							  : LATE_NONE;
	if (c->state != CONN_BODY || now - c->window_ms < cs->body_ms)
		return LATE_NONE;
	got = atomic_load(&c->body_bytes);
	if (got - c->window_bytes < cs->body_min)
		return LATE_BODY;
	c->window_ms = now;
	c->window_bytes = got;
	return LATE_NONE;
}

/* Closes the overdue connections; one log line per reason and sweep. */
static void
sweep(srv_conns *cs)
{
	char first[LATE_N][48] = {{0}};
	int n[LATE_N] = {0};
	int64_t now = berth_monotonic_ms();

	for (srv_conn *c = cs->head; c; c = c->next) {
		int late = overdue(cs, c, now);

		if (late == LATE_NONE)
			continue;
		shutdown(c->fd, SHUT_RDWR);
		c->cut = true;
		if (n[late]++ == 0)
			snprintf(first[late], sizeof(first[late]), "%s", c->ip);
	}
	for (int k = LATE_HEAD; k < LATE_N; k++)
		if (n[k] > 0) {
			srv_metric_add(SRV_M_CONNS_CUT,
				       k == LATE_HEAD ? SRV_CUT_HEADER
						      : SRV_CUT_BODY,
				       0, 0, n[k]);
			berth_log(BERTH_LOG_INFO,
				  "closed %d stalled connection%s (%s; the "
				  "first from %s)",
				  n[k], n[k] == 1 ? "" : "s", why[k], first[k]);
		}
}

static void *
sweeper(void *arg)
{
	srv_conns *cs = arg;

	pthread_mutex_lock(&cs->lock);
	while (!cs->stop) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += SWEEP_EVERY_MS / 1000;
		pthread_cond_timedwait(&cs->wake, &cs->lock, &ts);
		if (!cs->stop)
			sweep(cs);
	}
	pthread_mutex_unlock(&cs->lock);
	return NULL;
}

void
srv_conns_set_timeouts(srv *s, const berth_serve_config *c)
{
	srv_conns *cs = s->conns;

	if (cs == NULL)
		return;
	pthread_mutex_lock(&cs->lock);
	cs->header_ms = (int64_t)c->header_timeout * 1000;
	cs->body_ms = (int64_t)c->body_timeout * 1000;
	cs->body_min = (uint64_t)c->body_min_rate * (uint64_t)c->body_timeout;
	pthread_mutex_unlock(&cs->lock);
}

int
srv_conns_start(srv *s, berth_error **err)
{
	srv_conns *cs = xcalloc(1, sizeof(*cs));
	pthread_condattr_t ca;
	int e;

	pthread_mutex_init(&cs->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cs->wake, &ca);
	pthread_condattr_destroy(&ca);
	s->conns = cs;
	srv_conns_set_timeouts(s, &s->cfg);
	e = pthread_create(&cs->thread, NULL, sweeper, cs);
	if (e != 0)
		return berth_error_set(err, BERTH_EIO, e,
				       "cannot start the connection sweeper: "
				       "%s",
				       strerror(e));
	cs->running = true;
	return 0;
}

void
srv_conns_stop(srv *s)
{
	srv_conns *cs = s->conns;

	if (cs == NULL)
		return;
	if (cs->running) {
		pthread_mutex_lock(&cs->lock);
		cs->stop = true;
		pthread_cond_signal(&cs->wake);
		pthread_mutex_unlock(&cs->lock);
		pthread_join(cs->thread, NULL);
	}
	/* MHD is stopped first: every connection has been reported closed. */
	pthread_cond_destroy(&cs->wake);
	pthread_mutex_destroy(&cs->lock);
	free(cs);
	s->conns = NULL;
}
