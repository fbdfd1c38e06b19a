/*
 * Pull limits and the request-rate guard of berth serve.
 *
 * Pull limits count, per key ("user:alice", "ip:192.0.2.7",
 * "ip:2001:db8:1:2::/64"), the pulls of a sliding window: the window is cut
 * in 60 slots, and a pull counts for exactly one window length after the
 * slot it fell in. Counters live in memory and are written to the metadata
 * store by berth_pulls_flush (every second or so, and at shutdown), so
 * they survive a restart; berth_pulls_new reads them back. With a store
 * that several instances share (PostgreSQL) nothing is kept in memory:
 * each pull reads, counts and writes its key's row in one transaction of
 * the store, so a limit holds exactly across all instances.
 *
 * Failed logins are counted per user and per address (berth_fails).
 *
 * The request-rate guard is a token bucket per client address: `rate`
 * requests per second, bursts of up to `rate` at once. It is memory only.
 */
#ifndef BERTH_SERVER_ACCESS_RATELIMIT_H
#define BERTH_SERVER_ACCESS_RATELIMIT_H

#include <stdint.h>

#include "berth/common.h"
#include "server/storage/meta.h"

#define BERTH_PULL_SLOTS 60

/* A limit: `count` pulls per `window` seconds; count < 0 is unlimited. */
typedef struct berth_limit {
	long count;
	long window;
} berth_limit;

/*
 * Parses "100/6h" (units s, m, h, d; none is seconds) or "unlimited".
 * BERTH_EUSAGE when malformed.
 */
int berth_limit_parse(berth_limit *out, const char *s, berth_error **err);

typedef struct berth_pulls berth_pulls;

/* Counters, read back from m (which may be NULL: memory only). */
int berth_pulls_new(berth_pulls **out, berth_meta *m, berth_error **err);
void berth_pulls_free(berth_pulls *p);

/*
 * Counts one pull for key at now_ms when under the limit: returns true,
 * with *remaining. Over the limit: returns false, counts nothing, and sets
 * *retry_after to the seconds until a pull is possible again. With
 * `peek`, nothing is counted (a HEAD request's headers).
 */
bool berth_pulls_take(berth_pulls *p, const char *key, const berth_limit *l,
		      int64_t now_ms, bool peek, long *remaining,
		      long *retry_after);

/*
 * Takes back a pull counted at taken_ms (a manifest GET that found
 * nothing is not a pull). No effect once that moment left the window.
 */
void berth_pulls_give_back(berth_pulls *p, const char *key,
			   const berth_limit *l, int64_t taken_ms);

/* Writes changed counters to the metadata store and forgets idle ones. */
int berth_pulls_flush(berth_pulls *p, int64_t now_ms, berth_error **err);

typedef struct berth_rate berth_rate;

/* per_second 0: every request may go (the guard is off). */
berth_rate *berth_rate_new(long per_second);
void berth_rate_free(berth_rate *r);

/* A new rate (a reload); the buckets keep their levels, capped by it. */
void berth_rate_set(berth_rate *r, long per_second);

/* True when the address may make one more request at now_ms. */
bool berth_rate_take(berth_rate *r, const char *addr, int64_t now_ms);

/*
 * Failed logins per key ("user:alice", "ip:192.0.2.7"): a leaky bucket
 * that holds `count` failures and drains count per `window` seconds, so
 * after a burst of `count` failures one more is possible every
 * window/count seconds. count < 0: no limit.
 */
typedef struct berth_fails berth_fails;

berth_fails *berth_fails_new(const berth_limit *l);
void berth_fails_free(berth_fails *f);

/* A new limit (a reload); the failures counted so far stay. */
void berth_fails_set_limit(berth_fails *f, const berth_limit *l);

/*
 * 0 when key may try to log in at now_ms, else the seconds until it may
 * (one more failure would go over the limit).
 */
long berth_fails_blocked(berth_fails *f, const char *key, int64_t now_ms);

/* Counts one failure of key. */
void berth_fails_add(berth_fails *f, const char *key, int64_t now_ms);

/* Forgets key's failures (a successful login). */
void berth_fails_clear(berth_fails *f, const char *key);

#endif
