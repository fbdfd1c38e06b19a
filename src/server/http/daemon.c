/*
 * The HTTP daemon on libmicrohttpd: the listening address, TLS, the
 * thread pool, the connection limits, and the callbacks of the dispatcher
 * (dispatch.c) and of the connections' deadlines (conns.c).
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "berth/log.h"
#include "server/http/http_int.h"
#include "server/ops/metrics.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define CONN_MEMORY ((size_t)128 << 10)
#define CONN_TIMEOUT_S 300 /* of inactivity; conns.c has the deadlines */
/* Descriptors kept for everything but connections: the database, logs,
 * MHD's own; and each connection may hold one file (a blob, an upload). */
#define FD_RESERVE 256
#define AUTO_CONNS_MAX 16384

/*
 * MHD's messages. A connection refused at a cap (per address or in
 * total) is reported only here, in one message for both: it is counted by
 * its text, the format string MHD 0.9 passes.
 */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	static const char refused[] = "Server reached connection limit";
	_cleanup_free_ char *msg = NULL;
	size_t n;

	if (strncmp(fmt, refused, sizeof(refused) - 1) == 0)
		srv_metric_inc(SRV_M_CONNS_REFUSED, 0);
	msg = xvasprintf(fmt, ap);
	n = strlen(msg);

	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	berth_log(BERTH_LOG_DEBUG, "http: %s", msg);
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" into a socket address. */
static int
parse_addr(const char *addr, struct sockaddr_storage *ss, bool *v6,
	   berth_error **err)
{
	_cleanup_free_ char *host = NULL;
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = {0}, *res = NULL;
	int rc;

	if (colon == NULL || colon[1] == '\0')
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid address '%s' (want HOST:PORT)",
				       addr);
	host = xstrndup(addr, (size_t)(colon - addr));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
	if (rc != 0)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid address '%s': %s", addr,
				       gai_strerror(rc));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return 0;
}

/*
 * The most connections the descriptors allow: RLIMIT_NOFILE's soft limit
 * is raised to the hard one first (the default 1024 would cap a busy
 * registry), and each connection counts twice (its socket and a file).
 */
static long
conns_possible(long *nofile)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return *nofile = 1024, (1024 - FD_RESERVE) / 2;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t cur = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			rl.rlim_cur = cur;
	}
	*nofile = rl.rlim_cur > 100000000 ? 100000000 : (long)rl.rlim_cur;
	if (*nofile > 2 * FD_RESERVE)
		return (*nofile - FD_RESERVE) / 2;
	return *nofile / 4 > 1 ? *nofile / 4 : 1;
}

/* --max-connections, or the default from the descriptor limit. */
static int
conn_limit(unsigned *out, const srv *s, berth_error **err)
{
	long nofile, possible = conns_possible(&nofile);
	long want = s->cfg.max_conns;

	if (want == 0) {
		want = possible < AUTO_CONNS_MAX ? possible : AUTO_CONNS_MAX;
	} else if (want > possible) {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"--max-connections %ld needs about %ld file "
				"descriptors, but the limit is %ld",
				want, 2 * want + FD_RESERVE, nofile);
		berth_error_hint(err, "raise the limit (ulimit -n, or "
				      "LimitNOFILE= in a systemd unit) or "
				      "lower --max-connections");
		return BERTH_EUSAGE;
	}
	*out = (unsigned)want;
	return 0;
}

int
srv_http_start(srv *s, berth_error **err)
{
	struct MHD_OptionItem opts[20];
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_USE_ITC | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME; /* access/pwcheck.c */
	unsigned threads, conns;
	bool v6 = false;
	int n = 0;
	int r;

	if ((r = parse_addr(s->cfg.addr, &ss, &v6, err)) < 0 ||
	    (r = conn_limit(&conns, s, err)) < 0)
		return r;
	if (v6)
		flags |= MHD_USE_IPv6;
	threads = s->cfg.threads > 0 ? (unsigned)s->cfg.threads : 0;
	if (threads == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		/*
		 * One event loop per CPU: measured faster, with a far lower
		 * p99, than oversubscribing. Push-heavy sites, whose handlers
		 * wait on fsync, can raise --threads.
		 */
		threads = (unsigned)(cpus > 0 ? cpus : 1);
		if (threads < 2)
			threads = 2;
	}
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE,
					    threads, NULL};
	opts[n++] =
		(struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED,
					(intptr_t)srv_dispatch_completed, s};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK,
					    (intptr_t)srv_dispatch_uri, s};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION,
					    (intptr_t)srv_conns_notify, s};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, conns,
					    NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
					    (intptr_t)s->cfg.max_conns_per_ip,
					    NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
					    CONN_MEMORY, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
					    CONN_TIMEOUT_S, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE,
					    1024, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER,
					    (intptr_t)mhd_log, s};
	if (s->tls_cert_pem) {
		flags |= MHD_USE_TLS;
		/* The certificate of each handshake: a reload replaces it. */
		opts[n++] = (struct MHD_OptionItem){
			MHD_OPTION_HTTPS_CERT_CALLBACK, 0, srv_tls_callback()};
		if (s->tls_ca_pem)
			opts[n++] = (struct MHD_OptionItem){
				MHD_OPTION_HTTPS_MEM_TRUST, 0, s->tls_ca_pem};
	}
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	assert((size_t)n <= BERTH_ARRAY_SIZE(opts));
	if ((r = srv_conns_start(s, err)) < 0)
		return r;
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, srv_dispatch_request,
				     s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (s->daemon == NULL) {
		berth_error_set(err, BERTH_EIO, errno,
				"cannot listen on '%s'%s%s", s->cfg.addr,
				errno ? ": " : "",
				errno ? strerror(errno) : "");
		berth_error_hint(err, "pick a free port with --addr, or "
				      "check the TLS certificate and key");
		return BERTH_EIO;
	}
	berth_log(BERTH_LOG_INFO,
		  "at most %u connections at once, %ld per client address; "
		  "headers within %lds, bodies at %ld bytes/s or more",
		  conns, s->cfg.max_conns_per_ip, s->cfg.header_timeout,
		  s->cfg.body_min_rate);
	return 0;
}

void
srv_http_stop(srv *s)
{
	if (s->daemon) {
		MHD_stop_daemon(s->daemon);
		s->daemon = NULL;
	}
	srv_conns_stop(s);
}
