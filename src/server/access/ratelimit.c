/*
 * Pull limits (sliding windows of 60 slots, persisted) and the per-address
 * request-rate guard (token buckets, memory only). Both keep small entries
 * in a util/hmap table under one mutex each: a lookup holds it for well
 * under a microsecond.
 */
#include "server/access/ratelimit.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/hmap.h"
#include "util/xalloc.h"

#define BUCKETS 16384
#define RATE_SWEEP_AT 65536

int
berth_limit_parse(berth_limit *out, const char *s, berth_error **err)
{
	const char *orig = s;
	char *end;
	long n, w;

	if (strcmp(s, "unlimited") == 0) {
		out->count = -1;
		out->window = 1;
		return 0;
	}
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end != '/' || n < 0)
		goto bad;
	s = end + 1;
	w = strtol(s, &end, 10);
	if (errno || end == s || w <= 0)
		goto bad;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		w *= 60;
		break;
	case 'h':
		w *= 3600;
		break;
	case 'd':
		w *= 86400;
		break;
	default:
		goto bad;
	}
	if (*end && end[1] != '\0')
		goto bad;
	if (w > 366L * 86400)
		goto bad;
	out->count = n;
	out->window = w;
	return 0;
bad:
	berth_error_set(err, BERTH_EUSAGE, 0, "invalid limit '%s'", orig);
	berth_error_hint(err, "write COUNT/WINDOW, e.g. 100/6h "
			      "(units s, m, h, d), or 'unlimited'");
	return BERTH_EUSAGE;
}

/* ---- pull limits ---- */

typedef struct pent {
	int64_t window_ms;
	int64_t last_slot;
	uint32_t c[BERTH_PULL_SLOTS];
	bool dirty;  /* changed since the last flush */
	bool stored; /* has a row in the metadata store */
} pent;

struct berth_pulls {
	berth_meta *meta;
	pthread_mutex_t mu;
	berth_hmap *map; /* key -> pent */
};

static int64_t
slot_width(int64_t window_ms)
{
	int64_t w = window_ms / BERTH_PULL_SLOTS;

	return w > 0 ? w : 1;
}

/* Moves e's window to slot `now`, zeroing the slots that fell out. */
static void
advance(pent *e, int64_t now)
{
	int64_t d = now - e->last_slot, k;

	if (d <= 0)
		return; /* the clock went back: keep what we know */
	if (d >= BERTH_PULL_SLOTS)
		memset(e->c, 0, sizeof(e->c));
	else
		for (k = 1; k <= d; k++)
			e->c[(e->last_slot + k) % BERTH_PULL_SLOTS] = 0;
	e->last_slot = now;
}

static long
total(const pent *e)
{
	long s = 0;
	size_t i;

	for (i = 0; i < BERTH_PULL_SLOTS; i++)
		s += (long)e->c[i];
	return s;
}

static pent *
pent_get(berth_pulls *p, const char *key, bool create)
{
	pent *e = berth_hmap_get(p->map, key);

	if (e || !create)
		return e;
	e = xcalloc(1, sizeof(*e));
	berth_hmap_put(p->map, key, e);
	return e;
}

/* e as a stored row says it. */
static void
pent_from_row(pent *e, const berth_meta_pull_row *row)
{
	const char *s = row->counts;
	size_t i;

	e->window_ms = row->window_ms;
	e->last_slot = row->last_slot;
	e->stored = true;
	for (i = 0; i < BERTH_PULL_SLOTS && s && *s; i++) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);

		e->c[i] = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		s = *end == ',' ? end + 1 : end;
	}
}

static void
load_row(const berth_meta_pull_row *row, void *ud)
{
	berth_pulls *p = ud;

	pent_from_row(pent_get(p, row->key, true), row);
}

int
berth_pulls_new(berth_pulls **out, berth_meta *m, berth_error **err)
{
	berth_pulls *p = xcalloc(1, sizeof(*p));
	int r;

	pthread_mutex_init(&p->mu, NULL);
	p->map = berth_hmap_new(BUCKETS);
	p->meta = m;
	/* A shared store is read at each pull instead (take_shared). */
	if (m && !m->shared &&
	    (r = berth_meta_pulls_load(m, load_row, p, err)) < 0) {
		berth_pulls_free(p);
		return r;
	}
	*out = p;
	return 0;
}

void
berth_pulls_free(berth_pulls *p)
{
	if (p == NULL)
		return;
	berth_hmap_free(p->map, free);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* Takes back a pull counted in slot of window_ms, if e still has it. */
static void
give_back_entry(pent *e, int64_t window_ms, int64_t slot)
{
	if (e && e->window_ms == window_ms &&
	    slot > e->last_slot - BERTH_PULL_SLOTS &&
	    e->c[slot % BERTH_PULL_SLOTS] > 0) {
		e->c[slot % BERTH_PULL_SLOTS]--;
		e->dirty = true;
	}
}

/* What one pull (or give-back) does to a shared store's row. */
typedef struct shared_op {
	const berth_limit *l;
	int64_t now_ms;
	bool peek, give_back, ok;
	long remaining, retry_after;
	char *counts; /* the row written, owned */
} shared_op;

static bool take_entry(pent *e, const berth_limit *l, int64_t now_ms, bool peek,
		       long *remaining, long *retry_after);
static char *counts_text(const pent *e);

static void
shared_apply(berth_meta_pull_row *row, void *ud)
{
	shared_op *o = ud;
	int64_t window_ms = (int64_t)o->l->window * 1000;
	pent e = {0};

	if (row->counts)
		pent_from_row(&e, row);
	if (o->give_back)
		give_back_entry(&e, window_ms,
				o->now_ms / slot_width(window_ms));
	else
		o->ok = take_entry(&e, o->l, o->now_ms, o->peek, &o->remaining,
				   &o->retry_after);
	if (!e.dirty)
		return;
	row->window_ms = e.window_ms;
	row->last_slot = e.last_slot;
	o->counts = total(&e) == 0 ? NULL : counts_text(&e);
	row->counts = o->counts;
}

/*
 * A pull counted in the shared store itself, in one write transaction:
 * exact across every instance. If the store cannot be reached the pull
 * is let through (the request needs the store anyway and fails there).
 */
static bool
take_shared(berth_pulls *p, const char *key, shared_op *o)
{
	berth_error *err = NULL;

	if (berth_meta_pull_update(p->meta, key, shared_apply, o, &err) < 0) {
		berth_log(BERTH_LOG_WARN, "pull counter of '%s': %s", key,
			  err->msg);
		berth_error_free(err);
		o->ok = true;
	}
	free(o->counts);
	return o->ok;
}

void
berth_pulls_give_back(berth_pulls *p, const char *key, const berth_limit *l,
		      int64_t taken_ms)
{
	int64_t w;

	if (l->count < 0)
		return;
	if (p->meta && p->meta->shared) {
		shared_op o = {.l = l, .now_ms = taken_ms, .give_back = true};

		take_shared(p, key, &o);
		return;
	}
	w = slot_width((int64_t)l->window * 1000);
	pthread_mutex_lock(&p->mu);
	give_back_entry(pent_get(p, key, false), (int64_t)l->window * 1000,
			taken_ms / w);
	pthread_mutex_unlock(&p->mu);
}

/* berth_pulls_take on one entry (a new one: all zero). */
static bool
take_entry(pent *e, const berth_limit *l, int64_t now_ms, bool peek,
	   long *remaining, long *retry_after)
{
	int64_t window_ms = (int64_t)l->window * 1000, w, now;
	bool ok;
	long sum;

	w = slot_width(window_ms);
	now = now_ms / w;
	if (e->window_ms != window_ms) {
		/* A new limit for this key: start afresh. */
		memset(e->c, 0, sizeof(e->c));
		e->window_ms = window_ms;
		e->last_slot = now;
		e->dirty = true;
	}
	advance(e, now);
	sum = total(e);
	ok = sum < l->count;
	if (ok && !peek) {
		e->c[now % BERTH_PULL_SLOTS]++;
		e->dirty = true;
		sum++;
	}
	*remaining = l->count > sum ? l->count - sum : 0;
	if (!ok) {
		/* When enough of the oldest slots have left the window. */
		long acc = 0;
		int64_t j, at = (now + 1) * w;

		for (j = now - BERTH_PULL_SLOTS + 1; j <= now; j++) {
			acc += (long)e->c[((j % BERTH_PULL_SLOTS) +
					   BERTH_PULL_SLOTS) %
					  BERTH_PULL_SLOTS];
			if (sum - acc < l->count) {
				at = (j + BERTH_PULL_SLOTS) * w;
				break;
			}
		}
		*retry_after = (long)((at - now_ms + 999) / 1000);
		if (*retry_after < 1)
			*retry_after = 1;
	}
	return ok;
}

bool
berth_pulls_take(berth_pulls *p, const char *key, const berth_limit *l,
		 int64_t now_ms, bool peek, long *remaining, long *retry_after)
{
	bool ok;
	pent *e;

	*remaining = -1;
	*retry_after = 0;
	if (l->count < 0)
		return true;
	if (p->meta && p->meta->shared) {
		shared_op o = {.l = l, .now_ms = now_ms, .peek = peek};

		ok = take_shared(p, key, &o);
		*remaining = o.remaining;
		*retry_after = o.retry_after;
		return ok;
	}
	pthread_mutex_lock(&p->mu);
	e = pent_get(p, key, !peek);
	if (e == NULL) {
		pthread_mutex_unlock(&p->mu);
		*remaining = l->count;
		return true;
	}
	ok = take_entry(e, l, now_ms, peek, remaining, retry_after);
	pthread_mutex_unlock(&p->mu);
	return ok;
}

static char *
counts_text(const pent *e)
{
	berth_buf b = BERTH_BUF_INIT;
	size_t i;

	for (i = 0; i < BERTH_PULL_SLOTS; i++)
		berth_buf_printf(&b, NULL, "%s%u", i ? "," : "", e->c[i]);
	return berth_buf_detach(&b);
}

/* The rows a flush saves, gathered under the lock. */
typedef struct flush_rows {
	int64_t now_ms;
	berth_meta_pull_row *rows;
	size_t n;
} flush_rows;

/* Collects a changed entry's row; true (drop it) when it is idle. */
static bool
flush_one(void *ud, const char *key, void *value)
{
	flush_rows *f = ud;
	pent *e = value;
	bool idle;

	advance(e, f->now_ms / slot_width(e->window_ms));
	idle = total(e) == 0;
	if (e->dirty || (idle && e->stored)) {
		f->rows = xreallocarray(f->rows, f->n + 1, sizeof(*f->rows));
		f->rows[f->n].key = xstrdup(key);
		f->rows[f->n].window_ms = e->window_ms;
		f->rows[f->n].last_slot = e->last_slot;
		f->rows[f->n].counts = idle ? NULL : counts_text(e);
		f->n++;
		e->dirty = false;
		e->stored = !idle;
	}
	if (idle)
		free(e);
	return idle;
}

int
berth_pulls_flush(berth_pulls *p, int64_t now_ms, berth_error **err)
{
	flush_rows f = {.now_ms = now_ms};
	berth_meta_pull_row *rows;
	size_t n, i;
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	berth_hmap_filter(p->map, flush_one, &f);
	pthread_mutex_unlock(&p->mu);
	rows = f.rows;
	n = f.n;
	if (n && p->meta)
		rc = berth_meta_pulls_save(p->meta, rows, n, err);
	for (i = 0; i < n; i++) {
		free((char *)rows[i].key);
		free((char *)rows[i].counts);
	}
	free(rows);
	return rc;
}

/* ---- request-rate guard ---- */

typedef struct rent {
	double tokens;
	int64_t last_ms;
} rent;

struct berth_rate {
	long on; /* the rate, read without the lock (atomic): 0 is off */
	double rate;
	pthread_mutex_t mu;
	berth_hmap *map; /* address -> rent */
};

berth_rate *
berth_rate_new(long per_second)
{
	berth_rate *r = xcalloc(1, sizeof(*r));

	r->on = per_second;
	r->rate = (double)per_second;
	r->map = berth_hmap_new(BUCKETS);
	pthread_mutex_init(&r->mu, NULL);
	return r;
}

void
berth_rate_free(berth_rate *r)
{
	if (r == NULL)
		return;
	berth_hmap_free(r->map, free);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

typedef struct sweep_ctx {
	const berth_rate *r;
	int64_t now_ms;
} sweep_ctx;

/* True, freeing it, for a bucket that is full again (an idle address). */
static bool
sweep_one(void *ud, const char *key, void *value)
{
	const sweep_ctx *s = ud;
	rent *e = value;

	if (e->tokens + (double)(s->now_ms - e->last_ms) / 1000.0 * s->r->rate <
	    s->r->rate)
		return false;
	free(e);
	return true;
}

/* Drops the buckets that are full again (idle addresses). */
static void
sweep(berth_rate *r, int64_t now_ms)
{
	sweep_ctx s = {r, now_ms};

	berth_hmap_filter(r->map, sweep_one, &s);
}

void
berth_rate_set(berth_rate *r, long per_second)
{
	pthread_mutex_lock(&r->mu);
	r->rate = (double)per_second;
	__atomic_store_n(&r->on, per_second, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&r->mu);
}

bool
berth_rate_take(berth_rate *r, const char *addr, int64_t now_ms)
{
	bool ok;
	rent *e;

	/* Off (the default): no lock taken on every request. */
	if (__atomic_load_n(&r->on, __ATOMIC_RELAXED) <= 0)
		return true;
	pthread_mutex_lock(&r->mu);
	if (r->rate <= 0) {
		pthread_mutex_unlock(&r->mu);
		return true;
	}
	e = berth_hmap_get(r->map, addr);
	if (e == NULL) {
		if (berth_hmap_count(r->map) >= RATE_SWEEP_AT)
			sweep(r, now_ms);
		e = xcalloc(1, sizeof(*e));
		e->tokens = r->rate;
		e->last_ms = now_ms;
		berth_hmap_put(r->map, addr, e);
	}
	if (now_ms > e->last_ms) {
		e->tokens += (double)(now_ms - e->last_ms) / 1000.0 * r->rate;
		if (e->tokens > r->rate)
			e->tokens = r->rate;
		e->last_ms = now_ms;
	}
	ok = e->tokens >= 1.0;
	if (ok)
		e->tokens -= 1.0;
	pthread_mutex_unlock(&r->mu);
	return ok;
}

/* ---- failed logins ---- */

typedef struct fail_entry {
	double level; /* failures, leaking at count/window per second */
	int64_t last_ms;
} fail_entry;

struct berth_fails {
	berth_limit limit;
	pthread_mutex_t mu;
	berth_hmap *map; /* key -> fail_entry */
};

berth_fails *
berth_fails_new(const berth_limit *l)
{
	berth_fails *f = xcalloc(1, sizeof(*f));

	f->limit = *l;
	f->map = berth_hmap_new(BUCKETS);
	pthread_mutex_init(&f->mu, NULL);
	return f;
}

void
berth_fails_set_limit(berth_fails *f, const berth_limit *l)
{
	pthread_mutex_lock(&f->mu);
	f->limit = *l;
	pthread_mutex_unlock(&f->mu);
}

void
berth_fails_free(berth_fails *f)
{
	if (f == NULL)
		return;
	berth_hmap_free(f->map, free);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

static double
leak_per_ms(const berth_fails *f)
{
	return (double)f->limit.count / ((double)f->limit.window * 1000.0);
}

/* e's level at now_ms. */
static double
level_at(const berth_fails *f, const fail_entry *e, int64_t now_ms)
{
	double l = e->level;

	if (now_ms > e->last_ms)
		l -= (double)(now_ms - e->last_ms) * leak_per_ms(f);
	return l > 0 ? l : 0;
}

typedef struct fails_sweep_ctx {
	const berth_fails *f;
	int64_t now_ms;
} fails_sweep_ctx;

static bool
fails_sweep_one(void *ud, const char *key, void *value)
{
	const fails_sweep_ctx *s = ud;

	(void)key;
	if (level_at(s->f, value, s->now_ms) > 0)
		return false;
	free(value);
	return true;
}

long
berth_fails_blocked(berth_fails *f, const char *key, int64_t now_ms)
{
	fail_entry *e;
	double over;
	long wait = 0;

	pthread_mutex_lock(&f->mu);
	if (f->limit.count < 0) {
		pthread_mutex_unlock(&f->mu);
		return 0;
	}
	e = berth_hmap_get(f->map, key);
	/* One more failure would go over: wait until one has leaked. */
	if (e && (over = level_at(f, e, now_ms) + 1.0 -
			 (double)f->limit.count) > 0) {
		wait = (long)(over / leak_per_ms(f) / 1000.0) + 1;
		if (f->limit.count == 0)
			wait = f->limit.window;
	} else if (e == NULL && f->limit.count == 0) {
		wait = f->limit.window;
	}
	pthread_mutex_unlock(&f->mu);
	return wait;
}

void
berth_fails_add(berth_fails *f, const char *key, int64_t now_ms)
{
	fail_entry *e;

	pthread_mutex_lock(&f->mu);
	if (f->limit.count < 0) {
		pthread_mutex_unlock(&f->mu);
		return;
	}
	e = berth_hmap_get(f->map, key);
	if (e == NULL) {
		if (berth_hmap_count(f->map) >= RATE_SWEEP_AT) {
			fails_sweep_ctx s = {f, now_ms};

			berth_hmap_filter(f->map, fails_sweep_one, &s);
		}
		e = xcalloc(1, sizeof(*e));
		berth_hmap_put(f->map, key, e);
	} else {
		e->level = level_at(f, e, now_ms);
	}
	e->level += 1.0;
	e->last_ms = now_ms;
	pthread_mutex_unlock(&f->mu);
}

void
berth_fails_clear(berth_fails *f, const char *key)
{
	fail_entry *e;

	pthread_mutex_lock(&f->mu);
	if ((e = berth_hmap_get(f->map, key)) != NULL)
		e->level = 0;
	pthread_mutex_unlock(&f->mu);
}
