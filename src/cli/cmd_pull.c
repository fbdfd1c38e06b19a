/* berth pull: docker pull's interface and output on top of berth_pull. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/sigpolicy.h"
#include "berth/pull.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

enum {
	OPT_PLATFORM = 0x100,
	OPT_MAX_DOWNLOADS,
	OPT_SYNC,
	OPT_JSON,
	OPT_UNPACK,
	OPT_FORCE,
	OPT_ROOTLESS,
	OPT_MAX_SIZE,
	OPT_POLICY,
	OPT_VERIFY_KEY,
};

static const cli_option pull_opts[] = {
	{OPT_PLATFORM, "platform", "OS/ARCH[/VARIANT]", 0,
	 "platform to pull from a multi-platform image (default: this "
	 "machine's)"},
	{OPT_MAX_DOWNLOADS, "max-concurrent-downloads", "N", 0,
	 "layers downloaded at once (default 3)"},
	{OPT_SYNC, "sync", NULL, 0,
	 "flush every blob and the index to disk before publishing it "
	 "(survives power loss; also \"sync\": true in berth's config file)"},
	{'q', "quiet", NULL, CLI_OPT_SHORT, "print only the image reference"},
	{OPT_JSON, "json", NULL, 0,
	 "one JSON object per line: the manifest and each blob, with the host "
	 "that served it, then the result (with --unpack, what was "
	 "unpacked)"},
	{OPT_UNPACK, "unpack", "DIR", 0,
	 "also unpack the image into DIR in the same pass, each layer "
	 "verified and applied while it downloads (as berth unpack does)"},
	{OPT_FORCE, "force", NULL, 0,
	 "with --unpack: replace what DIR holds (by default a non-empty DIR "
	 "is refused)"},
	{OPT_ROOTLESS, "rootless", NULL, 0,
	 "with --unpack: files owned by the caller instead of the image's "
	 "owners; device nodes skipped with a warning"},
	{OPT_MAX_SIZE, "max-unpacked-size", "SIZE", 0,
	 "with --unpack: stop with an error when the image unpacks to more "
	 "than SIZE bytes (K, M, G, T: units of 1024; default 64G)"},
	{OPT_POLICY, "signature-policy", "FILE", CLI_OPT_FILE,
	 "the containers policy.json the image must satisfy (env "
	 "BERTH_SIGNATURE_POLICY; default /etc/containers/policy.json when it "
	 "exists)"},
	{OPT_VERIFY_KEY, "verify-key", "FILE", CLI_OPT_FILE,
	 "also require a signature by this public key (cosign's format), "
	 "naming the image's repository"},
	{0},
};

const cli_usage cli_pull_usage = {
	"[OPTIONS] NAME[:TAG|@DIGEST]",
	"Download an image from a registry into the local store.\n\n"
	"With --unpack DIR the layers are also unpacked into DIR while they "
	"download, never read back: each one hashed, decompressed, checked "
	"against the config's diff IDs and applied in one pass, into a "
	"staging directory beside DIR that replaces DIR only when the pull and "
	"every layer succeeded.",
	pull_opts,
	NULL,
};

/*
 * What the progress callbacks share. With --unpack the pull's events
 * (download threads) and the unpacking thread's come at the same time:
 * one lock for the lines. A layer's line says "Downloading" until its
 * download is complete, then "Extracting" while it is unpacked (a layer
 * being both shows its download), as docker does.
 */
typedef struct {
	progress *p;
	bool unpack;
	pthread_mutex_t mu;
	char **downloaded; /* digests whose download is complete */
	size_t n_downloaded;
} pull_ui;

static bool
downloaded(const pull_ui *ui, const char *digest)
{
	for (size_t i = 0; i < ui->n_downloaded; i++)
		if (strcmp(ui->downloaded[i], digest) == 0)
			return true;
	return false;
}

static void
mark_downloaded(pull_ui *ui, const char *digest)
{
	if (downloaded(ui, digest))
		return;
	ui->downloaded = xreallocarray(ui->downloaded, ui->n_downloaded + 1,
				       sizeof(*ui->downloaded));
	ui->downloaded[ui->n_downloaded++] = xstrdup(digest);
}

static void
on_unpack_event(void *ud, const berth_unpack_event *ev)
{
	pull_ui *ui = ud;
	const char *d = ev->desc->digest.str;

	pthread_mutex_lock(&ui->mu);
	switch (ev->kind) {
	case BERTH_UNPACK_LAYER_START:
	case BERTH_UNPACK_LAYER_PROGRESS:
		if (downloaded(ui, d))
			progress_update(ui->p, d, "Extracting", ev->done,
					ev->total, false);
		break;
	case BERTH_UNPACK_LAYER_DONE:
		progress_update(ui->p, d, "Pull complete", 0, 0, true);
		break;
	case BERTH_UNPACK_RESOLVED:
		break;
	}
	pthread_mutex_unlock(&ui->mu);
}

static void
on_event(void *ud, const berth_pull_event *ev)
{
	pull_ui *ui = ud;
	progress *p = ui->p;

	pthread_mutex_lock(&ui->mu);
	switch (ev->kind) {
	case BERTH_PULL_CONFIG_DONE:
	case BERTH_PULL_RESOLVED:
		break;
	case BERTH_PULL_LAYER_EXISTS:
		progress_update(p, ev->desc->digest.str, "Already exists", 0, 0,
				true);
		mark_downloaded(ui, ev->desc->digest.str);
		break;
	case BERTH_PULL_LAYER_WAITING:
		progress_update(p, ev->desc->digest.str, "Waiting", 0, 0,
				false);
		break;
	case BERTH_PULL_LAYER_PROGRESS:
		progress_update(p, ev->desc->digest.str, "Downloading",
				ev->done, ev->total, false);
		break;
	case BERTH_PULL_LAYER_DONE:
		/* With --unpack the layer is complete once unpacked. */
		progress_update(p, ev->desc->digest.str,
				ui->unpack ? "Download complete"
					   : "Pull complete",
				0, 0, true);
		mark_downloaded(ui, ev->desc->digest.str);
		break;
	}
	pthread_mutex_unlock(&ui->mu);
}

/* --json: one object per line on stdout, saying who served what. */
static void
on_event_json(void *ud, const berth_pull_event *ev)
{
	_cleanup_free_ char *line = berth_pull_event_json(ev);

	if (line) {
		printf("%s\n", line);
		fflush(stdout);
	}
}

/* The policy of --signature-policy, BERTH_SIGNATURE_POLICY or the
 * default file when it exists (a missing default is no policy), with
 * --verify-key's requirement added; *out NULL when there is neither. */
static int
load_policy(berth_sigpolicy **out, const char *path, const char *key,
	    berth_error **err)
{
	const char *env = getenv("BERTH_SIGNATURE_POLICY");
	_cleanup_free_ char *pem = NULL;
	size_t len = 0;
	int r = 0;

	*out = NULL;
	if (path == NULL && env && *env)
		path = env;
	if (path == NULL && access(BERTH_SIGPOLICY_DEFAULT_PATH, F_OK) == 0)
		path = BERTH_SIGPOLICY_DEFAULT_PATH;
	if (path && (r = berth_sigpolicy_load(out, path, err)) < 0)
		return r;
	if (key == NULL)
		return 0;
	if (*out == NULL)
		*out = berth_sigpolicy_new_accept();
	if ((r = cli_read_key(&pem, &len, key, err)) < 0 ||
	    (r = berth_sigpolicy_require_key(*out, pem, len, key, err)) < 0)
		return r;
	return 0;
}

int
cmd_pull(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	_cleanup_(progress_freep) progress *prog = NULL;
	_cleanup_free_ char *familiar = NULL;
	berth_pull_opts po = BERTH_PULL_OPTS_INIT;
	berth_pull_result res = BERTH_PULL_RESULT_INIT;
	berth_unpack_opts uo = BERTH_UNPACK_OPTS_INIT;
	berth_unpack_result ures = BERTH_UNPACK_RESULT_INIT;
	pull_ui ui = {.mu = PTHREAD_MUTEX_INITIALIZER};
	_cleanup_(berth_sigpolicy_freep) berth_sigpolicy *policy = NULL;
	const char *policy_file = NULL, *verify_key = NULL;
	bool unpack_only_opt = false;
	berth_platform platform;
	berth_store *store;
	bool quiet = false, json = false;
	char *end;
	long n;
	int c, r;

	if (cli_help_usage(argc, argv, "pull", &cli_pull_usage))
		return 0;
	while ((c = cli_getopt(pull_opts, "pull", argc, argv, err)) != -1) {
		switch (c) {
		case OPT_PLATFORM:
			r = berth_platform_parse(&platform, optarg, err);
			if (r < 0)
				return r;
			po.platform = &platform;
			break;
		case OPT_MAX_DOWNLOADS:
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || n < 1 || n > 64)
				return cli_usage_error(
					err, "pull",
					"invalid --max-concurrent-downloads "
					"'%s': "
					"expected a number from 1 to 64",
					optarg);
			po.max_concurrent = (unsigned)n;
			break;
		case OPT_SYNC:
			ctx->store_flags |= BERTH_STORE_SYNC;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_UNPACK:
			po.unpack_dir = optarg;
			break;
		case OPT_FORCE:
			uo.force = unpack_only_opt = true;
			break;
		case OPT_ROOTLESS:
			uo.rootless = unpack_only_opt = true;
			break;
		case OPT_MAX_SIZE:
			r = cli_parse_size(&uo.max_size, optarg, "pull",
					   "max-unpacked-size", err);
			if (r < 0)
				return r;
			unpack_only_opt = true;
			break;
		case OPT_POLICY:
			policy_file = optarg;
			break;
		case OPT_VERIFY_KEY:
			verify_key = optarg;
			break;
		default:
			return c;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(err, "pull",
				       "expected exactly one image reference");
	if ((r = load_policy(&policy, policy_file, verify_key, err)) < 0)
		return r;
	po.policy = policy;
	if (unpack_only_opt && po.unpack_dir == NULL)
		return cli_usage_error(err, "pull",
				       "--force, --rootless and "
				       "--max-unpacked-size need --unpack DIR");
	po.unpack = &uo;
	r = berth_ref_parse_name(&ref, argv[optind], err);
	if (r < 0)
		return r;
	prog = progress_new(stdout, quiet || json);
	if (ref->tag == NULL && ref->digest == NULL) {
		progress_line(prog, "Using default tag: latest");
		ref->tag = xstrdup("latest");
	}
	r = cli_store(ctx, &store, err);
	if (r < 0)
		return r;
	progress_line(prog, "%s: Pulling from %s",
		      ref->digest ? ref->digest : ref->tag, ref->path);

	if (po.max_concurrent == 0)
		po.max_concurrent = ctx->config.max_concurrent_downloads;
	po.registry = &ctx->registry;
	ui.p = prog;
	ui.unpack = po.unpack_dir != NULL;
	po.progress = json ? on_event_json : on_event;
	po.ud = &ui;
	uo.progress = json ? NULL : on_unpack_event;
	uo.ud = &ui;
	po.unpacked = &ures;
	r = berth_pull(&res, store, ref, &po, err);
	for (size_t i = 0; i < ui.n_downloaded; i++)
		free(ui.downloaded[i]);
	free(ui.downloaded);
	if (r < 0)
		return r;
	if (json) {
		_cleanup_free_ char *line =
			po.unpack_dir ? berth_pull_unpack_result_json(
						&res, &ures, po.unpack_dir)
				      : berth_pull_result_json(&res);

		printf("%s\n", line);
		berth_pull_result_release(&res);
		return 0;
	}
	familiar = berth_ref_familiar(ref);
	progress_line(prog, "Digest: %s", res.digest.str);
	progress_line(prog, "Status: %s for %s",
		      res.downloaded ? "Downloaded newer image"
				     : "Image is up to date",
		      familiar);
	if (po.unpack_dir)
		progress_line(prog,
			      "Unpacked into %s: %zu layers, %llu entries",
			      po.unpack_dir, ures.n_layers,
			      (unsigned long long)ures.entries);
	printf("%s\n", res.name);
	berth_pull_result_release(&res);
	return 0;
}
