/* Help text laid out for a terminal: the CLI's and the server's --help. */
#ifndef BERTH_UTIL_WRAP_H
#define BERTH_UTIL_WRAP_H

#include <stdio.h>

/*
 * Writes `text` to `f` from column `indent`, its words wrapped before
 * column `width`, and a newline. The cursor is at column `col`; when that
 * is at or past `indent` (and not 0) the text starts on a line of its own.
 */
void berth_wrap_put(FILE *f, const char *text, int col, int indent, int width);

#endif
