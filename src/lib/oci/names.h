/*
 * The name rules of the OCI distribution spec, in one place for the client
 * (references, registry requests, tag lists) and the server (routes,
 * tokens, tag pushes):
 *
 *   name      := component ( "/" component )*        at most 255 characters
 *   component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag       := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
 *
 * and which hosts are Docker Hub. The public part is in berth/ref.h.
 */
#ifndef BERTH_LIB_OCI_NAMES_H
#define BERTH_LIB_OCI_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/ref.h"

#define BERTH_NAME_MAX 255
#define BERTH_TAG_MAX 128

/* Why a path component breaks the grammar; the first fault found. */
typedef enum berth_name_fault {
	BERTH_NAME_OK = 0,
	BERTH_NAME_EMPTY,	  /* no characters */
	BERTH_NAME_BAD_START,	  /* starts with a separator */
	BERTH_NAME_BAD_END,	  /* ends with a separator */
	BERTH_NAME_BAD_SEPARATOR, /* a separator run that is not . _ __ -+ */
	BERTH_NAME_BAD_CHAR,	  /* a character outside the grammar */
} berth_name_fault;

/*
 * Checks one path component of `len` bytes. With `fold_case`, uppercase
 * letters count as lowercase, for callers that report case separately.
 * On a fault, *at and *at_len locate the offending separator run or
 * character in s.
 */
berth_name_fault berth_name_component_check(size_t *at, size_t *at_len,
					    const char *s, size_t len,
					    bool fold_case);

#endif
