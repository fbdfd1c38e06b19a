/* What the berth commands share: the context main() sets up, the command
 * table's shape, and the helpers of cli.c. */
#ifndef BERTH_CLI_CLI_H
#define BERTH_CLI_CLI_H

#include <stdbool.h>

#include "berth/common.h"
#include "berth/config.h"
#include "berth/registry.h"
#include "berth/store.h"

typedef struct cli_ctx {
	char *root;          /* the store's root: --root, BERTH_ROOT or the default */
	berth_store *store;  /* opened on first use by cli_store() */
	unsigned store_flags;
	int verbose;
	berth_config config; /* loaded before the command runs (CLI_CONFIG) */
	bool config_loaded;
	berth_config_paths config_paths; /* from global flags */
	berth_registry_opts registry; /* what every registry client gets */
} cli_ctx;

typedef int (*cli_fn)(cli_ctx *ctx, int argc, char **argv, berth_error **err);

/* cli_command.flags: what main() sets up before calling the command. */
#define CLI_CONFIG 1u /* load the client configuration into ctx->config */

typedef struct cli_command {
	const char *name;
	cli_fn fn;
	unsigned flags;
	const char *summary;
} cli_command;

/* Loads the configuration (once) and plugs it into ctx->registry. */
int cli_config(cli_ctx *ctx, berth_error **err);

/* The store, opened on first call with ctx->store_flags and the
 * configuration's (which it loads into ctx->config). */
int cli_store(cli_ctx *ctx, berth_store **out, berth_error **err);

/* A usage error (exit status 2) naming the command. */
int cli_usage_error(berth_error **err, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "12.3MB" the way docker prints sizes (decimal units). */
void cli_human_size(char *buf, size_t n, int64_t bytes);

/* The 12-hex short form docker prints for a digest. */
const char *cli_short_digest(const char *digest);

int cmd_pull(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_images(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_inspect(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_tag(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_rmi(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_ls(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_import(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_push(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_fsck(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_serve(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_version(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_login(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_logout(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_config(cli_ctx *ctx, int argc, char **argv, berth_error **err);
int cmd_ratelimit(cli_ctx *ctx, int argc, char **argv, berth_error **err);

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

#endif
