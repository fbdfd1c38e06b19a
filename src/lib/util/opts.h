/* Checking the version of an options struct a caller hands in. */
#ifndef BERTH_LIB_UTIL_OPTS_H
#define BERTH_LIB_UTIL_OPTS_H

#include "berth/common.h"

/*
 * Options structs of the public API start with `unsigned version`, set by
 * their BERTH_*_OPTS_INIT macro. A version this library does not know (0:
 * never initialised; above `known`: built against newer headers) is
 * refused with BERTH_EUSAGE rather than read past the struct's end.
 * `what` names the struct ("berth_pull_opts").
 */
int berth_opts_check(unsigned version, unsigned known, const char *what,
		     berth_error **err);

#endif
