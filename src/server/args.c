/*
 * berth serve's command line, shared by the server (serve.c) and its
 * subcommands (gc, retention): the settings from defaults, --config and
 * flags; the log on stderr; an error reported and turned into the exit
 * status.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/log.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"

/* Values of getopt's options besides the settings' (which are their row). */
enum { OPT_SETTING = 0x100 };

/*
 * getopt's options, one per flag of berth_serve_settings, then --help and
 * the hidden --help-markdown (the settings table of docs/server.md),
 * --help-man (berth-serve.1) and --help-options (for `berth completion`).
 * The caller frees the array.
 */
static struct option *
long_opts_new(void)
{
	struct option *o = xcalloc(berth_serve_n_settings + 5, sizeof(*o));
	size_t n = 0;

	for (size_t i = 0; i < berth_serve_n_settings; i++) {
		const berth_serve_setting *st = &berth_serve_settings[i];

		if (st->type == BERTH_SERVE_JSON)
			continue;
		o[n++] = (struct option){st->name,
					 st->type == BERTH_SERVE_BOOL
						 ? no_argument
						 : required_argument,
					 NULL, OPT_SETTING + (int)i};
	}
	o[n++] = (struct option){"help", no_argument, NULL, SRV_HELP};
	o[n++] = (struct option){"help-markdown", no_argument, NULL,
				 SRV_HELP_MARKDOWN};
	o[n++] = (struct option){"help-man", no_argument, NULL, SRV_HELP_MAN};
	o[n++] = (struct option){"help-options", no_argument, NULL,
				 SRV_HELP_OPTIONS};
	return o;
}

void
srv_log_stderr(berth_log_level level, const char *msg, void *ud)
{
	char line[2048];
	size_t n;

	n = berth_str_line_len(line, sizeof(line),
			       snprintf(line, sizeof(line),
					"berth serve: %s: %s\n",
					berth_log_level_name(level), msg));
	if (write(STDERR_FILENO, line, n) < 0)
		(void)0;
}

int
srv_exit_status(berth_error *err)
{
	int code = err ? (int)err->code : BERTH_EGENERIC;

	fprintf(stderr, "berth: %s\n", err ? err->msg : "unknown failure");
	if (err && err->hint)
		fprintf(stderr, "hint: %s\n", err->hint);
	berth_error_free(err);
	return code == BERTH_EINTERRUPTED ? 130 : -code;
}

/* The setting an option stands for, or NULL; -c is --config. */
static const berth_serve_setting *
setting_of(int c)
{
	if (c == 'c')
		return berth_serve_setting_find("config");
	return c >= OPT_SETTING ? &berth_serve_settings[c - OPT_SETTING] : NULL;
}

static int
unexpected_argument(berth_error **err, const char *arg)
{
	berth_error_set(err, BERTH_EUSAGE, 0, "unexpected argument '%s'", arg);
	berth_error_hint(err, "see 'berth serve --help'");
	return BERTH_EUSAGE;
}

/* Two passes: --config first, so that every flag overrides the file. */
int
srv_parse_args(berth_serve_config *cfg, int argc, char **argv, int *help,
	       berth_error **err)
{
	_cleanup_free_ struct option *long_opts = long_opts_new();
	int c, r;

	/* '-': options anywhere, as berth's commands take them, whatever
	 * POSIXLY_CORRECT says; an operand comes back as 1 and is refused. */
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "-:hc:", long_opts, NULL)) != -1) {
		const berth_serve_setting *st = setting_of(c);

		if (st && st->type == BERTH_SERVE_FILE &&
		    (r = berth_serve_config_load(cfg, optarg, err)) < 0)
			return r;
	}
	optind = 0;
	while ((c = getopt_long(argc, argv, "-:hc:", long_opts, NULL)) != -1) {
		const berth_serve_setting *st = setting_of(c);

		if (c == 1)
			return unexpected_argument(err, optarg);
		if (st && st->type == BERTH_SERVE_FILE)
			continue;
		if (st) {
			if ((r = berth_serve_config_set(
				     cfg, st->name, optarg ? optarg : "true",
				     err)) < 0)
				return r;
			continue;
		}
		switch (c) {
		case SRV_HELP:
		case SRV_HELP_MARKDOWN:
		case SRV_HELP_MAN:
		case SRV_HELP_OPTIONS:
			*help = c;
			return 0;
		case ':':
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			berth_error_set(err, BERTH_EUSAGE, 0,
					"unknown option '%s'",
					argv[optind - 1]);
			berth_error_hint(err, "see 'berth serve --help'");
			return BERTH_EUSAGE;
		}
	}
	if (optind < argc) /* after "--" */
		return unexpected_argument(err, argv[optind]);
	return 0;
}

/* Opening a storage that is not there would create an empty registry:
 * not what a subcommand's caller meant. */
static int
storage_exists(const char *storage, berth_error **err)
{
	_cleanup_free_ char *db = xasprintf("%s/metadata.db", storage);

	if (access(db, F_OK) == 0)
		return 0;
	berth_error_set(err, BERTH_EUSAGE, 0, "no registry storage at '%s'",
			storage);
	berth_error_hint(err, "give the server's --storage or --config");
	return BERTH_EUSAGE;
}

int
srv_subcommand_main(int argc, char **argv, const char *usage,
		    int (*run)(const berth_serve_config *cfg, bool dry_run,
			       berth_error **err))
{
	_cleanup_free_ char **av = xcalloc((size_t)argc + 1, sizeof(*av));
	berth_serve_config cfg;
	berth_log_level level;
	berth_error *err = NULL;
	bool dry_run = false;
	int n = 0, help = 0, r;

	berth_log_set_handler(srv_log_stderr, NULL);
	/* av[0] is the subcommand's name, as getopt wants it. */
	for (int i = 0; i < argc; i++) {
		if (i > 0 && strcmp(argv[i], "--dry-run") == 0) {
			dry_run = true;
			continue;
		}
		av[n++] = argv[i];
	}
	berth_serve_config_init(&cfg);
	r = srv_parse_args(&cfg, n, av, &help, &err);
	if (r == 0 && help)
		fputs(usage, stdout);
	else if (r == 0 && (r = berth_log_level_parse(&level, cfg.log_level,
						      &err)) == 0) {
		berth_log_set_level(level);
		r = storage_exists(cfg.storage, &err);
		if (r == 0)
			r = run(&cfg, dry_run, &err);
	}
	berth_serve_config_release(&cfg);
	return r < 0 ? srv_exit_status(err) : 0;
}
