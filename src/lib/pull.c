/*
 * berth_pull: registry -> local store.
 *
 * Order matters for consistency: every blob is verified and renamed into
 * place before the manifest that names it, and the manifest before the
 * index.json entry, all under a content lease so a concurrent `berth rmi`
 * cannot collect blobs that are not yet referenced.
 *
 * Mirrors (berth/config.h) are tried in order, then the origin. The
 * manifest moves on to the next host after a failure that says "this host
 * cannot serve it now" (see mirror_miss); blobs are fetched from the host
 * that served the manifest and, when one fails there, continued on the
 * following hosts with a Range request from the byte reached. Content
 * that does not match its digest is never a miss: the pull stops.
 *
 * Blobs are staged in resumable partial files (store/store.h): an
 * interrupted pull's bytes are kept and the next pull continues them; a
 * failed pull removes every other staging file it made.
 */
#include "berth/pull.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "berth/config.h"
#include "berth/log.h"
#include "berth/sigpolicy.h"
#include "pull_foreign.h"
#include "pull_unpack.h"
#include "store/store.h"

#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/xalloc.h"

typedef struct pull_blob {
	const berth_descriptor *desc;
	berth_blob_writer *w;
	bool committed;
	int result;    /* the transfer's failure, or 0 */
	bool is_layer; /* the config is fetched too, but not shown */
	pull_tee *tee; /* --unpack: the applier reads the download here */
	struct pull_ctx *ctx;
} pull_blob;

typedef struct pull_ctx {
	berth_store *store;
	const berth_pull_opts *opts;
	pull_blob *blobs;
	size_t n_blobs;
	berth_registry **hosts; /* mirrors in order, then the origin */
	size_t n_hosts;
	size_t serving;		 /* the host that served the manifest */
	size_t fetching;	 /* the host blobs are being fetched from */
	pull_unpack *unpack;	 /* --unpack */
	const berth_config *cfg; /* or NULL */
	const char *domain;	 /* the image's registry, for foreign layers */
} pull_ctx;

/*
 * Failures after which the next host is tried: it is down or unreachable
 * (ENET, ETLS), failing (ESERVER), rate-limiting (ETOOMANY), lacks the
 * content (ENOTFOUND: a mirror may not have it yet) or refuses us (EAUTH,
 * EDENIED: a mirror may need other credentials). Never EDIGEST, nor a
 * local failure, nor an interrupt.
 */
static bool
mirror_miss(int code)
{
	switch (code) {
	case BERTH_ENET:
	case BERTH_ETLS:
	case BERTH_ESERVER:
	case BERTH_ETOOMANY:
	case BERTH_ENOTFOUND:
	case BERTH_EAUTH:
	case BERTH_EDENIED:
		return true;
	default:
		return false;
	}
}

void
berth_pull_result_release(berth_pull_result *r)
{
	free(r->name);
	berth_descriptor_release(&r->image);
	BERTH_VERSIONED_RESET(r);
}

static void
emit(const berth_pull_opts *o, berth_pull_event_kind kind,
     const berth_descriptor *d, const char *digest, int64_t done, int64_t total,
     const char *host)
{
	berth_pull_event ev = {kind, d, digest, done, total, host};

	if (o->progress)
		o->progress(o->ud, &ev);
}

/* Runs on a worker thread: hash and write; commit on the last byte so the
 * digest is finished there too (both cores hash). */
static int
blob_sink(void *ud, const void *p, size_t len, berth_error **err)
{
	pull_blob *b = ud;
	pull_unpack *u = b->ctx->unpack;
	int r;

	if ((r = berth_blob_writer_write(b->w, p, len, err)) < 0)
		return r;
	if (u && (r = b->tee ? pull_unpack_send(u, b->tee, p, len, err)
			     : pull_unpack_check(u, err)) < 0)
		return r;
	if (berth_blob_writer_written(b->w) == b->desc->size) {
		if (b->tee && (r = pull_unpack_flush(u, b->tee, err)) < 0)
			return r;
		if ((r = berth_blob_writer_commit(NULL, b->w, err)) < 0)
			return r;
		b->committed = true;
		if (u)
			pull_unpack_stored(u, &b->desc->digest);
	}
	return 0;
}

/* A blob is verified and stored: say so, and who served it. */
static void
emit_done(pull_ctx *ctx, const pull_blob *b)
{
	emit(ctx->opts,
	     b->is_layer ? BERTH_PULL_LAYER_DONE : BERTH_PULL_CONFIG_DONE,
	     b->desc, NULL, b->desc->size, b->desc->size,
	     berth_registry_host(ctx->hosts[ctx->fetching]));
}

static void
blob_progress(void *ud, berth_blob_job *job, berth_blob_event ev)
{
	pull_ctx *ctx = ud;
	pull_blob *b = job->sink_ud;

	switch (ev) {
	case BERTH_BLOB_STARTED:
		b->result = 0;
		/* fall through */
	case BERTH_BLOB_PROGRESS:
		if (b->is_layer)
			emit(ctx->opts, BERTH_PULL_LAYER_PROGRESS, b->desc,
			     NULL, job->received, b->desc->size, NULL);
		break;
	case BERTH_BLOB_DONE:
		if (b->committed)
			emit_done(ctx, b);
		break;
	case BERTH_BLOB_FAILED:
		b->result = job->result;
		/* The applier may be waiting for these bytes. */
		if (ctx->unpack)
			pull_unpack_abort(ctx->unpack);
		break;
	}
}

static void
pull_ctx_release(pull_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_blobs; i++)
		berth_blob_writer_free(ctx->blobs[i].w);
	free(ctx->blobs);
	ctx->blobs = NULL;
	ctx->n_blobs = 0;
	for (size_t i = 0; i < ctx->n_hosts; i++)
		berth_registry_free(ctx->hosts[i]);
	free(ctx->hosts);
	ctx->hosts = NULL;
	ctx->n_hosts = 0;
}

/* A registry client for a mirror URL ("https://host:port"). */
static int
mirror_new(berth_registry **out, const char *url, const berth_pull_opts *o,
	   berth_error **err)
{
	static const berth_registry_opts none = BERTH_REGISTRY_OPTS_INIT;
	berth_registry_opts ro = o->registry ? *o->registry : none;
	bool https = strncmp(url, "https://", 8) == 0;
	_cleanup_free_ char *host = xstrdup(url + (https ? 8 : 7));

	host[strcspn(host, "/")] = '\0';
	ro.plain_http = https ? 0 : 1;
	/* A mirror that fails is left at once for the next host. */
	ro.max_retries = -1;
	return berth_registry_new(out, host, &ro, err);
}

/* The hosts to try: the configured mirrors of the reference's registry,
 * then the registry itself. */
static int
hosts_init(pull_ctx *ctx, const berth_ref *ref, berth_error **err)
{
	const berth_pull_opts *o = ctx->opts;
	const berth_config *c = o->registry ? o->registry->config : NULL;
	char **mirrors = berth_config_mirrors(NULL, c, ref->domain);
	int r = 0;

	for (char **m = mirrors; *m; m++) {
		berth_registry *reg = NULL;
		berth_error *e = NULL;

		if (mirror_new(&reg, *m, o, &e) < 0) {
			berth_log(BERTH_LOG_WARN, "mirror '%s' skipped: %s", *m,
				  e->msg);
			berth_error_free(e);
			continue;
		}
		ctx->hosts = xreallocarray(ctx->hosts, ctx->n_hosts + 1,
					   sizeof(*ctx->hosts));
		ctx->hosts[ctx->n_hosts++] = reg;
	}
	berth_strv_free(mirrors);
	ctx->hosts = xreallocarray(ctx->hosts, ctx->n_hosts + 1,
				   sizeof(*ctx->hosts));
	r = berth_registry_new(&ctx->hosts[ctx->n_hosts],
			       berth_ref_api_host(ref), o->registry, err);
	if (r == 0)
		ctx->n_hosts++;
	return r;
}

/* The manifest from the first host that has it; ctx->serving says which. */
static int
get_manifest_any(pull_ctx *ctx, const berth_ref *ref, berth_manifest_body *body,
		 berth_error **err)
{
	int r = BERTH_EGENERIC;

	for (size_t i = 0; i < ctx->n_hosts; i++) {
		bool last = i + 1 == ctx->n_hosts;

		if (i > 0)
			berth_error_freep(err);
		r = berth_registry_get_manifest(body, ctx->hosts[i], ref->path,
						berth_ref_reference(ref), err);
		if (r == 0) {
			ctx->serving = i;
			return 0;
		}
		if (last || !mirror_miss(r))
			return r;
		berth_log(BERTH_LOG_INFO,
			  "mirror '%s' failed: %s; trying the "
			  "next host",
			  berth_registry_host(ctx->hosts[i]),
			  err && *err ? (*err)->msg : "");
	}
	return r;
}

/*
 * Fetches the jobs from the serving host, continuing those that failed
 * there on the next hosts (from the byte each reached).
 */
static int
fetch_failover(pull_ctx *ctx, const char *repo, berth_blob_job *jobs, size_t n,
	       berth_error **err)
{
	const berth_pull_opts *o = ctx->opts;
	unsigned conc = o->max_concurrent ? o->max_concurrent : 3;
	_cleanup_free_ berth_blob_job *left = xcalloc(n, sizeof(*left));
	size_t n_left = n;
	int r = 0;

	memcpy(left, jobs, n * sizeof(*left));
	for (size_t h = ctx->serving; h < ctx->n_hosts; h++) {
		berth_registry *reg = ctx->hosts[h];
		size_t k = 0;

		if (h > ctx->serving)
			berth_error_freep(err);
		ctx->fetching = h;
		r = berth_registry_fetch_blobs(reg, repo, left, n_left, conc,
					       blob_progress, ctx, err);
		/* --unpack applies bytes as they come: a layer cut off is
		 * not continued elsewhere. */
		if (r == 0 || h + 1 == ctx->n_hosts || !mirror_miss(r) ||
		    ctx->unpack)
			break;
		/* Keep the unfinished jobs, continuing where each stopped. */
		for (size_t i = 0; i < n_left; i++) {
			pull_blob *b = left[i].sink_ud;

			berth_error_free(left[i].err);
			left[i].err = NULL;
			if (left[i].result == 0 || b->committed)
				continue;
			left[i].offset = berth_blob_writer_written(b->w);
			left[k++] = left[i];
		}
		n_left = k;
		berth_log(BERTH_LOG_INFO,
			  "host '%s' failed: %s; continuing %zu blob(s) on "
			  "'%s'",
			  berth_registry_host(reg),
			  err && *err ? (*err)->msg : "", n_left,
			  berth_registry_host(ctx->hosts[h + 1]));
	}
	for (size_t i = 0; i < n_left; i++)
		berth_error_free(left[i].err);
	if (r < 0 && r == BERTH_EDIGEST)
		berth_error_wrap(err, r, "registry '%s' sent bad data",
				 berth_registry_host(ctx->hosts[ctx->serving]));
	return r;
}

/* A descriptor whose size is not that of the stored blob of its digest. */
static int
size_lie(pull_ctx *ctx, const berth_descriptor *d, int64_t have,
	 berth_error **err)
{
	berth_error_set(err, BERTH_EDIGEST, 0,
			"registry '%s' sent bad data: the manifest gives blob "
			"'%s' a size of %lld bytes, but the blob of that "
			"digest is %lld bytes",
			berth_registry_host(ctx->hosts[ctx->serving]),
			d->digest.str, (long long)d->size, (long long)have);
	berth_error_hint(err, "the image's manifest is wrong: ask whoever "
			      "pushed it to push it again; if the local copy "
			      "may be damaged, run 'berth fsck' first");
	return BERTH_EDIGEST;
}

/*
 * Each blob being downloaded holds its staging file open. An image may
 * have thousands of layers, so they are fetched in windows of this many:
 * a window's files are opened when it starts and closed as its blobs are
 * stored, keeping berth far below the usual limit of 1024 open files.
 */
#define PULL_WINDOW 64

/* Commits a blob that never reached its sink's end: empty, or complete
 * from an earlier pull. */
static int
commit_left(pull_ctx *ctx, pull_blob *b, berth_error **err)
{
	int r = berth_blob_writer_commit(NULL, b->w, err);

	if (r < 0)
		return berth_error_wrap(
			err, r, "registry '%s' sent bad data",
			berth_registry_host(ctx->hosts[ctx->serving]));
	b->committed = true;
	emit_done(ctx, b);
	if (ctx->unpack)
		pull_unpack_stored(ctx->unpack, &b->desc->digest);
	return 0;
}

/* Opens the staging files of blobs [from, to) and downloads them. */
static int
fetch_window(pull_ctx *ctx, const char *repo, size_t from, size_t to,
	     berth_error **err)
{
	_cleanup_free_ berth_blob_job *jobs = xcalloc(to - from, sizeof(*jobs));
	size_t n_jobs = 0;
	int r;

	for (size_t i = from; i < to; i++) {
		pull_blob *b = &ctx->blobs[i];
		const berth_descriptor *d = b->desc;
		int64_t held;

		r = store_blob_resume(&b->w, ctx->store, &d->digest, d->size,
				      err);
		if (r < 0)
			return r;
		held = berth_blob_writer_written(b->w);
		if (held > 0)
			berth_log(BERTH_LOG_INFO,
				  "blob '%s': %lld of %lld bytes kept from an "
				  "earlier pull",
				  d->digest.str, (long long)held,
				  (long long)d->size);
		/* Complete already (a pull died before renaming it): stored
		 * now, as --unpack may be waiting for it. */
		if (held == d->size && held > 0) {
			if ((r = commit_left(ctx, b, err)) < 0)
				return r;
			continue;
		}
		if (b->is_layer && pull_foreign_has_urls(d)) {
			if (!berth_config_nondist_allowed(ctx->cfg,
							  ctx->domain))
				return pull_foreign_refuse(d, ctx->domain, err);
			/* From its URLs, before the registry's downloads: the
			 * applier reads it from the store. */
			if ((r = berth_blob_writer_reset(b->w, err)) < 0 ||
			    (r = pull_foreign_fetch(b->w, d, err)) < 0)
				return r;
			b->committed = true;
			emit_done(ctx, b);
			if (ctx->unpack)
				pull_unpack_stored(ctx->unpack, &d->digest);
			continue;
		}
		b->tee = NULL;
		if (ctx->unpack && held == 0)
			b->tee = pull_unpack_tee(ctx->unpack, &d->digest);
		jobs[n_jobs] = (berth_blob_job)BERTH_BLOB_JOB_INIT;
		jobs[n_jobs].desc = d;
		jobs[n_jobs].sink = blob_sink;
		jobs[n_jobs].sink_ud = b;
		jobs[n_jobs].offset = held;
		n_jobs++;
	}
	r = fetch_failover(ctx, repo, jobs, n_jobs, err);
	if (r < 0) {
		/*
		 * A blob cut off or interrupted keeps its partial file for the
		 * next pull; one whose bytes were wrong (more than its size, a
		 * bad digest) does not: they would only fail again.
		 */
		for (size_t i = from; i < to; i++)
			if (ctx->blobs[i].result == BERTH_EDIGEST)
				store_blob_forget(ctx->blobs[i].w);
		return r;
	}
	/* Empty blobs never reach the sink: commit what is left. */
	for (size_t i = from; i < to; i++) {
		pull_blob *b = &ctx->blobs[i];

		if (!b->committed && (r = commit_left(ctx, b, err)) < 0)
			return r;
		berth_blob_writer_free(b->w);
		b->w = NULL;
	}
	return 0;
}

/* Downloads the config and the layers the store lacks; with unpack_dir,
 * the config first, then the layers while the applier takes them. */
static int
fetch_missing(pull_ctx *ctx, const berth_ref *ref, const berth_manifest *m,
	      const char *unpack_dir, bool *downloaded, berth_error **err)
{
	static const berth_unpack_opts unpack_defaults = BERTH_UNPACK_OPTS_INIT;
	size_t n = 0, total = m->n_layers + 1, from = 0;
	const berth_pull_opts *o = ctx->opts;
	const char *repo = ref->path;
	int64_t have;
	int r;

	ctx->blobs = xcalloc(total, sizeof(*ctx->blobs));
	for (size_t i = 0; i < total; i++) {
		const berth_descriptor *d =
			i == 0 ? &m->config : &m->layers[i - 1];
		bool is_layer = i > 0;

		/* An image may list the same layer twice: fetch it once. */
		bool dup = false;
		for (size_t j = 0; j < n; j++)
			if (strcmp(ctx->blobs[j].desc->digest.str,
				   d->digest.str) == 0)
				dup = true;
		if (dup)
			continue;
		if (berth_store_has_blob(&have, ctx->store, &d->digest)) {
			/* The stored bytes match the digest: a descriptor
			 * that says otherwise is wrong, as it would be for a
			 * download. */
			if (have != d->size)
				return size_lie(ctx, d, have, err);
			if (is_layer)
				emit(o, BERTH_PULL_LAYER_EXISTS, d, NULL,
				     d->size, d->size, NULL);
			continue;
		}
		if (is_layer)
			emit(o, BERTH_PULL_LAYER_WAITING, d, NULL, 0, d->size,
			     NULL);
		ctx->blobs[n].desc = d;
		ctx->blobs[n].ctx = ctx;
		ctx->blobs[n].is_layer = is_layer;
		ctx->n_blobs = ++n;
	}
	*downloaded = n > 0;
	if (unpack_dir) {
		const berth_unpack_opts *uo =
			o->unpack ? o->unpack : &unpack_defaults;
		_cleanup_free_ char *name = berth_ref_string(ref);

		if (n > 0 && !ctx->blobs[0].is_layer) {
			if ((r = fetch_window(ctx, repo, 0, 1, err)) < 0)
				return r;
			from = 1;
		}
		if ((r = berth_opts_check(uo->version,
					  BERTH_UNPACK_OPTS_VERSION,
					  "berth_unpack_opts", err)) < 0 ||
		    (r = pull_unpack_start(&ctx->unpack, ctx->store, m, name,
					   unpack_dir, uo, err)) < 0)
			return r;
	}
	for (; from < n; from += PULL_WINDOW) {
		r = fetch_window(
			ctx, repo, from,
			n - from < PULL_WINDOW ? n : from + PULL_WINDOW, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Reads os/architecture/variant from a stored image config. */
static void
platform_from_config(berth_store *s, const berth_descriptor *config,
		     berth_descriptor *image)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	json_auto_t *root = NULL;
	const char *os, *arch, *variant;

	if (berth_store_read_blob(&data, &len, s, &config->digest,
				  BERTH_MANIFEST_MAX, NULL) < 0)
		return;
	root = json_loadb(data, len, 0, NULL);
	os = json_string_value(json_object_get(root, "os"));
	arch = json_string_value(json_object_get(root, "architecture"));
	variant = json_string_value(json_object_get(root, "variant"));
	if (os == NULL || arch == NULL)
		return;
	memset(&image->platform, 0, sizeof(image->platform));
	snprintf(image->platform.os, sizeof(image->platform.os), "%s", os);
	snprintf(image->platform.arch, sizeof(image->platform.arch), "%s",
		 arch);
	snprintf(image->platform.variant, sizeof(image->platform.variant), "%s",
		 variant ? variant : "");
	berth_platform_normalize(&image->platform);
	image->has_platform = true;
}

/*
 * Resolves an index to the manifest for the wanted platform, reading it
 * from the store when present (a re-pull then costs one request).
 */
static int
resolve_index(berth_manifest_body *body, berth_manifest **m,
	      berth_descriptor *image, berth_store *store, berth_registry *reg,
	      const berth_ref *ref, const berth_platform *want,
	      berth_error **err)
{
	const berth_descriptor *d = NULL;
	_cleanup_(berth_manifest_freep) berth_manifest *child = NULL;
	char *data = NULL;
	size_t len = 0;
	int r;

	r = berth_manifest_select(&d, *m, want, err);
	if (r < 0) {
		_cleanup_free_ char *s = berth_ref_string(ref);

		return berth_error_wrap(err, r, "'%s'", s);
	}
	berth_descriptor_copy(image, d);
	berth_manifest_body_release(body);
	if (berth_store_read_blob(&data, &len, store, &image->digest,
				  BERTH_MANIFEST_MAX, NULL) == 0) {
		body->data = data;
		body->len = len;
		body->digest = image->digest;
		body->content_type = xstrdup(image->media_type);
	} else {
		r = berth_registry_get_manifest(body, reg, ref->path,
						image->digest.str, err);
		if (r < 0)
			return r;
	}
	r = berth_manifest_parse(&child, body->content_type, body->data,
				 body->len, err);
	if (r < 0)
		return berth_error_wrap(err, r, "manifest '%s'",
					image->digest.str);
	if (child->kind != BERTH_MANIFEST_IMAGE)
		return berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				       "index entry '%s' is itself an index",
				       image->digest.str);
	image->size = (int64_t)body->len;
	berth_manifest_free(*m);
	*m = steal_ptr(&child);
	return 0;
}

static void
set_index_annotation(berth_descriptor *image, const berth_digest *index)
{
	json_auto_t *a = json_object();

	json_object_set_new(a, BERTH_ANNOTATION_INDEX_DIGEST,
			    json_string(index->str));
	free(image->annotations_json);
	image->annotations_json = json_dumps(a, JSON_COMPACT);
}

int
berth_pull(berth_pull_result *out, berth_store *store, const berth_ref *ref,
	   const berth_pull_opts *opts, berth_error **err)
{
	static const berth_pull_opts defaults = BERTH_PULL_OPTS_INIT;
	const berth_pull_opts *o = opts ? opts : &defaults;
	_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
	berth_registry *reg;
	berth_manifest_body body = BERTH_MANIFEST_BODY_INIT;
	berth_pull_result res = BERTH_PULL_RESULT_INIT;
	berth_digest top;
	berth_platform host;
	pull_ctx ctx = {.store = store, .opts = o};
	const berth_config *cfg = o->registry ? o->registry->config : NULL;
	bool leased = false;
	int r;

	if (berth_opts_check(o->version, BERTH_PULL_OPTS_VERSION,
			     "berth_pull_opts", err) < 0 ||
	    (o->registry &&
	     berth_opts_check(o->registry->version, BERTH_REGISTRY_OPTS_VERSION,
			      "berth_registry_opts", err) < 0) ||
	    berth_opts_check(out->version, BERTH_PULL_RESULT_VERSION,
			     "berth_pull_result", err) < 0)
		return BERTH_EUSAGE;
	ctx.cfg = cfg;
	ctx.domain = ref->domain;
	if (o->platform == NULL)
		berth_platform_host(&host);
	store_partial_clean(store, cfg ? cfg->partial_max_age
				       : BERTH_CONFIG_PARTIAL_MAX_AGE_DEFAULT);
	r = hosts_init(&ctx, ref, err);
	if (r < 0)
		goto out;
	r = get_manifest_any(&ctx, ref, &body, err);
	if (r < 0)
		goto out;
	reg = ctx.hosts[ctx.serving];
	top = body.digest;
	/* The policy decides before anything of the image is stored. */
	if (o->version >= 4 && o->policy &&
	    (r = berth_sigpolicy_check(o->policy, reg, ref, &top, err)) < 0)
		goto out;
	r = berth_manifest_parse(&m, body.content_type, body.data, body.len,
				 err);
	if (r < 0) {
		_cleanup_free_ char *s = berth_ref_string(ref);

		berth_error_wrap(err, r, "manifest of '%s' from '%s'", s,
				 berth_registry_host(reg));
		goto out;
	}
	r = berth_store_lease(store, err);
	if (r < 0)
		goto out;
	leased = true;
	if (m->kind == BERTH_MANIFEST_INDEX) {
		/* Kept for inspection and for pulls of other platforms later;
		 * the image's entry names it in an annotation. */
		r = berth_store_put_blob(NULL, store, &top, body.data, body.len,
					 err);
		if (r == 0)
			r = resolve_index(
				&body, &m, &res.image, store, reg, ref,
				o->platform ? o->platform : &host, err);
		if (r < 0)
			goto out;
		set_index_annotation(&res.image, &top);
	} else {
		res.image.media_type = xstrdup(m->media_type);
		res.image.digest = top;
		res.image.size = (int64_t)body.len;
	}
	emit(o, BERTH_PULL_RESOLVED, &res.image, top.str, 0, 0,
	     berth_registry_host(reg));

	r = fetch_missing(&ctx, ref, m, o->version >= 2 ? o->unpack_dir : NULL,
			  &res.downloaded, err);
	if (r < 0)
		goto out;
	if (!res.image.has_platform)
		platform_from_config(store, &m->config, &res.image);
	/* Manifests last: a visible manifest implies its blobs are there. */
	r = berth_store_put_blob(NULL, store, &res.image.digest, body.data,
				 body.len, err);
	if (r < 0)
		goto out;
	res.name = berth_ref_string(ref);
	if (!res.downloaded) {
		/* Up to date only if the name already meant this manifest. */
		berth_descriptor prev = {0};

		res.downloaded =
			berth_store_resolve(&prev, store, res.name, NULL) < 0 ||
			strcmp(prev.digest.str, res.image.digest.str) != 0;
		berth_descriptor_release(&prev);
	}
	/* A failed unpack records no image, as a failed pull would not. */
	if (ctx.unpack && (r = pull_unpack_wait(ctx.unpack, err)) < 0)
		goto out;
	r = berth_store_set_image(store, res.name, &res.image, err);
	if (r < 0)
		goto out;
	if (ctx.unpack) {
		berth_unpack_result *u = o->version >= 3 ? o->unpacked : NULL;

		r = pull_unpack_finish(steal_ptr(&ctx.unpack), 0, u, err);
		if (r < 0)
			goto out;
		if (u)
			u->image = res.image.digest;
	}
	res.digest = top;
	*out = res;
	memset(&res, 0, sizeof(res));
out:
	/* A failure: the applier stops, DIR stays as it was; the blobs stay
	 * leased while it reads them. */
	if (ctx.unpack)
		r = pull_unpack_finish(ctx.unpack, r, NULL, err);
	if (leased)
		berth_store_unlease(store);
	pull_ctx_release(&ctx);
	berth_manifest_body_release(&body);
	berth_pull_result_release(&res);
	return r;
}
