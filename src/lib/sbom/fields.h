/*
 * The "Key: value" stanzas that dpkg's status file (deb822), Python's
 * core metadata (RFC 822 headers) and apk's installed database ("K:value")
 * share: fields one a line, continuation lines starting with a blank,
 * stanzas ended by an empty line.
 */
#ifndef BERTH_LIB_SBOM_FIELDS_H
#define BERTH_LIB_SBOM_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct berth_fields_cb {
	/* A field's first line, its value without surrounding blanks. */
	void (*field)(void *ud, const char *key, size_t klen, const char *val,
		      size_t vlen);
	/* The end of a stanza (an empty line or the end of the input). */
	void (*end)(void *ud);
	void *ud;
} berth_fields_cb;

/* Walks p[0..len). With `one`, only the first stanza (a metadata file's
 * headers, before its body). */
void berth_fields_walk(const char *p, size_t len, bool one,
		       const berth_fields_cb *cb);

/* The value as a string, or NULL when empty. Caller frees. */
char *berth_fields_dup(const char *val, size_t vlen);

/* Whether the key is `name` (ASCII case-insensitive, as RFC 822). */
bool berth_fields_is(const char *key, size_t klen, const char *name);

#endif
