/*
 * Docker-style pull/push progress: one line per layer. On a terminal the
 * lines are redrawn in place with a bar; otherwise only final states are
 * printed, one line each, so logs stay readable.
 */
#ifndef BERTH_CLI_PROGRESS_H
#define BERTH_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct progress progress;

/* quiet: print nothing at all. */
progress *progress_new(FILE *f, bool quiet);
void progress_free(progress *p);

static inline void
progress_freep(progress **p)
{
	progress_free(*p);
	*p = NULL;
}

/* Sets the line of `id` (a digest) to `status`; with total > 0 and on a
 * terminal, a bar for done/total. `final` lines are printed when not on a
 * terminal. */
void progress_update(progress *p, const char *id, const char *status,
		     int64_t done, int64_t total, bool final);

/* Prints a line that is not a layer (above the layer lines on a tty). */
void progress_line(progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
