/*
 * berth key generate: a key pair laid out as cosign's generate-key-pair
 * writes it (NAME.key, NAME.pub), so either program signs with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth/sign.h"
#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"

enum { OPT_PREFIX = 0x100, OPT_PASSFILE };

static const cli_option key_opts[] = {
	{OPT_PREFIX, "output-key-prefix", "NAME", 0,
	 "write NAME.key and NAME.pub (default cosign)"},
	{OPT_PASSFILE, "passphrase-file", "FILE", CLI_OPT_FILE,
	 "the passphrase is FILE's first line (else $COSIGN_PASSWORD, else "
	 "asked twice on the terminal)"},
	{0},
};

const cli_usage cli_key_usage = {
	"generate [--output-key-prefix NAME] [--passphrase-file FILE]",
	"Generate an ECDSA P-256 key pair for 'berth sign' and 'berth "
	"verify', in cosign's format: NAME.key is the private key encrypted "
	"with the passphrase (scrypt and NaCl secretbox, PEM 'ENCRYPTED "
	"SIGSTORE PRIVATE KEY', mode 0600), NAME.pub the public key (PEM "
	"'PUBLIC KEY'). cosign signs and verifies with them too, and berth "
	"reads the keys cosign generates. Existing files are not "
	"overwritten.",
	key_opts,
	NULL,
};

/* Writes a new file (never over an existing one). */
static int
write_new(const char *path, const char *text, mode_t mode, berth_error **err)
{
	_cleanup_close_ int fd =
		open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int r, e;

	if (fd < 0 && errno == EEXIST) {
		r = berth_error_set(err, BERTH_EEXIST, EEXIST,
				    "'%s' exists; berth does not overwrite a "
				    "key",
				    path);
		berth_error_hint(err, "remove it, or choose another name with "
				      "--output-key-prefix");
		return r;
	}
	e = fd < 0 ? errno : berth_write_full(fd, text, strlen(text));
	if (e == 0 && fsync(fd) < 0)
		e = errno;
	if (e)
		return berth_error_set(err, BERTH_EIO, e,
				       "cannot write '%s': %s", path,
				       strerror(e));
	return 0;
}

int
cmd_key(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_free_ char *priv = NULL, *pub = NULL, *kpath = NULL,
			    *ppath = NULL;
	const char *prefix = "cosign", *passfile = NULL;
	char *pass = NULL;
	int c, r;

	if (argc < 2 || argv[1][0] == '-') {
		if (cli_help_usage(argc, argv, "key", &cli_key_usage))
			return 0;
		return cli_usage_error(err, "key",
				       "expected a subcommand: generate");
	}
	if (strcmp(argv[1], "generate") != 0)
		return cli_usage_error(err, "key", "unknown subcommand '%s'",
				       argv[1]);
	if (cli_help_usage(argc - 1, argv + 1, "key", &cli_key_usage))
		return 0;
	argc--;
	argv++;
	while ((c = cli_getopt(key_opts, "key generate", argc, argv, err)) !=
	       -1) {
		switch (c) {
		case OPT_PREFIX:
			prefix = optarg;
			break;
		case OPT_PASSFILE:
			passfile = optarg;
			break;
		default:
			return c;
		}
	}
	if (optind != argc)
		return cli_usage_error(err, "key generate",
				       "unexpected argument '%s'",
				       argv[optind]);
	if (*prefix == '\0')
		return cli_usage_error(err, "key generate",
				       "--output-key-prefix is empty");
	kpath = xasprintf("%s.key", prefix);
	ppath = xasprintf("%s.pub", prefix);
	if (access(kpath, F_OK) == 0 || access(ppath, F_OK) == 0)
		return write_new(access(kpath, F_OK) == 0 ? kpath : ppath, "",
				 0600, err);
	if ((r = cli_passphrase(&pass, passfile, true, err)) < 0)
		return r;
	r = berth_key_generate(&priv, &pub, pass, strlen(pass), err);
	cli_passphrase_free(pass);
	if (r == 0)
		r = write_new(kpath, priv, 0600, err);
	if (r == 0 && (r = write_new(ppath, pub, 0644, err)) < 0)
		unlink(kpath);
	if (r < 0)
		return r;
	printf("Private key written to %s\nPublic key written to %s\n", kpath,
	       ppath);
	return 0;
}
