/*
 * Platforms, normalised the way containerd's platforms package does, so
 * "--platform linux/aarch64" finds the "linux/arm64/v8" entry of an index.
 * One difference: arm64 without a variant is canonically "v8" (containerd
 * drops the variant instead); both spellings compare equal either way.
 */
#include "berth/platform.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "util/cleanup.h"
#include "util/error.h"

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Copies src into a field of size n, truncating. */
static void
set(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (len >= n)
		len = n - 1;
	memmove(dst, src, len);
	dst[len] = '\0';
}

void
berth_platform_normalize(berth_platform *p)
{
	char *a = p->arch, *v = p->variant;

	lower(p->os);
	lower(a);
	lower(v);
	if (strcmp(p->os, "macos") == 0)
		set(p->os, sizeof(p->os), "darwin");

	if (!strcmp(a, "i386") || !strcmp(a, "i486") || !strcmp(a, "i586") ||
	    !strcmp(a, "i686") || !strcmp(a, "x86")) {
		set(a, sizeof(p->arch), "386");
		v[0] = '\0';
	} else if (!strcmp(a, "x86_64") || !strcmp(a, "x86-64") ||
		   !strcmp(a, "amd64")) {
		set(a, sizeof(p->arch), "amd64");
		if (!strcmp(v, "v1"))
			v[0] = '\0';
	} else if (!strcmp(a, "aarch64") || !strcmp(a, "arm64")) {
		set(a, sizeof(p->arch), "arm64");
		if (!v[0] || !strcmp(v, "8") || !strcmp(v, "v8.0"))
			set(v, sizeof(p->variant), "v8");
		else if (!strcmp(v, "9") || !strcmp(v, "9.0") ||
			 !strcmp(v, "v9.0"))
			set(v, sizeof(p->variant), "v9");
	} else if (!strcmp(a, "armhf")) {
		set(a, sizeof(p->arch), "arm");
		set(v, sizeof(p->variant), "v7");
	} else if (!strcmp(a, "armel")) {
		set(a, sizeof(p->arch), "arm");
		set(v, sizeof(p->variant), "v6");
	} else if (!strcmp(a, "arm")) {
		if (!v[0] || !strcmp(v, "7"))
			set(v, sizeof(p->variant), "v7");
		else if (!strcmp(v, "5") || !strcmp(v, "6") || !strcmp(v, "8"))
			snprintf(v, sizeof(p->variant), "v%c", v[0]);
	}
}

static bool
known_os(const char *s)
{
	static const char *const oses[] = {
		"aix",	   "android", "darwin",	 "dragonfly", "freebsd",
		"hurd",	   "illumos", "ios",	 "js",	      "linux",
		"macos",   "netbsd",  "openbsd", "plan9",     "solaris",
		"windows", "zos",
	};

	for (size_t i = 0; i < BERTH_ARRAY_SIZE(oses); i++)
		if (strcasecmp(s, oses[i]) == 0)
			return true;
	return false;
}

/* containerd's specifier characters: [A-Za-z0-9_-]+ */
static bool
valid_part(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

int
berth_platform_parse(berth_platform *out, const char *s, berth_error **err)
{
	berth_platform p = {{0}, {0}, {0}};
	char *fields[3] = {p.os, p.arch, p.variant};
	const size_t sizes[3] = {sizeof(p.os), sizeof(p.arch),
				 sizeof(p.variant)};
	const char *parts[3] = {NULL, NULL, NULL};
	size_t lens[3] = {0, 0, 0};
	size_t n = 0;
	const char *c = s;

	if (s == NULL)
		s = c = "";
	for (;;) {
		const char *slash = strchr(c, '/');
		size_t len = slash ? (size_t)(slash - c) : strlen(c);

		if (n == 3 || !valid_part(c, len))
			goto bad;
		parts[n] = c;
		lens[n++] = len;
		if (slash == NULL)
			break;
		c = slash + 1;
	}

	if (n == 1) {
		/* "arm64" is an architecture on Linux; "linux" an OS here. */
		berth_platform host;

		berth_platform_host(&host);
		if (known_os(parts[0]) && lens[0] < sizeof(p.os)) {
			memcpy(p.os, parts[0], lens[0]);
			set(p.arch, sizeof(p.arch), host.arch);
			set(p.variant, sizeof(p.variant), host.variant);
		} else {
			set(p.os, sizeof(p.os), "linux");
			if (lens[0] >= sizeof(p.arch))
				goto bad;
			memcpy(p.arch, parts[0], lens[0]);
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			if (lens[i] >= sizes[i])
				goto bad;
			memcpy(fields[i], parts[i], lens[i]);
		}
	}
	berth_platform_normalize(&p);
	*out = p;
	return 0;
bad:
	berth_error_set(err, BERTH_EUSAGE, 0,
			"invalid platform '%.64s': expected os/arch[/variant]",
			s);
	berth_error_hint(err, "for example --platform linux/amd64 or "
			      "--platform linux/arm64/v8");
	return BERTH_EUSAGE;
}

/* Architecture of this build, which may differ from the kernel's (a 32-bit
 * process on a 64-bit kernel). NULL when unknown: then uname decides. */
static const char *
build_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__i386__)
	return "386";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#elif defined(__loongarch64)
	return "loong64";
#else
	return NULL;
#endif
}

void
berth_platform_host(berth_platform *out)
{
	struct utsname u;
	const char *arch = build_arch();

	memset(out, 0, sizeof(*out));
	if (uname(&u) < 0) {
		set(out->os, sizeof(out->os), "linux");
		set(out->arch, sizeof(out->arch), arch ? arch : "unknown");
		berth_platform_normalize(out);
		return;
	}
	set(out->os, sizeof(out->os), u.sysname);
	set(out->arch, sizeof(out->arch), arch ? arch : u.machine);
	if (strcmp(out->arch, "arm") == 0) {
		/* "armv7l" -> v7; "aarch64" (32-bit on a 64-bit kernel) -> v8
		 */
		if (strncmp(u.machine, "armv", 4) == 0 &&
		    isdigit((unsigned char)u.machine[4]))
			snprintf(out->variant, sizeof(out->variant), "v%c",
				 u.machine[4]);
		else if (strcmp(u.machine, "aarch64") == 0 ||
			 strcmp(u.machine, "arm64") == 0)
			set(out->variant, sizeof(out->variant), "v8");
	}
	berth_platform_normalize(out);
}

/* "v3" -> 3.0, "v8.2" -> 8.2 (as major * 100 + minor); -1 if not vN[.M]. */
static int
variant_level(const char *v)
{
	char *end;
	long major, minor = 0;

	if (v[0] != 'v' || !isdigit((unsigned char)v[1]))
		return -1;
	major = strtol(v + 1, &end, 10);
	if (*end == '.') {
		if (!isdigit((unsigned char)end[1]))
			return -1;
		minor = strtol(end + 1, &end, 10);
	}
	if (*end != '\0' || major > 99 || minor > 99)
		return -1;
	return (int)(major * 100 + minor);
}

/* Architectures whose variants are ordered CPU levels: a CPU runs code
 * built for older variants (amd64/v3 runs v2 and v1, arm/v7 runs v6). */
static bool
ordered_variants(const char *arch)
{
	return !strcmp(arch, "amd64") || !strcmp(arch, "arm") ||
	       !strcmp(arch, "arm64");
}

int
berth_platform_rank(const berth_platform *want, const berth_platform *have)
{
	berth_platform w = *want, h = *have;
	int wl, hl;

	berth_platform_normalize(&w);
	berth_platform_normalize(&h);
	if (strcmp(w.os, h.os) != 0 || strcmp(w.arch, h.arch) != 0)
		return -1;
	if (strcmp(w.variant, h.variant) == 0)
		return 30000;
	if (!ordered_variants(w.arch))
		return w.variant[0] == '\0' ? 10000 : -1;
	hl = h.variant[0] == '\0' ? 100 : variant_level(h.variant);
	if (w.variant[0] == '\0')
		return hl < 0 ? 0 : 20000 - hl; /* the most compatible */
	wl = variant_level(w.variant);
	if (wl < 0 || hl < 0 || hl > wl)
		return -1;
	return hl; /* the newest the CPU runs */
}

bool
berth_platform_match(const berth_platform *want, const berth_platform *have)
{
	return berth_platform_rank(want, have) >= 0;
}

char *
berth_platform_format(char *buf, size_t n, const berth_platform *p)
{
	if (p->variant[0])
		snprintf(buf, n, "%s/%s/%s", p->os, p->arch, p->variant);
	else
		snprintf(buf, n, "%s/%s", p->os, p->arch);
	return buf;
}
