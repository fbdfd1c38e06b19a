/* berth scan: an image's or an SBOM's packages against OSV advisories
 * (trivy, grype). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "berth/ref.h"
#include "berth/sbom.h"
#include "berth/vuln.h"
#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* The exit status of --fail-on when a finding is that severe
 * (docs/errors.md); far from the statuses of error codes. */
#define SCAN_EXIT_FOUND 99
#define UPDATES_MAX 16

enum {
	OPT_SBOM = 0x100,
	OPT_DB,
	OPT_JSON,
	OPT_FAIL_ON,
	OPT_UPDATE,
};

static const cli_option scan_opts[] = {
	{OPT_SBOM, "sbom", "FILE", CLI_OPT_FILE,
	 "the packages to check: a CycloneDX or SPDX JSON SBOM"},
	{OPT_DB, "db", "PATH", CLI_OPT_FILE,
	 "the advisories: a directory of OSV JSON files and all.zip files, "
	 "or one such file (required)"},
	{OPT_JSON, "json", NULL, 0, "print the findings as JSON"},
	{OPT_FAIL_ON, "fail-on", "SEVERITY", 0,
	 "exit with status 99 when a finding is at least SEVERITY (LOW, "
	 "MEDIUM, HIGH, CRITICAL; UNKNOWN: any finding)"},
	{OPT_UPDATE, "update", "URL", 0,
	 "first download an OSV all.zip into the --db directory as "
	 "ECOSYSTEM.zip (repeatable), e.g. https://osv-vulnerabilities."
	 "storage.googleapis.com/Debian/all.zip"},
	{0},
};

const cli_usage cli_scan_usage = {
	"[OPTIONS] --db PATH (REF | --sbom FILE)",
	"List the known vulnerabilities of the packages of a local image "
	"(what 'berth sbom REF' lists) or of those an SBOM names (by their "
	"purls: deb, apk, pypi, npm), from advisories in the OSV format, "
	"with the version that fixes each. Versions are ordered as each "
	"ecosystem orders them: Debian as dpkg, Alpine as apk, PyPI by PEP "
	"440, npm by semver. See docs/scan.md.",
	scan_opts,
	"file",
};

/* REF's packages: its SBOM made in memory, read as a file would be. */
static int
image_packages(cli_ctx *ctx, berth_vuln_packages *pk, const char *arg,
	       berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	_cleanup_free_ char *name = NULL, *doc = NULL;
	berth_store *store;
	berth_sbom *b = NULL;
	int r;

	if ((r = berth_ref_parse(&ref, arg, err)) < 0 ||
	    (r = cli_store(ctx, &store, err)) < 0)
		return r;
	name = berth_ref_string(ref);
	if ((r = berth_sbom_build(&b, store, name, NULL, err)) < 0)
		return r;
	doc = berth_sbom_json(b, BERTH_SBOM_CYCLONEDX);
	berth_sbom_free(b);
	return berth_vuln_sbom_parse(pk, doc, strlen(doc), name, err);
}

static void
print_table(const berth_vuln_packages *pk, const berth_vuln_finding *f,
	    size_t n)
{
	int w[4] = {7, 9, 8, 8};

	for (size_t i = 0; i < n; i++) {
		const berth_vuln_package *p = &pk->items[f[i].package];
		int l[4] = {(int)strlen(p->name), (int)strlen(p->version),
			    f[i].fixed ? (int)strlen(f[i].fixed) : 1,
			    (int)strlen(f[i].id)};

		for (int k = 0; k < 4; k++)
			if (l[k] > w[k])
				w[k] = l[k] > 60 ? 60 : l[k];
	}
	printf("%-*s  %-*s  %-*s  %-*s  %s\n", w[0], "PACKAGE", w[1],
	       "INSTALLED", w[2], "FIXED IN", w[3], "ADVISORY", "SEVERITY");
	for (size_t i = 0; i < n; i++) {
		const berth_vuln_package *p = &pk->items[f[i].package];

		printf("%-*s  %-*s  %-*s  %-*s  %s\n", w[0], p->name, w[1],
		       p->version, w[2], f[i].fixed ? f[i].fixed : "-", w[3],
		       f[i].id, berth_vuln_severity_name(f[i].severity));
	}
}

static json_t *
str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void
print_json(const berth_vuln_packages *pk, const berth_vuln_db *db,
	   const berth_vuln_finding *f, size_t n)
{
	json_auto_t *root = json_object();
	json_t *arr = json_array();
	char *s;

	for (size_t i = 0; i < n; i++) {
		const berth_vuln_package *p = &pk->items[f[i].package];
		json_t *o = json_object();

		json_object_set_new(o, "package", json_string(p->name));
		json_object_set_new(o, "version", json_string(p->version));
		json_object_set_new(o, "ecosystem", json_string(p->ecosystem));
		json_object_set_new(o, "purl", str_or_null(p->purl));
		json_object_set_new(o, "id", json_string(f[i].id));
		json_object_set_new(o, "aliases", str_or_null(f[i].aliases));
		json_object_set_new(o, "summary", str_or_null(f[i].summary));
		json_object_set_new(o, "fixed", str_or_null(f[i].fixed));
		json_object_set_new(
			o, "severity",
			json_string(berth_vuln_severity_name(f[i].severity)));
		json_object_set_new(o, "score",
				    f[i].score >= 0 ? json_real(f[i].score)
						    : json_null());
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "packages", json_integer((json_int_t)pk->n));
	json_object_set_new(root, "advisories",
			    json_integer((json_int_t)berth_vuln_db_count(db)));
	json_object_set_new(root, "findings", arr);
	s = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(3));
	printf("%s\n", s);
	free(s);
}

int
cmd_scan(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	const char *sbom = NULL, *dbpath = NULL, *updates[UPDATES_MAX];
	berth_vuln_packages pk = BERTH_VULN_PACKAGES_INIT;
	berth_vuln_severity fail_on = BERTH_VULN_SEV_UNKNOWN;
	bool json = false, fail = false;
	berth_vuln_finding *f = NULL;
	berth_vuln_db *db = NULL;
	size_t n_updates = 0, n = 0;
	int c, r;

	if (cli_help_usage(argc, argv, "scan", &cli_scan_usage))
		return 0;
	while ((c = cli_getopt(scan_opts, "scan", argc, argv, err)) != -1) {
		switch (c) {
		case OPT_SBOM:
			sbom = optarg;
			break;
		case OPT_DB:
			dbpath = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_FAIL_ON:
			if (berth_vuln_severity_parse(&fail_on, optarg, err) <
			    0)
				return cli_usage_error(
					err, "scan",
					"invalid --fail-on '%s': expected "
					"UNKNOWN, NONE, LOW, MEDIUM, HIGH or "
					"CRITICAL",
					optarg);
			fail = true;
			break;
		case OPT_UPDATE:
			if (n_updates == UPDATES_MAX)
				return cli_usage_error(err, "scan",
						       "more than %d --update",
						       UPDATES_MAX);
			updates[n_updates++] = optarg;
			break;
		default:
			return c; /* cli_getopt's usage error */
		}
	}
	if (optind < argc - 1 || (optind < argc && sbom))
		return cli_usage_error(err, "scan",
				       "expected one image reference or "
				       "--sbom FILE");
	if (dbpath == NULL)
		return cli_usage_error(err, "scan",
				       "--db PATH is required (a directory "
				       "for --update)");
	for (size_t i = 0; i < n_updates; i++) {
		_cleanup_free_ char *saved = NULL;

		if ((r = berth_vuln_db_update(&saved, dbpath, updates[i],
					      err)) < 0)
			return r;
		fprintf(stderr, "Updated %s\n", saved);
	}
	if (sbom == NULL && optind == argc) {
		if (n_updates > 0)
			return 0;
		return cli_usage_error(err, "scan",
				       "expected an image reference or "
				       "--sbom FILE");
	}
	r = sbom ? berth_vuln_sbom_read(&pk, sbom, err)
		 : image_packages(ctx, &pk, argv[optind], err);
	if (r < 0)
		return r;
	if ((r = berth_vuln_db_open(&db, dbpath, err)) == 0)
		r = berth_vuln_match(&f, &n, db, pk.items, pk.n, err);
	if (r == 0) {
		if (json)
			print_json(&pk, db, f, n);
		else
			print_table(&pk, f, n);
		fprintf(stderr,
			"%zu packages (%zu without a purl berth scans), %zu "
			"advisories (%zu documents skipped), %zu findings\n",
			pk.n, pk.skipped, berth_vuln_db_count(db),
			berth_vuln_db_skipped(db), n);
		for (size_t i = 0; fail && i < n; i++)
			if (f[i].severity >= fail_on)
				ctx->exit_status = SCAN_EXIT_FOUND;
	}
	free(f);
	berth_vuln_db_free(db);
	berth_vuln_packages_release(&pk);
	return r;
}
