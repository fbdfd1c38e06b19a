/*
 * The HTTP daemon on libmicrohttpd: the listening address, TLS, the
 * thread pool, and the two callbacks of the dispatcher (dispatch.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "berth/log.h"
#include "server/http/http_int.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define CONN_MEMORY ((size_t)128 << 10)
#define CONN_TIMEOUT_S 300

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = xvasprintf(fmt, ap);
	size_t n = strlen(msg);

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

int
srv_http_start(srv *s, berth_error **err)
{
	struct MHD_OptionItem opts[16];
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_USE_ITC | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME; /* access/pwcheck.c */
	unsigned threads;
	bool v6 = false;
	int n = 0;
	int r;

	if ((r = parse_addr(s->cfg.addr, &ss, &v6, err)) < 0)
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
	return 0;
}

void
srv_http_stop(srv *s)
{
	if (s->daemon) {
		MHD_stop_daemon(s->daemon);
		s->daemon = NULL;
	}
}
