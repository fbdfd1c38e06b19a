/*
 * berth serve's require-signatures: the rules (access/sigrules.c: which
 * rule a repository falls under, malformed rules and key files refused
 * naming them) and the check the server makes with them
 * (sign/sigcheck.c, shared with berth verify): a signature by one of the
 * keys verifies; another key's, a tampered payload, a payload naming
 * another digest or an oversized payload do not.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/digest.h"
#include "berth/sign.h"
#include "server/access/sigrules.h"
#include "sign/sigcheck.h"
#include "test.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

static char dir[] = "/tmp/berth-sigrule-XXXXXX";
static berth_sign_key *good, *other; /* private: they sign and verify */
static char good_pub[64], other_pub[64], bad_pub[64];

static berth_sign_key *
new_key(const char *pub_path)
{
	char *priv = NULL, *pub = NULL;
	berth_sign_key *k = NULL;
	berth_error *err = NULL;
	FILE *f;

	if (berth_key_generate(&priv, &pub, "pw", 2, &err) < 0 ||
	    berth_key_load_private(&k, priv, strlen(priv), "pw", 2, "k", &err) <
		    0) {
		printf("key: %s\n", err->msg);
		exit(1);
	}
	f = fopen(pub_path, "w");
	fputs(pub, f);
	fclose(f);
	free(priv);
	free(pub);
	return k;
}

static void
setup(void)
{
	FILE *f;

	if (mkdtemp(dir) == NULL)
		exit(1);
	snprintf(good_pub, sizeof(good_pub), "%s/good.pub", dir);
	snprintf(other_pub, sizeof(other_pub), "%s/other.pub", dir);
	snprintf(bad_pub, sizeof(bad_pub), "%s/bad.pub", dir);
	good = new_key(good_pub);
	other = new_key(other_pub);
	f = fopen(bad_pub, "w");
	fputs("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nx\n", f);
	fclose(f);
}

static void
teardown(void)
{
	berth_sign_key_free(good);
	berth_sign_key_free(other);
	unlink(good_pub);
	unlink(other_pub);
	unlink(bad_pub);
	rmdir(dir);
}

/* ---- the rules ---- */

static srv_sigrules *
parse_ok(const char *json)
{
	srv_sigrules *r = NULL;
	berth_error *err = NULL;

	CHECK(srv_sigrules_parse(&r, json, &err) == 0, "%s: %s", json,
	      err ? err->msg : "");
	berth_error_free(err);
	return r;
}

TEST(rules_match)
{
	char *json = xasprintf(
		"[{\"repositories\": \"prod/**\", \"keys\": [\"%s\"]},"
		" {\"repositories\": [\"dev/*\", \"tools\"], \"keys\": "
		"[\"%s\", \"%s\"]},"
		" {\"repositories\": \"**\", \"keys\": [\"%s\"]}]",
		good_pub, good_pub, other_pub, other_pub);
	srv_sigrules *r = parse_ok(json);
	const srv_sigrule *q;
	const char *pat = NULL;
	char *names = xasprintf("%s, %s", good_pub, other_pub);

	q = srv_sigrules_for(r, "prod/a/b", &pat);
	CHECK(q && strcmp(q->name, "require-signatures[0]") == 0, "prod/a/b");
	CHECK_STR(pat, "prod/**");
	CHECK(q && q->n_keys == 1, "one key");
	q = srv_sigrules_for(r, "dev/x", &pat);
	CHECK(q && strcmp(q->name, "require-signatures[1]") == 0, "dev/x");
	CHECK_STR(pat, "dev/*");
	CHECK(q && q->n_keys == 2, "two keys");
	CHECK_STR(q ? q->key_names : NULL, names);
	q = srv_sigrules_for(r, "tools", &pat);
	CHECK_STR(pat, "tools");
	/* `*` stays within a segment: dev/x/y falls to the catch-all. */
	q = srv_sigrules_for(r, "dev/x/y", &pat);
	CHECK(q && strcmp(q->name, "require-signatures[2]") == 0, "dev/x/y");
	CHECK_STR(pat, "**");
	srv_sigrules_put(r);
	free(json);
	free(names);

	/* Without the catch-all, other repositories fall under no rule. */
	json = xasprintf(
		"[{\"repositories\": \"prod/**\", \"keys\": [\"%s\"]}]",
		good_pub);
	r = parse_ok(json);
	CHECK(srv_sigrules_for(r, "production", NULL) == NULL, "production");
	CHECK(srv_sigrules_for(r, "dev/prod", NULL) == NULL, "dev/prod");
	CHECK(srv_sigrules_ref(r) == r, "ref");
	srv_sigrules_put(r);
	srv_sigrules_put(r);
	free(json);

	/* No setting, no rules. */
	r = parse_ok(NULL);
	CHECK(r == NULL, "no rules");
	CHECK(srv_sigrules_for(NULL, "prod/a", NULL) == NULL, "NULL rules");
}

static void
parse_bad(const char *json, const char *want)
{
	srv_sigrules *r = NULL;
	berth_error *err = NULL;
	int rc = srv_sigrules_parse(&r, json, &err);

	CHECK(rc == BERTH_EUSAGE && r == NULL, "%s: %d", json, rc);
	CHECK(err && strstr(err->msg, want), "%s: got '%s', want '%s'", json,
	      err ? err->msg : "(none)", want);
	CHECK(err && err->hint, "a hint");
	berth_error_free(err);
}

TEST(rules_errors)
{
	char *j;

	parse_bad("{}", "require-signatures must be a list of rules");
	parse_bad("[1]", "require-signatures[0] must be an object");
	j = xasprintf("[{\"repositories\": \"a\", \"keys\": [\"%s\"]},"
		      " {\"repository\": \"a\", \"keys\": [\"%s\"]}]",
		      good_pub, good_pub);
	parse_bad(j, "require-signatures[1] has an unknown key 'repository'");
	free(j);
	j = xasprintf("[{\"repositories\": [], \"keys\": [\"%s\"]}]", good_pub);
	parse_bad(j, "require-signatures[0] \"repositories\" must be");
	free(j);
	j = xasprintf("[{\"repositories\": [\"a\", \"\"], \"keys\": [\"%s\"]}]",
		      good_pub);
	parse_bad(j, "\"repositories\" must be");
	free(j);
	parse_bad("[{\"repositories\": \"a\"}]", "\"keys\" must be");
	parse_bad("[{\"repositories\": \"a\", \"keys\": []}]",
		  "\"keys\" must be");
	parse_bad("[{\"repositories\": \"a\", \"keys\": [\"\"]}]",
		  "\"keys\" must be");
	j = xasprintf("[{\"repositories\": \"a\", \"keys\": [\"%s\", "
		      "\"%s/none.pub\"]}]",
		      good_pub, dir);
	{
		char *want = xasprintf("require-signatures[0]: key file "
				       "'%s/none.pub': cannot read",
				       dir);
		srv_sigrules *r = NULL;
		berth_error *err = NULL;

		CHECK(srv_sigrules_parse(&r, j, &err) < 0 && r == NULL,
		      "missing key");
		CHECK(err && strstr(err->msg, want), "got '%s'",
		      err ? err->msg : "");
		berth_error_free(err);
		free(want);
	}
	free(j);
	j = xasprintf("[{\"repositories\": \"a\", \"keys\": [\"%s\"]}]",
		      bad_pub);
	{
		char *want = xasprintf("key file '%s': '%s' holds no PEM "
				       "'PUBLIC KEY'",
				       bad_pub, bad_pub);

		parse_bad(j, want);
		free(want);
	}
	free(j);
}

/* ---- the check ---- */

/* An in-memory repository of payload blobs. */
typedef struct blobs {
	char *digest[4];
	char *data[4];
	size_t n;
	int fetches;
} blobs;

static const char *
blob_add(blobs *b, const char *data)
{
	berth_digest d;

	berth_digest_of(&d, BERTH_DIGEST_SHA256, data, strlen(data));
	b->digest[b->n] = xstrdup(d.str);
	b->data[b->n] = xstrdup(data);
	return b->digest[b->n++];
}

static void
blobs_release(blobs *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->digest[i]);
		free(b->data[i]);
	}
}

static int
fetch(berth_buf *out, void *ud, const berth_descriptor *d, berth_error **err)
{
	blobs *b = ud;

	b->fetches++;
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->digest[i], d->digest.str) == 0) {
			berth_buf_init(out, 0);
			return berth_buf_puts(out, b->data[i], err);
		}
	return berth_error_set(err, BERTH_ENOTFOUND, 0, "blob '%s' unknown",
			       d->digest.str);
}

/* A signature manifest of one layer: payload blob `pd` of `size`
 * bytes, signature `sig`. Caller frees. */
static char *
sig_manifest(const char *pd, long size, const char *sig)
{
	return xasprintf(
		"{\"schemaVersion\":2,\"mediaType\":\"application/"
		"vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
		"\"application/vnd.oci.image.config.v1+json\",\"digest\":"
		"\"sha256:"
		"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff"
		"8"
		"a\",\"size\":2},\"layers\":[{\"mediaType\":\"%s\",\"digest\":"
		"\"%s\",\"size\":%ld,\"annotations\":{\"%s\":\"%s\"}}]}",
		BERTH_MT_SIMPLESIGNING, pd, size, BERTH_COSIGN_SIG_ANNOTATION,
		sig);
}

static const char *IMAGE =
	"sha256:"
	"1111111111111111111111111111111111111111111111111111"
	"111111111111";
static const char *ANOTHER = "sha256:"
			     "22222222222222222222222222222222222222222222222"
			     "22222222222222222";

/* The tally of one signature of `names` (a payload naming it), signed by
 * `by`, checked against keys for IMAGE. tamper: the payload stored is
 * not the one signed. */
static void
check_one(sign_tally *t, const char *names, berth_sign_key *by,
	  berth_sign_key **keys, size_t n_keys, bool tamper, int *fetches)
{
	char *payload = berth_sign_payload("127.0.0.1:5000/prod/app", names);
	char *sig = NULL, *m, *stored;
	const char *pd;
	berth_error *err = NULL;
	blobs b = {0};
	berth_digest img;

	CHECK(berth_sign_bytes(&sig, by, payload, strlen(payload), &err) == 0,
	      "sign");
	stored = xstrdup(payload);
	if (tamper)
		stored[strlen(stored) - 2] = ' '; /* "optional":null -> nul  */
	pd = blob_add(&b, stored);
	m = sig_manifest(pd, (long)strlen(stored), sig);
	CHECK(berth_digest_parse(&img, IMAGE, NULL) == 0, "digest");
	{
		sign_check_ctx c = {&img, (const berth_sign_key *const *)keys,
				    n_keys, fetch, &b};

		sign_check_manifest(&c, t, m, strlen(m));
	}
	if (fetches)
		*fetches = b.fetches;
	blobs_release(&b);
	free(payload);
	free(stored);
	free(sig);
	free(m);
	berth_error_free(err);
}

TEST(good_key_verifies)
{
	sign_tally t = {0};

	check_one(&t, IMAGE, good, &good, 1, false, NULL);
	CHECK(t.n_sigs == 1 && t.n_verified == 1, "%zu %zu", t.n_sigs,
	      t.n_verified);
	CHECK(t.problem == NULL, "%s", t.problem);
	sign_tally_release(&t);
}

TEST(any_of_the_keys)
{
	berth_sign_key *keys[] = {other, good};
	sign_tally t = {0};

	check_one(&t, IMAGE, good, keys, 2, false, NULL);
	CHECK(t.n_verified == 1, "the second key verifies");
	/* Once one verifies, the rest are not checked. */
	check_one(&t, IMAGE, other, keys, 2, false, NULL);
	CHECK(t.n_verified == 1 && t.n_sigs == 1, "not checked further");
	sign_tally_release(&t);
	check_one(&t, IMAGE, other, keys, 2, false, NULL);
	CHECK(t.n_verified == 1 && t.n_sigs == 1, "the first key verifies");
	sign_tally_release(&t);
}

TEST(other_key_refused)
{
	sign_tally t = {0};

	check_one(&t, IMAGE, other, &good, 1, false, NULL);
	CHECK(t.n_sigs == 1 && t.n_verified == 0, "%zu %zu", t.n_sigs,
	      t.n_verified);
	CHECK(t.problem && strstr(t.problem, "does not match the key"), "%s",
	      t.problem);
	sign_tally_release(&t);
}

TEST(tampered_payload_refused)
{
	sign_tally t = {0};

	check_one(&t, IMAGE, good, &good, 1, true, NULL);
	CHECK(t.n_sigs == 1 && t.n_verified == 0, "tampered");
	CHECK(t.problem && strstr(t.problem, "does not match"), "%s",
	      t.problem);
	sign_tally_release(&t);
}

TEST(payload_naming_another_digest_refused)
{
	sign_tally t = {0};
	char *want = xasprintf("the payload names '%s', the image is '%s'",
			       ANOTHER, IMAGE);

	check_one(&t, ANOTHER, good, &good, 1, false, NULL);
	CHECK(t.n_sigs == 1 && t.n_verified == 0, "another digest");
	CHECK_STR(t.problem, want);
	sign_tally_release(&t);
	free(want);
}

TEST(oversized_payload_not_fetched)
{
	char *m = sig_manifest(IMAGE, SIGN_PAYLOAD_MAX + 1L, "MEUCIQ==");
	sign_tally t = {0};
	blobs b = {0};
	berth_digest img;
	sign_check_ctx c = {&img, (const berth_sign_key *const *)&good, 1,
			    fetch, &b};

	berth_digest_parse(&img, IMAGE, NULL);
	sign_check_manifest(&c, &t, m, strlen(m));
	CHECK(t.n_sigs == 1 && t.n_verified == 0, "refused");
	CHECK(b.fetches == 0, "never fetched");
	CHECK(t.problem && strstr(t.problem, "over 64 KiB"), "%s", t.problem);
	sign_tally_release(&t);
	free(m);
}

TEST(what_is_a_signature_manifest)
{
	char *m = sig_manifest(IMAGE, 10, "x");
	const char *image =
		"{\"layers\":[{\"mediaType\":\"application/"
		"vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"x\",\"size\":1}"
		"]}";
	const char *mixed =
		"{\"layers\":[{\"mediaType\":\"application/"
		"vnd.dev.cosign.simplesigning.v1+json\"},{\"mediaType\":"
		"\"application/vnd.oci.image.layer.v1.tar+gzip\"}]}";

	CHECK(sign_manifest_is_signature(m, strlen(m)), "signature");
	CHECK(!sign_manifest_is_signature(image, strlen(image)), "image");
	CHECK(!sign_manifest_is_signature(mixed, strlen(mixed)),
	      "an image with one payload-typed layer is no signature");
	CHECK(!sign_manifest_is_signature("{\"layers\":[]}", 13), "empty");
	CHECK(!sign_manifest_is_signature("nope", 4), "not JSON");
	free(m);
}

TEST_MAIN_FIXTURE("test_serve_sigrule", setup, teardown)
