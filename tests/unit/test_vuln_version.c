/* The per-ecosystem version orders and their parse errors. */
#include "berth/vuln.h"
#include "test.h"

/* cmp(eco, a, b): -1, 0, 1, or 9 when either does not parse */
static int
cmp(berth_vuln_ecosystem eco, const char *a, const char *b)
{
	berth_error *e = NULL;
	int c = 7;

	if (berth_version_compare(&c, eco, a, b, &e) < 0) {
		CHECK(e && e->code == BERTH_EUSAGE && e->msg, "error for %s/%s",
		      a, b);
		berth_error_free(e);
		return 9;
	}
	return c;
}

#define ORDER(eco, a, b, want)                                                 \
	do {                                                                   \
		int got_ = cmp(eco, a, b), back_ = cmp(eco, b, a);             \
		CHECK(got_ == (want), "%s vs %s: got %d, want %d", a, b, got_, \
		      want);                                                   \
		if ((want) != 9)                                               \
			CHECK(back_ == -(want), "%s vs %s reversed: %d", b, a, \
			      back_);                                          \
	} while (0)

TEST(debian_order)
{
	const berth_vuln_ecosystem d = BERTH_VULN_ECO_DEBIAN;

	ORDER(d, "1.0", "1.0", 0);
	ORDER(d, "1.0~rc1", "1.0", -1);
	ORDER(d, "1.0", "1.0+b1", -1);
	ORDER(d, "1:0.9", "2.0", 1);
	ORDER(d, "3.0.11-1~deb12u1", "3.0.11-1~deb12u2", -1);
	ORDER(d, "3.0.11-1~deb12u2", "3.0.11-1", -1);
	ORDER(d, "1.0-1", "1.0-1.1", -1);
	ORDER(d, "2.36-9+deb12u4", "2.36-9+deb12u10", -1);
	ORDER(d, "0:1.0", "1.0", 0);
}

TEST(debian_errors)
{
	berth_error *e = NULL;
	int c;

	CHECK(berth_version_compare(&c, BERTH_VULN_ECO_DEBIAN, "", "1", &e) ==
		      BERTH_EUSAGE,
	      "empty refused");
	CHECK(e && strstr(e->msg, "Debian version"), "%s", e ? e->msg : "");
	berth_error_free(e);
	e = NULL;
	CHECK(berth_version_validate(BERTH_VULN_ECO_DEBIAN, "1:", &e) < 0,
	      "nothing after the epoch");
	berth_error_free(e);
	CHECK(berth_version_validate(BERTH_VULN_ECO_DEBIAN, "1.0 2", NULL) < 0,
	      "embedded space");
	CHECK(berth_version_validate(BERTH_VULN_ECO_DEBIAN, "x:1.0", NULL) < 0,
	      "epoch not a number");
}

TEST(alpine_order)
{
	const berth_vuln_ecosystem a = BERTH_VULN_ECO_ALPINE;

	ORDER(a, "1.2.3-r0", "1.2.3-r1", -1);
	ORDER(a, "1.2.3-r10", "1.2.3-r9", 1);
	ORDER(a, "1.2_rc1", "1.2", -1);
	ORDER(a, "1.2_alpha", "1.2_beta", -1);
	ORDER(a, "1.2_pre1", "1.2_rc1", -1);
	ORDER(a, "1.2_p1", "1.2", 1);
	ORDER(a, "1.2_git20230101", "1.2_p1", -1);
	ORDER(a, "1.2a", "1.2", 1);
	ORDER(a, "1.2a", "1.2b", -1);
	ORDER(a, "1.02", "1.1", -1); /* leading zero: compared as a string */
	ORDER(a, "1.10", "1.9", 1);
	ORDER(a, "1.2.3", "1.2", 1);
	ORDER(a, "3.1.4-r5", "3.1.4-r5", 0);
	ORDER(a, "1.0~abc1-r0", "1.0-r0", 1);
	ORDER(a, "x1", "1", 9);
	ORDER(a, "1.0-r", "1", 9);
	ORDER(a, "1.0_bogus", "1", 9);
	ORDER(a, "1.0-r1-r2", "1", 9);
	ORDER(a, "1..0", "1", 9);
}

TEST(pep440_order)
{
	const berth_vuln_ecosystem p = BERTH_VULN_ECO_PYPI;

	ORDER(p, "1.0", "1.0.0", 0);
	ORDER(p, "1.0.dev0", "1.0a1", -1);
	ORDER(p, "1.0a1", "1.0b1", -1);
	ORDER(p, "1.0b1", "1.0rc1", -1);
	ORDER(p, "1.0rc1", "1.0", -1);
	ORDER(p, "1.0", "1.0.post1", -1);
	ORDER(p, "1.0.post1.dev1", "1.0.post1", -1);
	ORDER(p, "1.0a1.dev1", "1.0a1", -1);
	ORDER(p, "1.0", "1.0+local", -1);
	ORDER(p, "1.0+abc", "1.0+5", -1); /* numbers after letters */
	ORDER(p, "1.0+abc.5", "1.0+abc.10", -1);
	ORDER(p, "1!0.1", "2.0", 1);
	ORDER(p, "1.0-1", "1.0.post1", 0);
	ORDER(p, "1.0ALPHA1", "1.0a1", 0);
	ORDER(p, "1.0c1", "1.0rc1", 0);
	ORDER(p, "v1.0", "1.0", 0);
	ORDER(p, " 1.0\n", "1.0", 0);
	ORDER(p, "1.01", "1.1", 0);
	ORDER(p, "99999999999999999999999", "99999999999999999999998", 1);
	ORDER(p, "1.0+ubuntu-1", "1.0+ubuntu.1", 0);
	ORDER(p, "foo", "1", 9);
	ORDER(p, "1.", "1", 9);
	ORDER(p, "1.0+", "1", 9);
	ORDER(p, "1.0-", "1", 9);
	ORDER(p, "1.0a1b1", "1", 9);
}

TEST(semver_order)
{
	const berth_vuln_ecosystem n = BERTH_VULN_ECO_NPM;

	ORDER(n, "1.0.0-alpha", "1.0.0-alpha.1", -1);
	ORDER(n, "1.0.0-alpha.1", "1.0.0-alpha.beta", -1);
	ORDER(n, "1.0.0-alpha.beta", "1.0.0-beta", -1);
	ORDER(n, "1.0.0-beta.2", "1.0.0-beta.11", -1);
	ORDER(n, "1.0.0-rc.1", "1.0.0", -1);
	ORDER(n, "1.0.0+build.1", "1.0.0+build.2", 0);
	ORDER(n, "v1.2.3", "1.2.3", 0);
	ORDER(n, "2.0.0", "10.0.0", -1);
	ORDER(n, "01.0.0", "1.0.0", 9);
	ORDER(n, "1.0", "1.0.0", 9);
	ORDER(n, "1.0.0-01", "1.0.0", 9);
	ORDER(n, "1.0.0-", "1.0.0", 9);
	ORDER(n, "9007199254740992.0.0", "1.0.0", 9);
}

TEST(ecosystem_names)
{
	berth_vuln_ecosystem e;
	const char *rel;
	berth_error *err = NULL;

	CHECK(berth_vuln_ecosystem_parse(&e, &rel, "Debian:12", NULL) == 0 &&
		      e == BERTH_VULN_ECO_DEBIAN && strcmp(rel, "12") == 0,
	      "Debian:12");
	CHECK(berth_vuln_ecosystem_parse(&e, &rel, "Alpine:v3.18", NULL) == 0 &&
		      e == BERTH_VULN_ECO_ALPINE && strcmp(rel, "v3.18") == 0,
	      "Alpine:v3.18");
	CHECK(berth_vuln_ecosystem_parse(&e, &rel, "PyPI", NULL) == 0 &&
		      e == BERTH_VULN_ECO_PYPI && *rel == '\0',
	      "PyPI");
	CHECK(berth_vuln_ecosystem_parse(&e, NULL, "Go", &err) ==
		      BERTH_EUNSUPPORTED,
	      "Go is not ordered");
	CHECK(err && strstr(err->msg, "'Go'"), "names it");
	berth_error_free(err);
}

TEST_MAIN("test_vuln_version")
