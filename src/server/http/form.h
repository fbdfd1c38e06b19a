/*
 * application/x-www-form-urlencoded bodies (the token service's POST
 * form), parsed without a connection so that the parser can be tested
 * and fuzzed on its own.
 */
#ifndef BERTH_SERVER_HTTP_FORM_H
#define BERTH_SERVER_HTTP_FORM_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Called once per field, in body order (a name given twice is called
 * twice). key is decoded and NUL-terminated (cut at a decoded NUL);
 * value is decoded, vlen bytes that may hold NULs, also NUL-terminated.
 * Both are borrowed for the call only. Returns 0 to go on; anything else
 * stops the walk and is returned by srv_form_parse.
 */
typedef int (*srv_form_field_fn)(void *cls, const char *key, const char *value,
				 size_t vlen);

/* Whether a Content-Type (NULL: none) names a urlencoded form. */
bool srv_form_content_type_ok(const char *content_type);

/*
 * Walks the fields of body[0..len): separated by '&' (or a line end), each
 * "name=value" or a bare "name" (an empty value); empty fields are
 * skipped. Decoding: '+' is a space, "%XX" the byte 0xXX, and a '%' not
 * followed by two hex digits stays as written. The scratch copy of the
 * decoded bytes is wiped before returning, since forms carry passwords.
 * Returns 0, or the first non-zero return of fn.
 */
int srv_form_parse(const char *body, size_t len, srv_form_field_fn fn,
		   void *cls);

#endif
