#include "test.h"

#include <strings.h>
#include <sys/utsname.h>

#include "berth/platform.h"
#include "util/error.h"

TEST(parse)
{
	static const struct {
		const char *in, *want;
	} ok[] = {
		{"linux/amd64", "linux/amd64"},
		{"linux/x86_64", "linux/amd64"},
		{"linux/x86-64", "linux/amd64"},
		{"Linux/AMD64", "linux/amd64"},
		{"linux/amd64/v1", "linux/amd64"},
		{"linux/amd64/v3", "linux/amd64/v3"},
		{"linux/aarch64", "linux/arm64/v8"},
		{"linux/arm64", "linux/arm64/v8"},
		{"linux/arm64/v8", "linux/arm64/v8"},
		{"linux/arm64/8", "linux/arm64/v8"},
		{"linux/arm64/v8.0", "linux/arm64/v8"},
		{"linux/arm64/9", "linux/arm64/v9"},
		{"linux/armhf", "linux/arm/v7"},
		{"linux/armel", "linux/arm/v6"},
		{"linux/arm", "linux/arm/v7"},
		{"linux/arm/7", "linux/arm/v7"},
		{"linux/arm/6", "linux/arm/v6"},
		{"linux/arm/v5", "linux/arm/v5"},
		{"linux/i386", "linux/386"},
		{"linux/i686", "linux/386"},
		{"linux/386", "linux/386"},
		{"macos/arm64", "darwin/arm64/v8"},
		{"windows/amd64", "windows/amd64"},
		{"linux/riscv64", "linux/riscv64"},
		{"linux/ppc64le", "linux/ppc64le"},
		{"linux/s390x", "linux/s390x"},
		{"arm64", "linux/arm64/v8"},
		{"amd64", "linux/amd64"},
	};
	static const char *const bad[] = {
		"",
		"/",
		"linux/",
		"/amd64",
		"linux//v7",
		"linux/amd64/v3/x",
		"linux/amd 64",
		"linux/amd64/v8/",
		"linux:amd64",
		"linux/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"linux/arm/vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
	};
	char buf[96];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		berth_platform p;
		berth_error *err = NULL;

		CHECK(berth_platform_parse(&p, ok[i].in, &err) == 0, "'%s': %s",
		      ok[i].in, err ? err->msg : "");
		CHECK_STR(berth_platform_format(buf, sizeof(buf), &p),
			  ok[i].want);
		berth_error_free(err);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		berth_platform p;
		berth_error *err = NULL;
		char want[160];

		snprintf(want, sizeof(want),
			 "invalid platform '%s': expected os/arch[/variant]",
			 bad[i]);
		CHECK(berth_platform_parse(&p, bad[i], &err) == BERTH_EUSAGE,
		      "'%s' accepted", bad[i]);
		CHECK(err && err->code == BERTH_EUSAGE, "code");
		CHECK_STR(err ? err->msg : NULL, want);
		CHECK(err && err->hint, "hint");
		berth_error_free(err);
	}

	{
		berth_platform p;

		CHECK(berth_platform_parse(&p, "a/b/c/d", NULL) == BERTH_EUSAGE,
		      "NULL err");
	}
	/* A lone OS keeps the host's architecture */
	{
		berth_platform p, h;
		berth_error *err = NULL;

		berth_platform_host(&h);
		CHECK(berth_platform_parse(&p, "linux", &err) == 0, "linux");
		CHECK_STR(p.os, "linux");
		CHECK_STR(p.arch, h.arch);
		CHECK_STR(p.variant, h.variant);
	}
}

TEST(normalize)
{
	berth_platform p = {"LINUX", "AArch64", ""};

	berth_platform_normalize(&p);
	CHECK_STR(p.os, "linux");
	CHECK_STR(p.arch, "arm64");
	CHECK_STR(p.variant, "v8");

	berth_platform q = {"linux", "arm", "8"};
	berth_platform_normalize(&q);
	CHECK_STR(q.variant, "v8");

	berth_platform r = {"linux", "i386", "whatever"};
	berth_platform_normalize(&r);
	CHECK_STR(r.arch, "386");
	CHECK_STR(r.variant, "");
}

static bool
m(const char *want, const char *have)
{
	berth_platform w, h;

	if (berth_platform_parse(&w, want, NULL) < 0 ||
	    berth_platform_parse(&h, have, NULL) < 0)
		return false;
	return berth_platform_match(&w, &h);
}

static int
rank(const char *want, const char *have)
{
	berth_platform w, h;

	berth_platform_parse(&w, want, NULL);
	berth_platform_parse(&h, have, NULL);
	return berth_platform_rank(&w, &h);
}

TEST(match)
{
	CHECK(m("linux/amd64", "linux/amd64"), "same");
	CHECK(m("linux/arm64", "linux/arm64/v8"), "arm64 == arm64/v8");
	CHECK(m("linux/arm64/v8", "linux/aarch64"), "arm64/v8 == aarch64");
	CHECK(m("linux/arm", "linux/arm/v7"), "arm == arm/v7");
	CHECK(m("linux/armhf", "linux/arm/v7"), "armhf == arm/v7");
	CHECK(m("linux/x86_64", "linux/amd64"), "x86_64 == amd64");
	CHECK(m("linux/amd64", "linux/amd64/v2"), "amd64 takes v2");
	CHECK(m("linux/amd64", "linux/amd64/v3"), "amd64 takes v3");
	CHECK(m("linux/amd64/v3", "linux/amd64"), "v3 runs v1");
	CHECK(m("linux/amd64/v3", "linux/amd64/v2"), "v3 runs v2");
	CHECK(!m("linux/amd64/v2", "linux/amd64/v3"), "v2 does not run v3");
	CHECK(m("linux/arm/v7", "linux/arm/v6"), "v7 runs v6");
	CHECK(!m("linux/arm/v6", "linux/arm/v7"), "v6 does not run v7");
	CHECK(!m("linux/arm64", "linux/arm/v7"), "arm64 is not arm");
	CHECK(!m("linux/amd64", "linux/arm64"), "arch differs");
	CHECK(!m("linux/amd64", "windows/amd64"), "os differs");
	CHECK(!m("linux/arm64", "linux/arm64/v9"), "v8 does not run v9");
	CHECK(m("linux/riscv64", "linux/riscv64"), "riscv64");
	CHECK(!m("linux/ppc64le/x", "linux/ppc64le/y"), "unordered variants");

	CHECK(rank("linux/amd64", "linux/amd64") >
		      rank("linux/amd64", "linux/amd64/v2"),
	      "exact beats compatible");
	CHECK(rank("linux/amd64", "linux/amd64/v2") >
		      rank("linux/amd64", "linux/amd64/v3"),
	      "no variant prefers the lowest");
	CHECK(rank("linux/amd64/v3", "linux/amd64/v2") >
		      rank("linux/amd64/v3", "linux/amd64"),
	      "v3 prefers v2 over v1");
	CHECK(rank("linux/arm/v7", "linux/arm/v7") >
		      rank("linux/arm/v7", "linux/arm/v6"),
	      "exact arm beats v6");
	CHECK(rank("linux/arm/v7", "linux/arm/v6") >
		      rank("linux/arm/v7", "linux/arm/v5"),
	      "v6 over v5");
	CHECK(rank("linux/amd64", "linux/arm64") == -1, "no match is -1");
}

TEST(host)
{
	berth_platform h;
	struct utsname u;
	char buf[96];

	berth_platform_host(&h);
	CHECK(uname(&u) == 0, "uname");
	CHECK(strcasecmp(h.os, u.sysname) == 0, "os '%s' vs '%s'", h.os,
	      u.sysname);
	CHECK(h.arch[0] != '\0', "arch set");
#if defined(__x86_64__)
	CHECK_STR(berth_platform_format(buf, sizeof(buf), &h), "linux/amd64");
#elif defined(__aarch64__)
	CHECK_STR(berth_platform_format(buf, sizeof(buf), &h),
		  "linux/arm64/v8");
#else
	(void)buf;
#endif
	CHECK(berth_platform_match(&h, &h), "host matches itself");
}

TEST(format)
{
	berth_platform p = {"linux", "arm", "v7"};
	char small[8];

	CHECK_STR(berth_platform_format(small, sizeof(small), &p), "linux/a");
}

TEST_MAIN("test_platform")
