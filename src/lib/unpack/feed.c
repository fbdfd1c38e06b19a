/*
 * A feed: see feed.h. A ring of NCHUNKS chunks by sequence number (slot:
 * seq % NCHUNKS): the writer fills one outside the lock, publishes it,
 * and reuses a slot once the reader has given it back.
 */
#include "unpack/feed.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* 1 MiB in flight, as the socket buffer it replaces; chunks of 256 KiB
 * wake the reader a sixteenth as often as curl's 16 KiB writes would. */
#define CHUNK ((size_t)256 << 10)
#define NCHUNKS 4

struct berth_feed {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Under mu, but for the writer's own chunk: published chunks below
	 * pub, taken by the reader below taken (the last one still held
	 * while held). The writer alone allocates chunk[]. */
	uint8_t *chunk[NCHUNKS];
	size_t len[NCHUNKS];
	uint64_t pub, taken;
	bool held, ended, aborted, shut, cancelled;

	/* The writer's. */
	uint8_t *cur;
	size_t cur_len;
};

berth_feed *
berth_feed_new(void)
{
	berth_feed *f = xcalloc(1, sizeof(*f));

	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	return f;
}

static void
free_chunks(berth_feed *f)
{
	for (int i = 0; i < NCHUNKS; i++) {
		free(f->chunk[i]);
		f->chunk[i] = NULL;
	}
}

void
berth_feed_free(berth_feed *f)
{
	if (f == NULL)
		return;
	free_chunks(f);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}

/* Sets a flag and wakes both sides. */
static void
set_flag(berth_feed *f, bool *flag)
{
	pthread_mutex_lock(&f->mu);
	*flag = true;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

void
berth_feed_end(berth_feed *f)
{
	set_flag(f, &f->ended);
}

void
berth_feed_abort(berth_feed *f)
{
	set_flag(f, &f->aborted);
}

void
berth_feed_shut(berth_feed *f)
{
	set_flag(f, &f->shut);
}

void
berth_feed_cancel_read(berth_feed *f)
{
	set_flag(f, &f->cancelled);
}

static int
publish(berth_feed *f)
{
	int r = 0;

	pthread_mutex_lock(&f->mu);
	if (f->shut)
		r = -1;
	else if (f->cur_len > 0) {
		f->len[f->pub % NCHUNKS] = f->cur_len;
		f->pub++;
		pthread_cond_broadcast(&f->cv);
		f->cur = NULL;
		f->cur_len = 0;
	}
	pthread_mutex_unlock(&f->mu);
	return r;
}

/* A free chunk to fill; -1 once shut. */
static int
next_chunk(berth_feed *f)
{
	unsigned slot;

	pthread_mutex_lock(&f->mu);
	while (f->pub - (f->held ? f->taken - 1 : f->taken) == NCHUNKS &&
	       !f->shut)
		pthread_cond_wait(&f->cv, &f->mu);
	if (f->shut) {
		pthread_mutex_unlock(&f->mu);
		return -1;
	}
	slot = f->pub % NCHUNKS;
	pthread_mutex_unlock(&f->mu);
	if (f->chunk[slot] == NULL)
		f->chunk[slot] = xmalloc(CHUNK);
	f->cur = f->chunk[slot];
	f->cur_len = 0;
	return 0;
}

int
berth_feed_write(berth_feed *f, const void *p, size_t len)
{
	const uint8_t *c = p;

	while (len > 0) {
		size_t n;

		if (f->cur == NULL && next_chunk(f) < 0)
			return -1;
		n = CHUNK - f->cur_len < len ? CHUNK - f->cur_len : len;
		memcpy(f->cur + f->cur_len, c, n);
		f->cur_len += n;
		c += n;
		len -= n;
		if (f->cur_len == CHUNK && publish(f) < 0)
			return -1;
	}
	return 0;
}

int
berth_feed_flush(berth_feed *f)
{
	return publish(f);
}

ssize_t
berth_feed_read(berth_feed *f, const uint8_t **p)
{
	ssize_t n = -1;

	pthread_mutex_lock(&f->mu);
	if (f->held) {
		f->held = false;
		pthread_cond_broadcast(&f->cv);
	}
	while (f->taken == f->pub && !f->ended && !f->aborted && !f->shut &&
	       !f->cancelled)
		pthread_cond_wait(&f->cv, &f->mu);
	if (f->aborted || f->shut || f->cancelled) {
		/* -1 */
	} else if (f->taken == f->pub) {
		/* The end: the writer is done, so are we; the chunks are
		 * not needed while the feed waits to be freed. */
		free_chunks(f);
		n = 0;
	} else {
		*p = f->chunk[f->taken % NCHUNKS];
		n = (ssize_t)f->len[f->taken % NCHUNKS];
		f->taken++;
		f->held = true;
	}
	pthread_mutex_unlock(&f->mu);
	return n;
}
