/*
 * Commands' option tables: the getopt_long spec and the --help text are
 * made from them (man pages and completion in gen.c), so that an option
 * is written once.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/error.h"
#include "util/wrap.h"

#define OPTS_MAX 32
#define HELP_WIDTH 78

static const cli_option help_opt = {'h', "help", NULL, CLI_OPT_SHORT,
				    "this help"};

/* getopt_long over `opts` with the optstring's first character `mode`. */
static int
getopt_table(const cli_option *opts, char mode, int argc, char **argv)
{
	struct option longs[OPTS_MAX + 2];
	char shorts[2 * OPTS_MAX + 4] = {mode, ':', 'h'};
	size_t n = 0, ns = strlen(shorts);

	for (const cli_option *o = opts; o && o->name; o++) {
		longs[n++] = (struct option){o->name,
					     !o->arg ? no_argument
					     : o->flags & CLI_OPT_OPTIONAL
						     ? optional_argument
						     : required_argument,
					     NULL, o->key};
		if (o->flags & CLI_OPT_SHORT) {
			shorts[ns++] = (char)o->key;
			if (o->arg)
				shorts[ns++] = ':';
		}
	}
	longs[n++] = (struct option){"help", no_argument, NULL, 'h'};
	longs[n] = (struct option){NULL, 0, NULL, 0};
	shorts[ns] = '\0';
	/* One message for a bad option: berth's, not getopt's as well. */
	opterr = 0;
	return getopt_long(argc, argv, shorts, longs, NULL);
}

int
cli_getopt_next(const cli_option *opts, int argc, char **argv)
{
	return getopt_table(opts, '+', argc, argv);
}

/*
 * Moves argv[from..to) (an option and its value, both parsed) in front of
 * the `operands` operands just before them, so that argv keeps options
 * first and operands after them, each in the order given.
 */
static void
move_before_operands(char **argv, int from, int to, int operands)
{
	for (int i = from; i < to; i++) {
		char *opt = argv[i];

		memmove(&argv[i - operands + 1], &argv[i - operands],
			(size_t)operands * sizeof(*argv));
		argv[i - operands] = opt;
	}
}

int
cli_getopt(const cli_option *opts, const char *cmd, int argc, char **argv,
	   berth_error **err)
{
	/* Where the last call left optind, and how many operands precede it
	 * (argv[done - operands..done)); reset with optind = 0. */
	static int done, operands;
	int c;

	if (optind == 0) {
		done = 1;
		operands = 0;
	}
	/* '-': operands come back as 1, in order, whatever POSIXLY_CORRECT
	 * says, so that options are taken anywhere until "--". */
	while ((c = getopt_table(opts, '-', argc, argv)) == 1) {
		operands++;
		done = optind;
	}
	if (c == '?' || c == ':')
		return cli_option_error(err, cmd, c, argv);
	if (c == 'h') /* answered by cli_help_usage before parsing */
		return cli_usage_error(err, cmd, "unexpected option '-h'");
	/* The parsed option (or the "--" that ended them), in front of the
	 * operands met so far; optind may not have moved yet inside "-qa". */
	if (optind > done) {
		move_before_operands(argv, done, optind, operands);
		done = optind;
	}
	if (c == -1)
		optind -= operands; /* the first operand */
	return c;
}

int
cli_getopt_none(const char *cmd, int argc, char **argv, berth_error **err)
{
	int c = cli_getopt(NULL, cmd, argc, argv, err);

	return c == -1 ? 0 : c;
}

/* "-q, --quiet" or "--platform P". */
static int
put_label(FILE *f, const cli_option *o)
{
	int n = fprintf(f, "  ");

	if (o->flags & CLI_OPT_SHORT)
		n += fprintf(f, "-%c, ", o->key);
	n += fprintf(f, "--%s", o->name);
	if (o->arg && (o->flags & CLI_OPT_OPTIONAL))
		n += fprintf(f, "[=%s]", o->arg);
	else if (o->arg)
		n += fprintf(f, " %s", o->arg);
	return n;
}

static int
label_width(const cli_option *o)
{
	return 2 + (o->flags & CLI_OPT_SHORT ? 4 : 0) + 2 +
	       (int)strlen(o->name) + (o->arg ? 1 + (int)strlen(o->arg) : 0) +
	       (o->arg && (o->flags & CLI_OPT_OPTIONAL) ? 2 : 0);
}

void
cli_usage_print(FILE *f, const char *name, const cli_usage *u)
{
	int col = label_width(&help_opt);

	fprintf(f, "Usage: berth%s%s%s%s\n\n", name ? " " : "",
		name ? name : "", *u->synopsis ? " " : "", u->synopsis);
	for (const char *p = u->description; *p;) {
		size_t len = strcspn(p, "\n");
		char para[1024];

		snprintf(para, sizeof(para), "%.*s", (int)len, p);
		if (*para)
			berth_wrap_put(f, para, 0, 0, HELP_WIDTH - 6);
		else
			fputc('\n', f);
		p += len;
		if (*p)
			p++;
	}
	for (const cli_option *o = u->options; o && o->name; o++)
		if (label_width(o) > col && label_width(o) <= 32)
			col = label_width(o);
	col += 3;
	fputs("\nOptions:\n", f);
	for (const cli_option *o = u->options; o && o->name; o++)
		berth_wrap_put(f, o->help, put_label(f, o), col, HELP_WIDTH);
	berth_wrap_put(f, help_opt.help, put_label(f, &help_opt), col,
		       HELP_WIDTH);
}

bool
cli_help_usage(int argc, char **argv, const char *name, const cli_usage *u)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			cli_usage_print(stdout, name, u);
			return true;
		}
	}
	return false;
}
