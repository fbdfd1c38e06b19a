/* berth push REF: docker push's interface and output on berth_push. */
#include <getopt.h>
#include <stdio.h>

#include "berth/push.h"
#include "cli/cli.h"
#include "util/cleanup.h"

const cli_usage cli_push_usage = {
	"NAME[:TAG]",
	"Upload the local image NAME to the registry its name points at. "
	"Blobs the registry has are skipped; blobs another repository of the "
	"same registry has are mounted from there. Blobs go up concurrently, "
	"at most max-concurrent-uploads at a time (daemon.json; default 5). "
	"Foreign layers are left out unless the registry is listed in "
	"allow-nondistributable-artifacts.",
	NULL,
	NULL,
};

static void
on_event(void *ud, const berth_push_event *ev)
{
	const char *id = cli_short_digest(ev->desc->digest.str);

	switch (ev->kind) {
	case BERTH_PUSH_BLOB_EXISTS:
		printf("%s: Layer already exists\n", id);
		break;
	case BERTH_PUSH_BLOB_MOUNTED:
		printf("%s: Mounted from %s\n", id, ev->from);
		break;
	case BERTH_PUSH_BLOB_PUSHED:
		printf("%s: Pushed\n", id);
		break;
	case BERTH_PUSH_BLOB_SKIPPED:
		printf("%s: Skipped foreign layer\n", id);
		break;
	case BERTH_PUSH_BLOB_STARTED:
		return;
	}
	fflush(stdout);
}

int
cmd_push(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	berth_push_opts po = BERTH_PUSH_OPTS_INIT;
	berth_descriptor desc = {0};
	berth_store *store;
	int r;

	po.registry = &ctx->registry;
	po.progress = on_event;
	if (cli_help_usage(argc, argv, "push", &cli_push_usage))
		return 0;
	if ((r = cli_getopt_none("push", argc, argv, err)) < 0)
		return r;
	if (argc - optind != 1)
		return cli_usage_error(err, "push",
				       "expected one image reference");
	r = berth_ref_parse(&ref, argv[optind], err);
	if (r == 0)
		r = cli_store(ctx, &store, err);
	if (r < 0)
		return r;
	printf("The push refers to repository [%s/%s]\n", ref->domain,
	       ref->path);
	r = berth_push(&desc, store, ref, &po, err);
	if (r < 0)
		return r;
	printf("%s: digest: %s size: %lld\n", ref->tag ? ref->tag : ref->digest,
	       desc.digest.str, (long long)desc.size);
	berth_descriptor_release(&desc);
	return 0;
}
