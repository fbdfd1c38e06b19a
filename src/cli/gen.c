/*
 * What the command and option tables generate besides --help: man pages
 * (`berth _gen man DIR`, run by `make man`) and the bash and zsh
 * completion scripts (`berth completion bash|zsh`), and the table of
 * config keys in docs/config.md (`berth _gen config-keys`, from the
 * library's berth_config_key_at). The command tables come in
 * through the context, so that this file needs nothing from main.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "berth/log.h"
#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/roff.h"
#include "util/xalloc.h"

const cli_usage cli_completion_usage = {
	"bash|zsh",
	"Print the completion script of a shell. For bash: "
	"source <(berth completion bash); for zsh, save 'berth completion "
	"zsh' as _berth in a directory of $fpath.",
	NULL,
	NULL,
};

static void
man_options(FILE *f, const cli_option *opts)
{
	for (const cli_option *o = opts; o && o->name; o++)
		berth_roff_option(f, o->flags & CLI_OPT_SHORT ? o->key : 0,
				  "--", o->name, o->arg, o->help);
	berth_roff_option(f, 'h', "--", "help", NULL, "this help");
}

static void
man_description(FILE *f, const char *d)
{
	fputs(".SH DESCRIPTION\n", f);
	for (const char *p = d; *p;) {
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *line = xstrndup(p, len);

		if (*line) {
			berth_roff_put(f, line);
			fputc('\n', f);
		} else {
			fputs(".PP\n", f);
		}
		p += len;
		if (*p)
			p++;
	}
}

static void
man_page(FILE *f, const cli_command *c)
{
	_cleanup_free_ char *upper = xasprintf("BERTH-%s", c->name);

	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	berth_roff_head(f, upper);
	fprintf(f, ".SH NAME\nberth\\-%s \\- ", c->name);
	berth_roff_put(f, c->summary);
	fprintf(f, "\n.SH SYNOPSIS\n.B berth %s\n", c->name);
	berth_roff_put(f, c->usage->synopsis);
	fputc('\n', f);
	man_description(f, c->usage->description);
	fputs(".SH OPTIONS\n", f);
	man_options(f, c->usage->options);
	fputs(".SH SEE ALSO\n.BR berth (1)\n", f);
}

static void
man_berth(FILE *f, const cli_ctx *ctx)
{
	berth_roff_head(f, "BERTH");
	fputs(".SH NAME\nberth \\- container images, pulled from and served by "
	      "registries\n.SH SYNOPSIS\n.B berth\n",
	      f);
	berth_roff_put(f, ctx->global->synopsis);
	fputc('\n', f);
	man_description(f, ctx->global->description);
	fputs(".SH OPTIONS\n", f);
	man_options(f, ctx->global->options);
	fputs(".SH COMMANDS\n", f);
	for (size_t i = 0; i < ctx->n_commands; i++) {
		const cli_command *c = &ctx->commands[i];

		if (c->flags & CLI_HIDDEN)
			continue;
		fprintf(f, ".TP\n.BR berth\\-%s (1)\n", c->name);
		berth_roff_put(f, c->summary);
		fputc('\n', f);
	}
}

static int
write_page(const char *dir, const char *name, const cli_ctx *ctx,
	   const cli_command *c, berth_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s.1", dir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot write '%s': %s", path,
				       strerror(errno));
	if (c)
		man_page(f, c);
	else
		man_berth(f, ctx);
	if (fclose(f) != 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot write '%s': %s", path,
				       strerror(errno));
	return 0;
}

static int
gen_man(const cli_ctx *ctx, const char *dir, berth_error **err)
{
	int r = write_page(dir, "berth", ctx, NULL, err);

	for (size_t i = 0; r == 0 && i < ctx->n_commands; i++) {
		const cli_command *c = &ctx->commands[i];
		_cleanup_free_ char *name = NULL;

		if ((c->flags & CLI_HIDDEN) || c->usage == NULL)
			continue;
		name = xasprintf("berth-%s", c->name);
		r = write_page(dir, name, ctx, c, err);
	}
	return r;
}

/* The long and short spellings of a table's options and -h --help,
 * space-separated. */
static void
words(FILE *f, const cli_option *opts)
{
	for (const cli_option *o = opts; o && o->name; o++) {
		if (o->flags & CLI_OPT_SHORT)
			fprintf(f, "-%c ", o->key);
		fprintf(f, "--%s ", o->name);
	}
	fputs("-h --help", f);
}

/* The options taking a value, as a case pattern. */
static void
value_pattern(FILE *f, const cli_option *opts)
{
	const char *sep = "";

	for (const cli_option *o = opts; o && o->name; o++) {
		if (o->arg == NULL)
			continue;
		if (o->flags & CLI_OPT_SHORT) {
			fprintf(f, "%s-%c", sep, o->key);
			sep = "|";
		}
		fprintf(f, "%s--%s", sep, o->name);
		sep = "|";
	}
}

static void
bash_values(FILE *f, const cli_option *opts, const char *indent)
{
	for (const cli_option *o = opts; o && o->name; o++) {
		if (o->arg == NULL)
			continue;
		fputs(indent, f);
		if (o->flags & CLI_OPT_SHORT)
			fprintf(f, "-%c|", o->key);
		fprintf(f, "--%s) COMPREPLY=(%s); return ;;\n", o->name,
			o->flags & CLI_OPT_DIR	  ? "$(compgen -d -- \"$cur\")"
			: o->flags & CLI_OPT_FILE ? "$(compgen -f -- \"$cur\")"
						  : "");
	}
}

/* What the completion knows of a command: its usage, berth-serve's
 * options for serve, or nothing. */
static const cli_usage *
usage_of(const cli_command *c, const cli_usage *serve)
{
	if (c->flags & CLI_HIDDEN)
		return NULL;
	return c->flags & CLI_SERVER ? serve : c->usage;
}

static void
bash(FILE *f, const cli_ctx *ctx, const cli_usage *serve)
{
	fputs("# bash completion for berth (berth completion bash)\n"
	      "_berth() {\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} "
	      "prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "\tlocal i cmd= opts\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tcase ${COMP_WORDS[i]} in\n\t\t",
	      f);
	value_pattern(f, ctx->global->options);
	fputs(") ((i++)) ;;\n"
	      "\t\t-*) ;;\n"
	      "\t\t*) cmd=${COMP_WORDS[i]}; break ;;\n"
	      "\t\tesac\n"
	      "\tdone\n"
	      "\tcase $cmd in\n"
	      "\t'')\n"
	      "\t\tcase $prev in\n",
	      f);
	bash_values(f, ctx->global->options, "\t\t");
	fputs("\t\tesac\n\t\tif [[ $cur == -* ]]; then\n"
	      "\t\t\tCOMPREPLY=($(compgen -W '",
	      f);
	words(f, ctx->global->options);
	fputs("' -- \"$cur\"))\n\t\telse\n\t\t\tCOMPREPLY=($(compgen -W '", f);
	for (size_t i = 0; i < ctx->n_commands; i++)
		if (!(ctx->commands[i].flags & CLI_HIDDEN))
			fprintf(f, "%s ", ctx->commands[i].name);
	fputs("' -- \"$cur\"))\n\t\tfi ;;\n", f);
	for (size_t i = 0; i < ctx->n_commands; i++) {
		const cli_command *c = &ctx->commands[i];
		const cli_usage *u = usage_of(c, serve);

		if (u == NULL)
			continue;
		fprintf(f, "\t%s)\n\t\tcase $prev in\n", c->name);
		bash_values(f, u->options, "\t\t");
		fputs("\t\tesac\n\t\tif [[ $cur == -* ]]; then\n"
		      "\t\t\tCOMPREPLY=($(compgen -W '",
		      f);
		words(f, u->options);
		fprintf(f, "' -- \"$cur\"))\n");
		if (u->args && strcmp(u->args, "file") == 0)
			fputs("\t\telse\n\t\t\tCOMPREPLY=($(compgen -f -- "
			      "\"$cur\"))\n",
			      f);
		fputs("\t\tfi ;;\n", f);
	}
	fputs("\tesac\n}\ncomplete -o filenames -F _berth berth\n", f);
}

/* Text inside a zsh _arguments spec, itself in single quotes. */
static void
zsh_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else if (*s == '[' || *s == ']' || *s == ':' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else
			fputc(*s, f);
	}
}

static void
zsh_option(FILE *f, const cli_option *o, const char *indent)
{
	const char *action = o->flags & CLI_OPT_DIR    ? "_files -/"
			     : o->flags & CLI_OPT_FILE ? "_files"
						       : "";

	fputs(indent, f);
	if (o->flags & CLI_OPT_SHORT)
		fprintf(f, "'(-%c --%s)'{-%c,--%s}'", o->key, o->name, o->key,
			o->name);
	else
		fprintf(f, "'--%s", o->name);
	fputc('[', f);
	zsh_text(f, o->help);
	fputc(']', f);
	if (o->arg) {
		fputc(':', f);
		zsh_text(f, o->arg);
		fprintf(f, ":%s", action);
	}
	fputs("' \\\n", f);
}

static void
zsh_options(FILE *f, const cli_option *opts, const char *indent)
{
	for (const cli_option *o = opts; o && o->name; o++)
		zsh_option(f, o, indent);
	fprintf(f, "%s'(-h --help)'{-h,--help}'[this help]' \\\n", indent);
}

static void
zsh(FILE *f, const cli_ctx *ctx, const cli_usage *serve)
{
	fputs("#compdef berth\n"
	      "# zsh completion for berth (berth completion zsh)\n"
	      "_berth() {\n"
	      "\tlocal curcontext=$curcontext state line ret=1\n"
	      "\tlocal -a commands\n"
	      "\tcommands=(\n",
	      f);
	for (size_t i = 0; i < ctx->n_commands; i++) {
		const cli_command *c = &ctx->commands[i];

		if (c->flags & CLI_HIDDEN)
			continue;
		fprintf(f, "\t\t'%s:", c->name);
		zsh_text(f, c->summary);
		fputs("'\n", f);
	}
	fputs("\t)\n\t_arguments -C \\\n", f);
	zsh_options(f, ctx->global->options, "\t\t");
	fputs("\t\t'1:command:->command' \\\n"
	      "\t\t'*::argument:->argument' && ret=0\n"
	      "\tcase $state in\n"
	      "\tcommand) _describe -t commands command commands && ret=0 ;;\n"
	      "\targument)\n"
	      "\t\tcase $line[1] in\n",
	      f);
	for (size_t i = 0; i < ctx->n_commands; i++) {
		const cli_command *c = &ctx->commands[i];
		const cli_usage *u = usage_of(c, serve);

		if (u == NULL)
			continue;
		fprintf(f, "\t\t%s)\n\t\t\t_arguments \\\n", c->name);
		zsh_options(f, u->options, "\t\t\t\t");
		fprintf(f, "\t\t\t\t'*:argument:%s' && ret=0 ;;\n",
			u->args ? "_files" : "");
	}
	fputs("\t\tesac ;;\n\tesac\n\treturn ret\n}\n_berth \"$@\"\n", f);
}

int
cmd_completion(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	cli_option *serve_opts = NULL;
	cli_usage serve = {"[OPTIONS]", NULL, NULL, NULL};
	berth_error *serr = NULL;
	bool is_bash;
	int r;

	if (cli_help_usage(argc, argv, "completion", &cli_completion_usage))
		return 0;
	if ((r = cli_getopt_none("completion", argc, argv, err)) < 0)
		return r;
	is_bash = argc - optind == 1 && strcmp(argv[optind], "bash") == 0;
	if (!is_bash &&
	    !(argc - optind == 1 && strcmp(argv[optind], "zsh") == 0))
		return cli_usage_error(err, "completion",
				       "expected 'bash' or 'zsh'");
	/* Without berth-serve, serve completes -h and --help only: the rest
	 * of the script is still worth having. */
	if (cli_serve_options(&serve_opts, &serr) < 0) {
		berth_log(BERTH_LOG_WARN,
			  "%s; 'berth serve' completes no options", serr->msg);
		berth_error_free(serr);
	}
	serve.options = serve_opts;
	if (is_bash)
		bash(stdout, ctx, &serve);
	else
		zsh(stdout, ctx, &serve);
	cli_serve_options_free(serve_opts);
	return 0;
}

/* A Markdown table cell: '|' would end it. */
static void
md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

/* docs/config.md's table of the keys, from the library's own. */
static void
gen_config_keys(FILE *f)
{
	static const char *const types[] = {
		[BERTH_CONFIG_KEY_BOOL] = "true or false",
		[BERTH_CONFIG_KEY_COUNT] = "number",
		[BERTH_CONFIG_KEY_SECONDS] = "seconds",
		[BERTH_CONFIG_KEY_STRINGS] = "list of strings",
		[BERTH_CONFIG_KEY_OBJECT] = "object",
	};
	const berth_config_key *k;

	fputs("| key | file | type | default | limits | meaning |\n"
	      "|---|---|---|---|---|---|\n",
	      f);
	for (size_t i = 0; (k = berth_config_key_at(i)); i++) {
		fprintf(f, "| `%s` | %s | %s | ", k->key,
			k->docker ? "daemon.json, berth's" : "berth's",
			types[k->type]);
		if (k->deflt)
			fprintf(f, "`%s`", k->deflt);
		else
			fputs("none", f);
		fputs(" | ", f);
		if (k->type == BERTH_CONFIG_KEY_COUNT ||
		    k->type == BERTH_CONFIG_KEY_SECONDS)
			fprintf(f, "%ld to %ld", k->min, k->max);
		fputs(" | ", f);
		md_cell(f, k->help);
		fputs(" |\n", f);
	}
}

int
cmd_gen(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	if (argc == 3 && strcmp(argv[1], "man") == 0)
		return gen_man(ctx, argv[2], err);
	if (argc == 2 && strcmp(argv[1], "config-keys") == 0) {
		gen_config_keys(stdout);
		return 0;
	}
	return cli_usage_error(err, "_gen",
			       "expected 'man DIR' or 'config-keys'");
}
