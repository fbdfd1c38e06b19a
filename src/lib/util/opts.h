/* Checking the version of a public struct a caller hands in. */
#ifndef BERTH_LIB_UTIL_OPTS_H
#define BERTH_LIB_UTIL_OPTS_H

#include <string.h>

#include "berth/common.h"

/*
 * Options and result structs of the public API start with `unsigned
 * version`, set by their BERTH_*_INIT macro. A version this library does
 * not know (0: never initialised; above `known`: built against newer
 * headers) is refused with BERTH_EUSAGE rather than read or written past
 * the struct's end. `what` names the struct ("berth_pull_opts"); the hint
 * names its macro ("BERTH_PULL_OPTS_INIT").
 */
int berth_opts_check(unsigned version, unsigned known, const char *what,
		     berth_error **err);

/*
 * Empties a versioned struct the caller holds, keeping its version, so
 * that a release leaves it ready to be filled again. (Once a struct has a
 * version 2, its fill functions build the whole struct in a local and copy
 * out only the fields of the caller's version.)
 */
#define BERTH_VERSIONED_RESET(p)                                               \
	do {                                                                   \
		unsigned version_ = (p)->version;                              \
		memset((p), 0, sizeof(*(p)));                                  \
		(p)->version = version_;                                       \
	} while (0)

#endif
