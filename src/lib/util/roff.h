/*
 * Man pages in roff, as the CLI's (berth _gen man) and the server's
 * (berth-serve --help-man) are written: one header, one way to escape
 * text, one layout of an option, so that the pages look alike.
 */
#ifndef BERTH_UTIL_ROFF_H
#define BERTH_UTIL_ROFF_H

#include <stdio.h>

/* ".TH TITLE 1 ..." naming berth's version and manual. */
void berth_roff_head(FILE *f, const char *title);

/* `s` as roff text: backslashes and dashes escaped, no request at the
 * start of a line. */
void berth_roff_put(FILE *f, const char *s);

/*
 * One option as a .TP entry: "-k, --name ARG" then its help. `key` is
 * the short option, or 0 for none; `dashes` is "--" for a flag, "" for a
 * config file's key; `arg` may be NULL.
 */
void berth_roff_option(FILE *f, int key, const char *dashes, const char *name,
		       const char *arg, const char *help);

#endif
