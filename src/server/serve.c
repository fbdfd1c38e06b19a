/*
 * berth serve: settings (defaults, --config file, flags), the stores, the
 * HTTP daemon, and the main thread's life: wait for SIGTERM/SIGINT while
 * dropping abandoned uploads now and then, watching the htpasswd file and
 * reloading on SIGHUP, then stop accepting, let the requests in flight
 * finish, and exit.
 */
#include "server/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "berth/log.h"
#include "server/ops/cache.h"
#include "server/ops/gc.h"
#include "server/ops/gc_sched.h"
#include "server/ops/metrics.h"
#include "server/access/sigrules.h"
#include "server/ops/retention.h"
#include "server/server.h"
#include "server/storage_config.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define PURGE_EVERY_S 600
#define TICK_S 1 /* pull counters are saved this often */
#define DRAIN_TIMEOUT_S 30
#define PULL_TIMES_EVERY_S 5 /* pull times (retention) are saved this often */

static int
read_pem(char **out, const char *path, const char *what, berth_error **err)
{
	_cleanup_free_ char *pem = NULL;
	size_t len;
	int r = berth_file_read(&pem, &len, path, (size_t)1 << 20, err);

	if (r < 0)
		return berth_error_wrap(err, BERTH_EUSAGE, "%s", what);
	if (len == 0)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "cannot read %s '%s': empty file", what,
				       path);
	*out = steal_ptr(&pem);
	return 0;
}

static int
set_log_level(const char *s, berth_error **err)
{
	berth_log_level level;

	if (berth_log_level_parse(&level, s, err) < 0)
		return BERTH_EUSAGE;
	berth_log_set_level(level);
	return 0;
}

/* The sessions the metadata records, for berth_upload_sessions_open. */
static int
uploads_open(void *ud, double *v)
{
	berth_error *err = NULL;
	int64_t n;

	if (srv_storage_uploads_open(ud, &n, &err) < 0) {
		berth_log(BERTH_LOG_WARN, "metrics: %s", err->msg);
		berth_error_free(err);
		return -1;
	}
	*v = (double)n;
	return 0;
}

static int
setup_retention(srv *s, berth_error **err)
{
	struct srv_retention_rules *rules = NULL;
	int64_t every = 0;
	int r;

	pthread_mutex_init(&s->retention_mu, NULL);
	s->retention_mu_init = true;
	if ((r = srv_retention_load(&s->cfg, &rules, &every, err)) < 0)
		return r;
	srv_retention_apply(s, rules, every);
	return 0;
}

static int
setup_sigrules(srv *s, berth_error **err)
{
	struct srv_sigrules *rules = NULL;
	int r;

	pthread_mutex_init(&s->sigrules_mu, NULL);
	s->sigrules_mu_init = true;
	if ((r = srv_sigrules_parse(&rules, s->cfg.require_signatures, err)) <
	    0)
		return r;
	srv_sigrules_apply(s, rules);
	return 0;
}

static int
setup(srv *s, berth_error **err)
{
	berth_serve_config *c = &s->cfg;
	srv_upstreams *ups = NULL;
	int conns;
	int r;

	if (set_log_level(c->log_level, err) < 0)
		return BERTH_EUSAGE;
	if ((c->tls_cert == NULL) != (c->tls_key == NULL))
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "--tls-cert and --tls-key go together");
	if (c->tls_client_ca && c->tls_cert == NULL)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "--tls-client-ca needs --tls-cert and "
				       "--tls-key");
	if (c->tls_cert &&
	    (read_pem(&s->tls_cert_pem, c->tls_cert, "certificate", err) < 0 ||
	     read_pem(&s->tls_key_pem, c->tls_key, "key", err) < 0))
		return BERTH_EUSAGE;
	if (c->tls_client_ca &&
	    read_pem(&s->tls_ca_pem, c->tls_client_ca, "client CA", err) < 0)
		return BERTH_EUSAGE;
	if (s->tls_cert_pem &&
	    srv_tls_set(s->tls_cert_pem, s->tls_key_pem, err) < 0)
		return BERTH_EUSAGE;
	if (strcmp(c->access_log, "off") == 0) {
		s->access_fd = -1;
	} else if (strcmp(c->access_log, "-") == 0) {
		s->access_fd = dup(STDERR_FILENO);
	} else {
		s->access_fd =
			open(c->access_log,
			     O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (s->access_fd < 0)
			return berth_error_set(
				err, BERTH_EIO, errno,
				"cannot open access log '%s': %s",
				c->access_log, strerror(errno));
	}
	conns = (c->threads > 0 ? (int)c->threads : 32) + 2;
	if (conns > 64)
		conns = 64;
	if ((r = srv_storage_open_cfg(&s->store, c, conns, err)) < 0)
		return r;
	srv_storage_set_uploads(s->store, c->upload_ttl, c->uploads_per_client,
				c->uploads_per_repo);
	s->store->gc_grace = c->gc_grace;
	srv_metrics_sampler(SRV_M_UPLOADS_OPEN, uploads_open, s->store);
	srv_gc_metrics();
	if ((r = srv_events_start(&s->events, c->storage, c->notifications,
				  c->notify_queue_max, c->addr, s->event_labels,
				  err)) < 0)
		return r;
	if ((r = srv_upstreams_parse(&ups, c->upstreams, err)) < 0)
		return r;
	s->cache = srv_cache_new(ups);
	if ((r = setup_sigrules(s, err)) < 0)
		return r;
	if ((r = srv_setup_access(s, err)) < 0)
		return r;
	if ((r = srv_gc_sched_start(&s->gc, s->store, s->audit, c->gc_interval,
				    err)) < 0)
		return r;
	return setup_retention(s, err);
}

static void
teardown(srv *s)
{
	srv_pwpool_drain(s->pwpool); /* no connection left suspended */
	srv_cache_stop(s->cache);
	srv_http_stop(s);
	srv_events_stop(s->events); /* after the last request's emit */
	srv_cache_free(s->cache);
	srv_gc_sched_stop(s->gc); /* waits for a run in progress */
	srv_tls_release();
	srv_teardown_access(s);
	srv_retention_teardown(s);
	if (s->retention_mu_init)
		pthread_mutex_destroy(&s->retention_mu);
	if (s->sigrules_mu_init) {
		srv_sigrules_apply(s, NULL);
		pthread_mutex_destroy(&s->sigrules_mu);
	}
	srv_storage_close(s->store); /* saves the pull times */
	srv_metrics_release();
	berth_strv_free(s->event_labels);
	if (s->access_fd >= 0)
		close(s->access_fd);
	free(s->tls_cert_pem);
	if (s->tls_key_pem)
		explicit_bzero(s->tls_key_pem, strlen(s->tls_key_pem));
	free(s->tls_key_pem);
	free(s->tls_ca_pem);
	berth_serve_config_release(&s->cfg);
}

/* Drops upload sessions idle longer than --upload-ttl. */
static void
purge_uploads(srv *s)
{
	srv_storage_purge(s->store, (int64_t)time(NULL));
}

static bool
same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Logs each setting of nc that differs from the running one and waits. */
static void
note_restart_only(const srv *s, const berth_serve_config *nc)
{
	for (size_t i = 0; i < berth_serve_n_settings; i++) {
		const berth_serve_setting *st = &berth_serve_settings[i];
		const char *a = (const char *)&s->cfg, *b = (const char *)nc;
		bool same;

		if (!st->restart)
			continue;
		if (st->type == BERTH_SERVE_LONG ||
		    st->type == BERTH_SERVE_DURATION ||
		    st->type == BERTH_SERVE_BOOL)
			same = *(const long *)(a + st->off) ==
			       *(const long *)(b + st->off);
		else
			same = same_str(*(char *const *)(a + st->off),
					*(char *const *)(b + st->off)) &&
			       (st->json_off == 0 ||
				same_str(*(char *const *)(a + st->json_off),
					 *(char *const *)(b + st->json_off)));
		if (!same)
			berth_log(BERTH_LOG_WARN,
				  "setting '%s' changed: it takes effect at "
				  "the next restart; until then the value at "
				  "start stays",
				  st->name);
	}
}

static void
free_secret(char **p)
{
	if (*p)
		explicit_bzero(*p, strlen(*p));
	free(*p);
}

/*
 * SIGHUP: the arguments and the config file read again; the policy, the
 * htpasswd file, the retention rules, the require-signatures rules and
 * their keys, the TLS certificate and key files,
 * the upstreams, the event endpoints and every setting the table does not
 * mark `restart` replaced, all or nothing. Requests in flight finish with
 * the snapshot they started with (srv_tuning); the limits kept in shared
 * counters (request rate, failed logins, upload sessions, stalled
 * connections) change in place, the counts kept.
 */
static void
reload(srv *s)
{
	berth_serve_config nc;
	_cleanup_free_ char *cert = NULL;
	_cleanup_(free_secret) char *key = NULL;
	berth_error *err = NULL;
	berth_log_level level;
	srv_live *live = NULL;
	srv_events_plan *events = NULL;
	srv_upstreams *ups = NULL;
	struct srv_retention_rules *rules = NULL;
	struct srv_sigrules *sigrules = NULL;
	int64_t every = 0;
	int help = 0;

	berth_log(BERTH_LOG_INFO, "SIGHUP: reloading the configuration");
	berth_serve_config_init(&nc);
	if (srv_parse_args(&nc, s->argc, s->argv, &help, &err) < 0 ||
	    berth_log_level_parse(&level, nc.log_level, &err) < 0 ||
	    (s->tls_cert_pem &&
	     (read_pem(&cert, s->cfg.tls_cert, "certificate", &err) < 0 ||
	      read_pem(&key, s->cfg.tls_key, "key", &err) < 0 ||
	      srv_tls_check(cert, key, &err) < 0)) ||
	    srv_upstreams_parse(&ups, nc.upstreams, &err) < 0 ||
	    srv_retention_load(&nc, &rules, &every, &err) < 0 ||
	    srv_sigrules_parse(&sigrules, nc.require_signatures, &err) < 0 ||
	    srv_access_limits(s, &nc, false, &err) < 0 ||
	    srv_access_reload(s, &nc, &live, &err) < 0 ||
	    srv_events_prepare(s->events, &events, nc.notifications,
			       nc.notify_queue_max, &err) < 0) {
		srv_upstreams_put(ups);
		berth_log(BERTH_LOG_ERROR,
			  "configuration not reloaded, the running one "
			  "stays: %s%s%s",
			  err->msg, err->hint ? "; hint: " : "",
			  err->hint ? err->hint : "");
		berth_error_free(err);
		srv_live_put(live);
		srv_retention_rules_free(rules);
		srv_sigrules_put(sigrules);
		berth_serve_config_release(&nc);
		return;
	}
	note_restart_only(s, &nc);
	srv_access_limits(s, &nc, true, NULL);
	srv_storage_set_uploads(s->store, nc.upload_ttl, nc.uploads_per_client,
				nc.uploads_per_repo);
	srv_conns_set_timeouts(s, &nc);
	srv_live_swap(s, live);
	srv_events_apply(s->events, events);
	srv_cache_swap(s->cache, ups);
	srv_retention_apply(s, rules, every);
	srv_sigrules_apply(s, sigrules);
	if (cert && srv_tls_set(cert, key, &err) < 0) {
		berth_log(BERTH_LOG_ERROR, "TLS certificate not replaced: %s",
			  err->msg);
		berth_error_free(err);
	}
	berth_log_set_level(level);
	__atomic_store_n(&s->store->gc_grace, (int64_t)nc.gc_grace,
			 __ATOMIC_RELAXED);
	srv_gc_sched_set(s->gc, nc.gc_interval);
	berth_log(BERTH_LOG_INFO,
		  "configuration reloaded: policy, users, retention rules, "
		  "require-signatures rules%s, "
		  "upstreams, event endpoints, log level %s, gc-interval %ld "
		  "s, gc-grace %ld s, rate-limit %ld, upload-ttl %ld s, "
		  "upload sessions per client %ld and per repository %ld, "
		  "token-ttl %ld s",
		  cert ? ", TLS certificate" : "", nc.log_level, nc.gc_interval,
		  nc.gc_grace, nc.rate_limit, nc.upload_ttl,
		  nc.uploads_per_client, nc.uploads_per_repo, nc.token_ttl);
	berth_serve_config_release(&nc);
}

/* The event endpoints at start are the metrics' endpoint label values. */
static void
event_labels(srv *s)
{
	size_t n = 0;

	s->event_labels = srv_events_names(s->cfg.notifications);
	while (s->event_labels[n])
		n++;
	srv_metrics_set_values(SRV_ML_ENDPOINT,
			       (const char *const *)s->event_labels, n);
}

/* Waits for SIGTERM/SIGINT, reloading on SIGHUP; returns the signal. */
static int
wait_for_stop(srv *s, const sigset_t *set)
{
	struct timespec tick = {TICK_S, 0};
	long ticks = 0;

	for (;;) {
		int sig = sigtimedwait(set, NULL, &tick);

		if (sig == SIGHUP) {
			reload(s);
			continue;
		}
		if (sig > 0)
			return sig;
		if (sig < 0 && errno == EAGAIN) {
			berth_error *err = NULL;

			srv_flush_counters(s);
			srv_htpasswd_watch(s);
			if ((ticks + 1) % (PULL_TIMES_EVERY_S / TICK_S) == 0 &&
			    srv_storage_flush_pulls(s->store, &err) < 0) {
				berth_log(BERTH_LOG_WARN,
					  "saving pull times: %s", err->msg);
				berth_error_free(err);
			}
			srv_retention_tick(s);
			/* At least as often as sessions expire (this
			 * thread alone changes the ttl). */
			if (++ticks % ((s->store->upload_ttl < PURGE_EVERY_S
						? s->store->upload_ttl
						: PURGE_EVERY_S) /
				       TICK_S) ==
			    0)
				purge_uploads(s);
		}
	}
}

static void
drain(srv *s)
{
	MHD_socket lfd = MHD_quiesce_daemon(s->daemon);
	int waited_ms = 0;

	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	while (atomic_load(&s->in_flight) > 0 &&
	       waited_ms < DRAIN_TIMEOUT_S * 1000) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		nanosleep(&ts, NULL);
		waited_ms += 10;
	}
	if (atomic_load(&s->in_flight) > 0)
		berth_log(BERTH_LOG_WARN,
			  "stopping with %d requests still in flight",
			  atomic_load(&s->in_flight));
}

/* `berth serve SUBCOMMAND ...`: one pass over the storage, then exit. */
static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
} subcommands[] = {
	{"gc", srv_gc_main},
	{"retention", srv_retention_main},
};

int
berth_serve_main(int argc, char **argv)
{
	srv s = {0};
	berth_error *err = NULL;
	sigset_t set;
	int help = 0;
	int sig;

	for (size_t i = 0; argc > 1 && i < BERTH_ARRAY_SIZE(subcommands); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].main(argc - 1, argv + 1);

	s.access_fd = -1;
	s.argc = argc;
	s.argv = argv;
	berth_serve_config_init(&s.cfg);
	berth_log_set_handler(srv_log_stderr, NULL);
	if (srv_parse_args(&s.cfg, argc, argv, &help, &err) < 0) {
		teardown(&s);
		return srv_exit_status(err);
	}
	if (help) {
		if (help == SRV_HELP_MARKDOWN)
			berth_serve_config_markdown(stdout);
		else if (help == SRV_HELP_MAN)
			berth_serve_config_man(stdout);
		else if (help == SRV_HELP_OPTIONS)
			berth_serve_config_options(stdout);
		else
			berth_serve_config_usage(stdout);
		teardown(&s);
		return 0;
	}
	event_labels(&s);
	srv_metrics_init(srv_route_names, SRV_RT_N);
	srv_metrics_proc_samplers();
	if (setup(&s, &err) < 0) {
		teardown(&s);
		return srv_exit_status(err);
	}
	/* Block the stop signals before MHD's threads inherit the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	purge_uploads(&s);
	if (srv_http_start(&s, &err) < 0) {
		teardown(&s);
		return srv_exit_status(err);
	}
	berth_log(BERTH_LOG_INFO, "listening on %s://%s, storage '%s'%s%s",
		  s.tls_cert_pem ? "https" : "http", s.cfg.addr, s.cfg.storage,
		  s.auth == SRV_AUTH_TOKEN	? ", token authentication"
		  : s.auth == SRV_AUTH_HTPASSWD ? ", htpasswd authentication"
						: "",
		  s.policy_given ? ", access policy" : "");
	sig = wait_for_stop(&s, &set);
	berth_log(BERTH_LOG_INFO, "%s: finishing requests in flight",
		  strsignal(sig));
	atomic_store(&s.stopping, true);
	drain(&s);
	teardown(&s);
	berth_log(BERTH_LOG_INFO, "stopped");
	return 0;
}
