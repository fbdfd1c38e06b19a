/* Durations as operators write them in settings: "90s", "36h", "500ms". */
#ifndef BERTH_LIB_UTIL_DURATION_H
#define BERTH_LIB_UTIL_DURATION_H

#include <stdint.h>

#include "berth/common.h"

/*
 * A number (digits, optionally a fraction: "1.5") followed by one unit,
 * ms, s, m, h, d or w; a bare number is seconds. Into *ms, rounded to the
 * millisecond. BERTH_EUSAGE, naming the text, for anything else or more
 * than 100 years.
 */
int berth_duration_parse_ms(const char *s, int64_t *ms, berth_error **err);

/* The same, for settings kept in whole seconds: "500ms" and "1.5s" are
 * refused, "1.5m" is 90. */
int berth_duration_parse(const char *s, int64_t *seconds, berth_error **err);

#endif
