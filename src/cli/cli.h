/* What the berth commands share: the context main() sets up, the command
 * table's shape, and the helpers of cli.c. */
#ifndef BERTH_CLI_CLI_H
#define BERTH_CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "berth/common.h"
#include "berth/config.h"
#include "berth/registry.h"
#include "berth/store.h"

typedef struct cli_ctx {
	char *root; /* the store's root: --root, BERTH_ROOT or the default */
	berth_store *store; /* opened on first use by cli_store() */
	unsigned store_flags;
	int verbose;
	berth_config config; /* loaded before the command runs (CLI_CONFIG) */
	bool config_loaded;
	berth_config_paths config_paths; /* from global flags */
	berth_registry_opts registry;	 /* what every registry client gets */
	const struct cli_command
		*commands; /* main's table, for the generators */
	size_t n_commands;
	const struct cli_usage *global; /* berth's own options */
	int exit_status; /* a command's status when it succeeds (0) */
} cli_ctx;

typedef int (*cli_fn)(cli_ctx *ctx, int argc, char **argv, berth_error **err);

/* cli_command.flags: what main() sets up before calling the command. */
#define CLI_CONFIG 1u /* load the client configuration into ctx->config */
#define CLI_HIDDEN 2u /* not in --help, the man pages or completion */
#define CLI_SERVER 4u /* its options are berth-serve's (cli_serve_options) */

/* cli_option.flags */
#define CLI_OPT_SHORT 1u    /* `key` is also the short option (-q) */
#define CLI_OPT_FILE 2u	    /* the value is a file (for completion) */
#define CLI_OPT_DIR 4u	    /* the value is a directory */
#define CLI_OPT_OPTIONAL 8u /* the value is optional: --name or --name=V */

/*
 * One option of a command: its getopt spec, its --help line, its man page
 * entry and its completion all come from here. A table ends with a row
 * whose name is NULL; every command also takes -h, --help.
 */
typedef struct cli_option {
	int key;	  /* what cli_getopt returns for it */
	const char *name; /* long name without "--" */
	const char *arg;  /* the value's name, or NULL for a flag */
	unsigned flags;
	const char *help;
} cli_option;

/* What a command's --help, man page and completion say. */
typedef struct cli_usage {
	const char *synopsis;	 /* after "berth NAME " */
	const char *description; /* paragraphs, "\n\n" between them */
	const cli_option *options;
	const char *args; /* completion of the operands: "file" or NULL */
} cli_usage;

typedef struct cli_command {
	const char *name;
	cli_fn fn;
	unsigned flags;
	const char *summary;
	const cli_usage *usage; /* NULL: the command documents itself */
} cli_command;

/*
 * getopt_long over a command's `opts`: the key of the next option, -1
 * after the last one, or a usage error naming `cmd` for an unknown option
 * or a missing value. Options are taken anywhere on the line, as docker
 * takes them, until "--"; at -1 argv holds the options first and the
 * operands after them in their order, argv[optind..argc). Start a parse
 * with optind = 0.
 */
int cli_getopt(const cli_option *opts, const char *cmd, int argc, char **argv,
	       berth_error **err);

/* cli_getopt for a command without options of its own (only -h, --help,
 * "--"): 0 with the operands at argv[optind..argc), or a usage error. */
int cli_getopt_none(const char *cmd, int argc, char **argv, berth_error **err);

/* getopt_long's answer itself (the key, 'h', '?' or -1), stopping at the
 * first operand: berth's own options, before the command's name. */
int cli_getopt_next(const cli_option *opts, int argc, char **argv);

/* A command's --help text, from its usage. */
void cli_usage_print(FILE *f, const char *name, const cli_usage *u);

/* Loads the configuration (once) and plugs it into ctx->registry. */
int cli_config(cli_ctx *ctx, berth_error **err);

/* The store, opened on first call with ctx->store_flags and the
 * configuration's (which it loads into ctx->config). */
int cli_store(cli_ctx *ctx, berth_store **out, berth_error **err);

/* A usage error (exit status 2) naming the command. */
int cli_usage_error(berth_error **err, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * What getopt_long's return `c` ('?' or ':')
 * says went wrong, as a message naming the option ("unknown option
 * '--bogus'"); the caller owns it. getopt's own messages are off
 * (opterr = 0), so this is the only one printed.
 */
char *cli_option_message(int c, char **argv);

/* The same as a usage error naming the command. */
int cli_option_error(berth_error **err, const char *cmd, int c, char **argv);

/* "12.3MB" the way docker prints sizes (decimal units). */
void cli_human_size(char *buf, size_t n, int64_t bytes);

/* A size as options take it: bytes, or a number with K, M, G or T (also
 * KiB/KB...; units of 1024). A usage error naming --option otherwise. */
int cli_parse_size(int64_t *out, const char *s, const char *cmd,
		   const char *option, berth_error **err);

/* The 12-hex short form docker prints for a digest. */
const char *cli_short_digest(const char *digest);

/* berth-serve, in the directory of the running berth. Caller frees. */
int cli_serve_path(char **out, berth_error **err);

/*
 * berth serve's options, as berth-serve lists them (--help-options): the
 * CLI cannot link the server's settings table, so it asks the program.
 * The table ends with a row whose name is NULL; free it with
 * cli_serve_options_free.
 */
int cli_serve_options(cli_option **out, berth_error **err);
void cli_serve_options_free(cli_option *opts);

int cmd_pull(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_images(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_inspect(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_tag(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_rmi(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_ls(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_import(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_push(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_copy(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_sync(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_fsck(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_save(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_load(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_serve(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_version(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_login(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_logout(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_config(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_ratelimit(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_completion(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_gen(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_unpack(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_manifest(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_key(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_sign(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_verify(cli_ctx *ctx, int argc, char **argv, berth_error **err);

/*
 * A private key's passphrase (caller frees with cli_passphrase_free):
 * the first line of `file` when given, else $COSIGN_PASSWORD when set,
 * else asked on the terminal (twice when `confirm`).
 */
int cli_passphrase(char **out, const char *file, bool confirm,
		   berth_error **err);
void cli_passphrase_free(char *p);

/* A key file (at most 64 KiB; a missing one hints 'berth key generate');
 * caller frees. */
int cli_read_key(char **out, size_t *len, const char *path, berth_error **err);
int cmd_scan(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_vercmp(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_sbom(cli_ctx *ctx, int argc, char **argv, berth_error **err);

extern const cli_usage cli_pull_usage, cli_push_usage, cli_images_usage,
	cli_inspect_usage, cli_tag_usage, cli_rmi_usage, cli_ls_usage,
	cli_import_usage, cli_fsck_usage, cli_login_usage, cli_logout_usage,
	cli_config_usage, cli_ratelimit_usage, cli_version_usage,
	cli_completion_usage, cli_save_usage, cli_load_usage;
extern const cli_usage cli_unpack_usage;
extern const cli_usage cli_copy_usage;
extern const cli_usage cli_sync_usage;
extern const cli_usage cli_manifest_usage;
extern const cli_usage cli_key_usage, cli_sign_usage, cli_verify_usage;
extern const cli_usage cli_scan_usage;
extern const cli_usage cli_sbom_usage;

/*
 * A registry as users write it for login ("docker.io", "host:5000",
 * "https://host:5000/v2/") to the host berth talks to (*api:
 * "registry-1.docker.io" for Docker Hub) and the name config.json is keyed
 * by (*name: "docker.io"). NULL or "" is Docker Hub. Callers free both.
 */
int cli_registry_host(const char *arg, char **api, char **name,
		      berth_error **err);

/* Prints `text` and returns 1 when argv asks for --help (or -h). */
bool cli_help(int argc, char **argv, const char *text);

/* cli_help with the text of a command's usage. */
bool cli_help_usage(int argc, char **argv, const char *name,
		    const cli_usage *u);

#endif
