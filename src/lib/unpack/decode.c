/*
 * Layer decoding: compressed bytes from an fd into tar bytes, on a worker
 * thread that inflates into a small ring of blocks while the caller
 * (the tar applier) consumes the one before. The caller's thread hashes
 * what it is handed (the diff ID), so inflating and hashing run on both
 * cores at once.
 */
#include "unpack/decode.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include "berth/manifest.h"
#include "unpack/feed.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* ---- media types ---- */

static const struct {
	const char *type;
	berth_layer_compression c;
	bool foreign;
} layer_types[] = {
	{BERTH_MT_OCI_LAYER, BERTH_LAYER_PLAIN, false},
	{BERTH_MT_OCI_LAYER_GZIP, BERTH_LAYER_GZIP, false},
	{BERTH_MT_OCI_LAYER_ZSTD, BERTH_LAYER_ZSTD, false},
	{"application/vnd.oci.image.layer.nondistributable.v1.tar",
	 BERTH_LAYER_PLAIN, true},
	{"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	 BERTH_LAYER_GZIP, true},
	{"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	 BERTH_LAYER_ZSTD, true},
	{BERTH_MT_DOCKER_LAYER, BERTH_LAYER_GZIP, false},
	{"application/vnd.docker.image.rootfs.diff.tar", BERTH_LAYER_PLAIN,
	 false},
	{"application/vnd.docker.image.rootfs.diff.tar.zstd", BERTH_LAYER_ZSTD,
	 false},
	{BERTH_MT_DOCKER_FOREIGN, BERTH_LAYER_GZIP, true},
	{"application/vnd.docker.image.rootfs.foreign.diff.tar",
	 BERTH_LAYER_PLAIN, true},
};

int
berth_layer_media_type(berth_layer_compression *out, bool *foreign,
		       const char *media_type, berth_error **err)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(layer_types); i++) {
		if (media_type &&
		    strcmp(media_type, layer_types[i].type) == 0) {
			*out = layer_types[i].c;
			if (foreign)
				*foreign = layer_types[i].foreign;
			return 0;
		}
	}
	berth_error_set(err, BERTH_EUNSUPPORTED, 0,
			"layer media type '%s' is not supported",
			media_type ? media_type : "");
	berth_error_hint(err, "berth unpacks OCI and Docker layers: tar, "
			      "tar+gzip and tar+zstd");
	return BERTH_EUNSUPPORTED;
}

const char *
berth_layer_compression_name(berth_layer_compression c)
{
	switch (c) {
	case BERTH_LAYER_GZIP:
		return "gzip";
	case BERTH_LAYER_ZSTD:
		return "zstd";
	default:
		return "tar";
	}
}

/* ---- the decoder ---- */

/* Output blocks of 1 MiB: few enough wake-ups, small enough for the
 * memory bound. The consumer holds one, the worker fills the others. */
#define BLOCK_SIZE ((size_t)1 << 20)
#define NBLOCKS 3
#define IN_SIZE ((size_t)256 << 10)

struct berth_layer_decoder {
	int fd;		  /* the input: fd, or */
	berth_feed *feed; /* a feed, read where its chunks are */
	berth_layer_compression c;
	int64_t max_out;
	int stop_fd; /* eventfd: wakes a worker waiting for input */

	pthread_t th;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Under mu. count includes the block the consumer holds (held). */
	uint8_t *blk[NBLOCKS];
	size_t len[NBLOCKS];
	unsigned head, count;
	bool held, stopping, wdone;
	int wrc;
	berth_error *werr;

	/* The worker's. */
	berth_hasher *in_h;
	uint8_t *in;
	uint8_t *cur; /* the block being filled, or NULL */
	size_t cur_len;
	int64_t produced;
	_Atomic int64_t consumed; /* compressed bytes read */

	/* The consumer's. */
	berth_hasher *out_h;
	int64_t total_out;
	bool ended;
	int end_rc;
	bool hashed_input;
	berth_digest digest, diff_id;
};

/* Hands the filled part of the current block to the consumer. */
static void
publish(berth_layer_decoder *d)
{
	if (d->cur == NULL || d->cur_len == 0)
		return;
	pthread_mutex_lock(&d->mu);
	d->len[(d->head + d->count) % NBLOCKS] = d->cur_len;
	d->count++;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	d->cur = NULL;
	d->cur_len = 0;
}

/* Room in the current block, waiting for a free one; -1 when stopping. */
static int
out_space(berth_layer_decoder *d, uint8_t **p, size_t *n)
{
	if (d->cur == NULL) {
		unsigned slot;

		pthread_mutex_lock(&d->mu);
		while (d->count == NBLOCKS && !d->stopping)
			pthread_cond_wait(&d->cv, &d->mu);
		if (d->stopping) {
			pthread_mutex_unlock(&d->mu);
			return -1;
		}
		slot = (d->head + d->count) % NBLOCKS;
		pthread_mutex_unlock(&d->mu);
		/* Allocated when first needed: a small layer uses one. The
		 * worker alone writes blk[]; the consumer reads a slot only
		 * after it is published under mu. */
		if (d->blk[slot] == NULL)
			d->blk[slot] = xmalloc(BLOCK_SIZE);
		d->cur = d->blk[slot];
		d->cur_len = 0;
	}
	*p = d->cur + d->cur_len;
	*n = BLOCK_SIZE - d->cur_len;
	return 0;
}

static int
too_big(berth_layer_decoder *d, berth_error **err)
{
	berth_error_set(err, BERTH_ETOOBIG, 0,
			"layer unpacks to more than %" PRId64
			" bytes, the limit of --max-unpacked-size",
			d->max_out);
	berth_error_hint(err, "if the image is trusted, raise "
			      "--max-unpacked-size");
	return BERTH_ETOOBIG;
}

/* Counts n new bytes in the current block, publishing it when full. */
static int
out_commit(berth_layer_decoder *d, size_t n, berth_error **err)
{
	d->produced += (int64_t)n;
	if (d->max_out > 0 && d->produced > d->max_out)
		return too_big(d, err);
	d->cur_len += n;
	if (d->cur_len == BLOCK_SIZE)
		publish(d);
	return 0;
}

/* Reads up to n bytes; 0 at EOF, -1 when stopping, else a berth_code. */
static ssize_t
read_input(berth_layer_decoder *d, uint8_t *p, size_t n, berth_error **err)
{
	for (;;) {
		struct pollfd pf[2] = {{.fd = d->fd, .events = POLLIN},
				       {.fd = d->stop_fd, .events = POLLIN}};
		ssize_t r;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return berth_error_set(err, BERTH_EIO, errno,
					       "cannot read the layer: %s",
					       strerror(errno));
		}
		if (pf[1].revents)
			return -1;
		r = read(d->fd, p, n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return berth_error_set(err, BERTH_EIO, errno,
					       "cannot read the layer: %s",
					       strerror(errno));
		if (d->in_h && r > 0)
			berth_hasher_update(d->in_h, p, (size_t)r);
		if (r > 0)
			atomic_fetch_add(&d->consumed, r);
		return r;
	}
}

/* The next input bytes at *p: read into d->in from an fd, or a feed's
 * chunk as it is. 0 at EOF, -1 when stopping, else a berth_code. */
static ssize_t
next_input(berth_layer_decoder *d, const uint8_t **p, berth_error **err)
{
	ssize_t r;

	if (d->feed == NULL) {
		*p = d->in;
		return read_input(d, d->in, IN_SIZE, err);
	}
	r = berth_feed_read(d->feed, p);
	if (d->in_h && r > 0)
		berth_hasher_update(d->in_h, *p, (size_t)r);
	if (r > 0)
		atomic_fetch_add(&d->consumed, r);
	return r;
}

static int
run_plain(berth_layer_decoder *d, berth_error **err)
{
	const uint8_t *in = NULL;
	size_t avail = 0;

	for (;;) {
		uint8_t *p;
		size_t n;
		ssize_t r;

		if (out_space(d, &p, &n) < 0)
			return -1;
		if (d->feed == NULL) {
			/* Straight into the block. */
			if ((r = read_input(d, p, n, err)) <= 0)
				return (int)r;
		} else {
			if (avail == 0) {
				if ((r = next_input(d, &in, err)) <= 0)
					return (int)r;
				avail = (size_t)r;
			}
			r = (ssize_t)(n < avail ? n : avail);
			memcpy(p, in, (size_t)r);
			in += r;
			avail -= (size_t)r;
		}
		if ((r = out_commit(d, (size_t)r, err)) < 0)
			return (int)r;
	}
}

static int
gzip_error(int ret, unsigned member, berth_error **err)
{
	const char *what;

	switch (ret) {
	case ISAL_INCORRECT_CHECKSUM:
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "gzip member %u does not match its CRC "
				       "or length: the layer is corrupt",
				       member + 1);
	case ISAL_INVALID_WRAPPER:
	case ISAL_UNSUPPORTED_METHOD:
		if (member > 0)
			return berth_error_set(
				err, BERTH_EPROTO, 0,
				"unexpected data after the end of the gzip "
				"stream (after member %u)",
				member);
		return berth_error_set(
			err, BERTH_EPROTO, 0,
			"layer is not gzip data: invalid header");
	case ISAL_INVALID_BLOCK:
		what = "invalid deflate block";
		break;
	case ISAL_INVALID_SYMBOL:
		what = "invalid deflate symbol";
		break;
	case ISAL_INVALID_LOOKBACK:
		what = "invalid back-reference distance";
		break;
	default:
		what = "unexpected inflate state";
		break;
	}
	return berth_error_set(err, BERTH_EPROTO, 0,
			       "gzip member %u is corrupt: %s", member + 1,
			       what);
}

static int
run_gzip(berth_layer_decoder *d, berth_error **err)
{
	_cleanup_free_ struct inflate_state *gz = xcalloc(1, sizeof(*gz));
	unsigned members = 0;
	bool in_member = false, eof = false;
	int64_t member_out = 0;

	isal_inflate_init(gz);
	for (;;) {
		uint8_t *p;
		size_t n;
		ssize_t r;
		int ret;

		if (gz->avail_in == 0 && !eof) {
			const uint8_t *in = NULL;

			if ((r = next_input(d, &in, err)) < 0)
				return (int)r;
			if (r == 0)
				eof = true;
			gz->next_in = (uint8_t *)in; /* isa-l only reads it */
			gz->avail_in = (uint32_t)r;
		}
		if (!in_member) {
			uint8_t *next_in = gz->next_in;
			uint32_t avail_in = gz->avail_in;

			if (avail_in == 0 && eof) {
				if (members > 0)
					return 0;
				return berth_error_set(err, BERTH_EPROTO, 0,
						       "gzip layer is empty");
			}
			/* A new member: pigz and `cat a.gz b.gz` write
			 * several, each with its own CRC and length. */
			isal_inflate_reset(gz);
			gz->next_in = next_in;
			gz->avail_in = avail_in;
			gz->total_out = 0;
			gz->crc_flag = ISAL_GZIP;
			in_member = true;
			member_out = 0;
		}
		if (out_space(d, &p, &n) < 0)
			return -1;
		gz->next_out = p;
		gz->avail_out = (uint32_t)n;
		ret = isal_inflate(gz);
		if ((r = out_commit(d, n - gz->avail_out, err)) < 0)
			return (int)r;
		member_out += (int64_t)(n - gz->avail_out);
		if (ret < 0)
			return gzip_error(ret, members, err);
		if (gz->block_state == ISAL_BLOCK_FINISH) {
			in_member = false;
			members++;
			continue;
		}
		if (gz->avail_in == 0 && eof && gz->avail_out > 0) {
			if (members > 0 && member_out == 0)
				return gzip_error(ISAL_INVALID_WRAPPER, members,
						  err);
			return berth_error_set(err, BERTH_EPROTO, 0,
					       "gzip layer is truncated: it "
					       "ends inside member %u",
					       members + 1);
		}
	}
}

static int
run_zstd(berth_layer_decoder *d, berth_error **err)
{
	ZSTD_DCtx *z = ZSTD_createDCtx();
	ZSTD_inBuffer in = {d->in, 0, 0};
	bool eof = false, any = false, out_full = false;
	size_t last = 1, ret, pos;
	int rc = 0;

	if (z == NULL)
		abort();
	for (;;) {
		ZSTD_outBuffer out;
		uint8_t *p;
		size_t n;
		ssize_t r;

		if (in.pos == in.size && !eof) {
			const uint8_t *p_in = NULL;

			if ((r = next_input(d, &p_in, err)) < 0) {
				rc = (int)r;
				break;
			}
			eof = r == 0;
			any |= r > 0;
			in.src = p_in;
			in.size = (size_t)r;
			in.pos = 0;
		}
		if (in.pos == in.size && eof && !out_full) {
			/* Between frames ZSTD_decompressStream returns 0. */
			if (!any)
				rc = berth_error_set(err, BERTH_EPROTO, 0,
						     "zstd layer is empty");
			else if (last != 0)
				rc = berth_error_set(err, BERTH_EPROTO, 0,
						     "zstd layer is truncated: "
						     "it ends inside a frame");
			break;
		}
		if (out_space(d, &p, &n) < 0) {
			rc = -1;
			break;
		}
		out = (ZSTD_outBuffer){p, n, 0};
		pos = in.pos;
		ret = ZSTD_decompressStream(z, &out, &in);
		if ((rc = out_commit(d, out.pos, err)) < 0)
			break;
		out_full = out.pos == out.size;
		if (ZSTD_isError(ret)) {
			rc = berth_error_set(err, BERTH_EPROTO, 0,
					     "zstd layer is corrupt: %s",
					     ZSTD_getErrorName(ret));
			break;
		}
		/* A call that did nothing (the frame ended exactly at a full
		 * block, and there is no more input) asks for the next
		 * frame: the one before is still complete. */
		if (in.pos != pos || out.pos > 0)
			last = ret;
	}
	ZSTD_freeDCtx(z);
	return rc;
}

static void *
worker(void *arg)
{
	berth_layer_decoder *d = arg;
	berth_error *e = NULL;
	int rc;

	switch (d->c) {
	case BERTH_LAYER_GZIP:
		rc = run_gzip(d, &e);
		break;
	case BERTH_LAYER_ZSTD:
		rc = run_zstd(d, &e);
		break;
	default:
		rc = run_plain(d, &e);
		break;
	}
	if (rc == 0)
		publish(d);
	pthread_mutex_lock(&d->mu);
	d->wdone = true;
	d->wrc = rc == -1 ? BERTH_EINTERRUPTED : rc;
	d->werr = e;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

static int
decoder_new(berth_layer_decoder **out, int fd, berth_feed *feed,
	    berth_layer_compression c, bool hash_input, int64_t max_out,
	    berth_error **err)
{
	berth_layer_decoder *d = xcalloc(1, sizeof(*d));
	int r;

	d->fd = fd;
	d->feed = feed;
	d->c = c;
	d->max_out = max_out;
	d->hashed_input = hash_input;
	d->in_h = hash_input ? berth_hasher_new(BERTH_DIGEST_SHA256) : NULL;
	d->out_h = berth_hasher_new(BERTH_DIGEST_SHA256);
	if (c != BERTH_LAYER_PLAIN && feed == NULL)
		d->in = xmalloc(IN_SIZE);
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	d->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (d->stop_fd < 0) {
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot create an eventfd: %s",
				    strerror(errno));
		berth_layer_decoder_free(d);
		return r;
	}
	if ((r = pthread_create(&d->th, NULL, worker, d)) != 0) {
		r = berth_error_set(err, BERTH_EGENERIC, r,
				    "cannot start the layer decoder thread: %s",
				    strerror(r));
		berth_layer_decoder_free(d);
		return r;
	}
	d->started = true;
	*out = d;
	return 0;
}

int
berth_layer_decoder_new(berth_layer_decoder **out, int fd,
			berth_layer_compression c, bool hash_input,
			int64_t max_out, berth_error **err)
{
	return decoder_new(out, fd, NULL, c, hash_input, max_out, err);
}

int
berth_layer_decoder_new_feed(berth_layer_decoder **out, berth_feed *feed,
			     berth_layer_compression c, int64_t max_out,
			     berth_error **err)
{
	return decoder_new(out, -1, feed, c, false, max_out, err);
}

static int
copy_error(berth_error **err, const berth_error *e, int code)
{
	if (e == NULL)
		return berth_error_set(err, code, 0, "layer decoding stopped");
	berth_error_set(err, code, e->sys_errno, "%s", e->msg);
	if (e->hint)
		berth_error_hint(err, "%s", e->hint);
	return code;
}

ssize_t
berth_layer_decoder_read(berth_layer_decoder *d, const void **buf,
			 berth_error **err)
{
	const uint8_t *p;
	size_t n;

	if (d->ended)
		return d->end_rc < 0 ? copy_error(err, d->werr, d->end_rc) : 0;
	pthread_mutex_lock(&d->mu);
	if (d->held) {
		d->head = (d->head + 1) % NBLOCKS;
		d->count--;
		d->held = false;
		pthread_cond_broadcast(&d->cv);
	}
	while (d->count == 0 && !d->wdone)
		pthread_cond_wait(&d->cv, &d->mu);
	if (d->count == 0) {
		d->ended = true;
		d->end_rc = d->wrc;
		pthread_mutex_unlock(&d->mu);
		if (d->end_rc < 0)
			return copy_error(err, d->werr, d->end_rc);
		berth_hasher_final(&d->diff_id, d->out_h);
		if (d->in_h)
			berth_hasher_final(&d->digest, d->in_h);
		return 0;
	}
	p = d->blk[d->head];
	n = d->len[d->head];
	d->held = true;
	pthread_mutex_unlock(&d->mu);
	berth_hasher_update(d->out_h, p, n);
	d->total_out += (int64_t)n;
	*buf = p;
	return (ssize_t)n;
}

void
berth_layer_decoder_digests(const berth_layer_decoder *d, berth_digest *digest,
			    berth_digest *diff_id)
{
	if (!d->ended || d->end_rc < 0)
		return;
	if (digest && d->hashed_input)
		*digest = d->digest;
	if (diff_id)
		*diff_id = d->diff_id;
}

int64_t
berth_layer_decoder_total_in(const berth_layer_decoder *d)
{
	return atomic_load(&d->consumed);
}

int64_t
berth_layer_decoder_total_out(const berth_layer_decoder *d)
{
	return d->total_out;
}

void
berth_layer_decoder_free(berth_layer_decoder *d)
{
	if (d == NULL)
		return;
	if (d->started) {
		uint64_t one = 1;

		pthread_mutex_lock(&d->mu);
		d->stopping = true;
		pthread_cond_broadcast(&d->cv);
		pthread_mutex_unlock(&d->mu);
		if (write(d->stop_fd, &one, sizeof(one)) < 0) {
			/* an eventfd write fails only on overflow */
		}
		if (d->feed)
			berth_feed_cancel_read(d->feed);
		pthread_join(d->th, NULL);
	}
	if (d->stop_fd >= 0)
		close(d->stop_fd);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	for (int i = 0; i < NBLOCKS; i++)
		free(d->blk[i]);
	free(d->in);
	berth_hasher_free(d->in_h);
	berth_hasher_free(d->out_h);
	berth_error_free(d->werr);
	free(d);
}
