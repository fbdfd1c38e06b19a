/*
 * berth: parse global options, find the command in the table, run it,
 * report its error once and map it to the documented exit status.
 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static const cli_command commands[] = {
	{"pull", cmd_pull, CLI_CONFIG, "Download an image from a registry"},
	{"push", cmd_push, CLI_CONFIG, "Upload a local image to its registry"},
	{"images", cmd_images, 0, "List local images"},
	{"inspect", cmd_inspect, CLI_CONFIG,
	 "Show an image's details (local or --remote)"},
	{"tag", cmd_tag, 0, "Give a local image another name"},
	{"rmi", cmd_rmi, 0, "Remove a local image"},
	{"ls", cmd_ls, CLI_CONFIG, "List a repository's tags on its registry"},
	{"import", cmd_import, 0,
	 "Make an image from a root file system tarball"},
	{"fsck", cmd_fsck, 0,
	 "Verify the local store and remove damaged content"},
	{"login", cmd_login, CLI_CONFIG, "Log in to a registry"},
	{"logout", cmd_logout, CLI_CONFIG, "Log out from a registry"},
	{"config", cmd_config, 0,
	 "Show the registry configuration, or --check a registry"},
	{"ratelimit", cmd_ratelimit, CLI_CONFIG,
	 "Show a registry's pull quota (without spending it)"},
	{"serve", cmd_serve, 0, "Run a registry server"},
	{"version", cmd_version, 0, "Print the version"},
};

static void
usage(FILE *f)
{
	fputs("Usage: berth [OPTIONS] COMMAND [ARGS...]\n\n"
	      "Container images, pulled from and served by registries.\n\n"
	      "Options:\n"
	      "  --root DIR         local store (env BERTH_ROOT; default\n"
	      "                     ~/.local/share/berth, /var/lib/berth as root)\n"
	      "  --config FILE      berth's config file (env BERTH_CONFIG)\n"
	      "  --daemon-json FILE Docker's daemon.json (env BERTH_DAEMON_JSON;\n"
	      "                     default /etc/docker/daemon.json)\n"
	      "  --docker-config DIR  directory of config.json (env DOCKER_CONFIG;\n"
	      "                     default ~/.docker)\n"
	      "  --certs-d DIR      per-registry TLS files (env BERTH_CERTS_D;\n"
	      "                     default /etc/docker/certs.d)\n"
	      "  --log-level LEVEL  error, warn, info or debug\n"
	      "  -v, --verbose      same as --log-level info\n"
	      "  -h, --help         this help\n\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nRun 'berth COMMAND --help' for a command's options.\n", f);
}

static void
log_to_stderr(berth_log_level level, const char *msg, void *ud)
{
	fprintf(stderr, "berth: %s: %s\n", berth_log_level_name(level), msg);
}

int
cli_config(cli_ctx *ctx, berth_error **err)
{
	int r;

	if (ctx->config_loaded)
		return 0;
	r = berth_config_load_paths(&ctx->config, &ctx->config_paths, err);
	if (r < 0)
		return r;
	ctx->config_loaded = true;
	ctx->registry.config = &ctx->config;
	return 0;
}

int
cli_store(cli_ctx *ctx, berth_store **out, berth_error **err)
{
	if (ctx->store == NULL) {
		int r = cli_config(ctx, err);

		if (r < 0)
			return r;
		if (ctx->config.sync)
			ctx->store_flags |= BERTH_STORE_SYNC;
		r = berth_store_open(&ctx->store, ctx->root, ctx->store_flags,
				     err);
		if (r < 0)
			return r;
	}
	*out = ctx->store;
	return 0;
}

int
cli_usage_error(berth_error **err, const char *cmd, const char *fmt, ...)
{
	va_list ap;
	_cleanup_free_ char *msg = NULL;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	berth_error_set(err, BERTH_EUSAGE, 0, "%s", msg);
	return berth_error_hint(err, "see 'berth %s --help'", cmd);
}

bool
cli_help(int argc, char **argv, const char *text)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(text, stdout);
			return true;
		}
	}
	return false;
}

void
cli_human_size(char *buf, size_t n, int64_t bytes)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1000 && u + 1 < BERTH_ARRAY_SIZE(units)) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%lldB", (long long)bytes);
	else
		snprintf(buf, n, "%.3g%s", v, units[u]);
}

const char *
cli_short_digest(const char *digest)
{
	static __thread char buf[13];
	const char *hex = strchr(digest, ':');

	snprintf(buf, sizeof(buf), "%s", hex ? hex + 1 : digest);
	return buf;
}

static volatile sig_atomic_t interrupted;

/* The first Ctrl-C stops transfers cleanly (partial downloads are dropped,
 * finished blobs kept); a second one kills at once. */
static void
on_interrupt(int sig)
{
	interrupted = 1;
	signal(sig, SIG_DFL);
}

/* Exit status: -code (docs/errors.md), 130 for an interrupt as shells do. */
static int
exit_status(int code)
{
	if (code == BERTH_EINTERRUPTED)
		return 130;
	return code < 0 && code > -126 ? -code : 1;
}

int
cmd_version(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	if (cli_help(argc, argv, "Usage: berth version\n"))
		return 0;
	printf("berth 0.1.0\n");
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},
		{"log-level", required_argument, NULL, 'l'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"config", required_argument, NULL, 'C'},
		{"daemon-json", required_argument, NULL, 'D'},
		{"docker-config", required_argument, NULL, 'K'},
		{"certs-d", required_argument, NULL, 'T'},
		{NULL, 0, NULL, 0},
	};
	cli_ctx ctx = {0};
	berth_error *err = NULL;
	const cli_command *cmd = NULL;
	berth_log_level level = BERTH_LOG_WARN;
	int c, r;

	/* '+': stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			free(ctx.root);
			ctx.root = xstrdup(optarg);
			break;
		case 'l':
			if (berth_log_level_parse(&level, optarg, &err) < 0) {
				fprintf(stderr, "berth: %s\nhint: %s\n",
					err->msg, err->hint);
				berth_error_free(err);
				return 2;
			}
			break;
		case 'v':
			level = BERTH_LOG_INFO;
			ctx.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'C':
			ctx.config_paths.config = optarg;
			break;
		case 'D':
			ctx.config_paths.daemon_json = optarg;
			break;
		case 'K':
			ctx.config_paths.docker_config = optarg;
			break;
		case 'T':
			ctx.config_paths.certs_d = optarg;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(commands); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		fprintf(stderr, "berth: unknown command '%s'\n"
				"hint: run 'berth --help' for the list\n",
			argv[optind]);
		return 2;
	}
	berth_log_set_handler(log_to_stderr, NULL);
	berth_log_set_level(level);
	if (ctx.root == NULL) {
		const char *env = getenv("BERTH_ROOT");

		ctx.root = env && *env ? xstrdup(env) : berth_store_default_root();
	}

	ctx.registry.plain_http = -1;
	ctx.registry.interrupt = &interrupted;
	signal(SIGINT, on_interrupt);
	signal(SIGTERM, on_interrupt);
	/* Transfers run with CURLOPT_NOSIGNAL: a closed peer must not kill us. */
	signal(SIGPIPE, SIG_IGN);

	argc -= optind;
	argv += optind;
	optind = 0; /* reset getopt for the command */
	r = 0;
	if ((cmd->flags & CLI_CONFIG) && !cli_help(argc, argv, ""))
		r = cli_config(&ctx, &err);
	if (r == 0)
		r = cmd->fn(&ctx, argc, argv, &err);
	if (r < 0) {
		fflush(stdout);
		fprintf(stderr, "berth: %s\n", err ? err->msg : "failed");
		if (err && err->hint)
			fprintf(stderr, "hint: %s\n", err->hint);
	}
	berth_error_free(err);
	berth_store_free(ctx.store);
	berth_config_release(&ctx.config);
	free(ctx.root);
	return r < 0 ? exit_status(r) : 0;
}
