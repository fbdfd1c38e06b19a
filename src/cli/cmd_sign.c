/*
 * berth sign REF --key FILE: cosign sign --key's job, writing what cosign
 * and containers/image read.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "berth/sign.h"
#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"

enum { OPT_KEY = 0x100, OPT_PASSFILE, OPT_NO_REFERRER };

static const cli_option sign_opts[] = {
	{OPT_KEY, "key", "FILE", CLI_OPT_FILE,
	 "the private key (cosign's encrypted PEM; required)"},
	{OPT_PASSFILE, "passphrase-file", "FILE", CLI_OPT_FILE,
	 "the key's passphrase is FILE's first line (else $COSIGN_PASSWORD, "
	 "else asked on the terminal)"},
	{OPT_NO_REFERRER, "no-referrer", NULL, 0,
	 "store the signature under the .sig tag only"},
	{0},
};

const cli_usage cli_sign_usage = {
	"REF --key FILE [--passphrase-file FILE] [--no-referrer]",
	"Sign the manifest REF names in its registry, as 'cosign sign --key' "
	"does: a simple-signing payload naming the manifest's digest, signed "
	"with the private key (SHA-256, ECDSA), goes up as one more layer of "
	"the manifest tagged sha256-<hex>.sig in REF's repository, where "
	"cosign and containers/image (podman, skopeo) look for it; earlier "
	"signatures there are kept. When the registry answers the OCI 1.1 "
	"referrers API the signature is also pushed as a referrer of the "
	"image. Signing an image by tag signs the digest the tag names now: "
	"an image pushed again under the tag needs signing again.",
	sign_opts,
	NULL,
};

/* The key file, read by berth's rule for files it opens; caller frees. */
int
cli_read_key(char **out, size_t *len, const char *path, berth_error **err)
{
	int r = berth_file_read(out, len, path, 64 * 1024, err);

	if (r == BERTH_ENOTFOUND)
		berth_error_hint(err,
				 "make a key pair with 'berth key "
				 "generate' (or name the file with --key)");
	return r;
}

int
cmd_sign(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	_cleanup_(berth_sign_key_freep) berth_sign_key *key = NULL;
	_cleanup_free_ char *pem = NULL, *name = NULL;
	berth_sign_opts so = BERTH_SIGN_OPTS_INIT;
	berth_sign_result res = BERTH_SIGN_RESULT_INIT;
	const char *keyfile = NULL, *passfile = NULL;
	char *pass = NULL;
	size_t len = 0;
	int c, r;

	if (cli_help_usage(argc, argv, "sign", &cli_sign_usage))
		return 0;
	while ((c = cli_getopt(sign_opts, "sign", argc, argv, err)) != -1) {
		switch (c) {
		case OPT_KEY:
			keyfile = optarg;
			break;
		case OPT_PASSFILE:
			passfile = optarg;
			break;
		case OPT_NO_REFERRER:
			so.no_referrer = true;
			break;
		default:
			return c;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(err, "sign",
				       "expected one image reference");
	if (keyfile == NULL)
		return cli_usage_error(err, "sign",
				       "--key FILE is required (the private "
				       "key)");
	if ((r = berth_ref_parse(&ref, argv[optind], err)) < 0 ||
	    (r = cli_read_key(&pem, &len, keyfile, err)) < 0 ||
	    (r = cli_passphrase(&pass, passfile, false, err)) < 0)
		return r;
	r = berth_key_load_private(&key, pem, len, pass, strlen(pass), keyfile,
				   err);
	cli_passphrase_free(pass);
	so.registry = &ctx->registry;
	if (r == 0)
		r = berth_sign_image(&res, ref, key, &so, err);
	if (r < 0)
		return r;
	name = berth_ref_name(ref);
	printf("Signed %s (%s) as '%s'\n", argv[optind], res.digest.str,
	       res.identity);
	printf("Pushed signature to %s:%s (%zu signature%s there)\n", name,
	       res.sig_tag, res.n_signatures, res.n_signatures == 1 ? "" : "s");
	if (so.no_referrer)
		;
	else if (res.referrers_api)
		printf("Pushed referrer %s@%s\n", name, res.referrer.str);
	else
		printf("The registry has no referrers API: the signature is "
		       "stored under the tag only\n");
	berth_sign_result_release(&res);
	return 0;
}
