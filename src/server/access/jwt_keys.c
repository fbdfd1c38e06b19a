/*
 * JWT key sets: loading PEM keys and certificates, generating and keeping
 * the built-in issuer's signing key, and libtrust key ids.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "server/access/jwt_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define KEYS_MAX 64

berth_jwt_keys *
berth_jwt_keys_new(void)
{
	return xcalloc(1, sizeof(berth_jwt_keys));
}

void
berth_jwt_keys_free(berth_jwt_keys *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->n; i++)
		EVP_PKEY_free(ks->keys[i].pkey);
	free(ks->keys);
	free(ks);
}

size_t
berth_jwt_keys_count(const berth_jwt_keys *ks)
{
	return ks->n;
}

const char *
berth_jwt_keys_signing_kid(const berth_jwt_keys *ks)
{
	return ks->has_signer ? ks->keys[ks->signer].kid : NULL;
}

/*
 * libtrust's key id: the first 240 bits of the SHA-256 of the DER
 * SubjectPublicKeyInfo, base32 (RFC 4648, no padding), in twelve groups of
 * four separated by ':'. distribution matches a token's `kid` this way.
 */
static void
libtrust_kid(char out[JWT_KID_MAX], EVP_PKEY *pkey)
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int len = i2d_PUBKEY(pkey, &der);
	char enc[49];
	size_t i, o = 0;

	if (len <= 0 ||
	    EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) != 1)
		abort();
	OPENSSL_free(der);
	/* 30 bytes are 240 bits: 48 base32 characters, no padding. */
	for (i = 0; i < 30; i += 5) {
		uint64_t v = 0;
		int k;

		for (k = 0; k < 5; k++)
			v = (v << 8) | md[i + (size_t)k];
		for (k = 7; k >= 0; k--)
			enc[o++] = b32[(v >> (5 * k)) & 31];
	}
	enc[o] = '\0';
	o = 0;
	for (i = 0; i < 48; i++) {
		if (i && i % 4 == 0)
			out[o++] = ':';
		out[o++] = enc[i];
	}
	out[o] = '\0';
}

/* The JWS algorithm a key can verify, or 0 for an unusable key. */
static unsigned
key_alg(EVP_PKEY *pkey)
{
	char group[64] = "";

	if (EVP_PKEY_is_a(pkey, "EC")) {
		if (EVP_PKEY_get_utf8_string_param(
			    pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
			    sizeof(group), NULL) != 1)
			return 0;
		return strcmp(group, "prime256v1") == 0 ||
				       strcmp(group, "P-256") == 0
			       ? BERTH_JWT_ES256
			       : 0;
	}
	if (EVP_PKEY_is_a(pkey, "RSA"))
		return EVP_PKEY_get_bits(pkey) >= 2048 ? BERTH_JWT_RS256 : 0;
	return 0;
}

/* Adds pkey (taking it); returns its index, or -1 when unusable. */
static int
add_key(berth_jwt_keys *ks, EVP_PKEY *pkey, bool priv)
{
	jwt_key *k;
	unsigned alg = key_alg(pkey);
	size_t i;

	if (alg == 0 || ks->n >= KEYS_MAX) {
		EVP_PKEY_free(pkey);
		return -1;
	}
	ks->keys = xreallocarray(ks->keys, ks->n + 1, sizeof(*ks->keys));
	k = &ks->keys[ks->n];
	memset(k, 0, sizeof(*k));
	k->pkey = pkey;
	k->alg = alg;
	k->priv = priv;
	libtrust_kid(k->kid, pkey);
	/* The same key twice (a key file and its certificate): keep one. */
	for (i = 0; i < ks->n; i++)
		if (strcmp(ks->keys[i].kid, k->kid) == 0) {
			ks->keys[i].priv |= priv;
			EVP_PKEY_free(pkey);
			return (int)i;
		}
	return (int)ks->n++;
}

int
berth_jwt_keys_add_pem(berth_jwt_keys *ks, const char *path, bool sign,
		       berth_error **err)
{
	_cleanup_fclose_ FILE *f = NULL;
	STACK_OF(X509_INFO) *infos = NULL;
	int added = 0, signer = -1;
	int fd, i;

	if ((fd = berth_file_open(path, NULL, err)) < 0)
		return berth_error_wrap(err, fd, "the key file");
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot read key file '%s': %s", path,
				       strerror(errno));
	}
	/* PEM_X509_INFO_read reads certificates and private keys alike. */
	infos = PEM_X509_INFO_read(f, NULL, NULL, NULL);
	for (i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);
		EVP_PKEY *pk = NULL;
		bool priv = false;
		int idx;

		if (xi->x_pkey && xi->x_pkey->dec_pkey) {
			pk = xi->x_pkey->dec_pkey;
			EVP_PKEY_up_ref(pk);
			priv = true;
		} else if (xi->x509) {
			pk = X509_get_pubkey(xi->x509);
		}
		if (pk == NULL)
			continue;
		idx = add_key(ks, pk, priv);
		if (idx < 0)
			continue;
		added++;
		if (priv && signer < 0)
			signer = idx;
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	if (added == 0) {
		/* Bare public keys ("BEGIN PUBLIC KEY") are not X509_INFO. */
		EVP_PKEY *pk;

		rewind(f);
		while ((pk = PEM_read_PUBKEY(f, NULL, NULL, NULL)) != NULL)
			if (add_key(ks, pk, false) >= 0)
				added++;
	}
	if (added == 0) {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"key file '%s' holds no usable key", path);
		berth_error_hint(err, "give a PEM EC P-256 or RSA "
				      "(2048 bits or more) key or "
				      "certificate");
		return BERTH_EUSAGE;
	}
	if (sign) {
		if (signer < 0)
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "key file '%s' holds no private "
					       "key to sign tokens with",
					       path);
		ks->signer = signer;
		ks->has_signer = true;
	}
	return 0;
}

/* Writes a new EC P-256 key to path, mode 0600, atomically. */
static int
generate(const char *path, berth_error **err)
{
	static const berth_file_replace_opts o = {.mode = 0600, .sync = true};
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	BIO *mem = NULL;
	char *pem;
	long len;
	int rc;

	if (pkey == NULL)
		return berth_error_set(err, BERTH_EIO, 0,
				       "cannot generate a token signing key");
	mem = BIO_new(BIO_s_mem());
	if (mem == NULL ||
	    PEM_write_bio_PrivateKey(mem, pkey, NULL, NULL, 0, NULL, NULL) !=
		    1 ||
	    (len = BIO_get_mem_data(mem, &pem)) <= 0) {
		BIO_free(mem);
		EVP_PKEY_free(pkey);
		return berth_error_set(err, BERTH_EIO, 0,
				       "cannot write token signing key '%s'",
				       path);
	}
	EVP_PKEY_free(pkey);
	rc = berth_file_replace(path, pem, (size_t)len, &o, err);
	OPENSSL_cleanse(pem, (size_t)len);
	BIO_free(mem);
	if (rc < 0)
		berth_error_wrap(err, rc, "token signing key");
	return rc;
}

int
berth_jwt_keys_load_dir(berth_jwt_keys *ks, const char *dir, berth_error **err)
{
	_cleanup_free_ char *signing = xasprintf("%s/signing.pem", dir);
	DIR *d;
	struct dirent *de;
	struct stat st;
	int r;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot create directory '%s': %s", dir,
				       strerror(errno));
	if (stat(signing, &st) < 0) {
		if (errno != ENOENT)
			return berth_error_set(err, BERTH_EIO, errno,
					       "cannot read '%s': %s", signing,
					       strerror(errno));
		if ((r = generate(signing, err)) < 0)
			return r;
	} else if (st.st_mode & 077) {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"token signing key '%s' is readable by others",
				signing);
		berth_error_hint(err, "chmod 600 '%s'", signing);
		return BERTH_EUSAGE;
	}
	if ((r = berth_jwt_keys_add_pem(ks, signing, true, err)) < 0)
		return r;
	d = opendir(dir);
	if (d == NULL)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot read directory '%s': %s", dir,
				       strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		_cleanup_free_ char *p = NULL;

		if (n < 5 || strcmp(de->d_name + n - 4, ".pem") != 0 ||
		    strcmp(de->d_name, "signing.pem") == 0)
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if ((r = berth_jwt_keys_add_pem(ks, p, false, err)) < 0) {
			closedir(d);
			return r;
		}
	}
	closedir(d);
	return 0;
}
