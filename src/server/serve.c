/*
 * berth serve: settings (defaults, --config file, flags), the stores, the
 * HTTP daemon, and the main thread's life: wait for SIGTERM/SIGINT while
 * dropping abandoned uploads now and then, then stop accepting, let the
 * requests in flight finish, and exit.
 */
#include "server/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "berth/log.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define PURGE_EVERY_S 600
#define TICK_S 1 /* pull counters are saved this often */
#define DRAIN_TIMEOUT_S 30

static const char usage[] =
	"usage: berth serve [OPTIONS]\n"
	"\n"
	"Runs a private OCI registry (distribution spec v1.1): docker, "
	"podman,\n"
	"skopeo, containerd and berth push to it and pull from it.\n"
	"\n"
	"options (each also a key of the --config file, without the dashes):\n"
	"  --config FILE         JSON file with the settings below; flags win\n"
	"  --addr HOST:PORT      address to listen on (default "
	"127.0.0.1:5000;\n"
	"                        ':5000' for every interface)\n"
	"  --storage DIR         blobs, uploads and metadata (default "
	"./registry)\n"
	"  --tls-cert FILE       serve HTTPS with this PEM certificate "
	"(chain)...\n"
	"  --tls-key FILE        ...and this PEM private key\n"
	"  --tls-client-ca FILE  require client certificates signed by this "
	"CA\n"
	"  --htpasswd FILE       require Basic authentication against this\n"
	"                        bcrypt htpasswd file (htpasswd -B)\n"
	"  --realm NAME          Basic realm in the challenge (default berth)\n"
	"  --auth MODE           none, htpasswd (Basic on every request) or\n"
	"                        token (Bearer tokens; default: htpasswd when\n"
	"                        --htpasswd is given, else none)\n"
	"  --policy FILE         JSON access policy (see docs/server.md);\n"
	"                        without one, signed-in users may do "
	"everything\n"
	"                        and anonymous callers nothing\n"
	"  --pull-limit SPEC     e.g. anonymous=100/6h,user=200/6h: manifest\n"
	"                        GETs per sliding window (s, m, h, d)\n"
	"  --rate-limit N        at most N requests per second per address\n"
	"  --audit-log FILE      one JSON line per push, pull, delete, login\n"
	"                        and denial\n"
	"  --token-realm URL     token service URL in challenges (default:\n"
	"                        this server's /token)\n"
	"  --token-service NAME  audience of tokens (default berth)\n"
	"  --token-issuer NAME   issuer of tokens (default berth)\n"
	"  --token-key FILE      PEM key to sign tokens with (default: one\n"
	"                        generated in STORAGE/token-keys)\n"
	"  --token-issuer-keys FILE  trust tokens of an external issuer "
	"signed\n"
	"                        by these PEM keys/certificates (no /token)\n"
	"  --token-ttl SECONDS   lifetime of access tokens (default 300)\n"
	"  --insecure-auth       allow authentication over plain HTTP on a\n"
	"                        non-loopback address\n"
	"  --log-level LEVEL     error, warn, info (default) or debug\n"
	"  --access-log FILE     one line per request; '-' stderr (default),\n"
	"                        'off' for none\n"
	"  --threads N           worker threads (default: one per CPU, at "
	"least 2)\n"
	"  --upload-ttl SECONDS  drop uploads idle this long (default 86400)\n"
	"  -h, --help            this text\n"
	"\n"
	"Stops cleanly on SIGTERM or SIGINT, finishing the requests in "
	"flight.\n"
	"See docs/server.md for a complete example.\n";

static const struct option long_opts[] = {
	{"config", required_argument, NULL, 'c'},
	{"addr", required_argument, NULL, 1},
	{"storage", required_argument, NULL, 1},
	{"tls-cert", required_argument, NULL, 1},
	{"tls-key", required_argument, NULL, 1},
	{"tls-client-ca", required_argument, NULL, 1},
	{"htpasswd", required_argument, NULL, 1},
	{"realm", required_argument, NULL, 1},
	{"log-level", required_argument, NULL, 1},
	{"access-log", required_argument, NULL, 1},
	{"threads", required_argument, NULL, 1},
	{"upload-ttl", required_argument, NULL, 1},
	{"auth", required_argument, NULL, 1},
	{"policy", required_argument, NULL, 1},
	{"pull-limit", required_argument, NULL, 1},
	{"rate-limit", required_argument, NULL, 1},
	{"audit-log", required_argument, NULL, 1},
	{"token-realm", required_argument, NULL, 1},
	{"token-service", required_argument, NULL, 1},
	{"token-issuer", required_argument, NULL, 1},
	{"token-key", required_argument, NULL, 1},
	{"token-issuer-keys", required_argument, NULL, 1},
	{"token-ttl", required_argument, NULL, 1},
	{"refresh-token-ttl", required_argument, NULL, 1},
	{"insecure-auth", no_argument, NULL, 1},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void
log_stderr(berth_log_level level, const char *msg, void *ud)
{
	char line[2048];
	int n;

	n = snprintf(line, sizeof(line), "berth serve: %s: %s\n",
		     berth_log_level_name(level), msg);
	if (n > (int)sizeof(line))
		n = (int)sizeof(line);
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		(void)0;
}

static int
report(berth_error *err)
{
	int code = err ? (int)err->code : BERTH_EGENERIC;

	fprintf(stderr, "berth: %s\n", err ? err->msg : "unknown failure");
	if (err && err->hint)
		fprintf(stderr, "hint: %s\n", err->hint);
	berth_error_free(err);
	return code == BERTH_EINTERRUPTED ? 130 : -code;
}

/* Two passes: --config first, so that every flag overrides the file. */
static int
parse_args(berth_serve_config *cfg, int argc, char **argv, bool *help,
	   berth_error **err)
{
	int c, idx;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":hc:", long_opts, &idx)) != -1) {
		if (c == 'c' && berth_serve_config_load(cfg, optarg, err) < 0)
			return berth_error_code(err);
	}
	optind = 0;
	while ((c = getopt_long(argc, argv, ":hc:", long_opts, &idx)) != -1) {
		switch (c) {
		case 'h':
			*help = true;
			return 0;
		case 'c':
			break;
		case 1:
			if (berth_serve_config_set(cfg, long_opts[idx].name,
						   optarg ? optarg : "true",
						   err) < 0)
				return berth_error_code(err);
			break;
		case ':':
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			berth_error_set(err, BERTH_EUSAGE, 0,
					"unknown option '%s'",
					argv[optind - 1]);
			return berth_error_hint(err,
						"see 'berth serve --help'");
		}
	}
	if (optind < argc) {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"unexpected argument '%s'", argv[optind]);
		return berth_error_hint(err, "see 'berth serve --help'");
	}
	return 0;
}

static int
read_pem(char **out, const char *path, const char *what, berth_error **err)
{
	_cleanup_free_ char *pem = NULL;
	size_t len;
	int e = berth_file_read(&pem, &len, path, (size_t)1 << 20);

	if (e != 0 || len == 0)
		return berth_error_set(err, BERTH_EUSAGE, e,
				       "cannot read %s '%s': %s", what, path,
				       e != 0 ? strerror(e) : "empty file");
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

static int
setup(srv *s, berth_error **err)
{
	berth_serve_config *c = &s->cfg;
	_cleanup_free_ char *db = NULL;
	int conns;

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
	if (c->htpasswd &&
	    berth_htpasswd_load(&s->htpasswd, c->htpasswd, err) < 0)
		return berth_error_code(err);
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
	if (berth_blobstore_fs_new(&s->blobs, c->storage, err) < 0)
		return berth_error_code(err);
	db = xasprintf("%s/metadata.db", c->storage);
	conns = (c->threads > 0 ? (int)c->threads : 32) + 2;
	if (conns > 64)
		conns = 64;
	if (berth_meta_open(&s->meta, db, conns, err) < 0)
		return berth_error_code(err);
	return srv_setup_access(s, err);
}

static void
teardown(srv *s)
{
	srv_http_stop(s);
	srv_teardown_access(s);
	berth_meta_free(s->meta);
	berth_blobstore_free(s->blobs);
	berth_htpasswd_free(s->htpasswd);
	if (s->access_fd >= 0)
		close(s->access_fd);
	free(s->tls_cert_pem);
	if (s->tls_key_pem)
		explicit_bzero(s->tls_key_pem, strlen(s->tls_key_pem));
	free(s->tls_key_pem);
	free(s->tls_ca_pem);
	berth_serve_config_release(&s->cfg);
}

/*
 * Session files the metadata does not know (a crash between creating the
 * file and recording the session), and temporary files a crash left.
 */
static void
purge_orphans(srv *s, int64_t before)
{
	berth_error *err = NULL;
	char **ids = NULL;

	if (s->blobs->ops->uploads_older(s->blobs, before, &ids, &err) == 0) {
		for (size_t i = 0; ids[i]; i++) {
			char *repo = NULL;
			int r = berth_meta_upload_get(s->meta, ids[i], &repo,
						      NULL, NULL);

			free(repo);
			if (r != BERTH_ENOTFOUND)
				continue;
			if (s->blobs->ops->upload_remove(s->blobs, ids[i],
							 NULL) == 0)
				berth_log(BERTH_LOG_INFO,
					  "removed upload file '%s' that no "
					  "session records",
					  ids[i]);
		}
	}
	berth_error_free(err);
	berth_strv_free(ids);
	s->blobs->ops->tmp_sweep(s->blobs, before);
}

/* Drops upload sessions idle longer than --upload-ttl. */
static void
purge_uploads(srv *s)
{
	berth_error *err = NULL;
	char **ids = NULL;
	size_t i;

	purge_orphans(s, (int64_t)time(NULL) - s->cfg.upload_ttl);
	if (berth_meta_uploads_older(s->meta,
				     (int64_t)time(NULL) - s->cfg.upload_ttl,
				     &ids, &err) < 0) {
		berth_log(BERTH_LOG_WARN, "purging uploads: %s", err->msg);
		berth_error_free(err);
		return;
	}
	for (i = 0; ids[i]; i++) {
		if (s->blobs->ops->upload_remove(s->blobs, ids[i], &err) < 0 &&
		    err->code == BERTH_EEXIST) {
			berth_error_freep(&err); /* in use right now: later */
			continue;
		}
		berth_error_freep(&err);
		berth_meta_upload_remove(s->meta, ids[i], NULL);
		berth_log(BERTH_LOG_INFO, "dropped abandoned upload '%s'",
			  ids[i]);
	}
	berth_strv_free(ids);
}

/* Waits for SIGTERM/SIGINT; returns the signal. */
static int
wait_for_stop(srv *s, const sigset_t *set)
{
	struct timespec tick = {TICK_S, 0};
	long ticks = 0;

	for (;;) {
		int sig = sigtimedwait(set, NULL, &tick);

		if (sig > 0)
			return sig;
		if (sig < 0 && errno == EAGAIN) {
			srv_flush_counters(s);
			if (++ticks % (PURGE_EVERY_S / TICK_S) == 0)
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

int
berth_serve_main(int argc, char **argv)
{
	srv s = {0};
	berth_error *err = NULL;
	sigset_t set;
	bool help = false;
	int sig;

	s.access_fd = -1;
	berth_serve_config_init(&s.cfg);
	berth_log_set_handler(log_stderr, NULL);
	if (parse_args(&s.cfg, argc, argv, &help, &err) < 0) {
		teardown(&s);
		return report(err);
	}
	if (help) {
		fputs(usage, stdout);
		teardown(&s);
		return 0;
	}
	if (setup(&s, &err) < 0) {
		teardown(&s);
		return report(err);
	}
	/* Block the stop signals before MHD's threads inherit the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	purge_uploads(&s);
	if (srv_http_start(&s, &err) < 0) {
		teardown(&s);
		return report(err);
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
