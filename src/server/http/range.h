/*
 * The byte-range headers of blob requests: Range on GET (RFC 9110) and
 * Content-Range on chunked upload PATCH (the OCI distribution spec's form).
 * Both read headers from the network, so they accept anything and never
 * read past the string's NUL.
 */
#ifndef BERTH_SERVER_HTTP_RANGE_H
#define BERTH_SERVER_HTTP_RANGE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Parses a single "bytes=a-b" / "bytes=a-" / "bytes=-n" range against size.
 * Returns 1 with [*off, *off + *len) for a satisfiable range (within size,
 * never empty), 0 to ignore the header (h NULL, malformed or several
 * ranges: the whole blob is sent; *off and *len untouched), -1 for an
 * unsatisfiable one.
 */
int srv_parse_range(uint64_t *off, uint64_t *len, const char *h, uint64_t size);

/*
 * "<start>-<end>" (the spec's form; "bytes=" and "bytes " prefixes and a
 * "/<total>" suffix are tolerated), with 0 <= start <= end. Returns false
 * when malformed, leaving *start and *end untouched.
 */
bool srv_parse_content_range(int64_t *start, int64_t *end, const char *h);

#endif
