#include "util/wrap.h"

#include <string.h>

void
berth_wrap_put(FILE *f, const char *text, int col, int indent, int width)
{
	const char *p = text + strspn(text, " ");

	if (col > 0 && col >= indent) {
		fputc('\n', f);
		col = 0;
	}
	fprintf(f, "%*s", indent - col, "");
	col = indent;
	while (*p) {
		size_t w = strcspn(p, " ");

		if (col > indent && col + 1 + (int)w > width) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", (int)w, p);
		col += (int)w;
		p += w;
		p += strspn(p, " ");
	}
	fputc('\n', f);
}
