/*
 * Platforms ("linux/arm64/v8"), normalised as containerd does:
 * x86_64 -> amd64, aarch64 -> arm64, arm64 without variant == arm64/v8,
 * armhf -> arm/v7, armel -> arm/v6, arm without variant == arm/v7.
 */
#ifndef BERTH_PLATFORM_H
#define BERTH_PLATFORM_H

#include "berth/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Frozen (see berth/common.h): os, architecture and variant are what
 * platforms are matched on. The Windows-only os.version and os.features
 * would be descriptor fields, in its reserved room, if ever needed.
 */
typedef struct berth_platform {
	char os[32];
	char arch[32];
	char variant[16]; /* "" when none */
} berth_platform;

/* Parses "os/arch[/variant]" (or "arch" alone: os is linux) and normalises. */
BERTH_EXTERN int berth_platform_parse(berth_platform *out, const char *s,
				      berth_error **err);

/* Normalises fields in place (arch aliases, default variants). */
BERTH_EXTERN void berth_platform_normalize(berth_platform *p);

/* The platform this process runs on, normalised. */
BERTH_EXTERN void berth_platform_host(berth_platform *out);

/* True when `have` (from an index) satisfies `want`; both normalised. */
BERTH_EXTERN bool berth_platform_match(const berth_platform *want,
				       const berth_platform *have);

/*
 * How well `have` satisfies `want`: -1 when it does not (berth_platform_match
 * is rank >= 0), else higher is better; an exact variant match ranks
 * highest, then the closest compatible variant (amd64/v2 for amd64/v3,
 * arm/v6 for arm/v7; amd64 without a variant prefers the lowest).
 */
BERTH_EXTERN int berth_platform_rank(const berth_platform *want,
				     const berth_platform *have);

/* "os/arch[/variant]" into out, of size n; returns out. */
BERTH_EXTERN char *berth_platform_format(char *out, size_t n,
					 const berth_platform *p);

#ifdef __cplusplus
}
#endif
#endif
