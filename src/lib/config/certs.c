/*
 * certs.d, Docker's per-registry TLS directory: certs.d/<host[:port]>/
 * holds CA certificates (*.crt) trusted for that registry only, and
 * client certificates (*.cert) each with its key (*.key, same base name).
 */
#include "berth/config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/opts.h"
#include "util/xalloc.h"

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && strcmp(s + n - k, suffix) == 0;
}

static void
free_names(struct dirent **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int scan(berth_certs *out, bool must_exist, berth_error **err);

int
berth_certs_lookup(berth_certs *out, const char *certs_d, const char *host,
		   berth_error **err)
{
	if (berth_opts_check(out->version, BERTH_CERTS_VERSION, "berth_certs",
			     err) < 0)
		return BERTH_EUSAGE;
	BERTH_VERSIONED_RESET(out);
	out->ca_files = xcalloc(1, sizeof(char *));
	if (certs_d == NULL || host == NULL || strchr(host, '/') ||
	    strcmp(host, "..") == 0)
		return 0;
	out->dir = xasprintf("%s/%s", certs_d, host);
	return scan(out, false, err);
}

int
berth_certs_load(berth_certs *out, const char *dir, berth_error **err)
{
	if (berth_opts_check(out->version, BERTH_CERTS_VERSION, "berth_certs",
			     err) < 0)
		return BERTH_EUSAGE;
	BERTH_VERSIONED_RESET(out);
	out->ca_files = xcalloc(1, sizeof(char *));
	out->dir = xstrdup(dir);
	return scan(out, true, err);
}

static int
scan(berth_certs *out, bool must_exist, berth_error **err)
{
	struct dirent **names = NULL;
	int n, r = 0;

	n = scandir(out->dir, &names, NULL, alphasort);
	if (n < 0 && must_exist) {
		r = berth_error_set(err, BERTH_ETLS, errno,
				    "cannot read certificate directory '%s': "
				    "%s",
				    out->dir, strerror(errno));
		berth_error_hint(err, "it holds CA certificates (*.crt) and "
				      "client certificates (*.cert, *.key)");
		berth_certs_release(out);
		return r;
	}
	if (n < 0)
		return 0; /* no directory: nothing configured */
	for (int i = 0; i < n && r == 0; i++) {
		const char *name = names[i]->d_name;
		_cleanup_free_ char *path = xasprintf("%s/%s", out->dir, name);

		/* OpenSSL and curl open these by name: no FIFO may hang them.
		 */
		if ((ends_with(name, ".crt") || ends_with(name, ".cert") ||
		     ends_with(name, ".key")) &&
		    (r = berth_file_check_regular(path, err)) < 0)
			break;
		if (ends_with(name, ".crt")) {
			out->ca_files = xreallocarray(out->ca_files,
						      out->n_ca_files + 2,
						      sizeof(char *));
			out->ca_files[out->n_ca_files++] = steal_ptr(&path);
			out->ca_files[out->n_ca_files] = NULL;
		} else if (ends_with(name, ".cert")) {
			_cleanup_free_ char *key = xasprintf(
				"%.*s.key", (int)(strlen(path) - 5), path);

			if (access(key, R_OK) != 0) {
				r = berth_error_set(
					err, BERTH_ETLS, errno,
					"missing key '%s' for client "
					"certificate '%s'",
					key, path);
				berth_error_hint(
					err,
					"put the certificate's private "
					"key next to it, or remove "
					"'%s'",
					path);
			} else if (out->client_cert == NULL) {
				out->client_cert = steal_ptr(&path);
				out->client_key = steal_ptr(&key);
			}
		} else if (ends_with(name, ".key")) {
			_cleanup_free_ char *cert = xasprintf(
				"%.*s.cert", (int)(strlen(path) - 4), path);

			if (access(cert, F_OK) != 0) {
				r = berth_error_set(
					err, BERTH_ETLS, errno,
					"missing client certificate '%s' for "
					"key '%s'",
					cert, path);
				berth_error_hint(err,
						 "name the client certificate "
						 "'%s', or remove '%s'",
						 cert, path);
			}
		}
	}
	free_names(names, n);
	if (r < 0)
		berth_certs_release(out);
	return r;
}

void
berth_certs_release(berth_certs *c)
{
	free(c->dir);
	for (size_t i = 0; c->ca_files && i < c->n_ca_files; i++)
		free(c->ca_files[i]);
	free(c->ca_files);
	free(c->client_cert);
	free(c->client_key);
	BERTH_VERSIONED_RESET(c);
}
