/* roff output shared by berth's and berth-serve's man pages. */
#include "util/roff.h"

#define BERTH_MAN_VERSION "0.1.0"

void
berth_roff_head(FILE *f, const char *title)
{
	fprintf(f,
		".TH %s 1 \"\" \"berth " BERTH_MAN_VERSION
		"\" \"berth manual\"\n",
		title);
}

void
berth_roff_put(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else if (*s == '\n' && (s[1] == '.' || s[1] == '\''))
			fputs("\n\\&", f);
		else
			fputc(*s, f);
	}
}

void
berth_roff_option(FILE *f, int key, const char *dashes, const char *name,
		  const char *arg, const char *help)
{
	fputs(".TP\n", f);
	if (key)
		fprintf(f, "\\fB\\-%c\\fR, ", key);
	fputs("\\fB", f);
	berth_roff_put(f, dashes);
	berth_roff_put(f, name);
	fputs("\\fR", f);
	if (arg) {
		fputs(" \\fI", f);
		berth_roff_put(f, arg);
		fputs("\\fR", f);
	}
	fputc('\n', f);
	berth_roff_put(f, help);
	fputc('\n', f);
}
