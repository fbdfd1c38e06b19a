/*
 * berth pull --unpack: see pull_unpack.h.
 *
 * A teed layer's bytes reach its decoder through a feed (unpack/feed.h),
 * not a socket pair: the decoder inflates them in the chunks the sink
 * copied them into, with no copy through the kernel. Either side's
 * failure shuts the feed, which wakes a thread blocked on the other end.
 *
 * Deadlock freedom: the applier waits only for the layer it is at, whose
 * download started before those of every later layer (downloads start in
 * layer order), and a sink waits only for the applier; a download that
 * fails aborts the applier, an applier that fails shuts every feed.
 */
#include "pull_unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unpack/apply.h"
#include "unpack/decode.h"
#include "unpack/feed.h"
#include "unpack/stage.h"
#include "unpack/verify.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

typedef struct pu_layer {
	const berth_descriptor *desc;
	berth_layer_compression comp;
	const berth_digest *diff_id; /* the config's */
	berth_feed *feed;	     /* once teed: its download writes here */
	bool teed;
	bool stored; /* verified and in the store */
} pu_layer;

struct pull_unpack {
	berth_store *store;
	const berth_manifest *m;
	pu_layer *l;
	size_t n;
	berth_digest *diff_ids;
	int64_t max_size;
	berth_stage *st;
	berth_apply *a;
	berth_unpack_fn progress;
	void *ud;

	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool aborted; /* a download failed */
	bool failed;  /* the applier failed (rc, err) */
	bool failed_first;
	bool joined, reported;
	int rc;
	berth_error *err;
};

/* Stops every sink: their writes fail, and nothing is taken for an end. */
static void
shut_all(pull_unpack *u)
{
	for (size_t i = 0; i < u->n; i++)
		if (u->l[i].feed)
			berth_feed_shut(u->l[i].feed);
}

static void
fail(pull_unpack *u, int rc, berth_error **e)
{
	pthread_mutex_lock(&u->mu);
	u->failed = true;
	u->failed_first = !u->aborted;
	u->rc = rc;
	u->err = e ? steal_ptr(e) : NULL;
	if (u->err == NULL)
		berth_error_set(&u->err, rc, 0,
				"unpacking stopped: a download failed");
	shut_all(u);
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
}

/* Waits until layer i can be read (teed or stored); false when aborted. */
static bool
wait_readable(pull_unpack *u, pu_layer *l, bool *teed)
{
	bool ok;

	pthread_mutex_lock(&u->mu);
	while (!l->teed && !l->stored && !u->aborted)
		pthread_cond_wait(&u->cv, &u->mu);
	ok = l->teed || l->stored;
	*teed = l->teed;
	pthread_mutex_unlock(&u->mu);
	return ok;
}

static bool
wait_stored(pull_unpack *u, pu_layer *l)
{
	bool ok;

	pthread_mutex_lock(&u->mu);
	while (!l->stored && !u->aborted)
		pthread_cond_wait(&u->cv, &u->mu);
	ok = l->stored;
	pthread_mutex_unlock(&u->mu);
	return ok;
}

static void
emit(pull_unpack *u, berth_unpack_event_kind kind, size_t i, int64_t done,
     const char *diff_id)
{
	berth_unpack_event ev = {
		kind,	NULL, i, u->n, u->l[i].desc, done, u->l[i].desc->size,
		diff_id};

	if (u->progress)
		u->progress(u->ud, &ev);
}

struct layer_reader {
	pull_unpack *u;
	berth_layer_decoder *d;
	size_t i;
};

/* The decoder, and progress in compressed bytes read. */
static ssize_t
layer_read(void *ud, const void **buf, berth_error **err)
{
	struct layer_reader *lr = ud;
	ssize_t n = berth_layer_decoder_read(lr->d, buf, err);

	if (n > 0)
		emit(lr->u, BERTH_UNPACK_LAYER_PROGRESS, lr->i,
		     berth_layer_decoder_total_in(lr->d), NULL);
	return n;
}

/* One layer: decoded from its feed or its blob, applied, verified.
 * 1 when the downloads were aborted. */
static int
apply_one(pull_unpack *u, size_t i, berth_error **err)
{
	pu_layer *l = &u->l[i];
	_cleanup_close_ int own = -1;
	berth_layer_decoder *d = NULL;
	berth_digest diff_id;
	char what[64];
	bool teed;
	int r;

	snprintf(what, sizeof(what), "layer %zu (%.19s)", i + 1,
		 l->desc->digest.str);
	if (!wait_readable(u, l, &teed))
		return 1;
	if (!teed) {
		_cleanup_free_ char *path =
			berth_store_blob_path(u->store, &l->desc->digest);

		own = open(path, O_RDONLY | O_CLOEXEC);
		if (own < 0)
			return berth_error_set(err, BERTH_EIO, errno,
					       "%s: cannot open '%s': %s", what,
					       path, strerror(errno));
	}
	if (teed)
		r = berth_layer_decoder_new_feed(&d, l->feed, l->comp,
						 u->max_size, err);
	else
		r = berth_layer_decoder_new(&d, own, l->comp, false,
					    u->max_size, err);
	if (r < 0)
		return berth_error_wrap(err, r, "%s", what);
	emit(u, BERTH_UNPACK_LAYER_START, i, 0, NULL);
	r = berth_apply_layer(u->a, layer_read, &(struct layer_reader){u, d, i},
			      what, err);
	if (r == 0)
		berth_layer_decoder_digests(d, NULL, &diff_id);
	berth_layer_decoder_free(d);
	/* The bytes were read before their digest was checked: only a
	 * stored blob counts. */
	if (teed && !wait_stored(u, l))
		return 1;
	if (r < 0)
		return r;
	r = berth_unpack_diff_id_check(&diff_id, l->diff_id, what, err);
	if (r == 0)
		emit(u, BERTH_UNPACK_LAYER_DONE, i, l->desc->size, diff_id.str);
	return r;
}

static void *
applier(void *arg)
{
	pull_unpack *u = arg;
	berth_error *e = NULL;
	int r = 0;

	for (size_t i = 0; i < u->n && r == 0; i++)
		r = apply_one(u, i, &e);
	if (r == 0)
		r = berth_apply_finish(u->a, &e);
	if (r == 1)
		r = BERTH_EINTERRUPTED; /* the download's error is reported */
	if (r < 0)
		fail(u, r, &e);
	berth_error_free(e);
	return NULL;
}

static void
pu_free(pull_unpack *u)
{
	berth_apply_free(u->a);
	berth_stage_abort(u->st);
	for (size_t i = 0; i < u->n; i++)
		berth_feed_free(u->l[i].feed);
	free(u->l);
	free(u->diff_ids);
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->cv);
	berth_error_free(u->err);
	free(u);
}

int
pull_unpack_start(pull_unpack **out, berth_store *store,
		  const berth_manifest *m, const char *name, const char *dir,
		  const berth_unpack_opts *o, berth_error **err)
{
	pull_unpack *u = xcalloc(1, sizeof(*u));
	berth_apply_opts ao = {o->rootless, o->max_size, o->max_entries,
			       BERTH_RESOLVE_AUTO};
	int r = 0;

	u->store = store;
	u->m = m;
	u->progress = o->progress;
	u->ud = o->ud;
	u->n = m->n_layers;
	u->l = xcalloc(u->n ? u->n : 1, sizeof(*u->l));
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	if (ao.max_size == 0)
		ao.max_size = BERTH_UNPACK_MAX_SIZE_DEFAULT;
	else if (ao.max_size < 0)
		ao.max_size = 0;
	if (ao.max_entries == 0)
		ao.max_entries = BERTH_UNPACK_MAX_ENTRIES_DEFAULT;
	u->max_size = ao.max_size;
	for (size_t i = 0; i < u->n && r == 0; i++) {
		pu_layer *l = &u->l[i];

		l->desc = &m->layers[i];
		l->stored = berth_store_has_blob(NULL, store, &l->desc->digest);
		r = berth_layer_media_type(&l->comp, NULL, l->desc->media_type,
					   err);
		if (r < 0)
			r = berth_error_wrap(err, r, "layer %zu", i + 1);
	}
	if (r == 0)
		r = berth_unpack_diff_ids(&u->diff_ids, store, m, name, err);
	for (size_t i = 0; i < u->n && r == 0; i++)
		u->l[i].diff_id = &u->diff_ids[i];
	if (r == 0)
		r = berth_stage_begin(&u->st, dir, o->force, err);
	if (r == 0)
		r = berth_apply_new(&u->a, berth_stage_fd(u->st), &ao, err);
	if (r == 0 && (r = pthread_create(&u->th, NULL, applier, u)) != 0)
		r = berth_error_set(err, BERTH_EGENERIC, r,
				    "cannot start the unpacking thread: %s",
				    strerror(r));
	if (r < 0) {
		pu_free(u);
		return r;
	}
	*out = u;
	return 0;
}

pull_tee *
pull_unpack_tee(pull_unpack *u, const berth_digest *d)
{
	pu_layer *t = NULL;

	pthread_mutex_lock(&u->mu);
	for (size_t i = 0; i < u->n; i++) {
		pu_layer *l = &u->l[i];

		if (l->teed || l->stored ||
		    strcmp(l->desc->digest.str, d->str) != 0)
			continue;
		/* The first layer that is d; one listed again reads the
		 * blob once stored. */
		l->feed = berth_feed_new();
		l->teed = true;
		t = l;
		if (u->failed)
			berth_feed_shut(l->feed);
		pthread_cond_broadcast(&u->cv);
		break;
	}
	pthread_mutex_unlock(&u->mu);
	return t;
}

static int
stopped(berth_error **err)
{
	return berth_error_set(err, BERTH_EINTERRUPTED, 0,
			       "download stopped: unpacking failed");
}

int
pull_unpack_check(pull_unpack *u, berth_error **err)
{
	bool failed;

	pthread_mutex_lock(&u->mu);
	failed = u->failed;
	pthread_mutex_unlock(&u->mu);
	return failed ? stopped(err) : 0;
}

int
pull_unpack_flush(pull_unpack *u, pull_tee *t, berth_error **err)
{
	return berth_feed_flush(t->feed) < 0 ? stopped(err) : 0;
}

int
pull_unpack_send(pull_unpack *u, pull_tee *t, const void *p, size_t len,
		 berth_error **err)
{
	return berth_feed_write(t->feed, p, len) < 0 ? stopped(err) : 0;
}

void
pull_unpack_stored(pull_unpack *u, const berth_digest *d)
{
	pthread_mutex_lock(&u->mu);
	for (size_t i = 0; i < u->n; i++) {
		pu_layer *l = &u->l[i];

		if (strcmp(l->desc->digest.str, d->str) != 0)
			continue;
		l->stored = true;
		/* The end of the layer's bytes, once they are verified. */
		if (l->feed)
			berth_feed_end(l->feed);
	}
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
}

void
pull_unpack_abort(pull_unpack *u)
{
	pthread_mutex_lock(&u->mu);
	u->aborted = true;
	for (size_t i = 0; i < u->n; i++)
		if (u->l[i].feed)
			berth_feed_abort(u->l[i].feed);
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
}

static void
join(pull_unpack *u)
{
	if (!u->joined)
		pthread_join(u->th, NULL);
	u->joined = true;
}

int
pull_unpack_wait(pull_unpack *u, berth_error **err)
{
	join(u);
	if (!u->failed)
		return 0;
	u->reported = true;
	return berth_error_move(err, &u->err, u->rc);
}

int
pull_unpack_finish(pull_unpack *u, int pull_rc, berth_unpack_result *res,
		   berth_error **err)
{
	int r = pull_rc;

	if (pull_rc < 0)
		pull_unpack_abort(u);
	join(u);
	if (u->reported) {
		/* pull_unpack_wait said why */
	} else if (u->failed && (u->failed_first || pull_rc == 0)) {
		r = u->rc;
		berth_error_move(err, &u->err, r);
	} else if (pull_rc == 0) {
		r = berth_stage_commit(u->st, err);
		u->st = NULL;
		if (r == 0 && res) {
			res->n_layers = u->n;
			res->entries = berth_apply_entries(u->a);
			res->bytes = berth_apply_bytes(u->a);
		}
	}
	pu_free(u);
	return r;
}
