/* The one clock berth measures intervals with. */
#ifndef BERTH_LIB_UTIL_CLOCK_H
#define BERTH_LIB_UTIL_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC: never jumps with the wall clock. */
int64_t berth_monotonic_ms(void);

#endif
