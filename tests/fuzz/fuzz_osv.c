/*
 * libFuzzer harness for the OSV advisory parser (vuln_osv_add) and the
 * matching that walks what it stored. Besides the sanitizers, it checks
 * that a refusal is BERTH_EPROTO with a one-line message naming the
 * document, and that every finding is one of the advisory's with a known
 * severity value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "berth/vuln.h"
#include "vuln/vuln_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Names and versions of every ecosystem, for the seeds' packages. */
static const berth_vuln_package pkgs[] = {
	{"Debian:12", "x", "1.0-1", "openssl", NULL, {0}},
	{"Debian", "openssl", "1:2.0~rc1-3", NULL, NULL, {0}},
	{"Alpine:v3.18", "x", "1.2.4_rc1-r1", NULL, NULL, {0}},
	{"PyPI", "x", "1.0.post1.dev2", NULL, NULL, {0}},
	{"PyPI", "Jinja2", "3.0.0", NULL, NULL, {0}},
	{"npm", "x", "1.0.0-alpha.1", NULL, NULL, {0}},
	{"npm", "lodash", "4.17.20", NULL, NULL, {0}},
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	berth_vuln_db *db = vuln_db_new(64);
	berth_vuln_finding *f = NULL;
	berth_error *err = NULL;
	size_t n = 0;
	int rc;

	rc = vuln_osv_add(db, (const char *)data, size, "fuzz.json", &err);
	if (rc != 0) {
		if (rc != BERTH_EPROTO || err == NULL || err->code != rc ||
		    strchr(err->msg, '\n') || !strstr(err->msg, "'fuzz.json'"))
			abort();
		berth_error_free(err);
	}
	if (berth_vuln_db_count(db) > 1)
		abort(); /* one document is at most one advisory */
	if (berth_vuln_match(&f, &n, db, pkgs, sizeof(pkgs) / sizeof(pkgs[0]),
			     NULL) != 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (f[i].package >= sizeof(pkgs) / sizeof(pkgs[0]) ||
		    f[i].id == NULL ||
		    f[i].severity > BERTH_VULN_SEV_CRITICAL ||
		    f[i].score > 10.0)
			abort();
	free(f);
	berth_vuln_db_free(db);
	return 0;
}
