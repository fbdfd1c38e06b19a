/*
 * A registry as either end of a copy. A blob goes up through a socket
 * pair: the copy writes into one side while a thread uploads what it reads
 * from the other (berth_registry_push_blob, one PUT), so the socket's
 * buffer is the only one and nothing touches the disk. The last bytes are
 * written only once the copy has verified the digest; closing the socket
 * short of the size abandons the PUT, which the registry never completes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "copy_end.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

typedef struct reg_end {
	copy_end base;
	berth_registry *reg;
	const berth_ref *ref;
} reg_end;

typedef struct reg_writer {
	copy_writer base;
	reg_end *e;
	const berth_descriptor *d;
	int fd;	  /* our side */
	int peer; /* the uploading thread's */
	pthread_t thread;
	int result;
	berth_error *err;
} reg_writer;

static int
reg_open(copy_end **out, const berth_location *loc,
	 const berth_registry_opts *ro, berth_store *store, bool dest,
	 berth_error **err)
{
	reg_end *e = xcalloc(1, sizeof(*e));
	int r;

	(void)store;
	e->base.ops = &copy_registry_ops;
	e->base.kind = BERTH_LOCATION_REGISTRY;
	e->base.name = xasprintf("%s/%s", loc->ref->domain, loc->ref->path);
	e->ref = loc->ref;
	r = berth_registry_new(&e->reg, berth_ref_api_host(loc->ref), ro, err);
	/* A destination's first requests are HEADs, whose empty answers do
	 * not show a TLS port spoken to in plain HTTP: the ping settles the
	 * scheme (and a refused login) before any blob. */
	if (r == 0 && dest)
		r = berth_registry_ping(e->reg, err);
	if (r < 0) {
		berth_registry_free(e->reg);
		free(e->base.name);
		free(e);
		return r;
	}
	*out = &e->base;
	return 0;
}

static void
reg_free(copy_end *ce)
{
	reg_end *e = (reg_end *)ce;

	berth_registry_free(e->reg);
	free(e->base.name);
	free(e);
}

static int
reg_get_manifest(copy_end *ce, const berth_digest *digest,
		 berth_manifest_body *out, berth_error **err)
{
	reg_end *e = (reg_end *)ce;

	return berth_registry_get_manifest(
		out, e->reg, e->ref->path,
		digest ? digest->str : berth_ref_reference(e->ref), err);
}

static int
reg_fetch_blob(copy_end *ce, const berth_descriptor *d, berth_sink_fn sink,
	       void *ud, berth_error **err)
{
	reg_end *e = (reg_end *)ce;
	berth_blob_job job = BERTH_BLOB_JOB_INIT;
	int r;

	job.desc = d;
	job.sink = sink;
	job.sink_ud = ud;
	r = berth_registry_fetch_blobs(e->reg, e->ref->path, &job, 1, 1, NULL,
				       NULL, err);
	berth_error_free(job.err);
	return r;
}

static int
reg_has_blob(bool *exists, copy_end *ce, const berth_descriptor *d,
	     berth_error **err)
{
	reg_end *e = (reg_end *)ce;
	int64_t size = -1;
	int r = berth_registry_stat_blob(exists, &size, e->reg, e->ref->path,
					 &d->digest, err);

	/* A size that disagrees is not the blob we mean: copy it again. */
	if (r == 0 && *exists && size >= 0 && size != d->size)
		*exists = false;
	return r;
}

static int
reg_mount_blob(bool *mounted, const char **from, copy_end *ce, copy_end *src,
	       const berth_descriptor *d, berth_error **err)
{
	reg_end *e = (reg_end *)ce, *s = (reg_end *)src;

	*mounted = false;
	if (src->kind != BERTH_LOCATION_REGISTRY ||
	    strcmp(berth_ref_api_host(e->ref), berth_ref_api_host(s->ref)) !=
		    0 ||
	    strcmp(e->ref->path, s->ref->path) == 0)
		return 0;
	*from = s->ref->path;
	return berth_registry_mount_blob(mounted, e->reg, e->ref->path,
					 &d->digest, s->ref->path, err);
}

static void *
upload_thread(void *ud)
{
	reg_writer *w = ud;

	w->result = berth_registry_push_blob(w->e->reg, w->e->ref->path,
					     &w->d->digest, w->d->size, w->peer,
					     &w->err);
	/* Wakes a writer blocked on a full buffer when the upload failed. */
	shutdown(w->peer, SHUT_RDWR);
	return NULL;
}

static int
reg_write(copy_writer *cw, const void *p, size_t len, berth_error **err)
{
	reg_writer *w = (reg_writer *)cw;
	const char *c = p;

	while (len > 0) {
		ssize_t n = send(w->fd, c, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return berth_error_set(err, BERTH_EIO, errno,
					       "the upload to '%s' stopped",
					       w->e->base.name);
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
reg_finish(copy_writer *cw, bool complete, berth_error **err)
{
	reg_writer *w = (reg_writer *)cw;
	int r;

	/* Short of the size when not complete: the PUT is abandoned. */
	shutdown(w->fd, SHUT_WR);
	pthread_join(w->thread, NULL);
	close(w->fd);
	close(w->peer);
	/* The upload's own failure even when abandoned: a refusal (401,
	 * 413) is what stopped the writes, and the caller says which of the
	 * two errors explains the copy's failure. */
	r = w->result;
	if (r < 0)
		berth_error_move(err, &w->err, r);
	berth_error_free(w->err);
	free(w);
	return r;
}

static const copy_writer_ops reg_writer_ops = {reg_write, reg_finish};

static int
reg_blob_begin(copy_writer **out, copy_end *ce, const berth_descriptor *d,
	       berth_error **err)
{
	reg_end *e = (reg_end *)ce;
	reg_writer *w;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot create a socket pair: %s",
				       strerror(errno));
	w = xcalloc(1, sizeof(*w));
	w->base.ops = &reg_writer_ops;
	w->e = e;
	w->d = d;
	w->fd = sv[0];
	w->peer = sv[1];
	if (pthread_create(&w->thread, NULL, upload_thread, w) != 0) {
		close(sv[0]);
		close(sv[1]);
		free(w);
		return berth_error_set(err, BERTH_EIO, 0,
				       "cannot start an upload thread");
	}
	*out = &w->base;
	return 0;
}

static int
reg_put_manifest(copy_end *ce, const berth_manifest_body *body, bool top,
		 berth_error **err)
{
	reg_end *e = (reg_end *)ce;
	const char *reference = body->digest.str;

	if (top && e->ref->digest &&
	    strcmp(e->ref->digest, body->digest.str) != 0)
		return berth_error_set(err, BERTH_EDIGEST, 0,
				       "the image copied is '%s', not '%s' "
				       "as the destination names it",
				       body->digest.str, e->ref->digest);
	if (top && e->ref->tag)
		reference = e->ref->tag;
	return berth_registry_put_manifest(e->reg, e->ref->path, reference,
					   body->content_type, body->data,
					   body->len, err);
}

const copy_end_ops copy_registry_ops = {
	.open = reg_open,
	.free = reg_free,
	.get_manifest = reg_get_manifest,
	.fetch_blob = reg_fetch_blob,
	.has_blob = reg_has_blob,
	.mount_blob = reg_mount_blob,
	.blob_begin = reg_blob_begin,
	.put_manifest = reg_put_manifest,
};
