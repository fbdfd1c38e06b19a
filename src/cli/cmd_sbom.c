/* berth sbom: the packages installed in a local image, as SPDX or
 * CycloneDX JSON (syft's and trivy's job). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/ref.h"
#include "berth/sbom.h"
#include "berth/sbom_registry.h"
#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"

enum { OPT_FORMAT = 0x100, OPT_PLATFORM, OPT_ATTACH, OPT_FROM_REGISTRY };

static const cli_option sbom_opts[] = {
	{OPT_FORMAT, "format", "FORMAT", 0,
	 "spdx (SPDX 2.3 JSON, the default) or cyclonedx (CycloneDX 1.5 "
	 "JSON)"},
	{'o', "output", "FILE", CLI_OPT_SHORT | CLI_OPT_FILE,
	 "write the document to FILE (replaced whole) instead of standard "
	 "output"},
	{OPT_PLATFORM, "platform", "OS/ARCH[/VARIANT]", 0,
	 "platform to list from a multi-platform image (default: this "
	 "machine's)"},
	{OPT_ATTACH, "attach", NULL, 0,
	 "also push the document to the image's registry as an OCI referrer "
	 "of the image (the image must be there), and print the referrer's "
	 "digest"},
	{OPT_FROM_REGISTRY, "from-registry", NULL, 0,
	 "fetch the document of this format attached to the image in its "
	 "registry (the referrers API) instead of reading a local image"},
	{0},
};

const cli_usage cli_sbom_usage = {
	"[OPTIONS] NAME[:TAG|@DIGEST]",
	"List the packages installed in a local image, as a software bill of "
	"materials: Debian and Ubuntu packages (var/lib/dpkg/status, "
	"distroless' var/lib/dpkg/status.d/), Alpine packages "
	"(lib/apk/db/installed), Python packages (*.dist-info, *.egg-info), "
	"npm packages (node_modules/*/package.json), the modules Go "
	"binaries were built from, and the OS (etc/os-release).\n\n"
	"The layers are read from the local store as streams, nothing is "
	"unpacked, and as the image's file system has them: a file a later "
	"layer deletes or replaces is not listed. Each package has its name, "
	"version, source package, licence where declared, package URL "
	"(purl) and the layer it came from. The same image gives the same "
	"document, byte for byte.",
	sbom_opts,
	NULL,
};

int
cmd_sbom(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	_cleanup_free_ char *name = NULL, *doc = NULL;
	berth_sbom_format format = BERTH_SBOM_SPDX;
	const berth_platform *pp = NULL;
	const char *output = NULL;
	berth_platform platform;
	berth_store *store;
	berth_sbom *b = NULL;
	berth_digest attached;
	bool attach = false, remote = false;
	int c, r;

	if (cli_help_usage(argc, argv, "sbom", &cli_sbom_usage))
		return 0;
	while ((c = cli_getopt(sbom_opts, "sbom", argc, argv, err)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			if ((r = berth_sbom_format_parse(&format, optarg,
							 err)) < 0)
				return r;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_PLATFORM:
			r = berth_platform_parse(&platform, optarg, err);
			if (r < 0)
				return r;
			pp = &platform;
			break;
		case OPT_ATTACH:
			attach = true;
			break;
		case OPT_FROM_REGISTRY:
			remote = true;
			break;
		default:
			return c;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(err, "sbom",
				       "expected one image reference");
	if ((r = berth_ref_parse(&ref, argv[optind], err)) < 0)
		return r;
	name = berth_ref_string(ref);
	if (attach && remote)
		return cli_usage_error(err, "sbom",
				       "--attach and --from-registry exclude "
				       "each other");
	if ((attach || remote) && (r = cli_config(ctx, err)) < 0)
		return r;
	if (remote) {
		size_t len;

		if ((r = berth_sbom_fetch(&doc, &len, ref, format,
					  &ctx->registry, err)) < 0)
			return r;
	} else {
		if ((r = cli_store(ctx, &store, err)) < 0)
			return r;
		if ((r = berth_sbom_build(&b, store, name, pp, err)) < 0)
			return r;
		doc = berth_sbom_json(b, format);
		attached = b->image;
		berth_sbom_free(b);
	}
	if (attach) {
		r = berth_sbom_attach(&attached, ref, &attached, format, doc,
				      strlen(doc), &ctx->registry, err);
		if (r < 0)
			return r;
		if (output == NULL) {
			printf("%s\n", attached.str);
			return 0;
		}
	}
	if (output && strcmp(output, "-") != 0) {
		r = berth_file_replace(output, doc, strlen(doc), NULL, err);
		if (r < 0)
			berth_error_hint(err,
					 "check that the directory of "
					 "'%s' exists and is writable",
					 output);
		return r;
	}
	if (berth_write_full(STDOUT_FILENO, doc, strlen(doc)) < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot write to standard output");
	return 0;
}
