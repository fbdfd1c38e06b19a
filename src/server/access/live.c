/*
 * The users, the policy and the reloadable settings as a
 * reference-counted snapshot: the pointer
 * to the current one changes under a mutex held for a few instructions;
 * each request holds its own reference, so whatever replaced the snapshot
 * never frees it under a request in flight.
 *
 * The htpasswd file is looked at once a second (stat: inode, size,
 * modification time); a change is loaded in full and swapped in at once,
 * so a user removed or a password changed takes effect within a second or
 * two, and tokens carrying the old entry's fingerprint stop working.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "berth/log.h"
#include "server/server.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TOKEN_CACHE_SLOTS 8192

srv_tuning *
srv_tuning_new(const berth_serve_config *c)
{
	srv_tuning *t = xcalloc(1, sizeof(*t));

	atomic_init(&t->refs, 1);
	berth_serve_config_copy(&t->cfg, c);
	/* A token verified under other settings (issuer, audience) must be
	 * verified again: each set has its own cache. */
	t->tokens = berth_token_cache_new(TOKEN_CACHE_SLOTS);
	return t;
}

void
srv_tuning_put(srv_tuning *t)
{
	if (t == NULL || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	berth_token_cache_free(t->tokens);
	berth_serve_config_release(&t->cfg);
	free(t);
}

srv_live *
srv_live_new(berth_htpasswd *h, berth_policy *p, bool given, srv_tuning *t)
{
	srv_live *l = xcalloc(1, sizeof(*l));

	atomic_init(&l->refs, 1);
	l->htpasswd = h;
	l->policy = p;
	l->policy_given = given;
	atomic_fetch_add(&t->refs, 1);
	l->tuning = t;
	return l;
}

void
srv_live_put(srv_live *l)
{
	if (l == NULL || atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	berth_htpasswd_free(l->htpasswd);
	berth_policy_free(l->policy);
	srv_tuning_put(l->tuning);
	free(l);
}

const berth_serve_config *
srv_cfg(srv_req *r)
{
	return &srv_live_of(r)->tuning->cfg;
}

srv_live *
srv_live_get(srv *s)
{
	srv_live *l;

	pthread_mutex_lock(&s->live_mu);
	l = s->live;
	atomic_fetch_add(&l->refs, 1);
	pthread_mutex_unlock(&s->live_mu);
	return l;
}

srv_live *
srv_live_of(srv_req *r)
{
	if (r->live == NULL)
		r->live = srv_live_get(r->s);
	return r->live;
}

void
srv_live_swap(srv *s, srv_live *l)
{
	srv_live *old;

	pthread_mutex_lock(&s->live_mu);
	old = s->live;
	s->live = l;
	pthread_mutex_unlock(&s->live_mu);
	srv_live_put(old);
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

void
srv_htpasswd_watch(srv *s)
{
	const char *path = s->cfg.htpasswd;
	berth_htpasswd *h = NULL;
	berth_error *err = NULL;
	srv_live *cur;
	struct stat st;

	if (path == NULL)
		return;
	if (stat(path, &st) < 0) {
		if (s->htpasswd_st.st_ino != 0)
			berth_log(BERTH_LOG_WARN,
				  "htpasswd file '%s': %s; the users loaded "
				  "before stay until it is back",
				  path, strerror(errno));
		memset(&s->htpasswd_st, 0, sizeof(s->htpasswd_st));
		return;
	}
	if (same_file(&st, &s->htpasswd_st))
		return;
	s->htpasswd_st = st;
	if (berth_htpasswd_load(&h, path, &err) < 0) {
		berth_log(BERTH_LOG_WARN,
			  "htpasswd file not reloaded, the users loaded "
			  "before stay: %s%s%s",
			  err->msg, err->hint ? "; " : "",
			  err->hint ? err->hint : "");
		berth_error_free(err);
		return;
	}
	cur = srv_live_get(s);
	srv_live_swap(s, srv_live_new(h, berth_policy_ref(cur->policy),
				      cur->policy_given, cur->tuning));
	srv_live_put(cur);
	berth_log(BERTH_LOG_INFO, "htpasswd file '%s' reloaded", path);
}
