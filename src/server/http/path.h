/*
 * The request path as the client wrote it, decoded once by berth itself
 * (libmicrohttpd's own decoding would turn "a%2fb" into "a/b" and cut the
 * path at "%00"), without a connection so that it can be tested alone.
 */
#ifndef BERTH_SERVER_HTTP_PATH_H
#define BERTH_SERVER_HTTP_PATH_H

#include <stddef.h>

/* At most this many query arguments; more are answered 414. */
#define SRV_MAX_QUERY_ARGS 256

typedef enum srv_path_status {
	SRV_PATH_OK,
	SRV_PATH_NUL, /* "%00": no path may hold a NUL byte */
} srv_path_status;

/*
 * Decodes raw[0..len) (the path without its query) into *out (caller
 * frees; set even on failure, for the log): "%XX" is the byte 0xXX,
 * except that an encoded slash ("%2F", "%2f") stays as written, so it
 * never splits a path segment and no repository name can hold it; a '%'
 * not followed by two hex digits stays too.
 */
srv_path_status srv_path_decode(char **out, const char *raw, size_t len);

/* The number of query arguments of "a=1&b&c=" (empty ones count too). */
size_t srv_query_count(const char *query);

#endif
