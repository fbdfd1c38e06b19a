/*
 * berth login / logout: docker login's interface. Credentials are checked
 * against the registry's /v2/ (Basic or the token flow) before they are
 * stored, in config.json exactly as docker writes it or through the
 * configured credential helper.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "berth/ref.h"
#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define SECRET_MAX 4096

enum { OPT_PASSWORD_STDIN = 0x100 };

static const cli_option login_opts[] = {
	{'u', "username", "USER", CLI_OPT_SHORT,
	 "user name (asked for on a terminal)"},
	{'p', "password", "PASS", CLI_OPT_SHORT,
	 "password (visible to other users: prefer --password-stdin)"},
	{OPT_PASSWORD_STDIN, "password-stdin", NULL, 0,
	 "read the password from standard input"},
	{0},
};

const cli_usage cli_login_usage = {
	"[OPTIONS] [SERVER]",
	"Log in to a registry (default: Docker Hub). The credentials are "
	"checked against the registry, then stored in config.json (as docker "
	"does; $DOCKER_CONFIG or --docker-config) or through its credential "
	"helper (credsStore, credHelpers).",
	login_opts,
	NULL,
};

const cli_usage cli_logout_usage = {
	"[SERVER]",
	"Remove the credentials stored for a registry (default: Docker Hub).",
	NULL,
	NULL,
};

int
cli_registry_host(const char *arg, char **api, char **name, berth_error **err)
{
	const char *p = arg ? arg : "";
	_cleanup_free_ char *h = NULL;

	if (strncasecmp(p, "https://", 8) == 0)
		p += 8;
	else if (strncasecmp(p, "http://", 7) == 0)
		p += 7;
	h = xstrndup(p, strcspn(p, "/"));
	for (char *c = h; *c; c++) {
		if (!isalnum((unsigned char)*c) && !strchr(".-:[]_", *c))
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "invalid registry '%s'", arg);
		*c = (char)tolower((unsigned char)*c);
	}
	if (*h == '\0' || berth_ref_is_docker_hub(h)) {
		*api = xstrdup(BERTH_DOCKER_HUB_API);
		*name = xstrdup("docker.io");
		return 0;
	}
	*api = xstrdup(h);
	*name = steal_ptr(&h);
	return 0;
}

/* A line from the terminal, without echo when `secret`. */
static char *
prompt(const char *what, bool secret)
{
	FILE *tty = fopen("/dev/tty", "r+");
	struct termios old, quiet;
	char buf[SECRET_MAX];
	bool echo_off = false;
	char *out = NULL;

	if (tty == NULL)
		return NULL;
	fprintf(tty, "%s: ", what);
	fflush(tty);
	if (secret && tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		echo_off = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
	}
	if (fgets(buf, sizeof(buf), tty)) {
		buf[strcspn(buf, "\r\n")] = '\0';
		out = xstrdup(buf);
	}
	if (echo_off) {
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
		fputc('\n', tty);
	}
	explicit_bzero(buf, sizeof(buf));
	fclose(tty);
	return out;
}

static char *
read_stdin_secret(berth_error **err)
{
	char buf[SECRET_MAX];
	size_t n = fread(buf, 1, sizeof(buf) - 1, stdin);

	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n == 0) {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"no password on standard input");
		berth_error_hint(err, "pipe it in: echo \"$PASS\" | berth "
				      "login -u USER --password-stdin HOST");
		return NULL;
	}
	return xstrndup(buf, n);
}

/* Hands the credentials being tried to the registry client. */
static int
given_credentials(void *ud, const char *host, berth_credentials *out,
		  berth_error **err)
{
	const berth_credentials *c = ud;

	out->username = xstrdup(c->username);
	out->password = xstrdup(c->password);
	return 0;
}

int
cmd_login(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(berth_registry_freep) berth_registry *reg = NULL;
	_cleanup_(berth_credentials_release) berth_credentials cred =
		BERTH_CREDENTIALS_INIT;
	_cleanup_free_ char *api = NULL, *name = NULL, *where = NULL;
	_cleanup_free_ char *identity = NULL;
	berth_registry_opts ro = ctx->registry;
	bool from_stdin = false, plaintext = false;
	int c, r;

	if (cli_help_usage(argc, argv, "login", &cli_login_usage))
		return 0;
	while ((c = cli_getopt(login_opts, "login", argc, argv, err)) != -1) {
		switch (c) {
		case 'u':
			free(cred.username);
			cred.username = xstrdup(optarg);
			break;
		case 'p':
			free(cred.password);
			cred.password = xstrdup(optarg);
			break;
		case OPT_PASSWORD_STDIN:
			from_stdin = true;
			break;
		default:
			return c;
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(err, "login",
				       "expected at most one registry");
	if (from_stdin && cred.password)
		return cli_usage_error(err, "login",
				       "--password and --password-stdin "
				       "exclude each other");
	r = cli_registry_host(optind < argc ? argv[optind] : NULL, &api, &name,
			      err);
	if (r < 0)
		return r;
	if (cred.password && !from_stdin)
		fprintf(stderr, "WARNING! Using --password via the CLI is "
				"insecure. Use --password-stdin.\n");
	if (cred.username == NULL && !from_stdin && isatty(0))
		cred.username = prompt("Username", false);
	if (cred.username == NULL || *cred.username == '\0')
		return cli_usage_error(err, "login",
				       "no user name: give it with -u");
	if (from_stdin && (cred.password = read_stdin_secret(err)) == NULL)
		return BERTH_EUSAGE;
	if (cred.password == NULL && isatty(0))
		cred.password = prompt("Password", true);
	if (cred.password == NULL || *cred.password == '\0')
		return cli_usage_error(err, "login",
				       "no password: use --password-stdin or "
				       "-p");

	ro.credentials = given_credentials;
	ro.credentials_ud = &cred;
	r = berth_registry_new(&reg, api, &ro, err);
	if (r == 0)
		r = berth_registry_login(&identity, reg, err);
	if (r < 0) {
		berth_error_wrap(err, r, "login to '%s' as '%s' failed", name,
				 cred.username);
		if (r == BERTH_EAUTH)
			berth_error_hint(err,
					 "check the user name and password "
					 "(or access token) for '%s'",
					 name);
		return r;
	}
	if (identity) {
		/* docker keeps the refresh token, not the password. */
		cred.identity_token = steal_ptr(&identity);
	}
	r = berth_config_store_credentials(&plaintext, &where, &ctx->config,
					   name, &cred, err);
	if (r < 0)
		return r;
	if (plaintext)
		fprintf(stderr,
			"WARNING! Your password will be stored unencrypted in "
			"%s.\nConfigure a credential helper to remove this "
			"warning. See\nhttps://docs.docker.com/engine/"
			"reference/commandline/login/#credentials-store\n\n",
			where);
	printf("Login Succeeded\n");
	return 0;
}

int
cmd_logout(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_free_ char *api = NULL, *name = NULL;
	bool found = false;
	int r;

	if (cli_help_usage(argc, argv, "logout", &cli_logout_usage))
		return 0;
	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return cli_usage_error(err, "logout",
				       "expected at most one registry");
	r = cli_registry_host(argc == 2 ? argv[1] : NULL, &api, &name, err);
	if (r < 0)
		return r;
	r = berth_config_erase_credentials(&found, &ctx->config, name, err);
	if (r < 0)
		return r;
	if (found)
		printf("Removing login credentials for %s\n", name);
	else
		printf("Not logged in to %s\n", name);
	return 0;
}
