/*
 * Layer bytes as they come from a registry or the store (tar, gzip or
 * zstd) turned into tar bytes, with the digests that verify them: the
 * compressed one (the descriptor's digest) and the uncompressed one (the
 * config's rootfs.diff_ids entry). Also the one list of layer media types.
 *
 * gzip is inflated by isa-l (several members, as pigz and concatenation
 * write them, each member's CRC and length checked), zstd by libzstd
 * (several frames). A worker thread inflates ahead into a few blocks while
 * the caller consumes the previous one.
 */
#ifndef BERTH_LIB_UNPACK_DECODE_H
#define BERTH_LIB_UNPACK_DECODE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/common.h"
#include "berth/digest.h"
#include "unpack/feed.h"

typedef enum {
	BERTH_LAYER_PLAIN,
	BERTH_LAYER_GZIP,
	BERTH_LAYER_ZSTD
} berth_layer_compression;

/*
 * The compression of an OCI or Docker layer media type, distributable or
 * not (*foreign: a non-distributable layer, fetched from its URLs).
 * BERTH_EUNSUPPORTED names the type otherwise. `foreign` may be NULL.
 */
int berth_layer_media_type(berth_layer_compression *out, bool *foreign,
			   const char *media_type, berth_error **err);

/* The name of a compression for messages: "tar", "gzip", "zstd". */
const char *berth_layer_compression_name(berth_layer_compression c);

typedef struct berth_layer_decoder berth_layer_decoder;

/*
 * Reads compressed bytes from fd (a blob file or a pipe) until EOF. max_out
 * bounds the uncompressed bytes (0 = none); hash_input also computes the
 * compressed digest. fd stays the caller's: it is read by the decoder's
 * thread until the end, an error or berth_layer_decoder_free, and must not
 * be closed before that.
 */
int berth_layer_decoder_new(berth_layer_decoder **out, int fd,
			    berth_layer_compression c, bool hash_input,
			    int64_t max_out, berth_error **err);

/* The same, reading a feed (unpack/feed.h) instead of an fd; the feed is
 * borrowed and must outlive the decoder. */
int berth_layer_decoder_new_feed(berth_layer_decoder **out, berth_feed *feed,
				 berth_layer_compression c, int64_t max_out,
				 berth_error **err);

/*
 * Next block of tar bytes: >0 its length, 0 at the end (trailer checked),
 * <0 a berth_code. *buf stays valid until the next call. Once it has
 * returned 0 or an error it returns the same again.
 */
ssize_t berth_layer_decoder_read(berth_layer_decoder *d, const void **buf,
				 berth_error **err);

/* After the end: the compressed digest (if hashed; else left untouched)
 * and the uncompressed one (the diff ID). Either pointer may be NULL. */
void berth_layer_decoder_digests(const berth_layer_decoder *d,
				 berth_digest *digest, berth_digest *diff_id);

/* Compressed bytes read so far (any thread: for progress). */
int64_t berth_layer_decoder_total_in(const berth_layer_decoder *d);

/* Uncompressed bytes handed out so far. */
int64_t berth_layer_decoder_total_out(const berth_layer_decoder *d);

/* Stops the worker (even one waiting on a pipe) and frees; NULL is a
 * no-op. */
void berth_layer_decoder_free(berth_layer_decoder *d);

#endif
