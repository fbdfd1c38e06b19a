/*
 * libberth: known vulnerabilities of installed packages, from advisories in
 * the OSV format (https://ossf.github.io/osv-schema/), the format behind
 * osv.dev.
 *
 * Version order is each ecosystem's own: Debian by libdpkg's comparison,
 * Alpine by apk's rules, PyPI by PEP 440, npm by semver 2.0. A database is
 * read once (berth_vuln_db_open) and then matched against any number of
 * package lists (berth_vuln_match), e.g. the packages of an SBOM
 * (berth_vuln_sbom_read).
 */
#ifndef BERTH_VULN_H
#define BERTH_VULN_H

#include "berth/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ecosystems whose versions berth orders (OSV's names in comments). */
typedef enum berth_vuln_ecosystem {
	BERTH_VULN_ECO_UNKNOWN = 0,
	BERTH_VULN_ECO_DEBIAN = 1, /* "Debian", "Debian:12" */
	BERTH_VULN_ECO_ALPINE = 2, /* "Alpine", "Alpine:v3.18" */
	BERTH_VULN_ECO_PYPI = 3,   /* "PyPI" */
	BERTH_VULN_ECO_NPM = 4,	   /* "npm" */
	BERTH_VULN_ECO_SEMVER = 5, /* not an ecosystem: OSV's SEMVER ranges */
} berth_vuln_ecosystem;

/* In increasing order, so severities compare with < and >=. */
typedef enum berth_vuln_severity {
	BERTH_VULN_SEV_UNKNOWN = 0, /* no CVSS v3 vector, no known word */
	BERTH_VULN_SEV_NONE = 1,
	BERTH_VULN_SEV_LOW = 2,
	BERTH_VULN_SEV_MEDIUM = 3,
	BERTH_VULN_SEV_HIGH = 4,
	BERTH_VULN_SEV_CRITICAL = 5,
} berth_vuln_severity;

/*
 * The ecosystem of an OSV ecosystem name ("Debian:12" is Debian; also
 * "Ubuntu" orders as Debian). *release (when not NULL) points into `name`
 * after the first ':' ("12"), or at "" when there is none. NULL-safe on
 * release. BERTH_EUNSUPPORTED for an ecosystem berth does not order.
 */
BERTH_EXTERN int berth_vuln_ecosystem_parse(berth_vuln_ecosystem *out,
					    const char **release,
					    const char *name,
					    berth_error **err);

/*
 * Checks that `v` is a valid version of the ecosystem: BERTH_EUSAGE with
 * a message saying what is wrong otherwise.
 */
BERTH_EXTERN int berth_version_validate(berth_vuln_ecosystem eco, const char *v,
					berth_error **err);

/*
 * Orders two versions of an ecosystem: *out is <0, 0 or >0 as a is older
 * than, the same as, or newer than b. BERTH_EUSAGE (naming the version)
 * when either does not parse. Debian's order is libdpkg's; a libberth.so
 * loaded by a program that does not link libdpkg answers
 * BERTH_EUNSUPPORTED for Debian (libberth.a and the berth program always
 * have it).
 */
BERTH_EXTERN int berth_version_compare(int *out, berth_vuln_ecosystem eco,
				       const char *a, const char *b,
				       berth_error **err);

/*
 * The CVSS v3.0/v3.1 base score (0.0 to 10.0) of a vector
 * ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" is 9.8), by the
 * specification's formula. BERTH_EUSAGE for a vector that is not CVSS v3
 * or lacks a base metric.
 */
BERTH_EXTERN int berth_cvss3_score(double *out, const char *vector,
				   berth_error **err);

/* The qualitative rating of a CVSS score (0 NONE, 0.1-3.9 LOW, ...). */
BERTH_EXTERN berth_vuln_severity berth_vuln_severity_of_score(double score);

/* "UNKNOWN", "NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL". */
BERTH_EXTERN const char *berth_vuln_severity_name(berth_vuln_severity s);

/*
 * A severity word as advisories write them, in any case: the names above,
 * "MODERATE" (MEDIUM) and "IMPORTANT" (HIGH). BERTH_EUSAGE otherwise.
 */
BERTH_EXTERN int berth_vuln_severity_parse(berth_vuln_severity *out,
					   const char *word, berth_error **err);

/*
 * One installed package. `ecosystem` is OSV's name, with the release
 * when the distribution is known ("Debian:12", "Alpine:v3.18", "PyPI",
 * "npm"); `source` the source package when it differs from `name` (Debian
 * advisories name source packages), or NULL. Handed out in arrays: the
 * size stays, later fields take the reserved slots.
 */
typedef struct berth_vuln_package {
	const char *ecosystem;
	const char *name;
	const char *version;
	const char *source; /* or NULL */
	const char *purl;   /* where the package came from, or NULL */
	void *reserved[4];
} berth_vuln_package;

/*
 * The package a purl names: pkg:deb/debian/NAME@VER?distro=debian-12
 * (also distro=bookworm, and upstream=SOURCE), pkg:apk/alpine/NAME@VER
 * ?distro=3.18.4, pkg:pypi/NAME@VER, pkg:npm/%40SCOPE/NAME@VER.
 * Strings are allocated; free them with berth_vuln_package_release.
 * BERTH_EUSAGE for a purl that does not parse or has no version,
 * BERTH_EUNSUPPORTED for another type (pkg:golang/...).
 */
BERTH_EXTERN int berth_vuln_purl_parse(berth_vuln_package *out,
				       const char *purl, berth_error **err);
BERTH_EXTERN void berth_vuln_package_release(berth_vuln_package *p);

/* The packages of an SBOM (a result the caller declares: see common.h). */
typedef struct berth_vuln_packages {
	unsigned version;
	berth_vuln_package *items;
	size_t n;
	size_t skipped;	    /* components without a purl berth can match */
	const char *format; /* "CycloneDX" or "SPDX" */
} berth_vuln_packages;

#define BERTH_VULN_PACKAGES_VERSION 1
#define BERTH_VULN_PACKAGES_INIT                                               \
	{                                                                      \
		BERTH_VULN_PACKAGES_VERSION, NULL, 0, 0, NULL                  \
	}

/*
 * Reads a CycloneDX (1.4 to 1.6) or SPDX 2.x JSON SBOM: every component
 * (CycloneDX, nested ones too) or package (SPDX externalRefs) with a purl
 * of a supported type. BERTH_EUSAGE (naming the file) for a file that is
 * neither, BERTH_EIO when it cannot be read.
 */
BERTH_EXTERN int berth_vuln_sbom_read(berth_vuln_packages *out,
				      const char *path, berth_error **err);
/* The same for an SBOM in memory; `path` names it in messages. */
BERTH_EXTERN int berth_vuln_sbom_parse(berth_vuln_packages *out,
				       const char *text, size_t len,
				       const char *path, berth_error **err);
BERTH_EXTERN void berth_vuln_packages_release(berth_vuln_packages *p);

/* A loaded advisory database (read-only once open; share it freely). */
typedef struct berth_vuln_db berth_vuln_db;

/*
 * Loads advisories from `path`: an OSV JSON file, a zip of them (OSV's
 * per-ecosystem all.zip), or a directory holding either, searched
 * recursively. A document that does not parse is skipped with a warning
 * (berth_log) naming the file and counted. BERTH_EIO when path cannot be
 * read, BERTH_EUNSUPPORTED when a zip needs libarchive and it is missing.
 */
BERTH_EXTERN int berth_vuln_db_open(berth_vuln_db **out, const char *path,
				    berth_error **err);
BERTH_EXTERN void berth_vuln_db_free(berth_vuln_db *db);

/* How many advisories were loaded, and how many documents skipped. */
BERTH_EXTERN size_t berth_vuln_db_count(const berth_vuln_db *db);
BERTH_EXTERN size_t berth_vuln_db_skipped(const berth_vuln_db *db);

/*
 * One advisory affecting one package. The strings belong to the database
 * and live as long as it does.
 */
typedef struct berth_vuln_finding {
	size_t package;	     /* index in the list given to berth_vuln_match */
	const char *id;	     /* "DSA-5532-1", "GHSA-…", "CVE-…" */
	const char *aliases; /* "CVE-2023-5678, …", or NULL */
	const char *summary; /* or NULL */
	const char *fixed;   /* the first version without it, or NULL */
	berth_vuln_severity severity;
	double score; /* CVSS v3 base score, or -1 */
	void *reserved[4];
} berth_vuln_finding;

/*
 * The advisories affecting each of `pkgs` (by ecosystem, release and
 * name; then by the advisory's ranges and version lists), in package
 * order, each advisory once per package. *out is the caller's (free()).
 * A package whose version does not parse is skipped with a warning.
 */
BERTH_EXTERN int berth_vuln_match(berth_vuln_finding **out, size_t *n_out,
				  const berth_vuln_db *db,
				  const berth_vuln_package *pkgs, size_t n,
				  berth_error **err);

/*
 * Downloads an OSV all.zip (https://osv-vulnerabilities.storage.googleapis
 * .com/Debian/all.zip) into directory `dir` as ECOSYSTEM.zip, the name
 * taken from the URL's directory, replacing the old file only once the new
 * one is whole and opens as a database. *saved_path (the caller's) is
 * the file written.
 */
BERTH_EXTERN int berth_vuln_db_update(char **saved_path, const char *dir,
				      const char *url, berth_error **err);

#ifdef __cplusplus
}
#endif
#endif
