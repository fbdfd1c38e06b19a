#include "server/access/htpasswd.h"

#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/digest.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define CACHE_SLOTS 64

typedef struct entry {
	char *user;
	char *hash;
} entry;

struct berth_htpasswd {
	entry *entries;
	size_t n;
	pthread_mutex_t mu;
	char cache[CACHE_SLOTS]
		  [BERTH_DIGEST_MAX]; /* sha256 of good credentials */
	size_t next_slot;
	char *dummy;		  /* bcrypt of the costliest entry's cost */
	atomic_ulong bcrypt_runs; /* for the tests: every check pays one */
	atomic_int extra_refs;	  /* berth_htpasswd_ref's, beyond the first */
};

berth_htpasswd *
berth_htpasswd_ref(berth_htpasswd *h)
{
	atomic_fetch_add(&h->extra_refs, 1);
	return h;
}

static bool
is_bcrypt(const char *h)
{
	return strncmp(h, "$2y$", 4) == 0 || strncmp(h, "$2a$", 4) == 0 ||
	       strncmp(h, "$2b$", 4) == 0;
}

void
berth_htpasswd_free(berth_htpasswd *h)
{
	size_t i;

	if (h == NULL || atomic_fetch_sub(&h->extra_refs, 1) > 0)
		return;
	for (i = 0; i < h->n; i++) {
		free(h->entries[i].user);
		explicit_bzero(h->entries[i].hash, strlen(h->entries[i].hash));
		free(h->entries[i].hash);
	}
	free(h->entries);
	free(h->dummy);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

/* The cost of a bcrypt hash ("$2y$10$..." is 10). */
static unsigned long
cost_of(const char *hash)
{
	return strtoul(hash + 4, NULL, 10);
}

/*
 * A hash an unknown user's password is checked against, so that a wrong
 * user name costs what a wrong password costs (no user-name oracle).
 */
static int
make_dummy(berth_htpasswd *h, berth_error **err)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	unsigned long cost = 4;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *got = NULL;
	size_t i;

	for (i = 0; i < h->n; i++)
		if (cost_of(h->entries[i].hash) > cost)
			cost = cost_of(h->entries[i].hash);
	if (crypt_gensalt_rn("$2b$", cost, NULL, 0, setting, sizeof(setting)) !=
	    NULL)
		got = crypt_r("no such user", setting, cd);
	if (got && got[0] != '*')
		h->dummy = xstrdup(got);
	free(cd);
	if (h->dummy == NULL)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot compute bcrypt hashes: %s",
				       strerror(errno));
	return 0;
}

int
berth_htpasswd_load(berth_htpasswd **out, const char *path, berth_error **err)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	berth_htpasswd *h;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;
	int fd, r;

	/* berth_file_open: a FIFO in its place must not hang the server. */
	if ((fd = berth_file_open(path, NULL, err)) < 0) {
		if (fd == BERTH_ENOTFOUND)
			berth_error_hint(err,
					 "create it with 'htpasswd -B -c "
					 "%s USER'",
					 path);
		return berth_error_wrap(err, fd, "the htpasswd file");
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot read htpasswd file '%s': %s",
				       path, strerror(errno));
	}
	h = xcalloc(1, sizeof(*h));
	pthread_mutex_init(&h->mu, NULL);
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *colon;

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		colon = strchr(line, ':');
		if (colon == NULL || colon == line) {
			berth_htpasswd_free(h);
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "htpasswd file '%s' line %d is "
					       "not 'user:hash'",
					       path, lineno);
		}
		*colon = '\0';
		if (!is_bcrypt(colon + 1)) {
			berth_htpasswd_free(h);
			berth_error_set(err, BERTH_EUNSUPPORTED, 0,
					"htpasswd file '%s' line %d: the entry "
					"for '%s' is not bcrypt",
					path, lineno, line);
			berth_error_hint(err, "recreate it with "
					      "'htpasswd -B'");
			return BERTH_EUNSUPPORTED;
		}
		h->entries = xreallocarray(h->entries, h->n + 1,
					   sizeof(*h->entries));
		h->entries[h->n].user = xstrdup(line);
		h->entries[h->n].hash = xstrdup(colon + 1);
		h->n++;
	}
	if (h->n == 0) {
		berth_htpasswd_free(h);
		berth_error_set(err, BERTH_EUSAGE, 0,
				"htpasswd file '%s' has no entries", path);
		berth_error_hint(err, "add one with 'htpasswd -B %s USER'",
				 path);
		return BERTH_EUSAGE;
	}
	if ((r = make_dummy(h, err)) < 0) {
		berth_htpasswd_free(h);
		return r;
	}
	*out = h;
	return 0;
}

static const entry *
find(const berth_htpasswd *h, const char *user)
{
	const entry *e = NULL;
	size_t i;

	/* The last entry of a user wins, as in check. */
	for (i = 0; i < h->n; i++)
		if (strcmp(h->entries[i].user, user) == 0)
			e = &h->entries[i];
	return e;
}

/* Constant-time string comparison (lengths are not secret). */
static bool
same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = 0;

	if (la != lb)
		return false;
	for (i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static void
credential_key(berth_digest *out, const entry *e, const char *pass)
{
	_cleanup_free_ char *s =
		xasprintf("%s%c%s%c%s", e->user, 0, e->hash, 0, pass);
	size_t len = strlen(e->user) + strlen(e->hash) + strlen(pass) + 2;

	berth_digest_of(out, BERTH_DIGEST_SHA256, s, len);
	explicit_bzero(s, len);
}

static bool
cached(berth_htpasswd *h, const berth_digest *key)
{
	bool ok = false;
	size_t i;

	pthread_mutex_lock(&h->mu);
	for (i = 0; i < CACHE_SLOTS && !ok; i++)
		ok = same(h->cache[i], key->str);
	pthread_mutex_unlock(&h->mu);
	return ok;
}

bool
berth_htpasswd_check_cached(berth_htpasswd *h, const char *user,
			    const char *pass)
{
	const entry *e = find(h, user);
	berth_digest key;

	if (e == NULL)
		return false;
	credential_key(&key, e, pass);
	return cached(h, &key);
}

int
berth_htpasswd_check(berth_htpasswd *h, const char *user, const char *pass,
		     berth_error **err)
{
	const entry *e = find(h, user);
	struct crypt_data *cd;
	berth_digest key;
	bool ok = false;
	const char *got;

	if (e) {
		credential_key(&key, e, pass);
		if (cached(h, &key))
			return 0;
	}
	/* An unknown user pays one bcrypt of the same cost, and fails. */
	cd = xcalloc(1, sizeof(*cd));
	got = crypt_r(pass, e ? e->hash : h->dummy, cd);
	atomic_fetch_add(&h->bcrypt_runs, 1);
	ok = e && got != NULL && got[0] != '*' && same(got, e->hash);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	if (!ok)
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "unknown user or wrong password");
	pthread_mutex_lock(&h->mu);
	memcpy(h->cache[h->next_slot], key.str, sizeof(key.str));
	h->next_slot = (h->next_slot + 1) % CACHE_SLOTS;
	pthread_mutex_unlock(&h->mu);
	return 0;
}

unsigned long
berth_htpasswd_bcrypt_runs(berth_htpasswd *h)
{
	return atomic_load(&h->bcrypt_runs);
}
bool
berth_htpasswd_has_user(const berth_htpasswd *h, const char *user)
{
	return find(h, user) != NULL;
}

bool
berth_htpasswd_fingerprint(const berth_htpasswd *h, const char *user, char *out)
{
	const entry *e = find(h, user);
	_cleanup_free_ char *s = NULL;
	berth_digest d;

	if (e == NULL)
		return false;
	s = xasprintf("%s%c%s", e->user, 0, e->hash);
	berth_digest_of(&d, BERTH_DIGEST_SHA256, s,
			strlen(e->user) + 1 + strlen(e->hash));
	/* d.str is "sha256:<hex>" */
	memcpy(out, strchr(d.str, ':') + 1, BERTH_HTPASSWD_FP_LEN);
	out[BERTH_HTPASSWD_FP_LEN] = '\0';
	return true;
}
