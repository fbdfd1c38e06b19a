/*
 * berth verify REF --key FILE: every signature found for the image, each
 * with what it claims and whether it holds; exits non-zero when none does.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/sign.h"
#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/str.h"

enum { OPT_KEY = 0x100, OPT_JSON };

static const cli_option verify_opts[] = {
	{OPT_KEY, "key", "FILE", CLI_OPT_FILE,
	 "the public key (PEM 'PUBLIC KEY', e.g. cosign.pub; required)"},
	{OPT_JSON, "json", NULL, 0, "print the signatures as JSON"},
	{0},
};

const cli_usage cli_verify_usage = {
	"REF --key FILE [--json]",
	"Check the signatures of the manifest REF names now, as 'cosign "
	"verify --key' does: those under the sha256-<hex>.sig tag and those "
	"stored as OCI 1.1 referrers of cosign's artifact type. A signature "
	"holds when it was made by the key and its payload names the "
	"image's current digest; each is listed with the identity "
	"(docker-reference) it claims. Exits 0 when at least one holds, else "
	"with status 20 and the reason: no signature, a signature that does "
	"not match the key (tampered, or another key), or a payload naming "
	"another digest (an image pushed again under the signed tag).",
	verify_opts,
	NULL,
};

static json_t *
jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void
print_json(const char *ref, const berth_verify_result *res)
{
	json_auto_t *j = json_object(), *a = json_array();
	char *s;

	for (size_t i = 0; i < res->n_sigs; i++) {
		const berth_signature *g = &res->sigs[i];
		json_t *o = json_object();

		json_object_set_new(o, "source", json_string(g->source));
		json_object_set_new(o, "location", json_string(g->location));
		json_object_set_new(o, "payload", json_string(g->payload));
		json_object_set_new(o, "verified", json_boolean(g->verified));
		json_object_set_new(o, "docker-reference",
				    jstr_or_null(g->identity));
		json_object_set_new(o, "docker-manifest-digest",
				    jstr_or_null(g->digest));
		json_object_set_new(o, "optional",
				    g->optional
					    ? json_loads(g->optional, 0, NULL)
					    : json_null());
		json_object_set_new(o, "problem", jstr_or_null(g->problem));
		json_array_append_new(a, o);
	}
	json_object_set_new(j, "reference", json_string(ref));
	json_object_set_new(j, "digest", json_string(res->digest.str));
	json_object_set_new(j, "referrersAPI",
			    json_boolean(res->referrers_api));
	json_object_set_new(j, "verified",
			    json_integer((json_int_t)res->n_verified));
	json_object_set(j, "signatures", a);
	/* Strings from the registry: every non-ASCII character escaped. */
	s = json_dumps(j, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	if (s)
		printf("%s\n", s);
	free(s);
}

static void
print_text(const char *ref, const char *keyfile, const berth_verify_result *res)
{
	printf("Signatures of %s (%s):\n", ref, res->digest.str);
	for (size_t i = 0; i < res->n_sigs; i++) {
		const berth_signature *g = &res->sigs[i];
		_cleanup_free_ char *id =
			g->identity ? berth_str_quote(g->identity,
						      strlen(g->identity), 256)
				    : NULL;

		printf("  %-8s %s %s: ", g->verified ? "verified" : "FAILED",
		       g->source, g->location);
		if (g->verified)
			printf("signed for %s, %s\n", id, g->digest);
		else
			printf("%s\n", g->problem);
	}
	printf("%zu of %zu signature%s verified with key '%s'%s\n",
	       res->n_verified, res->n_sigs, res->n_sigs == 1 ? "" : "s",
	       keyfile,
	       res->referrers_api ? ""
				  : " (the registry has no referrers API)");
}

int
cmd_verify(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	_cleanup_(berth_sign_key_freep) berth_sign_key *key = NULL;
	_cleanup_free_ char *pem = NULL;
	berth_sign_opts so = BERTH_SIGN_OPTS_INIT;
	berth_verify_result res = BERTH_VERIFY_RESULT_INIT;
	const char *keyfile = NULL;
	bool json = false;
	size_t len = 0;
	int c, r;

	if (cli_help_usage(argc, argv, "verify", &cli_verify_usage))
		return 0;
	while ((c = cli_getopt(verify_opts, "verify", argc, argv, err)) != -1) {
		switch (c) {
		case OPT_KEY:
			keyfile = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		default:
			return c;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(err, "verify",
				       "expected one image reference");
	if (keyfile == NULL)
		return cli_usage_error(err, "verify",
				       "--key FILE is required (the public "
				       "key)");
	if ((r = berth_ref_parse(&ref, argv[optind], err)) < 0 ||
	    (r = cli_read_key(&pem, &len, keyfile, err)) < 0 ||
	    (r = berth_key_load_public(&key, pem, len, keyfile, err)) < 0)
		return r;
	so.registry = &ctx->registry;
	r = berth_verify_image(&res, ref, key, &so, err);
	if (r < 0 && r != BERTH_ESIGNATURE)
		return r;
	if (json)
		print_json(argv[optind], &res);
	else
		print_text(argv[optind], keyfile, &res);
	berth_verify_result_release(&res);
	return r;
}
