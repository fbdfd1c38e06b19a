/*
 * berth serve internals: the server, the per-request context, the route
 * table and the helpers handlers answer with.
 *
 * A request flows one way, and calls run the same way:
 *
 *   http/daemon.c     libmicrohttpd: address, TLS, threads; its callbacks
 *        |            are the dispatcher's
 *   http/dispatch.c   one srv_req per request: the route (http/routes.c,
 *        |            whose needs say what runs before the handler), the
 *        |            repository name, the body limits
 *   access/           guard.c: the request-rate guard, and the pull limit
 *        |            for routes with SRV_NEED_PULL_LIMIT; authorize.c:
 *        |            the only place that decides access
 *   handlers/         the route's h_<resource>_<method>
 *        |
 *   http/errors.c     srv_fail(): the one mapping of failures to HTTP
 *   http/respond.c    statuses and OCI `errors[]` bodies; srv_send() and
 *                     friends queue every answer with the common headers
 *                     (RateLimit from what guard.c left in srv_req)
 *
 * The response layer at the bottom calls nothing above it; access checks
 * that refuse answer through it and return the error code, and the
 * dispatcher stops there. Handlers of routes with a streamed body are
 * called in three phases (BEGIN before the body, DATA per chunk, END);
 * every other handler runs once, at END. At completion the dispatcher
 * writes the access-log line and the audit line (guard.c, from the
 * route's audit action) and frees the request.
 */
#ifndef BERTH_SERVER_SERVER_H
#define BERTH_SERVER_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <microhttpd.h>

#include "berth/common.h"
#include "berth/log.h"
#include "server/access/audit.h"
#include "server/config.h"
#include "server/access/htpasswd.h"
#include "server/access/jwt.h"
#include "server/storage/storage.h"
#include "server/access/policy.h"
#include "server/access/ratelimit.h"
#include "server/access/token.h"
#include "server/ops/events.h"
#include "util/buf.h"

#define SRV_API_VERSION "registry/2.0"

typedef enum srv_auth_mode {
	SRV_AUTH_NONE,
	SRV_AUTH_HTPASSWD, /* Basic credentials checked on every request */
	SRV_AUTH_TOKEN,	   /* Bearer tokens (built-in or external issuer) */
} srv_auth_mode;

/* A per-user pull limit from the config. */
typedef struct srv_user_limit {
	char *user;
	berth_limit limit;
} srv_user_limit;

typedef struct srv_conns srv_conns;	  /* http/conns.c */
typedef struct srv_gc_sched srv_gc_sched; /* ops/gc_sched.c */
typedef struct srv_conn srv_conn;

/*
 * What changes while the server runs (access/live.c): the users and the
 * policy. A request takes a reference on its first look (srv_live_of) and
 * keeps it to its end, so a change never alters the rules under a request
 * in flight; the last reference frees it.
 */
/*
 * The settings as last loaded (at start or by SIGHUP), shared by the
 * snapshots made between two reloads: a request reads the settings a
 * reload may change (realm, token issuer, service and lifetimes) here,
 * so it sees one consistent set from its start to its end.
 */
typedef struct srv_tuning {
	atomic_int refs;
	berth_serve_config cfg;
	berth_token_cache *tokens; /* tokens verified under cfg */
} srv_tuning;

typedef struct srv_live {
	atomic_int refs;
	berth_htpasswd *htpasswd; /* NULL: no passwords */
	berth_policy *policy;	  /* never NULL */
	bool policy_given;	  /* a policy file or object, not the default */
	srv_tuning *tuning;	  /* never NULL */
} srv_live;

typedef struct srv {
	berth_serve_config cfg; /* as at start: a reload leaves it (the
				 * settings in effect: srv_tuning) */
	int argc;		/* the arguments, read again on SIGHUP */
	char **argv;
	srv_storage *store;

	pthread_mutex_t live_mu; /* guards the pointer `live` */
	srv_live *live;
	struct stat htpasswd_st; /* the htpasswd file as last loaded or tried */

	srv_auth_mode auth;
	bool access_control;  /* auth != NONE or client certificates */
	bool policy_given;    /* at start (access control is on) */
	berth_jwt_keys *keys; /* token mode */
	bool token_builtin;   /* this server issues tokens at /token */

	berth_pulls *pulls; /* NULL: no pull limits */
	berth_limit limit_anon, limit_user;
	srv_user_limit *user_limits;
	size_t n_user_limits;
	berth_rate *rate; /* NULL: no request-rate guard */
	berth_audit *audit;
	char **metrics_allow; /* --metrics-allow, or NULL */
	srv_gc_sched *gc;     /* scheduled garbage collection */

	berth_fails *fails_user, *fails_addr; /* failed logins */
	struct srv_pwpool *pwpool;	      /* password checks; NULL: none */
	struct srv_cache *cache; /* the pull-through cache (ops/cache.h) */

	struct MHD_Daemon *daemon;
	srv_conns *conns; /* the connections' deadlines */
	char *tls_cert_pem;
	char *tls_key_pem;
	char *tls_ca_pem;
	int access_fd;	      /* -1: no access log */
	srv_events *events;   /* event notifications (ops/events.h) */
	char **event_labels;  /* their metrics' endpoint label values */
	atomic_int in_flight; /* requests started and not completed */
	atomic_bool stopping;

	/* retention (ops/retention_serve.c) */
	pthread_mutex_t retention_mu; /* one run at a time; guards these */
	bool retention_mu_init;
	struct srv_retention_rules *retention; /* never NULL once set up */
	int64_t retention_every;	       /* seconds, 0: on demand only */
	int64_t retention_next;		       /* monotonic ms of the next */

	/* require-signatures (access/sigrules.c) */
	pthread_mutex_t sigrules_mu; /* guards the pointer `sigrules` */
	bool sigrules_mu_init;
	struct srv_sigrules *sigrules; /* NULL: no rules */
} srv;

/* What a route needs before its handler runs (bit set). */
enum srv_need {
	SRV_NEED_NONE = 0,
	SRV_NEED_PULL = 1 << 0,	   /* read the repository */
	SRV_NEED_PUSH = 1 << 1,	   /* write the repository */
	SRV_NEED_DELETE = 1 << 2,  /* delete from the repository */
	SRV_NEED_CATALOG = 1 << 3, /* list every repository */
	SRV_NEED_TOKEN = 1 << 4,   /* the token endpoint: authenticate only */
	SRV_NEED_ACTIONS = 0xf,	   /* the bits that are berth_act actions */
	SRV_NEED_PULL_LIMIT = 1 << 5, /* a pull: counted against the limits */
	SRV_NEED_METRICS = 1 << 6,    /* read /metrics (authorize.c) */
	SRV_NEED_ADMIN = 1 << 7,      /* the /admin/ endpoints (authorize.c) */
	SRV_BODY_BUFFER =
		1 << 8, /* collect the body (up to the manifest limit) */
	SRV_BODY_STREAM = 1 << 9, /* hand the body over chunk by chunk */
};

typedef enum srv_phase {
	SRV_PHASE_BEGIN,
	SRV_PHASE_DATA,
	SRV_PHASE_END,
} srv_phase;

typedef struct srv_req srv_req;
typedef int (*srv_handler)(srv_req *r);

/* The routes by name, for metrics (names in http/routes.c). */
typedef enum srv_route_id {
	SRV_RT_BASE,
	SRV_RT_CATALOG,
	SRV_RT_TAGS,
	SRV_RT_MANIFEST,
	SRV_RT_UPLOAD,	     /* POST: start an upload */
	SRV_RT_UPLOAD_CHUNK, /* an upload session's URL */
	SRV_RT_BLOB,
	SRV_RT_REFERRERS,
	SRV_RT_TOKEN,
	SRV_RT_METRICS,
	SRV_RT_ADMIN,
	SRV_RT_NONE, /* no route matched (or refused before matching) */
	SRV_RT_N,
} srv_route_id;

extern const char *const srv_route_names[SRV_RT_N];

typedef struct srv_route {
	const char *method;  /* "GET" routes answer HEAD too */
	const char *pattern; /* "/v2/{name}/manifests/{ref}" */
	srv_handler handler;
	unsigned needs;	   /* enum srv_need */
	const char *audit; /* the audit action when it passes (not HEAD) */
	srv_route_id id;
} srv_route;

struct srv_req {
	srv *s;
	srv_live *live; /* taken on first use (srv_live_of), or NULL */
	struct MHD_Connection *conn;
	srv_conn *tracked; /* the connection's deadlines, or NULL */
	const srv_route *route;
	const char *method;
	char *path; /* decoded by berth (http/path.h), query left out */
	bool head;
	bool headers_in;    /* the headers are in: counted in flight */
	bool path_nul;	    /* the path holds "%00" */
	bool too_many_args; /* more than SRV_MAX_QUERY_ARGS (not parsed) */
	char *name;	    /* {name}, validated */
	char *ref;	    /* {ref}, unvalidated */
	char *user;	    /* authenticated user, or NULL */
	char ip[48];	    /* the client's address */
	char limit_key[64]; /* "ip:…" (IPv6 per /64) for anonymous limits */
	bool authn_done;
	bool begun;	 /* req_begin ran to its end (not suspended) */
	bool pw_wait;	 /* suspended until its password check is done */
	bool pw_done;	 /* pw_rc is the verdict (set by a pool thread) */
	bool pw_counted; /* the verdict counted against the login limits */
	int pw_rc;
	bool by_cert;	/* r->user comes from a client certificate */
	bool has_token; /* tok holds a verified Bearer token */
	berth_token_info tok;
	bool denied;	      /* refused by access control or a limit */
	unsigned denied_need; /* what was refused (enum srv_need) */
	char *audit_detail;   /* why refused, or scopes issued (audit log) */
	bool rl_set;	      /* RateLimit headers to add */
	long rl_limit, rl_remaining, rl_window;
	int64_t rl_taken_ms; /* when this request's pull was counted, or 0 */
	char *digest; /* Docker-Content-Digest answered (for the audit log) */

	srv_phase phase;
	const char *data; /* DATA phase: this chunk */
	size_t len;
	bool has_body;
	berth_buf body; /* SRV_BODY_BUFFER */
	bool body_too_big;

	void *state; /* the handler's, across phases */
	void (*state_free)(void *);

	struct MHD_Response *pending; /* answer waiting for the body's end */
	unsigned pending_status;
	bool responded;

	unsigned status; /* for the access log */
	uint64_t bytes;
	uint64_t received; /* body bytes */
	struct timespec t0;
};

/* ---- http/routes.c ---- */

typedef enum srv_match {
	SRV_MATCH_OK,
	SRV_MATCH_NONE,	  /* no route has this path */
	SRV_MATCH_METHOD, /* a route has this path, not this method */
} srv_match;

srv_match srv_route_find(const char *method, const char *path,
			 const srv_route **route, char **name, char **ref);

/* ---- http/errors.c ---- */

/* The OCI error codes, and the few statuses that go with special cases. */
typedef enum srv_oci {
	SRV_E_AUTO = 0, /* derive from the berth_code */
	SRV_E_BLOB_UNKNOWN,
	SRV_E_BLOB_UPLOAD_INVALID,
	SRV_E_BLOB_UPLOAD_UNKNOWN,
	SRV_E_DIGEST_INVALID,
	SRV_E_MANIFEST_BLOB_UNKNOWN,
	SRV_E_MANIFEST_INVALID,
	SRV_E_MANIFEST_UNKNOWN,
	SRV_E_NAME_INVALID,
	SRV_E_NAME_UNKNOWN,
	SRV_E_SIZE_INVALID,
	SRV_E_UNAUTHORIZED,
	SRV_E_DENIED,
	SRV_E_UNSUPPORTED,
	SRV_E_TOOMANYREQUESTS,
	SRV_E_RANGE_INVALID,	 /* 416, BLOB_UPLOAD_INVALID */
	SRV_E_MANIFEST_TOO_BIG,	 /* 413, SIZE_INVALID */
	SRV_E_NOT_FOUND,	 /* 404 for an unknown endpoint */
	SRV_E_METHOD,		 /* 405 */
	SRV_E_BAD_REQUEST,	 /* 400, UNSUPPORTED: a malformed request */
	SRV_E_URI_TOO_LONG,	 /* 414, UNSUPPORTED */
	SRV_E_INTERNAL,		 /* 500 */
	SRV_E_STORAGE_FULL,	 /* 507: the storage is full */
	SRV_E_STORAGE_READ_ONLY, /* 507: the storage cannot be written */
	SRV_E_META_UNAVAILABLE,	 /* 503: the metadata database is away */
} srv_oci;

/*
 * The one mapping from a failure to an HTTP answer: `code` (or, for
 * SRV_E_AUTO, e->code) picks the status and the OCI code; the message is
 * `msg`, else e's message. Returns a new response and sets *status.
 */
struct MHD_Response *srv_error_response(srv_oci code, const berth_error *e,
					const char *msg, unsigned *status);

/*
 * Answers r with an error (see srv_error_response) and returns e's code
 * (or BERTH_EGENERIC). printf-style message, or NULL fmt for e's.
 */
int srv_fail(srv_req *r, srv_oci code, const berth_error *e, const char *fmt,
	     ...) __attribute__((format(printf, 4, 5)));

/* srv_fail with the message of an error, which it frees. */
int srv_fail_err(srv_req *r, srv_oci code, berth_error **e);

/* ---- http/respond.c: the bottom layer, calling nothing above it ---- */

/* A request header / query argument, or NULL. */
const char *srv_header(srv_req *r, const char *name);
const char *srv_query(srv_req *r, const char *name);

/* Queues resp with status (adding the common headers); takes resp. */
int srv_send(srv_req *r, unsigned status, struct MHD_Response *resp);

/* An empty answer. */
int srv_send_empty(srv_req *r, unsigned status);

/* A body answer; takes ownership of body (malloc'd). */
int srv_send_body(srv_req *r, unsigned status, const char *content_type,
		  char *body, size_t len);

/* Adds a header to a response (aborting on failure: a programming error). */
void srv_resp_header(struct MHD_Response *resp, const char *name,
		     const char *value);

/* An empty response whose Content-Length claims `size` (for HEAD). */
struct MHD_Response *srv_resp_head(uint64_t size);

/* Queues the answer held back until the body's end, if any. */
void srv_send_pending(srv_req *r);

/* ---- http/daemon.c ---- */

/* The stall deadlines of c (header-timeout, body-timeout, body-min-rate)
 * for the connections from now on (http/conns.c). */
void srv_conns_set_timeouts(srv *s, const berth_serve_config *c);

/* Starts and stops the HTTP daemon. */
int srv_http_start(srv *s, berth_error **err);
void srv_http_stop(srv *s);

/* ---- http/tls.c: the certificate served, replaceable on reload ---- */

/* Checks that a PEM certificate (chain) and key load and match. */
int srv_tls_check(const char *cert_pem, const char *key_pem, berth_error **err);

/* Serves this certificate from the next TLS handshake on. */
int srv_tls_set(const char *cert_pem, const char *key_pem, berth_error **err);

/* The daemon's MHD_OPTION_HTTPS_CERT_CALLBACK. */
void *srv_tls_callback(void);

/* Frees every certificate set (after the daemon stopped). */
void srv_tls_release(void);

/* ---- access/authorize.c ---- */

/*
 * The one place where access is decided. Authenticates r (once) and checks
 * that the caller may do `need` on `repo` (NULL for registry-wide needs).
 * On refusal it answers r (401 with a challenge, or 403) and returns
 * BERTH_EAUTH / BERTH_EDENIED.
 */
int srv_authorize(srv_req *r, const char *repo, unsigned need);

/*
 * False when token t carries the fingerprint of an htpasswd entry that
 * is gone or changed (the user was removed or changed password).
 */
bool srv_token_cred_current(srv_req *r, const berth_token_info *t);

/* True when the caller of r may read repo (no answer is sent). */
bool srv_can_read(srv_req *r, const char *repo);

/* True when the caller of r may push to repo (no answer is sent). */
bool srv_can_push(srv_req *r, const char *repo);

/* True when the catalog shows repo to the caller of r. */
bool srv_can_list(srv_req *r, const char *repo);

/*
 * The token endpoint's authentication: the client certificate, else Basic
 * credentials against the htpasswd file. 0 with r->user set or NULL
 * (anonymous); BERTH_EAUTH for wrong credentials (nothing answered).
 */
int srv_authenticate_basic(srv_req *r, berth_error **err);

/* ---- args.c: the command line of berth serve and its subcommands ---- */

/* What srv_parse_args sets *help to for each --help flag. */
enum srv_help {
	SRV_HELP = 'h',
	SRV_HELP_MARKDOWN = 'M', /* --help-markdown: docs/server.md's table */
	SRV_HELP_MAN = 'N',	 /* --help-man: berth-serve.1 */
	SRV_HELP_OPTIONS = 'O',	 /* --help-options: for `berth completion` */
};

/*
 * The settings from defaults, --config and flags (the server's and its
 * subcommands'); *help is set (0: none) when a --help flag came.
 */
int srv_parse_args(berth_serve_config *cfg, int argc, char **argv, int *help,
		   berth_error **err);

/* Prints err ("berth: ...", "hint: ...") and frees it; the exit status. */
int srv_exit_status(berth_error *err);

/* The log handler of berth serve and its subcommands: stderr. */
void srv_log_stderr(berth_log_level level, const char *msg, void *ud);

/*
 * A subcommand's main (`berth serve gc`, `berth serve retention`): its
 * --dry-run taken out, the rest parsed as the server's settings, `usage`
 * printed for --help, else run; the exit status.
 */
int srv_subcommand_main(int argc, char **argv, const char *usage,
			int (*run)(const berth_serve_config *cfg, bool dry_run,
				   berth_error **err));

/* ---- access/setup.c ---- */

/* Builds the access-control pieces from s->cfg (after the stores). */
int srv_setup_access(srv *s, berth_error **err);

/*
 * For a reload: the users (the htpasswd file read again) and the policy
 * of the new settings c as a snapshot for srv_live_swap. BERTH_EUSAGE when
 * a file does not load or the change takes a restart.
 */
int srv_access_reload(srv *s, const berth_serve_config *c, srv_live **out,
		      berth_error **err);

/*
 * The failed-login limits and the request rate of c, checked, applied to
 * the running counters (which keep what they counted). BERTH_EUSAGE for a
 * limit that does not parse; with apply false it only checks.
 */
int srv_access_limits(srv *s, const berth_serve_config *c, bool apply,
		      berth_error **err);
void srv_teardown_access(srv *s);

/* Saves the pull counters (every second, and at shutdown). */
void srv_flush_counters(srv *s);

/* ---- access/live.c: the users and policy, replaced while serving ---- */

/* A new snapshot holding one reference; takes h and p, refers to t. */
srv_live *srv_live_new(berth_htpasswd *h, berth_policy *p, bool given,
		       srv_tuning *t);

/* Settings c (copied) with a fresh token cache, holding one reference. */
srv_tuning *srv_tuning_new(const berth_serve_config *c);
void srv_tuning_put(srv_tuning *t); /* NULL is a no-op */

/* The settings in effect for r (those of its snapshot). */
const berth_serve_config *srv_cfg(srv_req *r);

/* The current snapshot, with a reference for the caller. */
srv_live *srv_live_get(srv *s);
void srv_live_put(srv_live *l); /* NULL is a no-op */

/* r's snapshot, taken on first use; released when r completes. */
srv_live *srv_live_of(srv_req *r);

/* Makes l current (taking its reference); the old one goes when unused. */
void srv_live_swap(srv *s, srv_live *l);

/*
 * Reloads the htpasswd file when its inode, size or modification time
 * changed since the last look (the main loop calls it every second). A
 * file that does not load is logged and the users before it stay.
 */
void srv_htpasswd_watch(srv *s);

/* ---- access/pwcheck.c: password checks off the HTTP threads ---- */

/* srv_password_check's answer while the check runs: r is suspended. */
#define SRV_PENDING (-1000)

typedef struct srv_pwpool srv_pwpool;

srv_pwpool *srv_pwpool_new(size_t threads);
/*
 * Runs the queued checks, resuming their requests, and ends the threads;
 * later checks run on the caller's thread. Before the daemon stops: MHD
 * must not be stopped with connections suspended. NULL is a no-op.
 */
void srv_pwpool_drain(srv_pwpool *p);
void srv_pwpool_free(srv_pwpool *p); /* after the daemon stopped */

/*
 * Checks user/pass against the htpasswd file: 0, BERTH_EAUTH (nothing
 * answered), BERTH_ETOOMANY (answered 429: too many failed logins), or
 * SRV_PENDING: r is suspended while a pool thread runs bcrypt, and the
 * caller must return without answering; when r resumes, the same code
 * runs again and this call returns the verdict.
 */
int srv_password_check(srv_req *r, const char *user, const char *pass);

/* ---- access/guard.c: the caller's address, limits, the audit log ---- */

/* Fills r->ip and r->limit_key from the connection. */
void srv_peer_init(srv_req *r);

/* The request-rate guard: 0, or answers 429 and returns BERTH_ETOOMANY. */
int srv_rate_guard(srv_req *r);

/* Pull limits for a manifest GET (HEAD: headers only, not counted). */
int srv_pull_limit(srv_req *r);

/* A manifest GET that found nothing: its pull does not count. */
void srv_pull_give_back(srv_req *r);

/*
 * The failed-login limits for a login of `user` from r's address: 0, or
 * answers 429 with Retry-After (audit-logged) and returns BERTH_ETOOMANY.
 */
int srv_login_guard(srv_req *r, const char *user);

/* Counts a failed login against user and address; a good one clears. */
void srv_login_result(srv_req *r, const char *user, bool ok);

/* Writes the request's audit line, if it makes one. */
void srv_audit(srv_req *r);

/* ---- ops/retention_serve.c: retention in the server ---- */

/* The rules and interval of the settings c, checked (setup and reload):
 * BERTH_EUSAGE naming what is wrong. */
int srv_retention_load(const berth_serve_config *c,
		       struct srv_retention_rules **rules, int64_t *every,
		       berth_error **err);

/* Makes them s's (taking rules), scheduling the next run. */
void srv_retention_apply(srv *s, struct srv_retention_rules *rules,
			 int64_t every);

/*
 * One run now, after the pull times are saved; one at a time. *report is
 * the JSON report (caller frees).
 */
int srv_retention_now(srv *s, bool dry_run, struct json_t **report,
		      berth_error **err);

/* The scheduled run, when it is due (the main loop calls it each tick). */
void srv_retention_tick(srv *s);

void srv_retention_teardown(srv *s);

/*
 * `berth serve retention [--dry-run] [settings...]`: one run over the
 * storage of those settings, beside a running server or not, printing the
 * report on stdout; the exit status.
 */
int srv_retention_main(int argc, char **argv);

/* ---- access/sigrules.c: require-signatures, replaced on SIGHUP ---- */

/* The rules in effect, with a reference for the caller (NULL: none). */
struct srv_sigrules *srv_sigrules_current(srv *s);

/* Makes rules (taken; NULL: none) s's, dropping the old ones. */
void srv_sigrules_apply(srv *s, struct srv_sigrules *rules);

/* ---- handlers/manifest_sig.c ---- */

/*
 * The require-signatures rule for a manifest GET or HEAD of r found as
 * mf: 0 to serve it (no rule for r->name, mf is a signature, or one of its
 * signatures by the rule's keys verifies), else r has been answered (403
 * DENIED saying why and how to sign, or the storage's failure) and the
 * result is srv_fail's.
 */
int srv_manifest_sig_check(srv_req *r, const berth_meta_manifest *mf);

/* ---- handlers ---- */

int h_base_get(srv_req *r);
int h_catalog_get(srv_req *r);
int h_tags_get(srv_req *r);
int h_manifest_get(srv_req *r);
int h_manifest_put(srv_req *r);
int h_manifest_delete(srv_req *r);
int h_blob_get(srv_req *r);
int h_blob_delete(srv_req *r);
int h_upload_post(srv_req *r);
int h_upload_get(srv_req *r);
int h_upload_patch(srv_req *r);
int h_upload_put(srv_req *r);
int h_upload_delete(srv_req *r);
int h_referrers_get(srv_req *r);
int h_token_get(srv_req *r);
int h_token_post(srv_req *r);
int h_metrics_get(srv_req *r);
int h_admin_gc_post(srv_req *r);
int h_admin_retention_post(srv_req *r);

/* ---- handlers/notify.c ---- */

/*
 * The event of a request that did `action` to {name} (srv_event_emit with
 * the request's fields filled in); `digest`'s content is a manifest on
 * the manifest route, else a blob. NULL / size < 0 leave fields out.
 */
void srv_notify(srv_req *r, const char *action, const char *media_type,
		const char *digest, int64_t size, const char *tag,
		const char *from);

/* Shared by the blob and upload handlers (handlers/h_upload.c). */
char *srv_upload_location(const char *name, const char *id);
int srv_parse_page(srv_req *r, long *n, const char **last);

#endif
