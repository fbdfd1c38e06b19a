/*
 * berth manifest create|annotate|inspect|push|rm: docker manifest's
 * commands, for multi-platform images put together from per-platform
 * images already in a registry.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/manifest_list.h"
#include "berth/ref.h"
#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

enum {
	OPT_INSECURE = 0x100,
	OPT_FORMAT,
	OPT_OS,
	OPT_ARCH,
	OPT_VARIANT,
	OPT_OS_VERSION,
	OPT_OS_FEATURES,
};

#define O_AMEND                                                                \
	{                                                                      \
		'a', "amend", NULL, CLI_OPT_SHORT,                             \
			"create: add to an existing list"                      \
	}
#define O_INSECURE                                                             \
	{                                                                      \
		OPT_INSECURE, "insecure", NULL, 0,                             \
			"create, inspect, push: treat the registries as "      \
			"insecure-registries "                                 \
			"(TLS unverified, then plain HTTP)"                    \
	}
#define O_FORMAT                                                               \
	{                                                                      \
		OPT_FORMAT, "format", "FORMAT", 0,                             \
			"create: oci (an OCI image index, the default) or "    \
			"docker (a Docker "                                    \
			"manifest list)"                                       \
	}
#define O_OS                                                                   \
	{                                                                      \
		OPT_OS, "os", "OS", 0, "annotate: the entry's os"              \
	}
#define O_ARCH                                                                 \
	{                                                                      \
		OPT_ARCH, "arch", "ARCH", 0, "annotate: its architecture"      \
	}
#define O_VARIANT                                                              \
	{                                                                      \
		OPT_VARIANT, "variant", "VARIANT", 0,                          \
			"annotate: its architecture variant (v7, v8, ...)"     \
	}
#define O_OS_VERSION                                                           \
	{                                                                      \
		OPT_OS_VERSION, "os-version", "VERSION", 0,                    \
			"annotate: its os.version (Windows)"                   \
	}
#define O_OS_FEATURES                                                          \
	{                                                                      \
		OPT_OS_FEATURES, "os-features", "LIST", 0,                     \
			"annotate: its os.features, comma-separated"           \
	}
#define O_VERBOSE                                                              \
	{                                                                      \
		'v', "verbose", NULL, CLI_OPT_SHORT,                           \
			"inspect: each entry's reference and descriptor (and " \
			"a remote "                                            \
			"index's child manifests)"                             \
	}
#define O_PURGE                                                                \
	{                                                                      \
		'p', "purge", NULL, CLI_OPT_SHORT,                             \
			"push: remove the local list after a successful push"  \
	}

static const cli_option create_opts[] = {O_AMEND, O_INSECURE, O_FORMAT, {0}};
static const cli_option annotate_opts[] = {
	O_OS, O_ARCH, O_VARIANT, O_OS_VERSION, O_OS_FEATURES, {0}};
static const cli_option inspect_opts[] = {O_VERBOSE, O_INSECURE, {0}};
static const cli_option push_opts[] = {O_PURGE, O_INSECURE, {0}};
static const cli_option all_opts[] = {
	O_AMEND,      O_INSECURE,    O_FORMAT,	O_OS,	 O_ARCH, O_VARIANT,
	O_OS_VERSION, O_OS_FEATURES, O_VERBOSE, O_PURGE, {0}};

static const cli_usage create_usage = {
	"create [--amend] [--insecure] [--format oci|docker] LIST REF...",
	"Record the local manifest list LIST (a name with a tag, e.g. "
	"registry.example.com/team/app:v1) of the images REF..., each fetched "
	"from its registry: its digest, size, media type and the platform "
	"its config names (os, architecture, variant, os.version, "
	"os.features). A REF that is itself a manifest list is refused, as "
	"docker refuses it. An existing LIST is refused unless --amend is "
	"given; an entry of the same digest is replaced.",
	create_opts,
	NULL,
};
static const cli_usage annotate_usage = {
	"annotate [OPTIONS] LIST REF",
	"Change the platform of the entry REF (as given to create, or its "
	"digest) in the local list LIST. An empty value removes the field; "
	"the entry keeps an os and an architecture, and the platform must "
	"read as os/arch[/variant], as --platform takes it.",
	annotate_opts,
	NULL,
};
static const cli_usage inspect_usage = {
	"inspect [--verbose] [--insecure] [LIST] REF",
	"Print the local list REF as the index 'berth manifest push' sends, "
	"or, when there is no such local list, the manifest or index REF in "
	"its registry, as JSON.",
	inspect_opts,
	NULL,
};
static const cli_usage push_usage = {
	"push [--purge] [--insecure] LIST",
	"Push the local list LIST to the registry and repository its name "
	"gives. Entries from another repository of that registry are copied "
	"there first (blobs by cross-repository mount, then the manifest by "
	"digest, unchanged); then the index goes up under LIST's tag. Prints "
	"the index's digest.",
	push_opts,
	NULL,
};
static const cli_usage rm_usage = {
	"rm LIST...",
	"Remove local manifest lists.",
	NULL,
	NULL,
};

const cli_usage cli_manifest_usage = {
	"create|annotate|inspect|push|rm [OPTIONS] ARGS...",
	"Build multi-platform images from per-platform images in a registry, "
	"as 'docker manifest' does: 'create LIST REF...' records a local "
	"manifest list, 'annotate LIST REF' changes an entry's platform, "
	"'inspect [LIST] REF' prints a local list or a remote manifest, "
	"'push LIST' sends it to LIST's registry as an OCI image index (or a "
	"Docker manifest list with --format docker) and 'rm LIST...' removes "
	"local lists. Local lists are kept in the store, under "
	"ROOT/manifests/. "
	"Run 'berth manifest SUBCOMMAND --help' for one subcommand's options; "
	"each option below names the subcommands that take it.",
	all_opts,
	NULL,
};

/* --insecure: the registry of `s` is taken as listed in
 * insecure-registries, the one rule for such registries. */
static int
add_insecure(cli_ctx *ctx, const char *s, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	berth_config *c = &ctx->config;
	int r = berth_ref_parse(&ref, s, err);

	if (r < 0)
		return r;
	c->insecure = xreallocarray(c->insecure, c->n_insecure + 2,
				    sizeof(*c->insecure));
	c->insecure[c->n_insecure++] = xstrdup(berth_ref_api_host(ref));
	c->insecure[c->n_insecure] = NULL;
	return 0;
}

/* "a,b,c" into a NULL-terminated array (empty for ""); caller frees. */
static char **
split_commas(const char *s)
{
	size_t n = 0, cap = 1;
	char **v;

	for (const char *p = s; *p; p++)
		cap += *p == ',';
	v = xcalloc(cap + 1, sizeof(*v));
	for (const char *p = s; *s && p;) {
		const char *q = strchr(p, ',');
		size_t len = q ? (size_t)(q - p) : strlen(p);

		if (len)
			v[n++] = xstrndup(p, len);
		p = q ? q + 1 : NULL;
	}
	return v;
}

typedef struct sub_args {
	bool amend, insecure, verbose, purge;
	berth_mlist_format format;
	berth_mlist_platform plat;
	char **features;
} sub_args;

static int
parse(sub_args *a, const char *name, const cli_option *opts, int argc,
      char **argv, berth_error **err)
{
	int c;

	while ((c = cli_getopt(opts, name, argc, argv, err)) != -1) {
		switch (c) {
		case 'a':
			a->amend = true;
			break;
		case OPT_INSECURE:
			a->insecure = true;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "oci") == 0)
				a->format = BERTH_MLIST_OCI;
			else if (strcmp(optarg, "docker") == 0)
				a->format = BERTH_MLIST_DOCKER;
			else
				return cli_usage_error(
					err, name,
					"--format '%s': expected 'oci' or "
					"'docker'",
					optarg);
			break;
		case OPT_OS:
			a->plat.os = optarg;
			break;
		case OPT_ARCH:
			a->plat.arch = optarg;
			break;
		case OPT_VARIANT:
			a->plat.variant = optarg;
			break;
		case OPT_OS_VERSION:
			a->plat.os_version = optarg;
			break;
		case OPT_OS_FEATURES:
			berth_strv_free(a->features);
			a->features = split_commas(optarg);
			a->plat.os_features = (const char *const *)a->features;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'p':
			a->purge = true;
			break;
		default:
			return c < 0 ? c : BERTH_EUSAGE;
		}
	}
	return 0;
}

static int
print_json(char *s)
{
	printf("%s\n", s);
	free(s);
	return 0;
}

static int
run(cli_ctx *ctx, const char *sub, sub_args *a, int n, char **ops,
    berth_error **err)
{
	berth_mlist_opts mo = BERTH_MLIST_OPTS_INIT;
	berth_store *s = NULL;
	char *out = NULL;
	int r;

	mo.registry = &ctx->registry;
	mo.amend = a->amend;
	mo.format = a->format;
	mo.purge = a->purge;
	for (int i = 0; a->insecure && i < n; i++)
		if ((r = add_insecure(ctx, ops[i], err)) < 0)
			return r;
	if ((r = cli_store(ctx, &s, err)) < 0)
		return r;
	if (strcmp(sub, "create") == 0)
		return berth_mlist_create(s, ops[0],
					  (const char *const *)ops + 1,
					  (size_t)n - 1, &mo, err);
	if (strcmp(sub, "annotate") == 0)
		return berth_mlist_annotate(s, ops[0], ops[1], &a->plat, err);
	if (strcmp(sub, "push") == 0) {
		berth_digest d;

		if ((r = berth_mlist_push(&d, s, ops[0], &mo, err)) < 0)
			return r;
		printf("%s\n", d.str);
		return 0;
	}
	if (strcmp(sub, "rm") == 0) {
		for (int i = 0; i < n; i++)
			if ((r = berth_mlist_remove(s, ops[i], err)) < 0)
				return r;
		return 0;
	}
	/* inspect [LIST] REF: the entry REF of the local LIST, else the
	 * local list REF, else REF in its registry. */
	if (n == 2) {
		r = berth_mlist_inspect(&out, s, ops[0], ops[1], false, err);
		return r < 0 ? r : print_json(out);
	}
	r = berth_mlist_inspect(&out, s, ops[0], NULL, a->verbose, err);
	if (r == BERTH_ENOTFOUND) {
		berth_error_freep(err);
		r = berth_mlist_inspect_remote(&out, ops[0], a->verbose,
					       &ctx->registry, err);
	}
	return r < 0 ? r : print_json(out);
}

typedef struct sub_cmd {
	const char *name;
	const cli_usage *usage;
	int min, max; /* operands; max -1: any number */
	const char *want;
} sub_cmd;

static const sub_cmd subs[] = {
	{"create", &create_usage, 2, -1, "a list and at least one image"},
	{"annotate", &annotate_usage, 2, 2, "a list and one of its images"},
	{"inspect", &inspect_usage, 1, 2, "a list or an image"},
	{"push", &push_usage, 1, 1, "one list"},
	{"rm", &rm_usage, 1, -1, "at least one list"},
};

int
cmd_manifest(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	const sub_cmd *sc = NULL;
	_cleanup_free_ char *name = NULL;
	sub_args a = {.format = BERTH_MLIST_KEEP};
	int r, n;

	if (argc < 2 || argv[1][0] == '-') {
		if (cli_help_usage(argc, argv, "manifest", &cli_manifest_usage))
			return 0;
		return cli_usage_error(err, "manifest",
				       "expected a subcommand: create, "
				       "annotate, inspect, push or rm");
	}
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(subs); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			sc = &subs[i];
	if (sc == NULL)
		return cli_usage_error(err, "manifest",
				       "unknown subcommand '%s'", argv[1]);
	name = xasprintf("manifest %s", sc->name);
	if (cli_help_usage(argc - 1, argv + 1, "manifest", sc->usage))
		return 0;
	argc--;
	argv++;
	r = parse(&a, name, sc->usage->options, argc, argv, err);
	n = argc - optind;
	if (r == 0 && (n < sc->min || (sc->max >= 0 && n > sc->max)))
		r = cli_usage_error(err, name, "expected %s", sc->want);
	if (r == 0 && strcmp(sc->name, "create") == 0 &&
	    a.format == BERTH_MLIST_KEEP && !a.amend)
		a.format = BERTH_MLIST_OCI;
	if (r == 0)
		r = run(ctx, sc->name, &a, n, argv + optind, err);
	berth_strv_free(a.features);
	return r;
}
