/* What the berth commands share: the context main() sets up, the command
 * table's shape, and small printing helpers. */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

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
	berth_config config; /* loaded by cli_store() */
	berth_registry_opts registry; /* what every registry client gets */
} cli_ctx;

typedef int (*cli_fn)(cli_ctx *ctx, int argc, char **argv, berth_error **err);

typedef struct cli_command {
	const char *name;
	cli_fn fn;
	const char *summary;
} cli_command;

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

/* Prints `text` and returns 1 when argv asks for --help (or -h). */
bool cli_help(int argc, char **argv, const char *text);

#endif
