/*
 * `berth serve --help`, the settings table of docs/server.md, the man
 * page berth-serve.1 and the option list `berth completion` reads, all
 * written from berth_serve_settings so that none can miss a setting.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "server/config.h"
#include "util/cleanup.h"
#include "util/roff.h"
#include "util/wrap.h"
#include "util/xalloc.h"

#define HELP_COL 24
#define HELP_WIDTH 78

static const char about[] =
	"Runs a private OCI registry (distribution spec v1.1): docker, "
	"podman,\n"
	"skopeo, containerd and berth push to it and pull from it.";

static const char stops[] =
	"Stops cleanly on SIGTERM or SIGINT, finishing the requests in "
	"flight.";

/* What a value may be: "10 to 86400", "none, htpasswd or token", or "". */
static char *
values_text(const berth_serve_setting *s)
{
	const char *last;

	switch (s->type) {
	case BERTH_SERVE_LONG:
		if (s->max == LONG_MAX)
			return xasprintf("%ld or more", s->min);
		return xasprintf("%ld to %ld", s->min, s->max);
	case BERTH_SERVE_DURATION:
		return xasprintf("%ld s to %ld d; units s, m, h, d, w", s->min,
				 s->max / 86400);
	case BERTH_SERVE_ENUM:
		last = strrchr(s->choices, ',');
		if (last == NULL)
			return xstrdup(s->choices);
		return xasprintf("%.*s or %s", (int)(last - s->choices),
				 s->choices, last + 2);
	default:
		return xstrdup("");
	}
}

static const char *
default_text(const berth_serve_setting *s)
{
	return s->shown ? s->shown : s->deflt;
}

static void
put_wrapped(FILE *f, const char *text, int col)
{
	berth_wrap_put(f, text, col, HELP_COL, HELP_WIDTH);
}

/* The help with what the value may be and its default, as --help and
 * the man page say it. The caller frees it. */
static char *
help_text(const berth_serve_setting *s)
{
	_cleanup_free_ char *values = values_text(s);
	const char *d = default_text(s);

	if (*values || d)
		return xasprintf("%s (%s%s%s%s)", s->help, values,
				 *values && d ? "; " : "", d ? "default " : "",
				 d ? d : "");
	return xstrdup(s->help);
}

static void
put_option(FILE *f, const berth_serve_setting *s, const char *prefix)
{
	_cleanup_free_ char *text = help_text(s);
	int col;

	col = fprintf(f, "  %s%s%s%s", prefix, s->name, s->arg ? " " : "",
		      s->arg ? s->arg : "");
	put_wrapped(f, text, col);
}

void
berth_serve_config_usage(FILE *f)
{
	fprintf(f,
		"usage: berth serve [OPTIONS]\n"
		"       berth serve gc [--dry-run] [OPTIONS]\n"
		"       berth serve retention [--dry-run] [OPTIONS]\n\n%s\n\n"
		"options (each also a "
		"key of the --config file, without the dashes):\n",
		about);
	for (size_t i = 0; i < berth_serve_n_settings; i++)
		if (berth_serve_settings[i].type != BERTH_SERVE_JSON)
			put_option(f, &berth_serve_settings[i], "--");
	put_wrapped(f, "this text", fprintf(f, "  -h, --help"));
	fputs("\nin the config file only:\n", f);
	for (size_t i = 0; i < berth_serve_n_settings; i++)
		if (berth_serve_settings[i].type == BERTH_SERVE_JSON)
			put_option(f, &berth_serve_settings[i], "");
	fprintf(f, "\n%s\nSee docs/server.md for a complete example.\n", stops);
}

/* A table cell: '|' would end it. */
static void
put_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

void
berth_serve_config_markdown(FILE *f)
{
	/* SIGHUP: "reload" when a reload applies a change, else "restart". */
	fputs("| flag | config key | values | default | SIGHUP | meaning |\n"
	      "|---|---|---|---|---|---|\n",
	      f);
	for (size_t i = 0; i < berth_serve_n_settings; i++) {
		const berth_serve_setting *s = &berth_serve_settings[i];
		_cleanup_free_ char *values = values_text(s);

		if (s->type == BERTH_SERVE_JSON)
			fputs("| (file only) ", f);
		else
			fprintf(f, "| `--%s%s%s` ", s->name, s->arg ? " " : "",
				s->arg ? s->arg : "");
		if (s->type == BERTH_SERVE_FILE)
			fputs("| (flag only) | ", f);
		else
			fprintf(f, "| `%s` | ", s->name);
		put_cell(f, *values			  ? values
			    : s->type == BERTH_SERVE_BOOL ? "true, false"
			    : s->type == BERTH_SERVE_JSON &&
					    strcmp(s->arg, "ARRAY") == 0
				    ? "JSON array"
			    : s->type == BERTH_SERVE_JSON ? "JSON object"
							  : "");
		fputs(" | ", f);
		if (s->shown)
			put_cell(f, s->shown);
		else if (s->deflt)
			fprintf(f, "`%s`", s->deflt);
		else
			fputs("none", f);
		fputs(s->type == BERTH_SERVE_FILE ? " | reload | "
		      : s->restart		  ? " | restart | "
						  : " | reload | ",
		      f);
		put_cell(f, s->help);
		fputs(" |\n", f);
	}
}

void
berth_serve_config_man(FILE *f)
{
	berth_roff_head(f, "BERTH-SERVE");
	fputs(".SH NAME\nberth\\-serve \\- run a registry server\n"
	      ".SH SYNOPSIS\n.B berth serve\n[OPTIONS]\n.br\n"
	      ".B berth serve gc\n[\\-\\-dry\\-run] [OPTIONS]\n.br\n"
	      ".B berth serve retention\n[\\-\\-dry\\-run] [OPTIONS]\n"
	      ".SH DESCRIPTION\n",
	      f);
	berth_roff_put(f, about);
	fputs("\n.PP\nEvery option is also a key of the \\fB\\-\\-config\\fR "
	      "file, without the dashes.\n.PP\n",
	      f);
	berth_roff_put(f, stops);
	fputs("\n.SH OPTIONS\n", f);
	for (size_t i = 0; i < berth_serve_n_settings; i++) {
		const berth_serve_setting *s = &berth_serve_settings[i];
		_cleanup_free_ char *text = NULL;

		if (s->type == BERTH_SERVE_JSON)
			continue;
		text = help_text(s);
		berth_roff_option(f, 0, "--", s->name, s->arg, text);
	}
	berth_roff_option(f, 'h', "--", "help", NULL, "this text");
	fputs(".SH CONFIGURATION FILE\nKeys of the \\fB\\-\\-config\\fR file "
	      "only:\n",
	      f);
	for (size_t i = 0; i < berth_serve_n_settings; i++) {
		const berth_serve_setting *s = &berth_serve_settings[i];
		_cleanup_free_ char *text = NULL;

		if (s->type != BERTH_SERVE_JSON)
			continue;
		text = help_text(s);
		berth_roff_option(f, 0, "", s->name, s->arg, text);
	}
	fputs(".SH SEE ALSO\n.BR berth (1)\n", f);
}

void
berth_serve_config_options(FILE *f)
{
	for (size_t i = 0; i < berth_serve_n_settings; i++) {
		const berth_serve_setting *s = &berth_serve_settings[i];

		if (s->type != BERTH_SERVE_JSON)
			fprintf(f, "%s\t%s\t%s\n", s->name,
				s->arg ? s->arg : "", s->help);
	}
}
