/* berth serve's tokens: base64url, JWT signing and verification (ES256,
 * RS256), claims, scopes, and the verified-token cache. */
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "server/access/jwt.h"
#include "server/access/token.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static char dir[] = "/tmp/berth-unit-jwt.XXXXXX";
static const int64_t NOW = 1800000000;

static void
rm_rf(const char *d)
{
	char *cmd = xasprintf("rm -rf '%s'", d);

	if (system(cmd) != 0)
		printf("cannot remove %s\n", d);
	free(cmd);
}

/* Writes a new private key of the given kind to dir/name. */
static char *
new_key(const char *name, bool rsa)
{
	char *path = xasprintf("%s/%s", dir, name);
	EVP_PKEY *k = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
	FILE *f = fopen(path, "w");

	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	EVP_PKEY_free(k);
	return path;
}

static berth_jwt_keys *
keys_from(const char *path)
{
	berth_jwt_keys *ks = berth_jwt_keys_new();
	berth_error *err = NULL;

	CHECK(berth_jwt_keys_add_pem(ks, path, true, &err) == 0, "add %s: %s",
	      path, err ? err->msg : "");
	berth_error_free(err);
	return ks;
}

static char *
issue(berth_jwt_keys *ks, const char *aud, int64_t now, int64_t ttl,
      const char *repo, unsigned acts)
{
	berth_grant g = {(char *)"repository", (char *)repo, acts};
	berth_token_req req = {.issuer = "berth",
			       .audience = aud,
			       .sub = "alice",
			       .grants = &g,
			       .n = 1,
			       .now = now,
			       .ttl = ttl};
	berth_error *err = NULL;
	char *tok = NULL;

	CHECK(berth_token_issue(&tok, ks, &req, &err) == 0, "issue: %s",
	      err ? err->msg : "");
	berth_error_free(err);
	return tok;
}

static int
verify(berth_jwt_keys *ks, const char *tok, unsigned algs, const char *aud,
       int64_t now, berth_token_info *info, char **msg)
{
	berth_jwt_check chk = {.algs = algs,
			       .issuer = "berth",
			       .audience = aud,
			       .now = now,
			       .skew = 30};
	json_t *claims = NULL;
	berth_error *err = NULL;
	int rc = berth_jwt_verify(&claims, ks, tok, &chk, &err);

	if (rc == 0 && info)
		rc = berth_token_info_from_claims(info, claims, &err);
	if (msg)
		*msg = err ? xstrdup(err->msg) : NULL;
	berth_error_free(err);
	json_decref(claims);
	return rc;
}

static char *
part(const char *tok, int i)
{
	const char *p = tok;
	size_t n;

	while (i-- > 0)
		p = strchr(p, '.') + 1;
	n = strcspn(p, ".");
	return xstrndup(p, n);
}

/* header.payload.sig with one part replaced by the base64url of `json`. */
static char *
with_part(const char *tok, int i, const char *json)
{
	_cleanup_free_ char *p0 = part(tok, 0), *p1 = part(tok, 1),
			    *p2 = part(tok, 2), *enc = NULL;

	enc = berth_b64url_encode(json, strlen(json));
	return xasprintf("%s.%s.%s", i == 0 ? enc : p0, i == 1 ? enc : p1,
			 i == 2 ? enc : p2);
}

TEST(b64url)
{
	unsigned char *out = NULL;
	size_t len = 0;
	char *e = berth_b64url_encode("\xfb\xff\xfe", 3);

	CHECK_STR(e, "-__-");
	CHECK(berth_b64url_decode(&out, &len, e, strlen(e)) == 0 && len == 3 &&
		      memcmp(out, "\xfb\xff\xfe", 3) == 0,
	      "round trip");
	free(out);
	free(e);
	e = berth_b64url_encode("ab", 2);
	CHECK_STR(e, "YWI"); /* no padding */
	free(e);
	CHECK(berth_b64url_decode(&out, &len, "YWI=", 4) < 0,
	      "padding refused");
	CHECK(berth_b64url_decode(&out, &len, "+/==", 4) < 0,
	      "standard alphabet refused");
	CHECK(berth_b64url_decode(&out, &len, "Y", 1) < 0, "bad length");
}

TEST(es256)
{
	_cleanup_free_ char *kp = new_key("a.pem", false);
	_cleanup_free_ char *other = new_key("b.pem", false);
	berth_jwt_keys *ks = keys_from(kp), *ks2 = keys_from(other);
	berth_token_info info = {0};
	char *tok = issue(ks, "svc", NOW, 300, "team/app",
			  BERTH_ACT_PULL | BERTH_ACT_PUSH);
	_cleanup_free_ char *sig = part(tok, 2), *hdr = part(tok, 0);
	unsigned char *raw = NULL, *h = NULL;
	char *msg = NULL, *bad;
	size_t len = 0, hl = 0;

	/* JOSE's r||s: exactly 64 bytes, not DER. */
	CHECK(berth_b64url_decode(&raw, &len, sig, strlen(sig)) == 0 &&
		      len == 64,
	      "ES256 signature is 64 bytes, got %zu", len);
	free(raw);
	CHECK(berth_b64url_decode(&h, &hl, hdr, strlen(hdr)) == 0 &&
		      strstr((char *)h, "\"alg\":\"ES256\"") &&
		      strstr((char *)h, "\"kid\":\""),
	      "header names alg and kid");
	free(h);

	CHECK(verify(ks, tok, BERTH_JWT_ES256, "svc", NOW + 10, &info, &msg) ==
		      0,
	      "good token: %s", msg ? msg : "");
	free(msg);
	CHECK_STR(info.sub, "alice");
	CHECK(berth_token_allows(&info, "repository", "team/app") ==
		      (BERTH_ACT_PULL | BERTH_ACT_PUSH),
	      "grants pull and push");
	CHECK(berth_token_allows(&info, "repository", "team/other") == 0,
	      "a token for one repository never opens another");
	CHECK(berth_token_allows(&info, "registry", "catalog") == 0,
	      "no catalog");
	berth_token_info_release(&info);

	CHECK(verify(ks, tok, BERTH_JWT_ES256, "svc", NOW + 400, NULL, &msg) <
			      0 &&
		      strstr(msg, "expired"),
	      "expired: %s", msg);
	free(msg);
	CHECK(verify(ks, tok, BERTH_JWT_ES256, "svc", NOW + 320, NULL, NULL) ==
		      0,
	      "within the clock skew after expiry");
	CHECK(verify(ks, tok, BERTH_JWT_ES256, "svc", NOW - 100, NULL, &msg) <
		      0,
	      "not valid yet");
	free(msg);
	CHECK(verify(ks, tok, BERTH_JWT_ES256, "other", NOW, NULL, &msg) < 0 &&
		      strstr(msg, "service"),
	      "wrong audience: %s", msg);
	free(msg);
	CHECK(verify(ks, tok, BERTH_JWT_RS256, "svc", NOW, NULL, &msg) < 0 &&
		      strstr(msg, "algorithm"),
	      "an algorithm not configured: %s", msg);
	free(msg);
	CHECK(verify(ks2, tok, BERTH_JWT_ES256, "svc", NOW, NULL, &msg) < 0 &&
		      strstr(msg, "signature"),
	      "another key's token: %s", msg);
	free(msg);

	/* Forged claims under the original signature. */
	bad = with_part(tok, 1,
			"{\"iss\":\"berth\",\"sub\":\"alice\",\"aud\":\"svc\","
			"\"exp\":1900000000,\"access\":[{\"type\":"
			"\"repository\",\"name\":\"team/app\",\"actions\":["
			"\"pull\",\"push\",\"delete\"]}]}");
	CHECK(verify(ks, bad, BERTH_JWT_ES256, "svc", NOW, NULL, NULL) < 0,
	      "forged claims");
	free(bad);
	/* alg none, with and without a signature. */
	bad = with_part(tok, 0, "{\"alg\":\"none\",\"typ\":\"JWT\"}");
	CHECK(verify(ks, bad, BERTH_JWT_ES256 | BERTH_JWT_RS256, "svc", NOW,
		     NULL, NULL) < 0,
	      "alg none");
	free(bad);
	{
		_cleanup_free_ char *h0 =
			berth_b64url_encode("{\"alg\":\"none\"}", 14);
		_cleanup_free_ char *p1 = part(tok, 1);

		bad = xasprintf("%s.%s.", h0, p1);
		CHECK(verify(ks, bad, BERTH_JWT_ES256, "svc", NOW, NULL, NULL) <
			      0,
		      "alg none, empty signature");
		free(bad);
	}
	/* Algorithm confusion: an RS256 header over an EC key's token. */
	bad = with_part(tok, 0, "{\"alg\":\"RS256\"}");
	CHECK(verify(ks, bad, BERTH_JWT_ES256 | BERTH_JWT_RS256, "svc", NOW,
		     NULL, NULL) < 0,
	      "RS256 header on an ES256 key");
	free(bad);
	CHECK(verify(ks, "a.b", BERTH_JWT_ES256, "svc", NOW, NULL, NULL) < 0,
	      "two parts");
	CHECK(verify(ks, "a.b.c.d", BERTH_JWT_ES256, "svc", NOW, NULL, NULL) <
		      0,
	      "four parts");
	free(tok);
	berth_jwt_keys_free(ks);
	berth_jwt_keys_free(ks2);
}

TEST(rs256_and_rotation)
{
	_cleanup_free_ char *rk = new_key("r.pem", true);
	_cleanup_free_ char *kd = xasprintf("%s/keys", dir);
	_cleanup_free_ char *signing = xasprintf("%s/signing.pem", kd);
	_cleanup_free_ char *old = xasprintf("%s/old.pem", kd);
	berth_jwt_keys *ks = keys_from(rk), *a, *b;
	berth_error *err = NULL;
	char *tok = issue(ks, "svc", NOW, 300, "x", BERTH_ACT_PULL), *tok2;
	struct stat st;

	CHECK(verify(ks, tok, BERTH_JWT_RS256, "svc", NOW, NULL, NULL) == 0,
	      "RS256 round trip");
	free(tok);
	berth_jwt_keys_free(ks);

	/* A generated key, then a rotation: the old one still verifies. */
	a = berth_jwt_keys_new();
	CHECK(berth_jwt_keys_load_dir(a, kd, &err) == 0, "load dir: %s",
	      err ? err->msg : "");
	CHECK(stat(signing, &st) == 0 && (st.st_mode & 0777) == 0600,
	      "generated key is 0600");
	tok = issue(a, "svc", NOW, 300, "x", BERTH_ACT_PULL);
	CHECK(rename(signing, old) == 0, "rotate");
	b = berth_jwt_keys_new();
	CHECK(berth_jwt_keys_load_dir(b, kd, &err) == 0, "reload: %s",
	      err ? err->msg : "");
	CHECK(berth_jwt_keys_count(b) == 2, "old and new keys");
	CHECK(strcmp(berth_jwt_keys_signing_kid(a),
		     berth_jwt_keys_signing_kid(b)) != 0,
	      "a new signing key");
	CHECK(verify(b, tok, BERTH_JWT_ES256, "svc", NOW, NULL, NULL) == 0,
	      "a token of the old key stays valid");
	tok2 = issue(b, "svc", NOW, 300, "x", BERTH_ACT_PULL);
	CHECK(verify(a, tok2, BERTH_JWT_ES256, "svc", NOW, NULL, NULL) < 0,
	      "the old set does not know the new key");
	free(tok);
	free(tok2);
	berth_jwt_keys_free(a);
	berth_jwt_keys_free(b);
	berth_error_free(err);
}

TEST(scopes_and_cache)
{
	berth_grant g;
	berth_token_info info = {0}, got = {0};
	berth_token_cache *c = berth_token_cache_new(4);

	CHECK(berth_scope_parse(&g, "repository:team/app:pull,push", NULL) ==
			      0 &&
		      strcmp(g.name, "team/app") == 0 &&
		      g.actions == (BERTH_ACT_PULL | BERTH_ACT_PUSH),
	      "repository scope");
	free(g.type);
	free(g.name);
	CHECK(berth_scope_parse(&g, "registry:catalog:*", NULL) == 0 &&
		      g.actions == BERTH_ACT_CATALOG,
	      "catalog scope");
	free(g.type);
	free(g.name);
	CHECK(berth_scope_parse(&g, "repository(plugin):p:pull", NULL) == 0 &&
		      strcmp(g.type, "repository") == 0,
	      "resource class");
	free(g.type);
	free(g.name);
	CHECK(berth_scope_parse(&g, "repository:x:bogus", NULL) == 0 &&
		      g.actions == 0,
	      "unknown action grants nothing");
	free(g.type);
	free(g.name);
	CHECK(berth_scope_parse(&g, "nonsense", NULL) < 0, "malformed");

	info.sub = xstrdup("bob");
	info.exp = NOW + 60;
	CHECK(!berth_token_cache_get(c, "tok-1", NOW, &got), "empty cache");
	berth_token_cache_put(c, "tok-1", &info);
	CHECK(berth_token_cache_get(c, "tok-1", NOW, &got) &&
		      strcmp(got.sub, "bob") == 0,
	      "cached");
	berth_token_info_release(&got);
	CHECK(!berth_token_cache_get(c, "tok-2", NOW, &got), "other token");
	CHECK(!berth_token_cache_get(c, "tok-1", NOW + 61, &got),
	      "expired entries are not served");
	berth_token_info_release(&info);
	berth_token_cache_free(c);
}

static void
fixture_setup(void)
{
	if (mkdtemp(dir) == NULL)
		exit(1);
}

static void
fixture_teardown(void)
{
	rm_rf(dir);
}

TEST_MAIN_FIXTURE("test_serve_jwt", fixture_setup, fixture_teardown)
