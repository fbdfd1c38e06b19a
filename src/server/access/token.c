/*
 * Registry access tokens: grants, scopes, issuing, and the cache of
 * verified tokens.
 *
 * The cache is keyed by the SHA-256 of the token (never the token itself),
 * direct-mapped over a power-of-two number of slots, with one lock per
 * stripe of slots, so readers on many threads rarely meet. An entry keeps
 * the token's expiry: a cached token stops working when it expires.
 */
#include "server/access/token.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define STRIPES 64

unsigned
berth_act_parse(const char *s)
{
	if (strcmp(s, "pull") == 0)
		return BERTH_ACT_PULL;
	if (strcmp(s, "push") == 0)
		return BERTH_ACT_PUSH;
	if (strcmp(s, "delete") == 0)
		return BERTH_ACT_DELETE;
	if (strcmp(s, "catalog") == 0)
		return BERTH_ACT_CATALOG;
	if (strcmp(s, "*") == 0)
		return BERTH_ACT_ALL;
	return 0;
}

char *
berth_act_string(unsigned a)
{
	static const char *const names[] = {"pull", "push", "delete",
					    "catalog"};
	berth_buf b = BERTH_BUF_INIT;
	size_t i;

	for (i = 0; i < BERTH_ARRAY_SIZE(names); i++)
		if (a & (1u << i)) {
			if (b.len)
				berth_buf_puts(&b, ",", NULL);
			berth_buf_puts(&b, names[i], NULL);
		}
	return berth_buf_detach(&b);
}

void
berth_token_info_release(berth_token_info *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->grants[i].type);
		free(t->grants[i].name);
	}
	free(t->grants);
	free(t->sub);
	free(t->cred);
	memset(t, 0, sizeof(*t));
}

void
berth_token_info_copy(berth_token_info *dst, const berth_token_info *src)
{
	size_t i;

	*dst = *src;
	dst->sub = xstrdup(src->sub);
	dst->cred = src->cred ? xstrdup(src->cred) : NULL;
	dst->grants = src->n ? xcalloc(src->n, sizeof(*dst->grants)) : NULL;
	for (i = 0; i < src->n; i++) {
		dst->grants[i].type = xstrdup(src->grants[i].type);
		dst->grants[i].name = xstrdup(src->grants[i].name);
		dst->grants[i].actions = src->grants[i].actions;
	}
}

int
berth_token_info_from_claims(berth_token_info *out, json_t *claims,
			     berth_error **err)
{
	const char *sub = json_string_value(json_object_get(claims, "sub"));
	const char *cred =
		json_string_value(json_object_get(claims, "berth_cred"));
	json_t *access = json_object_get(claims, "access"), *a;
	berth_token_info t = {0};
	size_t i;

	t.sub = xstrdup(sub ? sub : "");
	t.exp = json_integer_value(json_object_get(claims, "exp"));
	t.refresh = json_is_true(json_object_get(claims, "berth_refresh"));
	t.cred = cred ? xstrdup(cred) : NULL;
	if (access && !json_is_array(access)) {
		berth_token_info_release(&t);
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "token 'access' claim is not a list");
	}
	json_array_foreach(access, i, a)
	{
		const char *type =
			json_string_value(json_object_get(a, "type"));
		const char *name =
			json_string_value(json_object_get(a, "name"));
		json_t *acts = json_object_get(a, "actions"), *v;
		unsigned bits = 0;
		size_t k;

		if (type == NULL || name == NULL || !json_is_array(acts))
			continue; /* a grant we cannot read grants nothing */
		json_array_foreach(acts, k, v)
		{
			if (json_is_string(v))
				bits |= berth_act_parse(json_string_value(v));
		}
		if (strcmp(type, "repository") == 0)
			bits &= ~(unsigned)BERTH_ACT_CATALOG;
		t.grants = xreallocarray(t.grants, t.n + 1, sizeof(*t.grants));
		t.grants[t.n].type = xstrdup(type);
		t.grants[t.n].name = xstrdup(name);
		t.grants[t.n].actions = bits;
		t.n++;
	}
	*out = t;
	return 0;
}

unsigned
berth_token_allows(const berth_token_info *t, const char *type,
		   const char *name)
{
	unsigned a = 0;
	size_t i;

	if (t->refresh)
		return 0;
	for (i = 0; i < t->n; i++)
		if (strcmp(t->grants[i].type, type) == 0 &&
		    strcmp(t->grants[i].name, name) == 0)
			a |= t->grants[i].actions;
	return a;
}

int
berth_scope_parse(berth_grant *g, const char *scope, berth_error **err)
{
	const char *c1 = strchr(scope, ':'), *c2 = strrchr(scope, ':');
	_cleanup_free_ char *acts = NULL;
	char *tok, *save = NULL;
	size_t tl;

	memset(g, 0, sizeof(*g));
	if (c1 == NULL || c1 == c2 || c1 == scope || c2 == c1 + 1)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid scope '%.200s'", scope);
	/* "repository(plugin)" is the same as "repository". */
	tl = (size_t)(c1 - scope);
	if (memchr(scope, '(', tl))
		tl = (size_t)((const char *)memchr(scope, '(', tl) - scope);
	g->type = xstrndup(scope, tl);
	g->name = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
	acts = xstrdup(c2 + 1);
	for (tok = strtok_r(acts, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		g->actions |= berth_act_parse(tok);
	if (strcmp(g->type, "registry") == 0)
		g->actions = strcmp(g->name, "catalog") == 0 && g->actions
				     ? BERTH_ACT_CATALOG
				     : 0;
	else
		g->actions &= ~(unsigned)BERTH_ACT_CATALOG;
	return 0;
}

static json_t *
actions_json(unsigned a, const char *type)
{
	static const char *const names[] = {"pull", "push", "delete"};
	json_t *arr = json_array();
	size_t i;

	if (strcmp(type, "registry") == 0) {
		if (a & BERTH_ACT_CATALOG)
			json_array_append_new(arr, json_string("*"));
		return arr;
	}
	for (i = 0; i < BERTH_ARRAY_SIZE(names); i++)
		if (a & (1u << i))
			json_array_append_new(arr, json_string(names[i]));
	return arr;
}

int
berth_token_issue(char **out, const berth_jwt_keys *ks,
		  const berth_token_req *req, berth_error **err)
{
	json_auto_t *claims = NULL;
	json_t *access = json_array();
	unsigned char rnd[16];
	_cleanup_free_ char *jti = NULL;
	size_t i;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		json_decref(access);
		return berth_error_set(err, BERTH_EIO, 0,
				       "no randomness for a token id");
	}
	jti = berth_b64url_encode(rnd, sizeof(rnd));
	for (i = 0; !req->refresh && i < req->n; i++)
		json_array_append_new(
			access, json_pack("{s:s, s:s, s:o}", "type",
					  req->grants[i].type, "name",
					  req->grants[i].name, "actions",
					  actions_json(req->grants[i].actions,
						       req->grants[i].type)));
	claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:o}", "iss",
			   req->issuer, "sub", req->sub, "aud", req->audience,
			   "exp", (json_int_t)(req->now + req->ttl), "nbf",
			   (json_int_t)(req->now - 1), "iat",
			   (json_int_t)req->now, "jti", jti, "access", access);
	if (claims == NULL)
		abort();
	if (req->refresh)
		json_object_set_new(claims, "berth_refresh", json_true());
	if (req->cred)
		json_object_set_new(claims, "berth_cred",
				    json_string(req->cred));
	return berth_jwt_sign(out, ks, claims, err);
}

/* ---- cache ---- */

typedef struct slot {
	unsigned char key[32];
	bool used;
	berth_token_info info;
} slot;

struct berth_token_cache {
	slot *slots;
	size_t mask;
	pthread_mutex_t mu[STRIPES];
};

berth_token_cache *
berth_token_cache_new(size_t n)
{
	berth_token_cache *c = xcalloc(1, sizeof(*c));
	size_t size = 64, i;

	while (size < n)
		size <<= 1;
	c->slots = xcalloc(size, sizeof(*c->slots));
	c->mask = size - 1;
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_init(&c->mu[i], NULL);
	return c;
}

void
berth_token_cache_free(berth_token_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i <= c->mask; i++)
		berth_token_info_release(&c->slots[i].info);
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&c->mu[i]);
	free(c->slots);
	free(c);
}

static size_t
locate(berth_token_cache *c, const char *token, unsigned char key[32])
{
	unsigned int len = 32;
	size_t idx;

	if (EVP_Digest(token, strlen(token), key, &len, EVP_sha256(), NULL) !=
	    1)
		abort();
	memcpy(&idx, key, sizeof(idx));
	return idx & c->mask;
}

bool
berth_token_cache_get(berth_token_cache *c, const char *token, int64_t now,
		      berth_token_info *out)
{
	unsigned char key[32];
	size_t i = locate(c, token, key);
	pthread_mutex_t *mu = &c->mu[i % STRIPES];
	slot *s = &c->slots[i];
	bool hit;

	pthread_mutex_lock(mu);
	hit = s->used && CRYPTO_memcmp(s->key, key, sizeof(key)) == 0 &&
	      now <= s->info.exp;
	if (hit)
		berth_token_info_copy(out, &s->info);
	pthread_mutex_unlock(mu);
	return hit;
}

void
berth_token_cache_put(berth_token_cache *c, const char *token,
		      const berth_token_info *info)
{
	unsigned char key[32];
	size_t i = locate(c, token, key);
	pthread_mutex_t *mu = &c->mu[i % STRIPES];
	slot *s = &c->slots[i];
	berth_token_info copy;

	berth_token_info_copy(&copy, info);
	pthread_mutex_lock(mu);
	berth_token_info_release(&s->info);
	memcpy(s->key, key, sizeof(key));
	s->info = copy;
	s->used = true;
	pthread_mutex_unlock(mu);
}
