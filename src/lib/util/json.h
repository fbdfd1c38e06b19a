/* Helpers for JSON read from outside, on top of jansson. */
#ifndef BERTH_LIB_UTIL_JSON_H
#define BERTH_LIB_UTIL_JSON_H

#include <jansson.h>

/*
 * jansson's reason for refusing a document, made safe for a one-line
 * message: the text quotes the input near the error, which may hold any
 * byte (a newline, a terminal escape). Caller frees.
 */
char *berth_json_why(const json_error_t *e);

#endif
