/*
 * Signatures in cosign's format: berth's keys and payloads round-trip,
 * and berth reads what cosign wrote (tests/fixtures/cosign/: keys from
 * cosign's own tests, signatures cosign made from containers/image's).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "berth/sigpolicy.h"
#include "berth/sign.h"
#include "sign/sign_int.h"
#include "test.h"
#include "util/error.h"
#include "util/fileio.h"

#define FIX "tests/fixtures/cosign/"

static char *
slurp(const char *path, size_t *len)
{
	char *p = NULL;
	size_t n = 0;
	berth_error *err = NULL;

	if (berth_file_read(&p, &n, path, 1 << 20, &err) < 0) {
		printf("cannot read %s: %s\n", path, err->msg);
		exit(1);
	}
	if (len)
		*len = n;
	return p;
}

static berth_sign_key *
load_pub(const char *path)
{
	size_t len;
	char *pem = slurp(path, &len);
	berth_sign_key *k = NULL;
	berth_error *err = NULL;
	int r = berth_key_load_public(&k, pem, len, path, &err);

	CHECK(r == 0, "%s: %s", path, err ? err->msg : "");
	berth_error_free(err);
	free(pem);
	return k;
}

/* containers/image keeps a sigstore signature as "\0sigstore-json\n" and
 * {"mimeType","payload":base64,"annotations":{...}}. */
typedef struct ci_sig {
	unsigned char *payload;
	size_t len;
	char *sig;
} ci_sig;

static void
load_ci_sig(ci_sig *s, const char *path)
{
	static const char magic[] = "\0sigstore-json\n";
	size_t len;
	char *raw = slurp(path, &len);
	json_t *j;

	CHECK(len > sizeof(magic) - 1 &&
		      memcmp(raw, magic, sizeof(magic) - 1) == 0,
	      "%s: not containers/image's sigstore format", path);
	j = json_loadb(raw + sizeof(magic) - 1, len - (sizeof(magic) - 1), 0,
		       NULL);
	CHECK(j != NULL, "%s: JSON", path);
	CHECK(sign_b64_decode(
		      &s->payload, &s->len,
		      json_string_value(json_object_get(j, "payload"))) == 0,
	      "%s: payload base64", path);
	s->sig = strdup(json_string_value(
		json_object_get(json_object_get(j, "annotations"),
				BERTH_COSIGN_SIG_ANNOTATION)));
	json_decref(j);
	free(raw);
}

static void
ci_sig_release(ci_sig *s)
{
	free(s->payload);
	free(s->sig);
}

/* The payload cosign wrote is byte for byte the one berth writes. */
TEST(payload_matches_cosign)
{
	ci_sig s = {0};
	char *mine;

	load_ci_sig(&s, FIX "containers-image/valid/signature-1");
	mine = berth_sign_payload(
		"192.168.64.2:5000/cosign-signed-single-sample",
		"sha256:"
		"634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45"
		"e5986a00");
	CHECK(strlen(mine) == s.len && memcmp(mine, s.payload, s.len) == 0,
	      "berth: %s\ncosign: %.*s", mine, (int)s.len, s.payload);
	free(mine);
	ci_sig_release(&s);
}

/* A signature cosign made verifies with cosign's public key, and its
 * payload names the digest of the manifest it signed. */
TEST(verifies_cosign_signature)
{
	berth_sign_key *k = load_pub(FIX "containers-image/cosign.pub");
	berth_sign_payload_info info = {0};
	berth_error *err = NULL;
	berth_digest d;
	size_t mlen;
	char *m = slurp(FIX "containers-image/valid/manifest.json", &mlen);
	ci_sig s = {0};

	load_ci_sig(&s, FIX "containers-image/valid/signature-1");
	CHECK(berth_verify_bytes(k, s.payload, s.len, s.sig, &err) == 0, "%s",
	      err ? err->msg : "");
	CHECK(berth_sign_payload_parse(&info, (char *)s.payload, s.len, &err) ==
		      0,
	      "%s", err ? err->msg : "");
	berth_digest_of(&d, BERTH_DIGEST_SHA256, m, mlen);
	CHECK_STR(info.digest, d.str);
	CHECK_STR(info.docker_reference,
		  "192.168.64.2:5000/cosign-signed-single-sample");
	/* The manifest changed after signing: its digest is another. */
	free(m);
	m = slurp(FIX "containers-image/modified-manifest/manifest.json",
		  &mlen);
	berth_digest_of(&d, BERTH_DIGEST_SHA256, m, mlen);
	CHECK(strcmp(info.digest, d.str) != 0, "modified manifest");
	berth_sign_payload_info_release(&info);
	free(m);
	ci_sig_release(&s);
	berth_sign_key_free(k);
}

/* A second signature cosign made of the same image verifies too; a key
 * that did not make it (cosign2.pub) refuses it. */
TEST(second_cosign_signature)
{
	berth_sign_key *k1 = load_pub(FIX "containers-image/cosign.pub");
	berth_sign_key *k2 = load_pub(FIX "containers-image/cosign2.pub");
	berth_error *err = NULL;
	ci_sig s = {0};

	load_ci_sig(&s, FIX "containers-image/valid-2/signature-2");
	CHECK(berth_verify_bytes(k1, s.payload, s.len, s.sig, &err) == 0, "%s",
	      err ? err->msg : "");
	CHECK(berth_verify_bytes(k2, s.payload, s.len, s.sig, &err) ==
		      BERTH_ESIGNATURE,
	      "cosign2.pub must refuse signature-2");
	CHECK(err && strstr(err->msg, "does not match the key"), "%s",
	      err ? err->msg : "");
	berth_error_free(err);
	ci_sig_release(&s);
	berth_sign_key_free(k1);
	berth_sign_key_free(k2);
}

TEST(unknown_key_and_tampering)
{
	berth_sign_key *k = load_pub(FIX "containers-image/cosign.pub");
	berth_error *err = NULL;
	ci_sig s = {0};

	load_ci_sig(&s, FIX "containers-image/unknown-cosign-key.signature");
	CHECK(berth_verify_bytes(k, s.payload, s.len, s.sig, &err) ==
		      BERTH_ESIGNATURE,
	      "a signature by an unknown key");
	berth_error_free(err);
	err = NULL;
	ci_sig_release(&s);
	load_ci_sig(&s, FIX "containers-image/valid/signature-1");
	s.payload[10] ^= 1;
	CHECK(berth_verify_bytes(k, s.payload, s.len, s.sig, &err) ==
		      BERTH_ESIGNATURE,
	      "a changed payload");
	berth_error_free(err);
	err = NULL;
	CHECK(berth_verify_bytes(k, s.payload, s.len, "not base64!", &err) ==
		      BERTH_ESIGNATURE,
	      "garbage signature");
	CHECK(err && strstr(err->msg, "base64"), "%s", err ? err->msg : "");
	berth_error_free(err);
	ci_sig_release(&s);
	berth_sign_key_free(k);
}

/* cosign's own encrypted test keys (passphrase "hello"): the current
 * label and the old "ENCRYPTED COSIGN PRIVATE KEY" one (ECDSA keys). berth
 * decrypts both and signs; the signature verifies with the public half. */
static void
sign_with_cosign_key(const char *path)
{
	size_t len;
	char *pem = slurp(path, &len), *sig = NULL, *pub = NULL;
	berth_sign_key *k = NULL, *pk = NULL;
	berth_error *err = NULL;
	const char msg[] = "payload";

	CHECK(berth_key_load_private(&k, pem, len, "hello", 5, path, &err) == 0,
	      "%s: %s", path, err ? err->msg : "");
	if (k == NULL)
		return;
	CHECK(berth_sign_bytes(&sig, k, msg, sizeof(msg) - 1, &err) == 0, "%s",
	      err ? err->msg : "");
	CHECK(berth_key_public_pem(&pub, k, &err) == 0, "public");
	CHECK(berth_key_load_public(&pk, pub, strlen(pub), "pub", &err) == 0,
	      "public back");
	CHECK(berth_verify_bytes(pk, msg, sizeof(msg) - 1, sig, &err) == 0,
	      "%s", err ? err->msg : "");
	berth_sign_key_free(k);
	berth_sign_key_free(pk);
	free(sig);
	free(pub);
	free(pem);
}

TEST(cosign_private_keys)
{
	sign_with_cosign_key(FIX "cosign/sigstore-ec.key");
	sign_with_cosign_key(FIX "cosign/cosign-label.key");
}

/* The fixture's public key is that of sigstore-ec.key. */
TEST(cosign_key_public_half)
{
	size_t len;
	char *pem = slurp(FIX "cosign/sigstore-ec.key", &len), *pub = NULL;
	char *want = slurp(FIX "cosign/sigstore-ec.pub", NULL);
	berth_sign_key *k = NULL;
	berth_error *err = NULL;

	CHECK(berth_key_load_private(&k, pem, len, "hello", 5, "k", &err) == 0,
	      "load");
	CHECK(k && berth_key_public_pem(&pub, k, &err) == 0, "public");
	CHECK_STR(pub, want);
	berth_sign_key_free(k);
	free(pub);
	free(want);
	free(pem);
}

TEST(wrong_passphrase)
{
	size_t len;
	char *pem = slurp(FIX "cosign/sigstore-ec.key", &len);
	berth_sign_key *k = NULL;
	berth_error *err = NULL;

	CHECK(berth_key_load_private(&k, pem, len, "hellO", 5,
				     "sigstore-ec.key", &err) == BERTH_EAUTH,
	      "wrong passphrase");
	CHECK(err && strcmp(err->msg, "wrong passphrase for private key "
				      "'sigstore-ec.key'") == 0,
	      "%s", err ? err->msg : "");
	CHECK(err && err->hint && strstr(err->hint, "COSIGN_PASSWORD"), "hint");
	CHECK(k == NULL, "no key");
	berth_error_free(err);
	free(pem);
}

/* A generated key reads back in, with the passphrase only; its PEM is
 * cosign's, its parameters cosign's defaults. */
TEST(generate_roundtrip)
{
	char *priv = NULL, *pub = NULL, *sig = NULL;
	berth_sign_key *k = NULL, *pk = NULL;
	berth_error *err = NULL;

	CHECK(berth_key_generate(&priv, &pub, "pw", 2, &err) == 0, "generate");
	CHECK(strncmp(priv, "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
		      47) == 0,
	      "%s", priv);
	CHECK(strncmp(pub, "-----BEGIN PUBLIC KEY-----\n", 27) == 0, "%s", pub);
	CHECK(berth_key_load_private(&k, priv, strlen(priv), "pw", 2, "k",
				     &err) == 0,
	      "load: %s", err ? err->msg : "");
	CHECK(berth_key_load_public(&pk, pub, strlen(pub), "p", &err) == 0,
	      "pub");
	CHECK(k && berth_sign_bytes(&sig, k, "x", 1, &err) == 0, "sign");
	CHECK(pk && berth_verify_bytes(pk, "x", 1, sig, &err) == 0, "verify");
	CHECK(pk && berth_verify_bytes(pk, "y", 1, sig, &err) ==
			      BERTH_ESIGNATURE,
	      "other bytes");
	berth_error_free(err);
	err = NULL;
	CHECK(berth_key_load_private(&k, priv, strlen(priv), "", 0, "k",
				     &err) == BERTH_EAUTH,
	      "empty passphrase refused");
	berth_error_free(err);
	berth_sign_key_free(k);
	berth_sign_key_free(pk);
	free(priv);
	free(pub);
	free(sig);
}

/* Malformed key files: one clear error each, never a crash. */
TEST(bad_key_files)
{
	static const char *const cases[][2] = {
		{"", "holds no PEM block"},
		{"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE "
		 "KEY-----\n",
		 "not cosign's encrypted private key"},
		/* base64 of "[]" */
		{"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nW10=\n"
		 "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
		 "not a cosign private key"},
		/* {"kdf":{"name":"scrypt","params":{"N":1073741824,"r":8,"p":1},
		 * "salt":"AA=="},"cipher":{"name":"nacl/secretbox","nonce":
		 * "AA=="},"ciphertext":"AA=="} */
		{"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
		 "eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjoxMDczNzQx"
		 "ODI0LCJyIjo4LCJwIjoxfSwic2FsdCI6IkFBPT0ifSwiY2lwaGVyIjp7Im5h"
		 "bWUiOiJuYWNsL3NlY3JldGJveCIsIm5vbmNlIjoiQUE9PSJ9LCJjaXBoZXJ0"
		 "ZXh0IjoiQUE9PSJ9\n"
		 "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
		 "out of range"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		berth_sign_key *k = NULL;
		berth_error *err = NULL;
		int r = berth_key_load_private(&k, cases[i][0],
					       strlen(cases[i][0]), "x", 1,
					       "f.key", &err);

		CHECK(r < 0 && k == NULL, "case %zu", i);
		CHECK(err && strstr(err->msg, cases[i][1]), "case %zu: %s", i,
		      err ? err->msg : "");
		berth_error_free(err);
	}
}

TEST(payload_parse_strict)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{}",
		"{\"critical\":{\"identity\":{\"docker-reference\":\"a\"},"
		"\"image\":{\"docker-manifest-digest\":\"sha256:00\"},"
		"\"type\":\"cosign container image signature\"}}",
		"{\"critical\":{\"identity\":{\"docker-reference\":\"a\"},"
		"\"image\":{\"docker-manifest-digest\":\"sha256:"
		"634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a"
		"00\"},\"type\":\"atomic container signature\"}}",
		"{\"critical\":{\"identity\":{\"docker-reference\":\"a\"},"
		"\"image\":{\"docker-manifest-digest\":\"sha256:"
		"634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a"
		"00\"},\"type\":\"cosign container image signature\","
		"\"extra\":1}}",
		"{\"critical\":{\"identity\":{\"docker-reference\":\"a\"},"
		"\"image\":{\"docker-manifest-digest\":\"sha256:"
		"634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a"
		"00\"},\"type\":\"cosign container image signature\"},"
		"\"optional\":3}",
		/* jansson quotes the input near the error: a newline, an
		 * escape sequence */
		"{\"7\\\n\x1b[31m\":1}",
	};
	berth_sign_payload_info info = {0};
	char *good = berth_sign_payload(
		"h/r", "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831"
		       "de8ddc45e5986a00");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		berth_error *err = NULL;

		CHECK(berth_sign_payload_parse(&info, bad[i], strlen(bad[i]),
					       &err) == BERTH_EPROTO,
		      "case %zu", i);
		CHECK(err && !strchr(err->msg, '\n') && !strchr(err->msg, 0x1b),
		      "case %zu: one clean line: %s", i, err ? err->msg : "");
		berth_error_free(err);
	}
	CHECK(berth_sign_payload_parse(&info, good, strlen(good), NULL) == 0,
	      "good");
	CHECK_STR(info.docker_reference, "h/r");
	CHECK(info.optional == NULL, "optional null");
	berth_sign_payload_info_release(&info);
	free(good);
}

TEST(identity_and_tag)
{
	berth_ref *r = NULL;
	berth_digest d;
	char *s;

	CHECK(berth_ref_parse(&r, "nginx:1", NULL) == 0, "ref");
	s = berth_sign_identity(r);
	CHECK_STR(s, "index.docker.io/library/nginx");
	free(s);
	berth_ref_free(r);
	CHECK(berth_ref_parse(&r, "localhost:5000/a/b:v1", NULL) == 0, "ref");
	s = berth_sign_identity(r);
	CHECK_STR(s, "localhost:5000/a/b");
	free(s);
	berth_ref_free(r);
	berth_digest_of(&d, BERTH_DIGEST_SHA256, "", 0);
	s = sign_sig_tag(&d);
	CHECK_STR(s, "sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"
		     "a495991b7852b855.sig");
	free(s);
}

/* The scope of a reference is the most specific entry, as in
 * containers/image; reject and accept need no registry. */
TEST(policy_scopes)
{
	static const char pol[] =
		"{\"default\":[{\"type\":\"insecureAcceptAnything\"}],"
		"\"transports\":{\"docker\":{"
		"\"h.io/a\":[{\"type\":\"reject\"}],"
		"\"h.io/a/b:v1\":[{\"type\":\"insecureAcceptAnything\"}],"
		"\"*.example.com\":[{\"type\":\"reject\"}],"
		"\"r.example.com\":[{\"type\":\"insecureAcceptAnything\"}],"
		"\"docker.io/library\":[{\"type\":\"signedBy\"}]}}}";
	static const struct {
		const char *ref;
		int want;
	} cases[] = {
		{"h.io/a/b:v1", 0},
		{"h.io/a/b:v2", BERTH_EDENIED},
		{"h.io/a/c/d:v1", BERTH_EDENIED},
		{"h.io/ab:v1", 0},
		{"x.example.com/r:v1", BERTH_EDENIED},
		{"y.x.example.com/r:v1", BERTH_EDENIED},
		{"r.example.com/r:v1", 0},
		{"nginx:1", BERTH_EDENIED},
		{"other.io/x:1", 0},
	};
	berth_sigpolicy *p = NULL;
	berth_error *err = NULL;
	berth_digest d;

	berth_digest_of(&d, BERTH_DIGEST_SHA256, "", 0);
	CHECK(berth_sigpolicy_parse(&p, pol, strlen(pol), "policy.json",
				    &err) == 0,
	      "%s", err ? err->msg : "");
	for (size_t i = 0; p && i < sizeof(cases) / sizeof(cases[0]); i++) {
		berth_ref *ref = NULL;
		int r;

		CHECK(berth_ref_parse(&ref, cases[i].ref, NULL) == 0, "ref");
		r = berth_sigpolicy_check(p, NULL, ref, &d, &err);
		CHECK(r == cases[i].want, "%s: got %d, want %d", cases[i].ref,
		      r, cases[i].want);
		if (r < 0)
			CHECK(err && strstr(err->msg, "policy.json"), "%s",
			      err ? err->msg : "");
		berth_error_free(err);
		err = NULL;
		berth_ref_free(ref);
	}
	berth_sigpolicy_free(p);
}

TEST(policy_errors)
{
	static const char *const bad[][2] = {
		{"[]", "not a JSON object"},
		{"{}", "non-empty array"},
		{"{\"default\":[{\"type\":\"nope\"}]}", "unknown requirement"},
		{"{\"default\":[{\"type\":\"sigstoreSigned\"}]}",
		 "needs keyPath"},
		{"{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":"
		 "\"/nonexistent.pub\"}]}",
		 "nonexistent.pub"},
		{"{\"default\":[{\"type\":\"sigstoreSigned\",\"keyData\":"
		 "\"!!\"}]}",
		 "not base64"},
		{"{\"default\":[{\"type\":\"reject\"}],\"transports\":{"
		 "\"docker\":{\"h\":[]}}}",
		 "scope 'h'"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		berth_sigpolicy *p = NULL;
		berth_error *err = NULL;

		CHECK(berth_sigpolicy_parse(&p, bad[i][0], strlen(bad[i][0]),
					    "f", &err) < 0,
		      "case %zu", i);
		CHECK(err && strstr(err->msg, bad[i][1]), "case %zu: %s", i,
		      err ? err->msg : "");
		berth_error_free(err);
		berth_sigpolicy_free(p);
	}
}

TEST_MAIN("test_sign")
