/*
 * cosign's key files. The private key is PKCS#8 DER sealed in a NaCl
 * secretbox whose key scrypt derives from the passphrase, in the JSON
 * document of go-securesystemslib's `encrypted` package:
 *   {"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":B64},
 *    "cipher":{"name":"nacl/secretbox","nonce":B64},"ciphertext":B64}
 * base64'd into a PEM block. libsodium has both primitives; OpenSSL does
 * the keys and PEM.
 */
#include "sign/sign_int.h"

#include <jansson.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define PEM_SIGSTORE "ENCRYPTED SIGSTORE PRIVATE KEY"
#define PEM_COSIGN "ENCRYPTED COSIGN PRIVATE KEY"
#define SCRYPT_N 32768
#define SCRYPT_R 8
#define SCRYPT_P 1
/* A key file is outside input: its work factor must not take the
 * machine's memory (scrypt needs 128 * N * r bytes) or hours. */
#define SCRYPT_MEM_MAX (256ull << 20)
#define SCRYPT_P_MAX 16
#define SALT_LEN 32

char *
sign_b64_encode(const void *p, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)len);
	return out;
}

int
sign_b64_decode(unsigned char **out, size_t *len, const char *s)
{
	size_t n = strlen(s), pad = 0;
	unsigned char *buf;
	int got;

	if (n % 4 != 0 || n > INT_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return -1;
	}
	buf = xmalloc(n / 4 * 3 + 1);
	got = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = (size_t)got - pad;
	return 0;
}

void
berth_sign_key_free(berth_sign_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

static int
crypto_init(berth_error **err)
{
	if (sodium_init() < 0)
		return berth_error_set(err, BERTH_EGENERIC, 0,
				       "cannot initialise libsodium");
	return 0;
}

static int
openssl_fail(berth_error **err, berth_code code, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "unknown reason";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return berth_error_set(err, code, 0, "%s: %s", what, buf);
}

/* The PEM text of one block; caller frees. */
static char *
pem_encode(const char *name, const void *data, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out;
	long n;

	if (b == NULL ||
	    !PEM_write_bio(b, name, "", (const unsigned char *)data, (long)len))
		abort(); /* out of memory */
	n = BIO_get_mem_data(b, &p);
	out = xstrndup(p, (size_t)n);
	BIO_free(b);
	return out;
}

static int
seal(char **out, const unsigned char *der, size_t der_len, const char *pass,
     size_t pass_len, berth_error **err)
{
	unsigned char salt[SALT_LEN], nonce[crypto_secretbox_NONCEBYTES];
	unsigned char key[crypto_secretbox_KEYBYTES];
	_cleanup_free_ unsigned char *box =
		xmalloc(der_len + crypto_secretbox_MACBYTES);
	_cleanup_free_ char *s_salt = NULL, *s_nonce = NULL, *s_box = NULL;
	_cleanup_free_ char *doc = NULL;
	json_auto_t *j = NULL;

	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(nonce, sizeof(nonce));
	if (crypto_pwhash_scryptsalsa208sha256_ll(
		    (const uint8_t *)pass, pass_len, salt, sizeof(salt),
		    SCRYPT_N, SCRYPT_R, SCRYPT_P, key, sizeof(key)) != 0)
		return berth_error_set(err, BERTH_EGENERIC, 0,
				       "scrypt key derivation failed");
	crypto_secretbox_easy(box, der, der_len, nonce, key);
	sodium_memzero(key, sizeof(key));
	s_salt = sign_b64_encode(salt, sizeof(salt));
	s_nonce = sign_b64_encode(nonce, sizeof(nonce));
	s_box = sign_b64_encode(box, der_len + crypto_secretbox_MACBYTES);
	j = json_pack("{s:{s:s,s:{s:i,s:i,s:i},s:s},s:{s:s,s:s},s:s}", "kdf",
		      "name", "scrypt", "params", "N", SCRYPT_N, "r", SCRYPT_R,
		      "p", SCRYPT_P, "salt", s_salt, "cipher", "name",
		      "nacl/secretbox", "nonce", s_nonce, "ciphertext", s_box);
	doc = json_dumps(j, JSON_COMPACT);
	if (doc == NULL)
		abort();
	*out = pem_encode(PEM_SIGSTORE, doc, strlen(doc));
	return 0;
}

static int
public_pem(char **out, EVP_PKEY *pk, berth_error **err)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	if (b == NULL || !PEM_write_bio_PUBKEY(b, pk)) {
		BIO_free(b);
		return openssl_fail(err, BERTH_EGENERIC,
				    "cannot encode the public key");
	}
	n = BIO_get_mem_data(b, &p);
	*out = xstrndup(p, (size_t)n);
	BIO_free(b);
	return 0;
}

int
berth_key_public_pem(char **out, const berth_sign_key *k, berth_error **err)
{
	return public_pem(out, k->pkey, err);
}

int
berth_key_generate(char **priv_pem, char **pub_pem, const char *pass,
		   size_t pass_len, berth_error **err)
{
	EVP_PKEY *pk = NULL;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	unsigned char *der = NULL;
	char *priv = NULL, *pub = NULL;
	int len, r;

	if ((r = crypto_init(err)) < 0)
		return r;
	pk = EVP_EC_gen("P-256");
	if (pk == NULL)
		return openssl_fail(err, BERTH_EGENERIC,
				    "cannot generate an ECDSA P-256 key");
	p8 = EVP_PKEY2PKCS8(pk);
	len = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &der) : -1;
	if (len <= 0)
		r = openssl_fail(err, BERTH_EGENERIC,
				 "cannot encode the private key");
	if (r == 0)
		r = seal(&priv, der, (size_t)len, pass, pass_len, err);
	if (r == 0)
		r = public_pem(&pub, pk, err);
	if (der)
		OPENSSL_clear_free(der, (size_t)len);
	PKCS8_PRIV_KEY_INFO_free(p8);
	EVP_PKEY_free(pk);
	if (r < 0) {
		free(priv);
		return r;
	}
	*priv_pem = priv;
	*pub_pem = pub;
	return 0;
}

/* One PEM block of pem[0..len): its label and bytes (OPENSSL_free both). */
static int
pem_decode(char **name, unsigned char **data, long *n, const char *pem,
	   size_t len, const char *what, berth_error **err)
{
	BIO *b = BIO_new_mem_buf(pem, (int)(len > INT_MAX ? INT_MAX : len));
	char *header = NULL;
	int ok;

	if (b == NULL)
		abort();
	ok = PEM_read_bio(b, name, &header, data, n);
	BIO_free(b);
	OPENSSL_free(header);
	ERR_clear_error();
	if (!ok)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "'%s' holds no PEM block", what);
	return 0;
}

static const char *
jstr(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	return json_string_value(v);
}

/* salt or nonce: base64 of exactly `want` bytes (any length when 0). */
static int
jbytes(unsigned char **out, size_t *len, const char *s, size_t want)
{
	if (s == NULL || sign_b64_decode(out, len, s) < 0)
		return -1;
	if (want && *len != want) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* The PKCS#8 DER inside cosign's JSON, decrypted with pass. */
static int
unseal(unsigned char **out, size_t *out_len, const char *doc, size_t doc_len,
       const char *pass, size_t pass_len, const char *what, berth_error **err)
{
	_cleanup_free_ unsigned char *salt = NULL, *nonce = NULL, *box = NULL;
	unsigned char key[crypto_secretbox_KEYBYTES];
	size_t salt_len, nonce_len, box_len;
	json_auto_t *j = json_loadb(doc, doc_len, JSON_REJECT_DUPLICATES, NULL);
	json_t *params = json_object_get(json_object_get(j, "kdf"), "params");
	json_int_t N = json_integer_value(json_object_get(params, "N"));
	json_int_t r = json_integer_value(json_object_get(params, "r"));
	json_int_t p = json_integer_value(json_object_get(params, "p"));
	unsigned char *plain;
	const char *kdf = jstr(j, "kdf", "name"),
		   *ciph = jstr(j, "cipher", "name");

	if (!json_is_object(j) || kdf == NULL || ciph == NULL)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "'%s' is not a cosign private key: "
				       "its content is not cosign's JSON",
				       what);
	if (strcmp(kdf, "scrypt") != 0 || strcmp(ciph, "nacl/secretbox") != 0)
		return berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				       "private key '%s' uses kdf '%s' and "
				       "cipher '%s'; berth reads scrypt and "
				       "nacl/secretbox",
				       what, kdf, ciph);
	if (N < 2 || (N & (N - 1)) != 0 || r < 1 || p < 1 || p > SCRYPT_P_MAX ||
	    (unsigned long long)N * (unsigned long long)r >
		    SCRYPT_MEM_MAX / 128)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "private key '%s' has scrypt parameters "
				       "out of range (N %lld, r %lld, p %lld)",
				       what, (long long)N, (long long)r,
				       (long long)p);
	if (jbytes(&salt, &salt_len, jstr(j, "kdf", "salt"), 0) < 0 ||
	    jbytes(&nonce, &nonce_len, jstr(j, "cipher", "nonce"),
		   crypto_secretbox_NONCEBYTES) < 0 ||
	    jbytes(&box, &box_len, jstr(j, "ciphertext", NULL), 0) < 0 ||
	    box_len < crypto_secretbox_MACBYTES)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "private key '%s' has a malformed salt, "
				       "nonce or ciphertext",
				       what);
	if (crypto_pwhash_scryptsalsa208sha256_ll(
		    (const uint8_t *)pass, pass_len, salt, salt_len,
		    (uint64_t)N, (uint32_t)r, (uint32_t)p, key,
		    sizeof(key)) != 0)
		return berth_error_set(err, BERTH_EGENERIC, 0,
				       "scrypt key derivation failed for '%s'",
				       what);
	plain = xmalloc(box_len - crypto_secretbox_MACBYTES + 1);
	if (crypto_secretbox_open_easy(plain, box, box_len, nonce, key) != 0) {
		sodium_memzero(key, sizeof(key));
		free(plain);
		berth_error_set(err, BERTH_EAUTH, 0,
				"wrong passphrase for private key '%s'", what);
		berth_error_hint(err, "give the passphrase the key was made "
				      "with (prompt, --passphrase-file or "
				      "COSIGN_PASSWORD)");
		return BERTH_EAUTH;
	}
	sodium_memzero(key, sizeof(key));
	*out = plain;
	*out_len = box_len - crypto_secretbox_MACBYTES;
	return 0;
}

static int
key_usable(EVP_PKEY *pk, const char *what, berth_error **err)
{
	int id = EVP_PKEY_get_base_id(pk);

	if (id == EVP_PKEY_EC || id == EVP_PKEY_RSA)
		return 0;
	return berth_error_set(err, BERTH_EUNSUPPORTED, 0,
			       "key '%s' is of type '%s'; berth signs and "
			       "verifies with ECDSA and RSA keys",
			       what, OBJ_nid2sn(id));
}

int
berth_key_load_private(berth_sign_key **out, const char *pem, size_t len,
		       const char *pass, size_t pass_len, const char *what,
		       berth_error **err)
{
	char *name = NULL;
	unsigned char *data = NULL, *der = NULL;
	const unsigned char *q;
	long n = 0;
	size_t der_len = 0;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	EVP_PKEY *pk = NULL;
	int r;

	if ((r = crypto_init(err)) < 0 ||
	    (r = pem_decode(&name, &data, &n, pem, len, what, err)) < 0)
		return r;
	if (strcmp(name, PEM_SIGSTORE) != 0 && strcmp(name, PEM_COSIGN) != 0) {
		r = berth_error_set(err, BERTH_EUSAGE, 0,
				    "'%s' is a PEM '%s', not cosign's "
				    "encrypted private key",
				    what, name);
		berth_error_hint(err, "make one with 'berth key generate' "
				      "or 'cosign generate-key-pair'");
	}
	if (r == 0)
		r = unseal(&der, &der_len, (const char *)data, (size_t)n, pass,
			   pass_len, what, err);
	OPENSSL_free(name);
	OPENSSL_free(data);
	if (r < 0)
		return r;
	q = der;
	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &q, (long)der_len);
	pk = p8 ? EVP_PKCS82PKEY(p8) : NULL;
	PKCS8_PRIV_KEY_INFO_free(p8);
	OPENSSL_cleanse(der, der_len);
	free(der);
	if (pk == NULL) {
		ERR_clear_error();
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "private key '%s' decrypts, but not to "
				       "a PKCS#8 key",
				       what);
	}
	if ((r = key_usable(pk, what, err)) < 0) {
		EVP_PKEY_free(pk);
		return r;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->pkey = pk;
	(*out)->private_key = true;
	return 0;
}

int
berth_key_load_public(berth_sign_key **out, const char *pem, size_t len,
		      const char *what, berth_error **err)
{
	BIO *b = BIO_new_mem_buf(pem, (int)(len > INT_MAX ? INT_MAX : len));
	EVP_PKEY *pk;
	int r;

	if (b == NULL)
		abort();
	pk = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	if (pk == NULL) {
		r = berth_error_set(err, BERTH_EUSAGE, 0,
				    "'%s' holds no PEM 'PUBLIC KEY'", what);
		if (memmem(pem, len, "PRIVATE KEY", 11))
			berth_error_hint(err, "this is a private key: verify "
					      "with the public one (NAME.pub)");
		return r;
	}
	if ((r = key_usable(pk, what, err)) < 0) {
		EVP_PKEY_free(pk);
		return r;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->pkey = pk;
	return 0;
}

int
berth_sign_bytes(char **out, const berth_sign_key *k, const void *p, size_t len,
		 berth_error **err)
{
	EVP_MD_CTX *ctx;
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	int ok;

	if (!k->private_key)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "signing needs a private key");
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		abort();
	ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
	     EVP_DigestSign(ctx, NULL, &sig_len, p, len) == 1;
	if (ok) {
		sig = xmalloc(sig_len);
		ok = EVP_DigestSign(ctx, sig, &sig_len, p, len) == 1;
	}
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		free(sig);
		return openssl_fail(err, BERTH_EGENERIC, "signing failed");
	}
	*out = sign_b64_encode(sig, sig_len);
	free(sig);
	return 0;
}

int
berth_verify_bytes(const berth_sign_key *k, const void *p, size_t len,
		   const char *sig_b64, berth_error **err)
{
	_cleanup_free_ unsigned char *sig = NULL;
	size_t sig_len;
	EVP_MD_CTX *ctx;
	int ok;

	if (sig_b64 == NULL || sign_b64_decode(&sig, &sig_len, sig_b64) < 0)
		return berth_error_set(err, BERTH_ESIGNATURE, 0,
				       "the signature is not base64");
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		abort();
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) ==
		     1 &&
	     EVP_DigestVerify(ctx, sig, sig_len, p, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	if (!ok)
		return berth_error_set(err, BERTH_ESIGNATURE, 0,
				       "the signature does not match the key");
	return 0;
}
