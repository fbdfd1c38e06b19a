/*
 * berth serve's settings as one table: the flags (serve.c builds getopt's
 * options from it), the config file's keys, the defaults, the limits and
 * the help that --help and docs/server.md show (config_doc.c).
 */
#include "server/config.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/cleanup.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/xalloc.h"

#define F(field) offsetof(berth_serve_config, field)

/* Columns: name, arg, type, off, json_off, deflt, shown, min, max,
 * choices, help, restart (see config.h; R marks the settings a SIGHUP
 * cannot change). The order is --help's and the docs'. */
#define R true
const berth_serve_setting berth_serve_settings[] = {
	{"config", "FILE", BERTH_SERVE_FILE, 0, 0, NULL, NULL, 0, 0, NULL,
	 "JSON file with any of the settings below; flags win over it", false},
	{"addr", "HOST:PORT", BERTH_SERVE_STR, F(addr), 0, "127.0.0.1:5000",
	 NULL, 0, 0, NULL,
	 "address to listen on; ':5000' is every interface, '[::1]:5000' "
	 "IPv6",
	 R},
	{"storage", "DIR", BERTH_SERVE_STR, F(storage), 0, "./registry", NULL,
	 0, 0, NULL, "blobs, upload sessions and the metadata database", R},
	/* Blobs in S3 (docs/server.md, "Blobs in S3"): with a bucket. */
	{"s3-bucket", "NAME", BERTH_SERVE_STR, F(s3_bucket), 0, NULL,
	 "off (blobs on the file system)", 0, 0, NULL,
	 "keep blobs and upload sessions in this S3 bucket (which must "
	 "exist) instead of the storage directory; the metadata stays there",
	 R},
	{"s3-endpoint", "URL", BERTH_SERVE_STR, F(s3_endpoint), 0, NULL,
	 "AWS's for the region", 0, 0, NULL,
	 "the S3 service, e.g. http://127.0.0.1:7480 for a Ceph RADOS "
	 "Gateway, MinIO or any S3-compatible store",
	 R},
	{"s3-region", "NAME", BERTH_SERVE_STR, F(s3_region), 0, NULL,
	 "AWS_REGION, else us-east-1", 0, 0, NULL,
	 "the region requests are signed for (AWS Signature V4)", R},
	{"s3-addressing", "STYLE", BERTH_SERVE_ENUM, F(s3_addressing), 0, NULL,
	 "virtual without an endpoint, else path", 0, 0, "path, virtual",
	 "path: ENDPOINT/BUCKET/KEY; virtual: BUCKET.ENDPOINT/KEY (needs DNS "
	 "for the bucket's name)",
	 R},
	{"s3-prefix", "PATH", BERTH_SERVE_STR, F(s3_prefix), 0, NULL, "none", 0,
	 0, NULL, "put every key under this path in the bucket", R},
	{"s3-access-key", "ID", BERTH_SERVE_STR, F(s3_access_key), 0, NULL,
	 "AWS_ACCESS_KEY_ID", 0, 0, NULL, "the access key id", R},
	{"s3-secret-key", "SECRET", BERTH_SERVE_STR, F(s3_secret_key), 0, NULL,
	 "AWS_SECRET_ACCESS_KEY", 0, 0, NULL,
	 "the secret access key; better in the config file (mode 0600) or "
	 "the environment than on the command line",
	 R},
	{"s3-session-token", "TOKEN", BERTH_SERVE_STR, F(s3_session_token), 0,
	 NULL, "AWS_SESSION_TOKEN", 0, 0, NULL,
	 "a session token of temporary credentials", R},
	{"s3-ca-file", "FILE", BERTH_SERVE_STR, F(s3_ca_file), 0, NULL,
	 "the system's", 0, 0, NULL,
	 "PEM CA certificates to trust for an https:// endpoint", R},
	{"s3-part-size", "BYTES", BERTH_SERVE_LONG, F(s3_part_size), 0,
	 "8388608", "8388608 (8 MiB)", 5L << 20, 1L << 30, NULL,
	 "multipart upload part size, a whole number of MiB: each upload in "
	 "progress buffers at most this much in memory",
	 R},
	{"s3-redirect", NULL, BERTH_SERVE_BOOL, F(s3_redirect), 0, "false",
	 "off", 0, 1, NULL,
	 "answer blob GETs with 307 to a presigned S3 URL instead of "
	 "streaming the bytes through berth serve (clients must reach the "
	 "S3 endpoint)",
	 R},
	{"s3-redirect-ttl", "SECONDS", BERTH_SERVE_LONG, F(s3_redirect_ttl), 0,
	 "1200", NULL, 1, 604800, NULL, "how long a presigned URL stays valid",
	 R},
	{"metadata", "URL", BERTH_SERVE_STR, F(metadata), 0, NULL,
	 "STORAGE/metadata.db", 0, 0, NULL,
	 "where the metadata lives: a PostgreSQL URL "
	 "(postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=...), which several "
	 "instances may share, or a SQLite file of this machine",
	 R},
	{"tls-cert", "FILE", BERTH_SERVE_STR, F(tls_cert), 0, NULL, NULL, 0, 0,
	 NULL, "serve HTTPS with this PEM certificate (chain)...", R},
	{"tls-key", "FILE", BERTH_SERVE_STR, F(tls_key), 0, NULL, NULL, 0, 0,
	 NULL, "...and this PEM private key", R},
	{"tls-client-ca", "FILE", BERTH_SERVE_STR, F(tls_client_ca), 0, NULL,
	 NULL, 0, 0, NULL,
	 "require a client certificate signed by this PEM CA on every "
	 "request",
	 R},
	{"htpasswd", "FILE", BERTH_SERVE_STR, F(htpasswd), 0, NULL, NULL, 0, 0,
	 NULL,
	 "require Basic authentication against this bcrypt htpasswd file "
	 "(htpasswd -B)",
	 R},
	{"realm", "NAME", BERTH_SERVE_STR, F(realm), 0, "berth", NULL, 0, 0,
	 NULL, "realm of the 'WWW-Authenticate: Basic' challenge", false},
	{"auth", "MODE", BERTH_SERVE_ENUM, F(auth), 0, NULL,
	 "htpasswd with --htpasswd, else none", 0, 0, "none, htpasswd, token",
	 "how callers sign in: htpasswd is Basic on every request, token is "
	 "Bearer tokens (Docker token specification)",
	 R},
	{"policy", "FILE", BERTH_SERVE_STR, F(policy), F(policy_json), NULL,
	 NULL, 0, 0, NULL,
	 "JSON access policy (see docs/server.md); the config key takes a "
	 "file name or the object itself. Without one, signed-in users may "
	 "do everything and anonymous callers nothing",
	 false},
	{"pull-limit", "SPEC", BERTH_SERVE_STR, F(pull_limit), 0, NULL, NULL, 0,
	 0, NULL,
	 "e.g. anonymous=100/6h,user=200/6h: manifest GETs per sliding "
	 "window (s, m, h, d)",
	 R},
	{"pull-limit-users", "OBJECT", BERTH_SERVE_JSON, F(pull_limit_users), 0,
	 NULL, NULL, 0, 0, NULL,
	 "per-user pull limits, e.g. {\"ci-bot\": \"unlimited\", \"bob\": "
	 "\"1000/6h\"}",
	 R},
	{"rate-limit", "N", BERTH_SERVE_LONG, F(rate_limit), 0, "0", "off", 0,
	 1000000, NULL,
	 "at most N requests per second per client address (bursts of N), "
	 "any endpoint",
	 false},
	{"audit-log", "FILE", BERTH_SERVE_STR, F(audit_log), 0, NULL, NULL, 0,
	 0, NULL, "one JSON line per push, pull, delete, login and denial", R},
	{"token-realm", "URL", BERTH_SERVE_STR, F(token_realm), 0, NULL,
	 "this server's /token", 0, 0, NULL,
	 "the token service named in challenges", false},
	{"token-service", "NAME", BERTH_SERVE_STR, F(token_service), 0, "berth",
	 NULL, 0, 0, NULL, "audience (aud) of tokens, 'service' in challenges",
	 false},
	{"token-issuer", "NAME", BERTH_SERVE_STR, F(token_issuer), 0, "berth",
	 NULL, 0, 0, NULL, "issuer (iss) of tokens", false},
	{"token-key", "FILE", BERTH_SERVE_STR, F(token_key), 0, NULL,
	 "STORAGE/token-keys/signing.pem", 0, 0, NULL,
	 "PEM private key (EC P-256 or RSA) to sign tokens with; the default "
	 "one is generated (mode 0600) at the first start",
	 R},
	{"token-issuer-keys", "FILE", BERTH_SERVE_STR, F(token_issuer_keys), 0,
	 NULL, NULL, 0, 0, NULL,
	 "trust the tokens of an external issuer signed by these PEM public "
	 "keys or certificates; no /token here, --token-realm required",
	 R},
	{"token-ttl", "SECONDS", BERTH_SERVE_LONG, F(token_ttl), 0, "300", NULL,
	 10, 86400, NULL, "lifetime of access tokens", false},
	{"refresh-token-ttl", "SECONDS", BERTH_SERVE_LONG, F(refresh_ttl), 0,
	 "2592000", "2592000 (30 days)", 60, 366L * 86400, NULL,
	 "lifetime of the refresh tokens /token hands out", false},
	{"login-limit", "COUNT/WINDOW", BERTH_SERVE_STR, F(login_limit), 0,
	 "10/1m", NULL, 0, 0, NULL,
	 "failed logins allowed per user name: COUNT at once, then COUNT per "
	 "WINDOW (s, m, h, d); beyond it logins of that user get 429 with "
	 "Retry-After; 'unlimited' turns it off",
	 false},
	{"login-limit-address", "COUNT/WINDOW", BERTH_SERVE_STR,
	 F(login_limit_address), 0, "30/1m", NULL, 0, 0, NULL,
	 "the same per client address (IPv6 per /64)", false},
	{"login-threads", "N", BERTH_SERVE_LONG, F(login_threads), 0, "2", NULL,
	 1, 64, NULL,
	 "threads that check passwords (bcrypt), apart from the HTTP threads, "
	 "so a flood of logins never slows other requests down",
	 R},
	{"metrics-allow", "ADDRS", BERTH_SERVE_STR, F(metrics_allow), 0, NULL,
	 NULL, 0, 0, NULL,
	 "client addresses or CIDR ranges, comma-separated, that may read "
	 "/metrics without credentials; the policy's admins may from "
	 "anywhere. Without access control anyone may, unless this is set",
	 R},
	{"notifications", "OBJECT", BERTH_SERVE_JSON, F(notifications), 0, NULL,
	 NULL, 0, 0, NULL,
	 "event endpoints (webhooks) in distribution's format: "
	 "{\"endpoints\": [{\"name\": \"ci\", \"url\": \"https://...\"}]}, "
	 "each "
	 "with headers, timeout, threshold, backoff, maxbackoff, ignore "
	 "{mediatypes, actions} and repositories (see docs/server.md)",
	 false},
	{"notify-queue-max", "N", BERTH_SERVE_LONG, F(notify_queue_max), 0,
	 "10000", NULL, 1, 10000000, NULL,
	 "undelivered events kept per endpoint, on disk under STORAGE/events; "
	 "beyond it new events are dropped (counted in /metrics, logged)",
	 false},
	{"upstreams", "ARRAY", BERTH_SERVE_JSON, F(upstreams), 0, NULL, NULL, 0,
	 0, NULL,
	 "pull-through cache: the upstream registries, each an object with "
	 "\"url\" and either \"mirror\": true (every repository no prefix "
	 "claims) or \"prefix\" (e.g. \"hub\": hub/library/nginx is the "
	 "upstream's library/nginx); see docs/server.md",
	 false},
	{"require-signatures", "ARRAY", BERTH_SERVE_JSON, F(require_signatures),
	 0, NULL, NULL, 0, 0, NULL,
	 "serve the images of these repositories only when signed by one of "
	 "these keys, e.g. [{\"repositories\": "
	 "\"prod/**\", \"keys\": [\"/etc/berth/cosign.pub\"]}]; pushes are "
	 "not affected (see Signed images only in docs/server.md)",
	 false},
	{"retention", "OBJECT", BERTH_SERVE_JSON, F(retention), 0, NULL, NULL,
	 0, 0, NULL,
	 "retention policies: which tags and manifests of which repositories "
	 "a retention run deletes (see Retention in docs/server.md)",
	 false},
	{"retention-interval", "DURATION", BERTH_SERVE_DURATION,
	 F(retention_interval), 0, "0", "0 (off)", 0, 366L * 86400, NULL,
	 "run the retention policies this often (e.g. 24h), the first run "
	 "one interval after the start; 0 runs them only when asked (POST "
	 "/admin/v1/retention, berth serve retention)",
	 false},
	{"insecure-auth", NULL, BERTH_SERVE_BOOL, F(insecure_auth), 0, "false",
	 "off", 0, 1, NULL,
	 "allow authentication over plain HTTP on a non-loopback address", R},
	{"log-level", "LEVEL", BERTH_SERVE_STR, F(log_level), 0, "info", NULL,
	 0, 0, NULL, "error, warn, info or debug (on stderr)", false},
	{"access-log", "FILE", BERTH_SERVE_STR, F(access_log), 0, "-", NULL, 0,
	 0, NULL, "one line per request; '-' is stderr, 'off' disables it", R},
	{"threads", "N", BERTH_SERVE_LONG, F(threads), 0, "0",
	 "one per CPU, at least 2", 0, 1024, NULL,
	 "worker threads (event loops); raise it for push-heavy sites, whose "
	 "requests wait on fsync",
	 R},
	{"upload-ttl", "SECONDS", BERTH_SERVE_LONG, F(upload_ttl), 0, "86400",
	 NULL, 1, LONG_MAX, NULL,
	 "upload sessions without a request or a byte for this long are "
	 "dropped",
	 false},
	{"upload-sessions-per-client", "N", BERTH_SERVE_LONG,
	 F(uploads_per_client), 0, "100", NULL, 0, 1000000, NULL,
	 "most upload sessions one client address may have open at once "
	 "(0: no limit); the next POST gets 429 TOOMANYREQUESTS",
	 false},
	{"upload-sessions-per-repo", "N", BERTH_SERVE_LONG, F(uploads_per_repo),
	 0, "1000", NULL, 0, 1000000, NULL,
	 "most upload sessions one repository may have open at once (0: no "
	 "limit)",
	 false},
	/* Connections: no client can lock the others out. */
	{"max-connections", "N", BERTH_SERVE_LONG, F(max_conns), 0, "0",
	 "from the file-descriptor limit", 0, 1000000, NULL,
	 "connections open at once; more wait until one closes. The default "
	 "is half the file-descriptor limit (raised to its hard limit at "
	 "start) less 128, at most 16384",
	 R},
	{"max-connections-per-ip", "N", BERTH_SERVE_LONG, F(max_conns_per_ip),
	 0, "128", NULL, 0, 1000000, NULL,
	 "connections open at once from one client address; 0 is no cap. "
	 "Behind a proxy all clients share its address: raise it or use 0",
	 R},
	{"header-timeout", "SECONDS", BERTH_SERVE_LONG, F(header_timeout), 0,
	 "30", NULL, 1, 86400, NULL,
	 "a request's line and headers must be in this long after the "
	 "connection opened or the previous answer ended (so idle kept-alive "
	 "connections close then too)",
	 false},
	{"body-timeout", "SECONDS", BERTH_SERVE_LONG, F(body_timeout), 0, "60",
	 NULL, 1, 86400, NULL,
	 "a request body must bring --body-min-rate over each window this "
	 "long, or the connection is closed",
	 false},
	{"body-min-rate", "BYTES", BERTH_SERVE_LONG, F(body_min_rate), 0, "500",
	 NULL, 0, 1L << 30, NULL,
	 "bytes per second a request body must average over each "
	 "--body-timeout window; 0 is no minimum",
	 false},
	/* Garbage collection (docs/server.md). */
	{"gc-interval", "DURATION", BERTH_SERVE_DURATION, F(gc_interval), 0,
	 "0", "0 (off)", 0, 366L * 86400, NULL,
	 "run garbage collection this often (e.g. 6h); 0 runs it only when "
	 "asked (POST /admin/v1/gc, berth serve gc)",
	 false},
	{"gc-grace", "DURATION", BERTH_SERVE_DURATION, F(gc_grace), 0, "1h",
	 NULL, 1, 366L * 86400, NULL,
	 "garbage collection keeps what was pushed, uploaded, mounted or "
	 "checked (blob HEAD) this recently, referenced or not, so that a "
	 "push in progress never loses what it was told exists",
	 false},
};

const size_t berth_serve_n_settings = BERTH_ARRAY_SIZE(berth_serve_settings);

#undef R
#undef F

static void *
field(berth_serve_config *c, size_t off)
{
	return (char *)c + off;
}

static bool
owns_string(const berth_serve_setting *s)
{
	return s->type == BERTH_SERVE_STR || s->type == BERTH_SERVE_ENUM ||
	       s->type == BERTH_SERVE_JSON;
}

void
berth_serve_config_init(berth_serve_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < berth_serve_n_settings; i++) {
		const berth_serve_setting *s = &berth_serve_settings[i];
		int r;

		if (s->deflt == NULL)
			continue;
		r = berth_serve_config_set(c, s->name, s->deflt, NULL);
		assert(r == 0); /* a default the table's own limits refuse */
		(void)r;
	}
}

void
berth_serve_config_release(berth_serve_config *c)
{
	for (size_t i = 0; i < berth_serve_n_settings; i++) {
		const berth_serve_setting *s = &berth_serve_settings[i];

		if (owns_string(s))
			free(*(char **)field(c, s->off));
		if (s->json_off)
			free(*(char **)field(c, s->json_off));
	}
	memset(c, 0, sizeof(*c));
}

void
berth_serve_config_copy(berth_serve_config *dst, const berth_serve_config *src)
{
	*dst = *src;
	for (size_t i = 0; i < berth_serve_n_settings; i++) {
		const berth_serve_setting *s = &berth_serve_settings[i];
		char **p;

		if (owns_string(s) && *(p = field(dst, s->off)))
			*p = xstrdup(*p);
		if (s->json_off && *(p = field(dst, s->json_off)))
			*p = xstrdup(*p);
	}
}

const berth_serve_setting *
berth_serve_setting_find(const char *name)
{
	for (size_t i = 0; i < berth_serve_n_settings; i++)
		if (strcmp(berth_serve_settings[i].name, name) == 0)
			return &berth_serve_settings[i];
	return NULL;
}

static int
set_long(long *dst, const char *key, const char *value, long min, long max,
	 berth_error **err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < min || v > max)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid value '%s' for '%s' (want "
				       "%ld..%ld)",
				       value, key, min, max);
	*dst = v;
	return 0;
}

static int
set_duration(long *dst, const char *key, const char *value, long min, long max,
	     berth_error **err)
{
	int64_t v;

	if (berth_duration_parse(value, &v, err) < 0)
		return berth_error_wrap(err, BERTH_EUSAGE, "'%s'", key);
	if (v < min || v > max)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid value '%s' for '%s' (want "
				       "%ld to %ld seconds)",
				       value, key, min, max);
	*dst = (long)v;
	return 0;
}

/* `value` is one of the comma-separated words of `choices`. */
static bool
is_choice(const char *choices, const char *value)
{
	size_t n = strlen(value);

	for (const char *p = choices; *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, value, n) == 0)
			return true;
		p += len;
		p += strspn(p, ", ");
	}
	return false;
}

/* "none, htpasswd, token" as "none, htpasswd or token". */
static char *
choices_text(const char *choices)
{
	const char *last = strrchr(choices, ',');

	if (last == NULL)
		return xstrdup(choices);
	return xasprintf("%.*s or %s", (int)(last - choices), choices,
			 last + 2);
}

int
berth_serve_config_set(berth_serve_config *c, const char *key,
		       const char *value, berth_error **err)
{
	const berth_serve_setting *s = berth_serve_setting_find(key);
	char **dst;

	if (s == NULL || s->type == BERTH_SERVE_FILE) {
		berth_error_set(err, BERTH_EUSAGE, 0, "unknown setting '%s'",
				key);
		berth_error_hint(err, "see 'berth serve --help' for the "
				      "settings");
		return BERTH_EUSAGE;
	}
	switch (s->type) {
	case BERTH_SERVE_LONG:
		return set_long(field(c, s->off), key, value, s->min, s->max,
				err);
	case BERTH_SERVE_DURATION:
		return set_duration(field(c, s->off), key, value, s->min,
				    s->max, err);
	case BERTH_SERVE_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
			*(long *)field(c, s->off) = 1;
		else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
			*(long *)field(c, s->off) = 0;
		else
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "invalid value '%s' for '%s' "
					       "(want true or false)",
					       value, key);
		return 0;
	case BERTH_SERVE_JSON:
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "'%s' must be JSON in the config file",
				       key);
	case BERTH_SERVE_ENUM:
		if (!is_choice(s->choices, value)) {
			_cleanup_free_ char *want = choices_text(s->choices);

			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "invalid value '%s' for '%s' "
					       "(want %s)",
					       value, key, want);
		}
		break;
	case BERTH_SERVE_STR:
	case BERTH_SERVE_FILE:
		break;
	}
	if (value[0] == '\0')
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "empty value for '%s'", key);
	dst = field(c, s->off);
	free(*dst);
	*dst = xstrdup(value);
	return 0;
}

int
berth_serve_config_load(berth_serve_config *c, const char *path,
			berth_error **err)
{
	_cleanup_free_ char *text = NULL;
	json_auto_t *root = NULL;
	json_error_t jerr;
	const char *key;
	json_t *v;
	size_t len;
	int r;

	if ((r = berth_file_read(&text, &len, path, BERTH_CONFIG_FILE_MAX,
				 err)) < 0)
		return berth_error_wrap(err, BERTH_EUSAGE, "config file");
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		_cleanup_free_ char *why = berth_json_why(&jerr);

		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "config file '%s': %s (line %d)", path,
				       why, jerr.line);
	}
	if (!json_is_object(root))
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "config file '%s' is not a JSON object",
				       path);
	json_object_foreach(root, key, v)
	{
		const berth_serve_setting *st = berth_serve_setting_find(key);
		_cleanup_free_ char *s = NULL;

		/* A JSON setting's consumer checks its shape. */
		if (st &&
		    ((json_is_object(v) &&
		      (st->type == BERTH_SERVE_JSON || st->json_off)) ||
		     (json_is_array(v) && st->type == BERTH_SERVE_JSON))) {
			char **dst =
				field(c, st->json_off ? st->json_off : st->off);

			free(*dst);
			*dst = json_dumps(v, JSON_COMPACT);
			continue;
		}
		if (json_is_boolean(v))
			s = xstrdup(json_is_true(v) ? "true" : "false");
		else if (json_is_string(v))
			s = xstrdup(json_string_value(v));
		else if (json_is_integer(v))
			s = xasprintf("%" JSON_INTEGER_FORMAT,
				      json_integer_value(v));
		else
			return berth_error_set(
				err, BERTH_EUSAGE, 0,
				"config file '%s': '%s' must be "
				"a string, a number or a boolean",
				path, key);
		if ((r = berth_serve_config_set(c, key, s, err)) < 0)
			return berth_error_wrap(err, r, "config file '%s'",
						path);
	}
	return 0;
}
