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
	{"pull", cmd_pull, CLI_CONFIG, "Download an image from a registry",
	 &cli_pull_usage},
	{"push", cmd_push, CLI_CONFIG, "Upload a local image to its registry",
	 &cli_push_usage},
	{"copy", cmd_copy, CLI_CONFIG,
	 "Copy an image between registries and OCI layouts", &cli_copy_usage},
	{"sync", cmd_sync, CLI_CONFIG,
	 "Mirror every tag of repositories into a registry", &cli_sync_usage},
	{"images", cmd_images, 0, "List local images", &cli_images_usage},
	{"inspect", cmd_inspect, CLI_CONFIG,
	 "Show an image's details (local or --remote)", &cli_inspect_usage},
	{"tag", cmd_tag, 0, "Give a local image another name", &cli_tag_usage},
	{"rmi", cmd_rmi, 0, "Remove a local image", &cli_rmi_usage},
	{"ls", cmd_ls, CLI_CONFIG, "List a repository's tags on its registry",
	 &cli_ls_usage},
	{"import", cmd_import, 0,
	 "Make an image from a root file system tarball", &cli_import_usage},
	{"save", cmd_save, 0, "Write local images to a tar archive",
	 &cli_save_usage},
	{"load", cmd_load, 0, "Import images from a tar archive",
	 &cli_load_usage},
	{"unpack", cmd_unpack, 0, "Unpack a local image into a directory",
	 &cli_unpack_usage},
	{"sbom", cmd_sbom, 0,
	 "List the packages in a local image (SPDX or CycloneDX)",
	 &cli_sbom_usage},
	{"fsck", cmd_fsck, 0,
	 "Verify the local store and remove damaged content", &cli_fsck_usage},
	{"manifest", cmd_manifest, CLI_CONFIG,
	 "Create and push multi-platform manifest lists", &cli_manifest_usage},
	{"key", cmd_key, 0, "Generate a signing key pair (cosign's format)",
	 &cli_key_usage},
	{"sign", cmd_sign, CLI_CONFIG,
	 "Sign an image in its registry (cosign's format)", &cli_sign_usage},
	{"verify", cmd_verify, CLI_CONFIG,
	 "Check an image's signatures against a public key", &cli_verify_usage},
	{"login", cmd_login, CLI_CONFIG, "Log in to a registry",
	 &cli_login_usage},
	{"logout", cmd_logout, CLI_CONFIG, "Log out from a registry",
	 &cli_logout_usage},
	{"config", cmd_config, 0,
	 "Show the registry configuration, or --check a registry",
	 &cli_config_usage},
	{"ratelimit", cmd_ratelimit, CLI_CONFIG,
	 "Show a registry's pull quota (without spending it)",
	 &cli_ratelimit_usage},
	{"scan", cmd_scan, 0, "List the known vulnerabilities of an SBOM",
	 &cli_scan_usage},
	{"serve", cmd_serve, CLI_SERVER, "Run a registry server", NULL},
	{"completion", cmd_completion, 0,
	 "Print the bash or zsh completion script", &cli_completion_usage},
	{"version", cmd_version, 0, "Print the version", &cli_version_usage},
	/* Writes man pages and docs from these tables; not listed. */
	{"_gen", cmd_gen, CLI_HIDDEN, NULL, NULL},
	/* Orders version pairs, for the tests' oracles; not listed. */
	{"_vercmp", cmd_vercmp, CLI_HIDDEN, NULL, NULL},
};

enum {
	OPT_ROOT = 0x100,
	OPT_LOG_LEVEL,
	OPT_CONFIG,
	OPT_DAEMON_JSON,
	OPT_DOCKER_CONFIG,
	OPT_CERTS_D,
};

static const cli_option global_opts[] = {
	{OPT_ROOT, "root", "DIR", CLI_OPT_DIR,
	 "local store (env BERTH_ROOT; default ~/.local/share/berth, "
	 "/var/lib/berth as root)"},
	{OPT_CONFIG, "config", "FILE", CLI_OPT_FILE,
	 "berth's config file (env BERTH_CONFIG)"},
	{OPT_DAEMON_JSON, "daemon-json", "FILE", CLI_OPT_FILE,
	 "Docker's daemon.json (env BERTH_DAEMON_JSON; default "
	 "/etc/docker/daemon.json)"},
	{OPT_DOCKER_CONFIG, "docker-config", "DIR", CLI_OPT_DIR,
	 "directory of config.json (env DOCKER_CONFIG; default ~/.docker)"},
	{OPT_CERTS_D, "certs-d", "DIR", CLI_OPT_DIR,
	 "per-registry TLS files (env BERTH_CERTS_D; default "
	 "/etc/docker/certs.d)"},
	{OPT_LOG_LEVEL, "log-level", "LEVEL", 0, "error, warn, info or debug"},
	{'v', "verbose", NULL, CLI_OPT_SHORT, "same as --log-level info"},
	{0},
};

static const cli_usage global_usage = {
	"[OPTIONS] COMMAND [ARGS...]",
	"Container images, pulled from and served by registries.\n\n"
	"berth's options come before COMMAND; a command's options go "
	"anywhere after it, before or after its operands, and '--' ends "
	"them.",
	global_opts,
	NULL,
};

const cli_usage cli_version_usage = {"", "Print berth's version.", NULL, NULL};

static void
usage(FILE *f)
{
	cli_usage_print(f, NULL, &global_usage);
	fputs("\nCommands:\n", f);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(commands); i++)
		if (!(commands[i].flags & CLI_HIDDEN))
			fprintf(f, "  %-10s %s\n", commands[i].name,
				commands[i].summary);
	fputs("\nRun 'berth COMMAND --help' for a command's options.\n", f);
}

static void
log_to_stderr(berth_log_level level, const char *msg, void *ud)
{
	fprintf(stderr, "berth: %s: %s\n", berth_log_level_name(level), msg);
}

/* The signal that interrupted berth, or 0. */
static volatile sig_atomic_t interrupted;

/* The first Ctrl-C (or SIGTERM) stops transfers cleanly (partial downloads
 * are dropped, finished blobs kept) and ends waits on the store's lock; a
 * second one kills at once. */
static void
on_interrupt(int sig)
{
	interrupted = sig;
	signal(sig, SIG_DFL);
}

/* Exit status: -code (docs/errors.md); for an interrupt 128 + the signal
 * as shells do (130 for SIGINT, 143 for SIGTERM). */
static int
exit_status(int code)
{
	if (code == BERTH_EINTERRUPTED)
		return 128 + (interrupted ? interrupted : SIGINT);
	return code < 0 && code > -126 ? -code : 1;
}

int
cmd_version(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	int r;

	if (cli_help_usage(argc, argv, "version", &cli_version_usage))
		return 0;
	if ((r = cli_getopt_none("version", argc, argv, err)) < 0)
		return r;
	if (optind != argc)
		return cli_usage_error(err, "version",
				       "unexpected argument '%s'",
				       argv[optind]);
	printf("berth 0.1.0\n");
	return 0;
}

int
main(int argc, char **argv)
{
	cli_ctx ctx = {
		.config = BERTH_CONFIG_INIT,
		.config_paths = BERTH_CONFIG_PATHS_INIT,
		.registry = BERTH_REGISTRY_OPTS_INIT,
	};
	berth_error *err = NULL;
	const cli_command *cmd = NULL;
	berth_log_level level = BERTH_LOG_WARN;
	int c, r;

	/* One message for a bad option: berth's, not getopt's as well. */
	opterr = 0;
	/* '+': stop at the command name; its options are its own. */
	while ((c = cli_getopt_next(global_opts, argc, argv)) != -1) {
		switch (c) {
		case OPT_ROOT:
			free(ctx.root);
			ctx.root = xstrdup(optarg);
			break;
		case OPT_LOG_LEVEL:
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
		case OPT_CONFIG:
			ctx.config_paths.config = optarg;
			break;
		case OPT_DAEMON_JSON:
			ctx.config_paths.daemon_json = optarg;
			break;
		case OPT_DOCKER_CONFIG:
			ctx.config_paths.docker_config = optarg;
			break;
		case OPT_CERTS_D:
			ctx.config_paths.certs_d = optarg;
			break;
		default: {
			_cleanup_free_ char *msg = cli_option_message(c, argv);

			fprintf(stderr, "berth: %s\nhint: see 'berth --help'\n",
				msg);
			return 2;
		}
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
		fprintf(stderr,
			"berth: unknown command '%s'\n"
			"hint: run 'berth --help' for the list\n",
			argv[optind]);
		return 2;
	}
	berth_log_set_handler(log_to_stderr, NULL);
	berth_log_set_level(level);
	ctx.commands = commands;
	ctx.n_commands = BERTH_ARRAY_SIZE(commands);
	ctx.global = &global_usage;
	if (ctx.root == NULL) {
		const char *env = getenv("BERTH_ROOT");

		ctx.root =
			env && *env ? xstrdup(env) : berth_store_default_root();
	}

	ctx.registry.interrupt = &interrupted;
	signal(SIGINT, on_interrupt);
	signal(SIGTERM, on_interrupt);
	/* Transfers run with CURLOPT_NOSIGNAL: a closed peer must not kill us.
	 */
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
	return r < 0 ? exit_status(r) : ctx.exit_status;
}
