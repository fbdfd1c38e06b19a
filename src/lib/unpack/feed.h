/*
 * A feed: a layer's bytes handed from the thread that downloads them to
 * the decoder's thread, in place of a socket pair. The writer copies into
 * a few fixed chunks and the decoder inflates them where they are: one
 * copy instead of three (into a buffer, into the socket, out of it), and
 * no system call per chunk.
 *
 * Either side stops the other: the writer ends the data (after the blob
 * is verified) or aborts it (the download failed); the reader's owner
 * shuts the feed (unpacking failed) so that the writer fails too.
 */
#ifndef BERTH_LIB_UNPACK_FEED_H
#define BERTH_LIB_UNPACK_FEED_H

#include <stdint.h>
#include <sys/types.h>

typedef struct berth_feed berth_feed;

berth_feed *berth_feed_new(void);

/* NULL is a no-op. Neither side may still be using it. */
void berth_feed_free(berth_feed *f);

/* Writer: copies len bytes, waiting while every chunk is full. 0, or -1
 * once the feed is shut. */
int berth_feed_write(berth_feed *f, const void *p, size_t len);

/* Writer: hands over the partly filled chunk. 0, or -1 once shut. */
int berth_feed_flush(berth_feed *f);

/* The data is complete (the writer flushed): the reader gets 0 after the
 * last chunk. Any thread. */
void berth_feed_end(berth_feed *f);

/* The data will never be complete: the reader gets -1. Any thread. */
void berth_feed_abort(berth_feed *f);

/* The reader is gone for good: the writer gets -1, a blocked reader too.
 * Any thread. */
void berth_feed_shut(berth_feed *f);

/*
 * Reader: the next chunk (the previous one is given back): >0 its length
 * at *p, 0 at the end, -1 when aborted, shut or cancelled.
 */
ssize_t berth_feed_read(berth_feed *f, const uint8_t **p);

/* Wakes a reader blocked in berth_feed_read (it returns -1), without
 * failing the writer: for a decoder that stops. Any thread. */
void berth_feed_cancel_read(berth_feed *f);

#endif
