/*
 * The collector (gc.h): look at each repository in a snapshot, and mark
 * and sweep one with garbage in a write transaction, then take out the
 * bytes no row uses, then the expired uploads; idle between writes
 * (gc_prio.c). The report, the audit lines and the metrics are gc_report.c's.
 */
#include "server/ops/gc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/log.h"
#include "server/ops/gc_int.h"
#include "server/ops/metrics.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/hmap.h"
#include "util/xalloc.h"

/* Blobs taken out per write transaction: short turns at the lock. */
#define FILE_BATCH 256

/* A manifest of the repository being marked. */
typedef struct mnode {
	char *digest;
	char *subject; /* or NULL */
	int64_t size, pushed;
	bool alive;
	char **children; /* what it references: blobs and manifests */
	size_t n_children;
	struct mnode *next_referrer; /* of the same subject */
} mnode;

static void
mnode_free(void *p)
{
	mnode *n = p;

	free(n->digest);
	free(n->subject);
	for (size_t i = 0; i < n->n_children; i++)
		free(n->children[i]);
	free(n->children);
	free(n);
}

/* One repository's mark. */
typedef struct mark {
	int64_t cutoff;
	berth_hmap *by_digest;	/* digest -> mnode */
	berth_hmap *referrers;	/* subject -> first mnode of its chain */
	berth_hmap *referenced; /* digests living manifests reference */
	mnode **v;		/* every manifest */
	size_t n;
	mnode **stack; /* alive, children and referrers not yet marked */
	size_t depth;
	gc_run *run;
	const char *repo;
	bool look; /* only look: a dry run, or a real run's first pass */
} mark;

static void
on_manifest(const berth_meta_manifest *mf, void *ud)
{
	mark *k = ud;
	mnode *n;

	if (berth_hmap_get(k->by_digest, mf->digest))
		return;
	n = xcalloc(1, sizeof(*n));
	n->digest = xstrdup(mf->digest);
	n->subject = mf->subject ? xstrdup(mf->subject) : NULL;
	n->size = mf->size;
	n->pushed = mf->pushed;
	berth_hmap_put(k->by_digest, n->digest, n);
	k->v = xreallocarray(k->v, k->n + 1, sizeof(*k->v));
	k->stack = xreallocarray(k->stack, k->n + 1, sizeof(*k->stack));
	k->v[k->n++] = n;
}

static void
on_ref(const char *digest, const char *child, void *ud)
{
	mark *k = ud;
	mnode *n = berth_hmap_get(k->by_digest, digest);

	if (n == NULL || child == NULL)
		return;
	n->children = xreallocarray(n->children, n->n_children + 1,
				    sizeof(*n->children));
	n->children[n->n_children++] = xstrdup(child);
}

static void
keep(mark *k, mnode *n)
{
	if (n == NULL || n->alive)
		return;
	n->alive = true;
	k->stack[k->depth++] = n;
}

static void
on_tag(const berth_meta_tag_row *t, void *ud)
{
	mark *k = ud;

	keep(k, berth_hmap_get(k->by_digest, t->digest));
}

/* From the roots (tagged, or pushed within the grace period), along
 * references and from subjects to their referrers. */
static void
propagate(mark *k)
{
	size_t i;

	for (i = 0; i < k->n; i++) {
		mnode *n = k->v[i];
		mnode *head;

		if (n->pushed >= k->cutoff)
			keep(k, n);
		if (n->subject == NULL)
			continue;
		head = berth_hmap_get(k->referrers, n->subject);
		if (head == NULL) {
			berth_hmap_put(k->referrers, n->subject, n);
		} else {
			n->next_referrer = head->next_referrer;
			head->next_referrer = n;
		}
	}
	while (k->depth > 0) {
		mnode *n = k->stack[--k->depth], *ref;

		for (i = 0; i < n->n_children; i++)
			keep(k, berth_hmap_get(k->by_digest, n->children[i]));
		for (ref = berth_hmap_get(k->referrers, n->digest); ref;
		     ref = ref->next_referrer)
			keep(k, ref);
	}
}

static void
on_link(const char *digest, int64_t size, int64_t seen, void *ud)
{
	mark *k = ud;

	if (berth_hmap_get(k->referenced, digest) || seen >= k->cutoff)
		return;
	/* Removed after the listing: no row changes under a running
	 * SELECT. */
	gc_removed(k->run, SRV_GC_BLOB_LINK, k->repo, digest, size);
}

/*
 * Marks repo and, unless this is a dry run, removes the dead manifests
 * and links inside tx; what goes is noted in the run (gc_int.h).
 */
static int
sweep_repo(berth_meta_tx *tx, void *ud, berth_error **err)
{
	mark *k = ud;
	const struct berth_meta_ops *o = tx->ops;
	size_t i, j, from;
	int r;

	if ((r = o->manifests_each(tx, k->repo, on_manifest, k, err)) < 0 ||
	    (r = o->refs_each(tx, k->repo, on_ref, k, err)) < 0 ||
	    (r = o->tags_each(tx, k->repo, on_tag, k, err)) < 0)
		return r;
	propagate(k);
	for (i = 0; i < k->n; i++) {
		mnode *n = k->v[i];

		if (n->alive) {
			for (j = 0; j < n->n_children; j++)
				if (!berth_hmap_get(k->referenced,
						    n->children[j]))
					berth_hmap_put(k->referenced,
						       n->children[j], n);
			continue;
		}
		if (!k->look &&
		    (r = o->manifest_remove(tx, k->repo, n->digest, err)) < 0)
			return r;
		gc_removed(k->run, SRV_GC_MANIFEST, k->repo, n->digest,
			   n->size);
	}
	from = k->run->n_pending;
	if ((r = o->links_each(tx, k->repo, on_link, k, err)) < 0)
		return r;
	for (i = from; !k->look && i < k->run->n_pending; i++)
		if ((r = o->blob_unlink(tx, k->repo, k->run->pending[i].name,
					err)) < 0)
			return r;
	return 0;
}

/* A write transaction at the thread's own priority (gc_prio.c). */
static int
gc_write(gc_run *run, int (*fn)(berth_meta_tx *tx, void *ud, berth_error **err),
	 void *ud, berth_error **err)
{
	gc_prio_busy(&run->prio);
	return berth_meta_write(run->st->meta, fn, ud, err);
}

/* A snapshot, for a look that changes nothing. */
static int
in_snapshot(gc_run *run,
	    int (*fn)(berth_meta_tx *tx, void *ud, berth_error **err), void *ud,
	    berth_error **err)
{
	berth_meta *m = run->st->meta;
	berth_meta_tx *tx;
	int r;

	if ((r = m->ops->tx_begin(m, &tx, BERTH_META_READ, err)) < 0)
		return r;
	r = fn(tx, ud, err);
	tx->ops->tx_rollback(tx);
	return r;
}

/* Marks repo (and sweeps it, unless look); *found: what it noted. */
static int
mark_repo(gc_run *run, const char *repo, bool look, size_t *found,
	  berth_error **err)
{
	mark k = {
		.cutoff = run->cutoff, .run = run, .repo = repo, .look = look};
	size_t before = run->n_pending;
	int r;

	k.by_digest = berth_hmap_new(256);
	k.referrers = berth_hmap_new(64);
	k.referenced = berth_hmap_new(1024);
	r = look ? in_snapshot(run, sweep_repo, &k, err)
		 : gc_write(run, sweep_repo, &k, err);
	berth_hmap_free(k.referenced, NULL);
	berth_hmap_free(k.referrers, NULL);
	berth_hmap_free(k.by_digest, mnode_free);
	free(k.v);
	free(k.stack);
	*found = run->n_pending - before;
	return r;
}

/*
 * A real run looks first, in a snapshot, and takes the writer lock only
 * for a repository with garbage, where it marks again under the lock:
 * the look only chooses, and in the steady state no push waits for GC.
 */
static int
collect_repo(gc_run *run, const char *repo, berth_error **err)
{
	size_t found = 0;
	int r = mark_repo(run, repo, true, &found, err);

	if (r == 0 && found > 0 && !run->dry_run) {
		gc_settle(run, false); /* the look's notes: decided below */
		r = mark_repo(run, repo, false, &found, err);
	}
	/* Rolled back: what it noted did not happen. */
	gc_settle(run, r == 0);
	gc_prio_idle(&run->prio);
	return r;
}

/* ---- bytes ---- */

typedef struct blob_cand {
	berth_digest d;
	int64_t size;
} blob_cand;

typedef struct files_ctx {
	gc_run *run;
	berth_hmap *used; /* digests some row (this run leaves) uses */
	blob_cand *v;
	size_t n;
} files_ctx;

typedef struct user_ctx {
	gc_run *run;
	const char *digest;
	bool used;
} user_ctx;

/* A row that needs the bytes, unless this run removed it (a dry run only
 * noted it): a link, a manifest, or a reference from one. */
static bool
on_user(char kind, const char *repo, const char *owner, void *ud)
{
	user_ctx *u = ud;

	if (kind == 'l'
		    ? !gc_was_removed(u->run, SRV_GC_BLOB_LINK, repo, u->digest)
		    : !gc_was_removed(u->run, SRV_GC_MANIFEST, repo, owner))
		u->used = true;
	return u->used;
}

static int
blob_used(gc_run *run, berth_meta_tx *tx, const berth_digest *d, bool *used,
	  berth_error **err)
{
	user_ctx u = {run, d->str, false};
	int r = tx->ops->digest_users(tx, d->str, on_user, &u, err);

	*used = r < 0 || u.used;
	return r;
}

static void
on_use(char kind, const char *repo, const char *owner, const char *digest,
       void *ud)
{
	files_ctx *f = ud;

	if (digest == NULL || berth_hmap_get(f->used, digest))
		return;
	if (kind == 'l' ? gc_was_removed(f->run, SRV_GC_BLOB_LINK, repo, digest)
			: gc_was_removed(f->run, SRV_GC_MANIFEST, repo, owner))
		return;
	berth_hmap_put(f->used, digest, f);
}

static bool
file_used(const berth_digest *d, void *ud)
{
	files_ctx *f = ud;

	return berth_hmap_get(f->used, d->str) != NULL;
}

static bool
on_file(const berth_digest *d, int64_t size, int64_t written, void *ud)
{
	files_ctx *f = ud;

	/* (A store may list a used blob: skip is a hint.) */
	if (written >= f->run->cutoff || file_used(d, f))
		return false;
	f->v = xreallocarray(f->v, f->n + 1, sizeof(*f->v));
	f->v[f->n++] = (blob_cand){*d, size};
	return false;
}

/*
 * Candidates from a snapshot, in one pass over what uses bytes and one
 * over the files: those old enough that no row uses.
 */
static int
find_files(berth_meta_tx *tx, void *ud, berth_error **err)
{
	files_ctx *f = ud;
	berth_blobstore *bs = f->run->st->blobs;
	int r = tx->ops->uses_each(tx, on_use, f, err);

	if (r == 0)
		bs->ops->each(bs, file_used, on_file, f);
	return r;
}

typedef struct take_ctx {
	gc_run *run;
	blob_cand *v;
	size_t n;
	char **aside; /* of v, NULL where the blob stays */
} take_ctx;

/*
 * Under the writer lock: no row uses it now and none can start to until
 * the lock is let go (every writer that makes a row use bytes checks
 * them under it), so the bytes go aside; unlinked after the commit.
 */
static int
take_files(berth_meta_tx *tx, void *ud, berth_error **err)
{
	take_ctx *t = ud;
	berth_blobstore *bs = t->run->st->blobs;
	size_t i;
	int r;

	for (i = 0; i < t->n; i++) {
		bool used = true;
		berth_error *e = NULL;

		if ((r = blob_used(t->run, tx, &t->v[i].d, &used, err)) < 0)
			return r;
		if (used)
			continue;
		r = bs->ops->set_aside(bs, &t->v[i].d, t->run->cutoff,
				       &t->aside[i], &t->v[i].size, &e);
		if (r == BERTH_ENOTFOUND) {
			berth_error_free(e); /* another collector's */
			continue;
		}
		if (r < 0)
			return berth_error_move(err, &e, r);
	}
	return 0;
}

static int
collect_files(gc_run *run, berth_error **err)
{
	files_ctx f = {.run = run};
	size_t at, i;
	int r;

	/* The snapshot's look needs no lock: a real run checks again. */
	f.used = berth_hmap_new(16384);
	r = in_snapshot(run, find_files, &f, err);
	berth_hmap_free(f.used, NULL);
	if (r < 0 || run->dry_run) {
		for (i = 0; r == 0 && i < f.n; i++)
			gc_removed(run, SRV_GC_BLOB, NULL, f.v[i].d.str,
				   f.v[i].size);
		gc_settle(run, r == 0);
		free(f.v);
		return r;
	}
	for (at = 0; r == 0 && at < f.n; at += FILE_BATCH) {
		take_ctx t = {run, f.v + at,
			      f.n - at < FILE_BATCH ? f.n - at : FILE_BATCH,
			      NULL};

		t.aside = xcalloc(t.n, sizeof(*t.aside));
		r = gc_write(run, take_files, &t, err);
		/* Whatever went aside is out of every row's reach. */
		for (i = 0; i < t.n; i++) {
			if (t.aside[i] == NULL)
				continue;
			run->st->blobs->ops->drop_aside(run->st->blobs,
							t.aside[i]);
			gc_removed(run, SRV_GC_BLOB, NULL, t.v[i].d.str,
				   t.v[i].size);
			free(t.aside[i]);
		}
		gc_settle(run, true);
		gc_prio_idle(&run->prio);
		free(t.aside);
	}
	free(f.v);
	return r;
}

/* ---- uploads and temporary files ---- */

static void
on_purged(const char *kind, const char *name, int64_t size, void *ud)
{
	gc_removed(ud, strcmp(kind, "tmp") == 0 ? SRV_GC_TMP : SRV_GC_UPLOAD,
		   NULL, name, size);
}

/* ---- the run ---- */

static int
collect(gc_run *run, berth_error **err)
{
	char **repos = NULL;
	bool more = false;
	int r = berth_meta_catalog(run->st->meta, NULL, -1, &repos, &more, err);

	for (size_t i = 0; r == 0 && repos[i]; i++)
		r = collect_repo(run, repos[i], err);
	berth_strv_free(repos);
	if (r == 0)
		r = collect_files(run, err);
	if (r == 0) {
		/* Its few writes each take the writer lock. */
		gc_prio_busy(&run->prio);
		srv_storage_purge_report(run->st, run->now, run->dry_run,
					 on_purged, run);
		gc_settle(run, true);
	}
	return r;
}

int
srv_gc_run(srv_storage *st, const srv_gc_opts *o, srv_gc_report *out,
	   berth_error **err)
{
	static pthread_mutex_t one = PTHREAD_MUTEX_INITIALIZER;
	int64_t t0 = berth_monotonic_ms();
	gc_run run;
	int r;

	memset(out, 0, sizeof(*out));
	out->dry_run = o->dry_run;
	pthread_mutex_lock(&one);
	gc_run_init(&run, st, o, out, (int64_t)time(NULL));
	gc_prio_begin(&run.prio);
	r = collect(&run, err);
	gc_prio_end(&run.prio);
	gc_run_release(&run);
	pthread_mutex_unlock(&one);
	out->seconds = (double)(berth_monotonic_ms() - t0) / 1000.0;
	gc_account(out, r);
	if (r < 0)
		return berth_error_wrap(err, r, "garbage collection");
	berth_log(BERTH_LOG_INFO,
		  "garbage collection%s: %zu deleted, %lld bytes freed, "
		  "%.3f s",
		  o->dry_run ? " (dry run)" : "", out->n, (long long)out->freed,
		  out->seconds);
	return 0;
}
