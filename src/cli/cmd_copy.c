/* berth copy SRC DST: skopeo copy's interface on berth_copy. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/copy.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define PLATFORMS_MAX 64

enum {
	OPT_PLATFORM = 0x100,
	OPT_ALL,
	OPT_MAX_CONCURRENT,
	OPT_SRC_CREDS,
	OPT_DEST_CREDS,
	OPT_SRC_TLS,
	OPT_DEST_TLS,
	OPT_SRC_CERTS,
	OPT_DEST_CERTS,
};

static const cli_option copy_opts[] = {
	{OPT_ALL, "all", NULL, 0,
	 "copy the whole multi-platform image: the index and every image of "
	 "it, digests unchanged"},
	{OPT_PLATFORM, "platform", "OS/ARCH[/VARIANT]", 0,
	 "the image of a multi-platform image to copy (default: this "
	 "machine's); given more than once, or with --all, a new index of just "
	 "those platforms is written (its digest differs from the source's)"},
	{OPT_MAX_CONCURRENT, "max-concurrent", "N", 0,
	 "blobs copied at once (default: max-concurrent-uploads, 5)"},
	{OPT_SRC_CREDS, "src-creds", "USER:PASS", 0,
	 "log in to the source registry as USER (instead of config.json's "
	 "login or credential helper)"},
	{OPT_DEST_CREDS, "dest-creds", "USER:PASS", 0,
	 "log in to the destination registry as USER"},
	{OPT_SRC_TLS, "src-tls-verify", "BOOL", CLI_OPT_OPTIONAL,
	 "false: the source registry as if in insecure-registries (HTTPS "
	 "unverified, then plain HTTP)"},
	{OPT_DEST_TLS, "dest-tls-verify", "BOOL", CLI_OPT_OPTIONAL,
	 "false: the destination registry likewise"},
	{OPT_SRC_CERTS, "src-cert-dir", "DIR", CLI_OPT_DIR,
	 "the source's CAs (*.crt) and client certificate (*.cert, *.key), "
	 "instead of certs.d/HOST"},
	{OPT_DEST_CERTS, "dest-cert-dir", "DIR", CLI_OPT_DIR,
	 "the destination's, likewise"},
	{'q', "quiet", NULL, CLI_OPT_SHORT, "print only the digest written"},
	{0},
};

/* One end's client: the shared settings and what the options change. */
typedef struct end_opts {
	berth_registry_opts ro;
	char *user, *pass;
} end_opts;

static int
fixed_creds(void *ud, const char *host, berth_credentials *out,
	    berth_error **err)
{
	end_opts *e = ud;

	(void)host, (void)err;
	out->username = xstrdup(e->user);
	out->password = xstrdup(e->pass);
	return 0;
}

static void
ends_release(end_opts (*e)[2])
{
	for (size_t i = 0; i < 2; i++) {
		free((*e)[i].user);
		free((*e)[i].pass);
	}
}

static int
parse_creds(end_opts *e, const char *opt, const char *arg, berth_error **err)
{
	const char *colon = strchr(arg, ':');

	if (colon == NULL || colon == arg)
		return cli_usage_error(err, "copy",
				       "invalid --%s: expected USER:PASS", opt);
	free(e->user);
	free(e->pass);
	e->user = xstrndup(arg, (size_t)(colon - arg));
	e->pass = xstrdup(colon + 1);
	e->ro.credentials = fixed_creds;
	e->ro.credentials_ud = e;
	return 0;
}

static int
parse_tls(end_opts *e, const char *opt, const char *arg, berth_error **err)
{
	if (arg == NULL || strcmp(arg, "true") == 0) {
		e->ro.insecure = false;
		return 0;
	}
	if (strcmp(arg, "false") == 0) {
		e->ro.insecure = true;
		return 0;
	}
	return cli_usage_error(err, "copy",
			       "invalid --%s '%s': expected true or false", opt,
			       arg);
}

const cli_usage cli_copy_usage = {
	"[OPTIONS] SOURCE DESTINATION",
	"Copy an image between registries, OCI image layouts, archives and "
	"the local store. SOURCE and DESTINATION are "
	"docker://NAME[:TAG|@DIGEST] (a registry), oci:DIR[:TAG] (an OCI "
	"image layout), oci-archive:FILE[:TAG] (a tar of one), "
	"docker-archive:FILE[:NAME:TAG] (docker save's format: one platform, "
	"layers uncompressed, so digests change) or NAME[:TAG] (an image in "
	"berth's local store).\n\n"
	"Each blob streams from source to destination through a bounded "
	"buffer, its digest verified on the way; blobs the destination has are "
	"skipped (an interrupted copy resumes), blobs in another repository of "
	"the same registry are mounted. Manifests are written only once their "
	"blobs are there, so a failed copy tags nothing.",
	copy_opts,
	NULL,
};

static void
on_event(void *ud, const berth_copy_event *ev)
{
	progress *p = ud;
	const char *id = ev->desc->digest.str;

	switch (ev->kind) {
	case BERTH_COPY_BLOB_EXISTS:
		progress_update(p, id, "Already exists", 0, 0, true);
		break;
	case BERTH_COPY_BLOB_MOUNTED:
		progress_update(p, id, "Mounted", 0, 0, true);
		break;
	case BERTH_COPY_BLOB_STARTED:
		progress_update(p, id, "Copying", 0, ev->total, false);
		break;
	case BERTH_COPY_BLOB_PROGRESS:
		progress_update(p, id, "Copying", ev->done, ev->total, false);
		break;
	case BERTH_COPY_BLOB_COPIED:
		progress_update(p, id, "Copied", 0, 0, true);
		break;
	case BERTH_COPY_MANIFEST:
		progress_line(p, "Wrote manifest %s", id);
		break;
	}
}

int
cmd_copy(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(berth_location_freep) berth_location *src = NULL;
	_cleanup_(berth_location_freep) berth_location *dst = NULL;
	_cleanup_(progress_freep) progress *prog = NULL;
	_cleanup_free_ berth_platform *platforms = NULL;
	berth_copy_opts co = BERTH_COPY_OPTS_INIT;
	berth_copy_result res = BERTH_COPY_RESULT_INIT;
	_cleanup_(ends_release) end_opts ends[2] = {
		{ctx->registry, NULL, NULL}, {ctx->registry, NULL, NULL}};
	bool quiet = false;
	char *end;
	long n;
	int c, r;

	if (cli_help_usage(argc, argv, "copy", &cli_copy_usage))
		return 0;
	platforms = xcalloc(PLATFORMS_MAX, sizeof(*platforms));
	while ((c = cli_getopt(copy_opts, "copy", argc, argv, err)) != -1) {
		switch (c) {
		case OPT_ALL:
			co.all = true;
			break;
		case OPT_PLATFORM:
			if (co.n_platforms == PLATFORMS_MAX)
				return cli_usage_error(
					err, "copy",
					"more than %d --platform options",
					PLATFORMS_MAX);
			r = berth_platform_parse(&platforms[co.n_platforms],
						 optarg, err);
			if (r < 0)
				return r;
			co.n_platforms++;
			break;
		case OPT_MAX_CONCURRENT:
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || n < 1 || n > 64)
				return cli_usage_error(
					err, "copy",
					"invalid --max-concurrent '%s': "
					"expected a number from 1 to 64",
					optarg);
			co.max_concurrent = (unsigned)n;
			break;
		case OPT_SRC_CREDS:
		case OPT_DEST_CREDS:
			r = parse_creds(&ends[c == OPT_DEST_CREDS],
					c == OPT_DEST_CREDS ? "dest-creds"
							    : "src-creds",
					optarg, err);
			if (r < 0)
				return r;
			break;
		case OPT_SRC_TLS:
		case OPT_DEST_TLS:
			r = parse_tls(&ends[c == OPT_DEST_TLS],
				      c == OPT_DEST_TLS ? "dest-tls-verify"
							: "src-tls-verify",
				      optarg, err);
			if (r < 0)
				return r;
			break;
		case OPT_SRC_CERTS:
		case OPT_DEST_CERTS:
			ends[c == OPT_DEST_CERTS].ro.cert_dir = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return c;
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(err, "copy",
				       "expected a source and a destination");
	if ((r = berth_location_parse(&src, argv[optind], err)) < 0 ||
	    (r = berth_location_parse(&dst, argv[optind + 1], err)) < 0)
		return r;
	co.platforms = platforms;
	co.registry = &ctx->registry;
	co.src_registry = &ends[0].ro;
	co.dst_registry = &ends[1].ro;
	if ((src->kind == BERTH_LOCATION_STORE ||
	     dst->kind == BERTH_LOCATION_STORE) &&
	    (r = cli_store(ctx, &co.store, err)) < 0)
		return r;
	prog = progress_new(stdout, quiet);
	co.progress = on_event;
	co.ud = prog;
	r = berth_copy(&res, src, dst, &co, err);
	if (r < 0)
		return r;
	if (res.digest_changed)
		progress_line(prog,
			      "Note: a new index of the platforms asked for "
			      "was written; its digest differs from the "
			      "source's");
	progress_line(prog, "Copied %zu blobs, %zu already there, %zu mounted",
		      res.copied, res.existed, res.mounted);
	printf("%s\n", res.digest.str);
	return 0;
}
