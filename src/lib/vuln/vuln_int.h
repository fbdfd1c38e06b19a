/* What the files of src/lib/vuln/ share: the per-ecosystem comparators
 * and the loaded database's shape. */
#ifndef BERTH_LIB_VULN_VULN_INT_H
#define BERTH_LIB_VULN_VULN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "berth/vuln.h"
#include "util/arena.h"
#include "util/hmap.h"

/*
 * Each comparator: 0 and *out <0/0/>0, or BERTH_EUSAGE naming the
 * version that does not parse. `a` or `b` NULL validates the other.
 */
int vuln_cmp_deb(int *out, const char *a, const char *b, berth_error **err);
int vuln_cmp_apk(int *out, const char *a, const char *b, berth_error **err);
int vuln_cmp_pep440(int *out, const char *a, const char *b, berth_error **err);
int vuln_cmp_semver(int *out, const char *a, const char *b, berth_error **err);

/* A version string (at most this long) is refused before it is parsed. */
#define VULN_VERSION_MAX 256

/* The kinds of range events, in OSV's words. */
enum vuln_event_kind {
	VULN_EV_INTRODUCED,
	VULN_EV_FIXED,
	VULN_EV_LAST_AFFECTED,
	VULN_EV_LIMIT,
};

typedef struct vuln_event {
	const char *version; /* "0" for introduced: everything */
	uint8_t kind;
} vuln_event;

typedef struct vuln_range {
	vuln_event *events;
	uint32_t n_events;
	uint8_t semver; /* a SEMVER range: semver order, whatever the eco */
} vuln_range;

typedef struct vuln_advisory {
	const char *id, *aliases, *summary;
	double score; /* -1: no CVSS v3 vector */
	berth_vuln_severity severity;
} vuln_advisory;

/* One affected[] entry, chained under its (ecosystem, name) key. */
typedef struct vuln_affected {
	const vuln_advisory *adv;
	const char *release; /* "12" of "Debian:12", or "" */
	vuln_range *ranges;
	const char **versions;
	uint32_t n_ranges, n_versions;
	berth_vuln_severity severity; /* its own word, if any */
	struct vuln_affected *next;
} vuln_affected;

struct berth_vuln_db {
	berth_arena arena;
	berth_hmap *index; /* vuln_key -> vuln_affected chain */
	size_t advisories, skipped;
};

/* The index key of a package: its OSV ecosystem without the release
 * ("Debian" of "Debian:12") and the name as the ecosystem compares names
 * (PyPI's are normalised). Caller frees. */
char *vuln_key(const char *ecosystem, berth_vuln_ecosystem eco,
	       const char *name);

/*
 * Adds the advisory in `json` (len bytes) to db; `origin` names the file
 * for messages. BERTH_EPROTO when it is not an OSV document.
 */
int vuln_osv_add(berth_vuln_db *db, const char *json, size_t len,
		 const char *origin, berth_error **err);

/* An empty database whose index has `buckets` chains (0: enough for
 * OSV's largest ecosystems). */
berth_vuln_db *vuln_db_new(size_t buckets);

#endif
