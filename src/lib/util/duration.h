/* Durations as operators write them in settings: "90s", "36h", "30d". */
#ifndef BERTH_LIB_UTIL_DURATION_H
#define BERTH_LIB_UTIL_DURATION_H

#include <stdint.h>

#include "berth/common.h"

/*
 * Parses a whole number followed by one unit, s, m, h, d or w (a bare
 * number is seconds), into *seconds. BERTH_EUSAGE, naming the text, for
 * anything else or more than 100 years.
 */
int berth_duration_parse(const char *s, int64_t *seconds, berth_error **err);

#endif
