/*
 * One endpoint's queue on disk: append-only segment files and a cursor.
 *
 *   DIR/seg-<N>.log   records, one a line: "<crc32 hex8> <event JSON>\n"
 *   DIR/cursor        "<segment> <offset>\n": what is delivered ends there
 *
 * Appends go to a segment of this run only (a new one at every open, the
 * next at SEG_MAX bytes), one write(2) each under the queue's lock, so a
 * record is whole or, after a crash, a torn last line of an old segment.
 * The sender reads from the cursor, and after a delivery saves the new
 * cursor (written aside and renamed) and removes the segments it has
 * passed: a crash between a delivery and the save sends those events
 * again, which is what at-least-once allows. A line that fails its
 * checksum is logged and skipped, never fatal. Files, not the metadata
 * database: an emit never takes a database write lock on the request's
 * path, and the queue of an endpoint is read by its thread alone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "berth/log.h"
#include "server/ops/events_int.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define SEG_MAX ((uint64_t)1 << 20)
#define READ_CHUNK ((size_t)256 << 10)
#define FRAME 10 /* "xxxxxxxx " and "\n" */

struct ev_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on the monotonic clock */
	char *dir;
	long max;
	long depth;	 /* undelivered records */
	int wfd;	 /* the segment appended to, or -1 */
	uint64_t wseg;	 /* its number */
	uint64_t woff;	 /* the bytes whole records fill in it */
	ev_pos rd;	 /* where undelivered records start */
	uint64_t oldest; /* the lowest segment number that may exist */
};

static char *
seg_path(const ev_queue *q, uint64_t seg)
{
	return xasprintf("%s/seg-%020" PRIu64 ".log", q->dir, seg);
}

void
ev_batch_release(ev_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->recs[i]);
	free(b->recs);
	free(b->lens);
	b->recs = NULL;
	b->lens = NULL;
	b->n = 0;
}

/* The record of one line (without its "\n"), or NULL when it is damaged. */
static const char *
record_of(const char *line, size_t len, size_t *rec_len)
{
	char hex[9];
	char *end;
	unsigned long want;

	if (len < FRAME || line[8] != ' ')
		return NULL;
	memcpy(hex, line, 8);
	hex[8] = '\0';
	want = strtoul(hex, &end, 16);
	if (*end != '\0')
		return NULL;
	if (crc32(0, (const unsigned char *)line + 9, (uInt)(len - 9)) != want)
		return NULL;
	*rec_len = len - 9;
	return line + 9;
}

/*
 * Walks the records of segment `seg` from `off` to `limit` (or its end
 * when limit is UINT64_MAX): calls fn for each whole record until it
 * returns false, logs and skips damaged lines. Returns the offset after
 * the last line walked.
 */
typedef bool (*record_fn)(void *ud, const char *rec, size_t len);

static uint64_t
walk(ev_queue *q, uint64_t seg, uint64_t off, uint64_t limit, record_fn fn,
     void *ud, bool *all)
{
	_cleanup_free_ char *path = seg_path(q, seg);
	_cleanup_free_ char *buf = xmalloc(READ_CHUNK + EV_RECORD_MAX + FRAME);
	size_t cap = READ_CHUNK + EV_RECORD_MAX + FRAME;
	long damaged = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*all = true;
	if (fd < 0)
		return off;
	for (;;) {
		size_t want = cap, used = 0;
		ssize_t n;

		if (limit != UINT64_MAX && limit - off < want)
			want = (size_t)(limit - off);
		if (want == 0)
			break;
		n = pread(fd, buf, want, (off_t)off);
		if (n <= 0)
			break;
		while (used < (size_t)n) {
			char *nl = memchr(buf + used, '\n', (size_t)n - used);
			size_t len, rlen = 0;
			const char *rec;

			if (nl == NULL)
				break;
			len = (size_t)(nl - (buf + used));
			rec = record_of(buf + used, len, &rlen);
			if (rec == NULL) {
				damaged++;
			} else {
				buf[used + len] = '\0';
				if (!fn(ud, rec, rlen)) {
					*all = false;
					goto out;
				}
			}
			used += len + 1;
			off += len + 1;
		}
		if (used > 0)
			continue;
		/* No line end in a whole buffer (no record is that long), or
		 * a torn last line of a segment no longer written: neither
		 * can be trusted. */
		if ((size_t)n == cap) {
			damaged++;
			off += (uint64_t)n;
			continue;
		}
		if (limit == UINT64_MAX) {
			damaged++;
			off += (uint64_t)n;
		}
		break;
	}
out:
	close(fd);
	if (damaged)
		berth_log(BERTH_LOG_WARN,
			  "event queue '%s': %ld damaged record%s in segment "
			  "%" PRIu64 " skipped (those events are lost)",
			  q->dir, damaged, damaged == 1 ? "" : "s", seg);
	return off;
}

static bool
count_one(void *ud, const char *rec, size_t len)
{
	(*(long *)ud)++;
	return true;
}

static int
mkdir_one(const char *path, berth_error **err)
{
	if (mkdir(path, 0750) < 0 && errno != EEXIST)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot create event queue directory "
				       "'%s': %s",
				       path, strerror(errno));
	return 0;
}

/* The segment numbers in dir, lowest and highest (0, 0 when none). */
static void
seg_range(const char *dir, uint64_t *lo, uint64_t *hi)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	*lo = *hi = 0;
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		uint64_t n;
		char tail[8];

		if (sscanf(de->d_name, "seg-%" SCNu64 ".%7s", &n, tail) != 2 ||
		    strcmp(tail, "log") != 0)
			continue;
		if (*lo == 0 || n < *lo)
			*lo = n;
		if (n > *hi)
			*hi = n;
	}
	closedir(d);
}

static void
read_cursor(ev_queue *q, uint64_t lo)
{
	_cleanup_free_ char *path = xasprintf("%s/cursor", q->dir);
	_cleanup_free_ char *text = NULL;
	berth_error *err = NULL;
	size_t len;
	uint64_t seg, off;

	q->rd = (ev_pos){lo, 0};
	if (berth_file_read(&text, &len, path, 256, &err) < 0) {
		if (err->code != BERTH_ENOTFOUND)
			berth_log(BERTH_LOG_WARN,
				  "event queue '%s': %s; sending every "
				  "queued event again",
				  q->dir, err->msg);
		berth_error_free(err);
		return;
	}
	if (sscanf(text, "%" SCNu64 " %" SCNu64, &seg, &off) != 2) {
		berth_log(BERTH_LOG_WARN,
			  "event queue '%s': cursor damaged; sending every "
			  "queued event again",
			  q->dir);
		return;
	}
	if (seg >= lo)
		q->rd = (ev_pos){seg, off};
}

static int
open_segment(ev_queue *q, berth_error **err)
{
	_cleanup_free_ char *path = seg_path(q, q->wseg);

	q->wfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
		      0640);
	if (q->wfd < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot create event queue segment "
				       "'%s': %s",
				       path, strerror(errno));
	q->woff = 0;
	return 0;
}

int
ev_queue_open(ev_queue **out, const char *dir, long max, berth_error **err)
{
	_cleanup_free_ char *parent = xstrdup(dir);
	ev_queue *q;
	pthread_condattr_t ca;
	uint64_t lo, hi;
	char *slash = strrchr(parent, '/');
	int r;

	if (slash && slash != parent) {
		*slash = '\0';
		if ((r = mkdir_one(parent, err)) < 0)
			return r;
	}
	if ((r = mkdir_one(dir, err)) < 0)
		return r;
	q = xcalloc(1, sizeof(*q));
	q->dir = xstrdup(dir);
	q->max = max;
	q->wfd = -1;
	seg_range(dir, &lo, &hi);
	read_cursor(q, lo);
	q->oldest = lo;
	/* What is undelivered: every record from the cursor on. */
	for (uint64_t s = q->rd.seg; lo && s <= hi; s++) {
		bool all;

		walk(q, s, s == q->rd.seg ? q->rd.off : 0, UINT64_MAX,
		     count_one, &q->depth, &all);
	}
	q->wseg = (hi > q->rd.seg ? hi : q->rd.seg) + 1;
	if (q->oldest == 0)
		q->oldest = q->wseg;
	if ((r = open_segment(q, err)) < 0) {
		free(q->dir);
		free(q);
		return r;
	}
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
	*out = q;
	return 0;
}

void
ev_queue_close(ev_queue *q)
{
	if (q == NULL)
		return;
	if (q->wfd >= 0)
		close(q->wfd);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q->dir);
	free(q);
}

void
ev_queue_set_max(ev_queue *q, long max)
{
	pthread_mutex_lock(&q->mu);
	q->max = max;
	pthread_mutex_unlock(&q->mu);
}

long
ev_queue_depth(ev_queue *q)
{
	long d;

	pthread_mutex_lock(&q->mu);
	d = q->depth;
	pthread_mutex_unlock(&q->mu);
	return d;
}

int
ev_queue_append(ev_queue *q, const char *rec, size_t len, berth_error **err)
{
	_cleanup_free_ char *line = NULL;
	size_t n = len + FRAME;
	berth_error *e2 = NULL;
	int r = 0;

	if (len > EV_RECORD_MAX)
		return berth_error_set(err, BERTH_ETOOBIG, 0,
				       "event of %zu bytes is over the "
				       "limit of %d",
				       len, EV_RECORD_MAX);
	line = xmalloc(n + 1);
	snprintf(
		line, 10, "%08lx",
		(unsigned long)crc32(0, (const unsigned char *)rec, (uInt)len));
	line[8] = ' ';
	memcpy(line + 9, rec, len);
	line[n - 1] = '\n';
	pthread_mutex_lock(&q->mu);
	if (q->depth >= q->max) {
		r = BERTH_ETOOMANY;
		goto out;
	}
	if (q->wfd < 0 && (r = open_segment(q, err)) < 0)
		goto out;
	if (berth_write_full(q->wfd, line, n) < 0) {
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot write to event queue '%s': %s",
				    q->dir, strerror(errno));
		/* No torn record left for the reader. */
		if (ftruncate(q->wfd, (off_t)q->woff) < 0)
			(void)0;
		goto out;
	}
	q->woff += n;
	q->depth++;
	if (q->woff >= SEG_MAX) {
		close(q->wfd);
		q->wfd = -1;
		q->wseg++;
		/* A failure shows at the next append, which tries again. */
		if (open_segment(q, &e2) < 0)
			berth_error_free(e2);
	}
	pthread_cond_broadcast(&q->cv);
out:
	pthread_mutex_unlock(&q->mu);
	return r;
}

typedef struct collect {
	ev_batch *b;
	size_t max;
} collect;

static bool
collect_one(void *ud, const char *rec, size_t len)
{
	collect *c = ud;

	if (c->b->n == c->max)
		return false;
	c->b->recs[c->b->n] = xstrndup(rec, len);
	c->b->lens[c->b->n++] = len;
	return true;
}

int
ev_queue_peek(ev_queue *q, ev_batch *b, size_t max, berth_error **err)
{
	collect c = {b, max};
	ev_pos pos;
	uint64_t wseg, woff;

	memset(b, 0, sizeof(*b));
	b->recs = xcalloc(max, sizeof(*b->recs));
	b->lens = xcalloc(max, sizeof(*b->lens));
	pthread_mutex_lock(&q->mu);
	pos = q->rd;
	wseg = q->wseg;
	woff = q->woff;
	pthread_mutex_unlock(&q->mu);
	for (;;) {
		bool all;
		bool current = pos.seg == wseg;

		pos.off = walk(q, pos.seg, pos.off, current ? woff : UINT64_MAX,
			       collect_one, &c, &all);
		if (!all || current)
			break;
		/* An older segment read to its end: on to the next. */
		pos = (ev_pos){pos.seg + 1, 0};
	}
	b->next = pos;
	pthread_mutex_lock(&q->mu);
	/* Read to the end: what was counted is what is there (damaged
	 * records found while running no longer count). */
	if (pos.seg == q->wseg && pos.off == q->woff)
		q->depth = (long)b->n;
	pthread_mutex_unlock(&q->mu);
	return 0;
}

int
ev_queue_ack(ev_queue *q, const ev_batch *b, berth_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/cursor", q->dir);
	char text[64];
	int n;

	pthread_mutex_lock(&q->mu);
	q->rd = b->next;
	q->depth -= (long)b->n;
	if (q->depth < 0)
		q->depth = 0;
	pthread_mutex_unlock(&q->mu);
	n = snprintf(text, sizeof(text), "%" PRIu64 " %" PRIu64 "\n",
		     b->next.seg, b->next.off);
	if (berth_file_replace(path, text, (size_t)n, NULL, err) < 0)
		return berth_error_wrap(err, BERTH_EIO, "event queue cursor");
	for (; q->oldest < b->next.seg; q->oldest++) {
		_cleanup_free_ char *seg = seg_path(q, q->oldest);

		if (unlink(seg) < 0 && errno != ENOENT)
			berth_log(BERTH_LOG_WARN,
				  "cannot remove delivered event segment "
				  "'%s': %s",
				  seg, strerror(errno));
	}
	return 0;
}

bool
ev_queue_wait(ev_queue *q, const atomic_bool *stop)
{
	bool ready;

	pthread_mutex_lock(&q->mu);
	while (q->depth == 0 && !atomic_load(stop))
		pthread_cond_wait(&q->cv, &q->mu);
	ready = q->depth > 0 && !atomic_load(stop);
	pthread_mutex_unlock(&q->mu);
	return ready;
}

void
ev_queue_pause(ev_queue *q, const atomic_bool *stop, int64_t deadline_ms)
{
	struct timespec ts = {(time_t)(deadline_ms / 1000),
			      (long)(deadline_ms % 1000) * 1000000};

	pthread_mutex_lock(&q->mu);
	while (!atomic_load(stop) && berth_monotonic_ms() < deadline_ms)
		if (pthread_cond_timedwait(&q->cv, &q->mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&q->mu);
}

void
ev_queue_wake(ev_queue *q)
{
	pthread_mutex_lock(&q->mu);
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}
