#include "cli/progress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/xalloc.h"

typedef struct layer_line {
	char id[13];
	char status[64];
	int64_t done, total;
	double drawn_at; /* seconds, to throttle redraws of progress */
} layer_line;

struct progress {
	FILE *f;
	bool tty, quiet;
	layer_line *lines;
	size_t n;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

progress *
progress_new(FILE *f, bool quiet)
{
	progress *p = xcalloc(1, sizeof(*p));

	p->f = f;
	p->quiet = quiet;
	p->tty = isatty(fileno(f)) && getenv("TERM") &&
		 strcmp(getenv("TERM"), "dumb") != 0;
	return p;
}

void
progress_free(progress *p)
{
	if (p == NULL)
		return;
	free(p->lines);
	free(p);
}

static void
draw(progress *p, size_t i)
{
	layer_line *l = &p->lines[i];
	size_t up = p->n - i;
	char bar[52] = "", sz1[16], sz2[16];

	if (l->total > 0 && l->done < l->total) {
		int w = (int)(50 * l->done / l->total);

		bar[0] = '[';
		memset(bar + 1, '=', (size_t)w);
		bar[w + 1] = '>';
		memset(bar + w + 2, ' ', (size_t)(49 - w));
		bar[51] = 0;
		cli_human_size(sz1, sizeof(sz1), l->done);
		cli_human_size(sz2, sizeof(sz2), l->total);
		fprintf(p->f, "\033[%zuA\r\033[2K%s: %s %s %s/%s\033[%zuB\r",
			up, l->id, l->status, bar, sz1, sz2, up);
	} else {
		fprintf(p->f, "\033[%zuA\r\033[2K%s: %s\033[%zuB\r", up, l->id,
			l->status, up);
	}
	fflush(p->f);
}

void
progress_update(progress *p, const char *id, const char *status, int64_t done,
		int64_t total, bool final)
{
	const char *s = cli_short_digest(id);
	layer_line *l = NULL;
	size_t i;

	if (p->quiet)
		return;
	if (!p->tty) {
		if (final)
			fprintf(p->f, "%s: %s\n", s, status);
		return;
	}
	for (i = 0; i < p->n; i++)
		if (strcmp(p->lines[i].id, s) == 0) {
			l = &p->lines[i];
			break;
		}
	if (l == NULL) {
		p->lines = xreallocarray(p->lines, p->n + 1, sizeof(*p->lines));
		l = &p->lines[p->n++];
		memset(l, 0, sizeof(*l));
		snprintf(l->id, sizeof(l->id), "%s", s);
		fputs("\n", p->f);
	}
	if (!final && strcmp(l->status, status) == 0 &&
	    now() - l->drawn_at < 0.1)
		return;
	snprintf(l->status, sizeof(l->status), "%s", status);
	l->done = done;
	l->total = final ? 0 : total;
	l->drawn_at = now();
	draw(p, i);
}

void
progress_line(progress *p, const char *fmt, ...)
{
	va_list ap;

	if (p->quiet)
		return;
	va_start(ap, fmt);
	vfprintf(p->f, fmt, ap);
	va_end(ap);
	fputc('\n', p->f);
	fflush(p->f);
}
