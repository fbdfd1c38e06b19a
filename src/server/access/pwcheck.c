/*
 * Password checks off the HTTP threads. bcrypt costs tens of
 * milliseconds by design; run on an event loop it would stall every other
 * connection of that loop. A request whose credentials are not among the
 * recently good ones is suspended (MHD_suspend_connection), its check
 * queued to a few threads of its own, and resumed with the verdict; the
 * access checks or the handler then run again and find it in srv_req.
 *
 * Failed logins are counted per user and per address (guard.c); beyond
 * the limit a login is refused with 429 before any bcrypt runs.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "server/ops/metrics.h"
#include "server/server.h"
#include "util/xalloc.h"

typedef struct pw_job {
	struct pw_job *next;
	srv_req *r;
	berth_htpasswd *h; /* a reference */
	char *user, *pass;
} pw_job;

struct srv_pwpool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pw_job *head, *tail;
	bool stop;
	pthread_t *threads;
	size_t n;
};

static void
job_free(pw_job *j)
{
	berth_htpasswd_free(j->h);
	free(j->user);
	explicit_bzero(j->pass, strlen(j->pass));
	free(j->pass);
	free(j);
}

static void *
worker(void *arg)
{
	srv_pwpool *p = arg;

	for (;;) {
		pw_job *j;

		pthread_mutex_lock(&p->mu);
		while (p->head == NULL && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->head == NULL) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		j = p->head;
		p->head = j->next;
		srv_metric_add(SRV_M_LOGIN_QUEUE, 0, 0, 0, -1);
		if (p->head == NULL)
			p->tail = NULL;
		pthread_mutex_unlock(&p->mu);
		j->r->pw_rc =
			berth_htpasswd_check(j->h, j->user, j->pass, NULL);
		j->r->pw_done = true;
		/* MHD's resume orders the writes above before the re-run. */
		MHD_resume_connection(j->r->conn);
		job_free(j);
	}
}

srv_pwpool *
srv_pwpool_new(size_t threads)
{
	srv_pwpool *p = xcalloc(1, sizeof(*p));
	sigset_t all, old;

	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->threads = xcalloc(threads, sizeof(*p->threads));
	/* Signals stay with the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (p->n = 0; p->n < threads; p->n++)
		if (pthread_create(&p->threads[p->n], NULL, worker, p) != 0)
			abort();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return p;
}

void
srv_pwpool_drain(srv_pwpool *p)
{
	size_t i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	if (p->stop) {
		pthread_mutex_unlock(&p->mu);
		return;
	}
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
}

void
srv_pwpool_free(srv_pwpool *p)
{
	if (p == NULL)
		return;
	srv_pwpool_drain(p);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p);
}

/* Suspends r and queues its check; false once the pool is drained. */
static bool
submit(srv_req *r, berth_htpasswd *h, const char *user, const char *pass)
{
	srv_pwpool *p = r->s->pwpool;
	pw_job *j;

	pthread_mutex_lock(&p->mu);
	if (p->stop) {
		pthread_mutex_unlock(&p->mu);
		return false;
	}
	j = xcalloc(1, sizeof(*j));
	j->r = r;
	j->h = berth_htpasswd_ref(h);
	j->user = xstrdup(user);
	j->pass = xstrdup(pass);
	r->pw_wait = true;
	MHD_suspend_connection(r->conn);
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	srv_metric_add(SRV_M_LOGIN_QUEUE, 0, 0, 0, 1);
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return true;
}

int
srv_password_check(srv_req *r, const char *user, const char *pass)
{
	berth_htpasswd *h = srv_live_of(r)->htpasswd;
	unsigned result = SRV_LOGIN_OK;
	int rc;

	if (r->pw_done) {
		rc = r->pw_rc;
		r->pw_wait = false;
	} else {
		/* Credentials good a moment ago pass even while the user
		 * is locked out: a guesser cannot lock a busy client out. */
		if (h && berth_htpasswd_check_cached(h, user, pass)) {
			rc = 0;
			result = SRV_LOGIN_OK_CACHED;
		} else if (srv_login_guard(r, user) < 0) {
			return BERTH_ETOOMANY;
		} else if (h && r->s->pwpool && submit(r, h, user, pass)) {
			return SRV_PENDING;
		} else if (h) {
			rc = berth_htpasswd_check(h, user, pass, NULL);
		} else {
			rc = BERTH_EAUTH;
		}
	}
	srv_metric_inc(SRV_M_LOGINS, rc == 0 ? result : SRV_LOGIN_FAILED);
	srv_login_result(r, user, rc == 0);
	return rc;
}
