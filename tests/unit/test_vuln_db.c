/* CVSS v3 scoring, the OSV parser, purls, SBOMs and matching. */
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "berth/vuln.h"
#include "test.h"
#include "util/cleanup.h"
#include "vuln/vuln_int.h"

TEST(cvss3_scores)
{
	static const struct {
		const char *v;
		double score;
	} cases[] = {
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0},
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9},
		{"CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:N/I:N/A:L", 2.5},
		{"CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9},
		{"CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 6.5},
		{"CVSS:3.1/AV:N/AC:L/PR:H/UI:R/S:C/C:L/I:L/A:N", 4.8},
		{"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:L/I:L/A:N", 5.5},
		/* order is free, temporal metrics do not count */
		{"CVSS:3.1/C:H/I:H/A:H/AV:N/AC:L/PR:N/UI:N/S:U/E:U/RL:O", 9.8},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double s = -1;

		CHECK(berth_cvss3_score(&s, cases[i].v, NULL) == 0 &&
			      fabs(s - cases[i].score) < 1e-9,
		      "%s: got %.1f, want %.1f", cases[i].v, s, cases[i].score);
	}
	CHECK(berth_vuln_severity_of_score(9.8) == BERTH_VULN_SEV_CRITICAL,
	      "9.8");
	CHECK(berth_vuln_severity_of_score(7.0) == BERTH_VULN_SEV_HIGH, "7.0");
	CHECK(berth_vuln_severity_of_score(6.9) == BERTH_VULN_SEV_MEDIUM,
	      "6.9");
	CHECK(berth_vuln_severity_of_score(0.1) == BERTH_VULN_SEV_LOW, "0.1");
	CHECK(berth_vuln_severity_of_score(0) == BERTH_VULN_SEV_NONE, "0");
}

TEST(cvss3_refusals)
{
	const char *bad[] = {
		"AV:N/AC:L/Au:N/C:P/I:P/A:P",
		"CVSS:2.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
		"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:Q",
		"CVSS:3.1/AV:NN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		berth_error *e = NULL;
		double s;

		CHECK(berth_cvss3_score(&s, bad[i], &e) == BERTH_EUSAGE,
		      "refuses %s", bad[i]);
		CHECK(e && strstr(e->msg, "CVSS v3"), "message");
		berth_error_free(e);
	}
}

TEST(severity_words)
{
	berth_vuln_severity s;

	CHECK(berth_vuln_severity_parse(&s, "moderate", NULL) == 0 &&
		      s == BERTH_VULN_SEV_MEDIUM,
	      "MODERATE");
	CHECK(berth_vuln_severity_parse(&s, "Critical", NULL) == 0 &&
		      s == BERTH_VULN_SEV_CRITICAL,
	      "Critical");
	CHECK(berth_vuln_severity_parse(&s, "urgent", NULL) == BERTH_EUSAGE,
	      "unknown word");
	CHECK_STR(berth_vuln_severity_name(BERTH_VULN_SEV_HIGH), "HIGH");
}

static berth_vuln_db *
db_of(const char *const *docs, size_t n)
{
	berth_vuln_db *db = vuln_db_new(64);

	for (size_t i = 0; i < n; i++) {
		berth_error *e = NULL;

		CHECK(vuln_osv_add(db, docs[i], strlen(docs[i]), "doc", &e) ==
			      0,
		      "doc %zu: %s", i, e ? e->msg : "");
		berth_error_free(e);
	}
	return db;
}

static const char *const osv_docs[] = {
	/* Debian: introduced 0, fixed; CVSS vector wins over the word */
	"{\"id\":\"DSA-1-1\",\"aliases\":[\"CVE-2023-1\",\"CVE-2023-2\"],"
	"\"summary\":\"openssl bug\",\"severity\":[{\"type\":\"CVSS_V3\","
	"\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}],"
	"\"database_specific\":{\"severity\":\"LOW\"},"
	"\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":"
	"\"openssl\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":["
	"{\"introduced\":\"0\"},{\"fixed\":\"3.0.11-1~deb12u2\"}]}]}]}",
	/* the same package in another release */
	"{\"id\":\"DSA-2-1\",\"affected\":[{\"package\":{\"ecosystem\":"
	"\"Debian:11\",\"name\":\"openssl\"},\"ranges\":[{\"type\":"
	"\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
	"\"9.9\"}]}]}]}",
	/* PyPI: two stretches, last_affected, a word for severity */
	"{\"id\":\"GHSA-py\",\"database_specific\":{\"severity\":\"MODERATE\"},"
	"\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":"
	"\"Jinja2\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":["
	"{\"introduced\":\"2.0\"},{\"fixed\":\"2.11.3\"},{\"introduced\":"
	"\"3.0.0a1\"},{\"last_affected\":\"3.1.2\"}]}]}]}",
	/* npm: SEMVER range with limit, and a versions list */
	"{\"id\":\"GHSA-npm\",\"affected\":[{\"package\":{\"ecosystem\":"
	"\"npm\",\"name\":\"@scope/lib\"},\"ranges\":[{\"type\":\"SEMVER\","
	"\"events\":[{\"introduced\":\"1.0.0\"},{\"limit\":\"2.0.0\"}]}],"
	"\"versions\":[\"0.9.0\"],\"ecosystem_specific\":{\"severity\":"
	"\"HIGH\"}}]}",
	/* Alpine */
	"{\"id\":\"ALPINE-1\",\"affected\":[{\"package\":{\"ecosystem\":"
	"\"Alpine:v3.18\",\"name\":\"musl\"},\"ranges\":[{\"type\":"
	"\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
	"\"1.2.4-r2\"}]}]}]}",
	/* Ubuntu shares Debian's order, not its advisories */
	"{\"id\":\"USN-1\",\"affected\":[{\"package\":{\"ecosystem\":"
	"\"Ubuntu:22.04:LTS\",\"name\":\"openssl\"},\"ranges\":[{\"type\":"
	"\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
	"\"9.9\"}]}]}]}",
	/* withdrawn: ignored */
	"{\"id\":\"GHSA-gone\",\"withdrawn\":\"2024-01-01T00:00:00Z\","
	"\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":"
	"\"jinja2\"},\"versions\":[\"2.10\"]}]}",
};

static size_t
count_for(const berth_vuln_finding *f, size_t n, size_t pkg, const char **id,
	  const char **fixed)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (f[i].package == pkg) {
			*id = f[i].id;
			*fixed = f[i].fixed;
			k++;
		}
	return k;
}

TEST(match_ranges)
{
	berth_vuln_db *db = db_of(osv_docs, BERTH_ARRAY_SIZE(osv_docs));
	const berth_vuln_package pk[] = {
		{"Debian:12", "openssl", "3.0.11-1~deb12u1", NULL, NULL, {0}},
		{"Debian:12", "openssl", "3.0.11-1~deb12u2", NULL, NULL, {0}},
		{"Debian:12", "libssl3", "3.0.9-1", "openssl", NULL, {0}},
		{"PyPI", "jinja2", "2.10", NULL, NULL, {0}},
		{"PyPI", "Jinja2", "3.0.0", NULL, NULL, {0}},
		{"PyPI", "jinja2", "3.1.3", NULL, NULL, {0}},
		{"PyPI", "jinja2", "1.0", NULL, NULL, {0}},
		{"npm", "@scope/lib", "1.5.0", NULL, NULL, {0}},
		{"npm", "@scope/lib", "2.0.0", NULL, NULL, {0}},
		{"npm", "@scope/lib", "0.9.0", NULL, NULL, {0}},
		{"Alpine:v3.18", "musl", "1.2.4-r1", NULL, NULL, {0}},
		{"Alpine:v3.19", "musl", "1.2.4-r1", NULL, NULL, {0}},
		{"Debian", "openssl", "1.0", NULL, NULL, {0}},
		{"PyPI", "jinja2", "not a version", NULL, NULL, {0}},
		{"Ubuntu:22.04", "openssl", "1.0", NULL, NULL, {0}},
	};
	berth_vuln_finding *f = NULL;
	const char *id = NULL, *fixed = NULL;
	size_t n = 0;

	CHECK(berth_vuln_db_count(db) == 6,
	      "6 advisories, withdrawn left out: %zu", berth_vuln_db_count(db));
	CHECK(berth_vuln_match(&f, &n, db, pk, BERTH_ARRAY_SIZE(pk), NULL) == 0,
	      "match");
	CHECK(count_for(f, n, 0, &id, &fixed) == 1, "deb12u1 affected");
	CHECK_STR(id, "DSA-1-1");
	CHECK_STR(fixed, "3.0.11-1~deb12u2");
	CHECK(count_for(f, n, 1, &id, &fixed) == 0, "deb12u2 is the fix");
	CHECK(count_for(f, n, 2, &id, &fixed) == 1, "by source package");
	CHECK(count_for(f, n, 3, &id, &fixed) == 1, "2.10 in the first "
						    "stretch");
	CHECK_STR(fixed, "2.11.3");
	CHECK(count_for(f, n, 4, &id, &fixed) == 1, "3.0.0 in the second");
	CHECK(fixed == NULL, "no fix for the last_affected stretch");
	CHECK(count_for(f, n, 5, &id, &fixed) == 0, "3.1.3 after "
						    "last_affected");
	CHECK(count_for(f, n, 6, &id, &fixed) == 0, "1.0 before introduced");
	CHECK(count_for(f, n, 7, &id, &fixed) == 1, "npm 1.5.0 below limit");
	CHECK(count_for(f, n, 8, &id, &fixed) == 0, "npm 2.0.0 at the limit");
	CHECK(count_for(f, n, 9, &id, &fixed) == 1, "npm listed version");
	CHECK(count_for(f, n, 10, &id, &fixed) == 1, "alpine v3.18");
	CHECK(count_for(f, n, 11, &id, &fixed) == 0, "not in v3.19");
	CHECK(count_for(f, n, 12, &id, &fixed) == 2, "no release: both "
						     "Debian releases");
	CHECK(count_for(f, n, 13, &id, &fixed) == 0, "bad version skipped");
	CHECK(count_for(f, n, 14, &id, &fixed) == 1, "Ubuntu's own");
	CHECK_STR(id, "USN-1");
	for (size_t i = 0; i < n; i++) {
		if (strcmp(f[i].id, "DSA-1-1") == 0) {
			CHECK(f[i].severity == BERTH_VULN_SEV_CRITICAL &&
				      fabs(f[i].score - 9.8) < 1e-9,
			      "CVSS wins: %d", f[i].severity);
			CHECK_STR(f[i].aliases, "CVE-2023-1, CVE-2023-2");
		}
		if (strcmp(f[i].id, "GHSA-py") == 0)
			CHECK(f[i].severity == BERTH_VULN_SEV_MEDIUM &&
				      f[i].score < 0,
			      "MODERATE is MEDIUM");
		if (strcmp(f[i].id, "GHSA-npm") == 0)
			CHECK(f[i].severity == BERTH_VULN_SEV_HIGH,
			      "affected[]'s own word");
	}
	free(f);
	berth_vuln_db_free(db);
}

TEST(osv_refusals)
{
	berth_vuln_db *db = vuln_db_new(64);
	const char *bad[] = {"{", "[]", "{\"id\":\"\"}", "{\"summary\":\"x\"}",
			     "{\"id\":\"X\",\"affected\":{}}"};

	for (size_t i = 0; i < BERTH_ARRAY_SIZE(bad); i++) {
		berth_error *e = NULL;

		CHECK(vuln_osv_add(db, bad[i], strlen(bad[i]), "f.json", &e) ==
			      BERTH_EPROTO,
		      "refuses %s", bad[i]);
		CHECK(e && strstr(e->msg, "'f.json'"), "names the file: %s",
		      e ? e->msg : "");
		berth_error_free(e);
	}
	/* odd but valid shapes are taken, their odd parts left out */
	const char *odd = "{\"id\":\"X\",\"affected\":[1,{\"package\":{}},"
			  "{\"package\":{\"ecosystem\":\"Go\",\"name\":\"x\"},"
			  "\"versions\":[\"1\"]},{\"package\":{\"ecosystem\":"
			  "\"npm\",\"name\":\"x\"},\"ranges\":[{\"type\":"
			  "\"GIT\",\"events\":[{\"introduced\":\"0\"}]},"
			  "{\"type\":\"SEMVER\",\"events\":[7,{}]}]}]}";
	CHECK(vuln_osv_add(db, odd, strlen(odd), "odd", NULL) == 0, "odd doc");
	CHECK(berth_vuln_db_count(db) == 1, "one advisory");
	berth_vuln_db_free(db);
}

/* 10,000 ranges: matched, and each range looked at once. */
TEST(many_ranges)
{
	berth_vuln_db *db = vuln_db_new(64);
	char *doc = malloc(2 << 20), *o = doc;
	berth_vuln_package pk = {"npm", "big", "5000.0.1", NULL, NULL, {0}};
	berth_vuln_finding *f = NULL;
	size_t n = 0;

	o += sprintf(o, "{\"id\":\"BIG\",\"affected\":[{\"package\":{"
			"\"ecosystem\":\"npm\",\"name\":\"big\"},\"ranges\":[");
	for (int i = 0; i < 10000; i++)
		o += sprintf(
			o,
			"%s{\"type\":\"SEMVER\",\"events\":[{\"introduced\":"
			"\"%d.0.0\"},{\"fixed\":\"%d.0.1\"}]}",
			i ? "," : "", i, i);
	o += sprintf(o, "]}]}");
	CHECK(vuln_osv_add(db, doc, (size_t)(o - doc), "big", NULL) == 0,
	      "parsed");
	CHECK(berth_vuln_match(&f, &n, db, &pk, 1, NULL) == 0 && n == 0,
	      "5000.0.1 is a fix: %zu", n);
	free(f);
	pk.version = "5000.0.0";
	CHECK(berth_vuln_match(&f, &n, db, &pk, 1, NULL) == 0 && n == 1,
	      "5000.0.0 affected");
	if (n == 1)
		CHECK_STR(f[0].fixed, "5000.0.1");
	free(f);
	free(doc);
	berth_vuln_db_free(db);
}

TEST(purls)
{
	berth_vuln_package p;
	berth_error *e = NULL;

	CHECK(berth_vuln_purl_parse(&p,
				    "pkg:deb/debian/libssl3@3.0.11-1~deb12u2"
				    "?arch=amd64&upstream=openssl&distro="
				    "debian-12",
				    NULL) == 0,
	      "deb");
	CHECK_STR(p.ecosystem, "Debian:12");
	CHECK_STR(p.name, "libssl3");
	CHECK_STR(p.version, "3.0.11-1~deb12u2");
	CHECK_STR(p.source, "openssl");
	berth_vuln_package_release(&p);
	CHECK(berth_vuln_purl_parse(&p,
				    "pkg:deb/debian/bash@5.2.15-2%2Bb2"
				    "?distro=bookworm",
				    NULL) == 0,
	      "deb codename");
	CHECK_STR(p.ecosystem, "Debian:12");
	CHECK_STR(p.version, "5.2.15-2+b2");
	berth_vuln_package_release(&p);
	CHECK(berth_vuln_purl_parse(&p,
				    "pkg:apk/alpine/musl@1.2.4-r1?arch="
				    "x86_64&distro=alpine-3.18.4",
				    NULL) == 0,
	      "apk");
	CHECK_STR(p.ecosystem, "Alpine:v3.18");
	berth_vuln_package_release(&p);
	CHECK(berth_vuln_purl_parse(&p, "pkg:npm/%40babel/core@7.22.0", NULL) ==
		      0,
	      "npm scoped");
	CHECK_STR(p.name, "@babel/core");
	CHECK_STR(p.ecosystem, "npm");
	berth_vuln_package_release(&p);
	CHECK(berth_vuln_purl_parse(&p, "pkg:pypi/jinja2@3.1.2", NULL) == 0,
	      "pypi");
	CHECK_STR(p.ecosystem, "PyPI");
	berth_vuln_package_release(&p);
	CHECK(berth_vuln_purl_parse(&p, "pkg:golang/x/y@v1.0.0", &e) ==
		      BERTH_EUNSUPPORTED,
	      "golang not scanned");
	berth_error_free(e);
	CHECK(berth_vuln_purl_parse(&p, "pkg:npm/x", NULL) == BERTH_EUSAGE,
	      "no version");
	CHECK(berth_vuln_purl_parse(&p, "npm/x@1", NULL) == BERTH_EUSAGE,
	      "no scheme");
	CHECK(berth_vuln_purl_parse(&p, "pkg:npm/x@1%zz", NULL) == BERTH_EUSAGE,
	      "bad escape");
}

static char *
write_tmp(const char *text)
{
	char *path = strdup("/tmp/berth-vuln-XXXXXX");
	int fd = mkstemp(path);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			path[0] = '\0';
		close(fd);
	}
	return path;
}

TEST(sbom_formats)
{
	berth_vuln_packages pk = BERTH_VULN_PACKAGES_INIT;
	char *cdx = write_tmp(
		"{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\","
		"\"components\":[{\"type\":\"library\",\"name\":\"a\","
		"\"purl\":\"pkg:npm/a@1.0.0\",\"components\":[{\"name\":\"b\","
		"\"purl\":\"pkg:pypi/b@2.0\"}]},{\"name\":\"nopurl\"},"
		"{\"name\":\"go\",\"purl\":\"pkg:golang/x@v1\"}]}");
	char *spdx = write_tmp(
		"{\"spdxVersion\":\"SPDX-2.3\",\"packages\":[{\"name\":"
		"\"bash\","
		"\"externalRefs\":[{\"referenceCategory\":\"PACKAGE-MANAGER\","
		"\"referenceType\":\"purl\",\"referenceLocator\":"
		"\"pkg:deb/debian/bash@5.2.15-2?distro=debian-12\"}]}]}");
	char *other = write_tmp("{\"hello\":1}");
	berth_error *e = NULL;

	CHECK(berth_vuln_sbom_read(&pk, cdx, NULL) == 0, "cyclonedx");
	CHECK(pk.n == 2 && pk.skipped == 2, "2 packages, 2 skipped: %zu %zu",
	      pk.n, pk.skipped);
	if (pk.n == 2)
		CHECK_STR(pk.items[1].name, "b");
	berth_vuln_packages_release(&pk);
	CHECK(berth_vuln_sbom_read(&pk, spdx, NULL) == 0, "spdx");
	CHECK(pk.n == 1 && strcmp(pk.format, "SPDX") == 0, "1 package");
	if (pk.n == 1)
		CHECK_STR(pk.items[0].ecosystem, "Debian:12");
	berth_vuln_packages_release(&pk);
	CHECK(berth_vuln_sbom_read(&pk, other, &e) == BERTH_EUSAGE, "neither");
	CHECK(e && strstr(e->msg, other), "names the file");
	berth_error_free(e);
	unlink(cdx);
	unlink(spdx);
	unlink(other);
	free(cdx);
	free(spdx);
	free(other);
}

TEST_MAIN("test_vuln_db")
