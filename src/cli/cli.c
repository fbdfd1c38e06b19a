/*
 * What the commands share, below main.c and every cmd_<name>.c: the
 * configuration and the store opened on first use, usage errors, --help,
 * and docker's ways of printing sizes and digests.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

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
		/* Ctrl-C ends a wait on the store's lock, changing nothing. */
		berth_store_set_interrupt(ctx->store, ctx->registry.interrupt);
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
	berth_error_hint(err, "see 'berth %s --help'", cmd);
	return BERTH_EUSAGE;
}

char *
cli_option_message(int c, char **argv)
{
	const char *arg = argv[optind - 1];
	bool is_long = strncmp(arg, "--", 2) == 0;

	if (c == ':')
		return xasprintf("option '%s' needs a value", arg);
	/* optopt is 0 for an unknown long option, the option otherwise. */
	if (optopt && is_long && strchr(arg, '='))
		return xasprintf("option '%.*s' takes no value",
				 (int)strcspn(arg, "="), arg);
	if (optopt)
		return xasprintf("unknown option '-%c'", optopt);
	return xasprintf("unknown option '%.*s'", (int)strcspn(arg, "="), arg);
}

int
cli_option_error(berth_error **err, const char *cmd, int c, char **argv)
{
	_cleanup_free_ char *msg = cli_option_message(c, argv);

	return cli_usage_error(err, cmd, "%s", msg);
}

bool
cli_help(int argc, char **argv, const char *text)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
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

int
cli_parse_size(int64_t *out, const char *s, const char *cmd, const char *option,
	       berth_error **err)
{
	static const char units[] = "KMGT";
	char *end;
	unsigned long long v;
	const char *u;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s >= '0' && *s <= '9' && errno == 0 && *end &&
	    (u = strchr(units, *end)) != NULL) {
		shift = 10 * (int)(u - units + 1);
		end += (strcmp(end + 1, "iB") == 0 || strcmp(end + 1, "B") == 0)
			       ? (end[1] == 'i' ? 3 : 2)
			       : 1;
	}
	if (*s < '0' || *s > '9' || errno || *end || v == 0 ||
	    v > (unsigned long long)INT64_MAX >> shift)
		return cli_usage_error(
			err, cmd,
			"invalid --%s '%s': expected a size "
			"such as 512M, 20G or 1T (units of 1024)",
			option, s);
	*out = (int64_t)(v << shift);
	return 0;
}

const char *
cli_short_digest(const char *digest)
{
	static __thread char buf[13];
	const char *hex = strchr(digest, ':');

	snprintf(buf, sizeof(buf), "%s", hex ? hex + 1 : digest);
	return buf;
}
