/*
 * The certificate berth serve presents, replaceable while it serves. The
 * daemon asks for it at every TLS handshake (MHD_OPTION_HTTPS_CERT_CALLBACK,
 * GnuTLS's retrieve function), so a reload swaps one pointer and the next
 * handshake gets the new certificate; connections already open keep
 * theirs. GnuTLS does not say when a session is done with a certificate it
 * was handed, so replaced ones are kept until exit (a few kilobytes per
 * reload).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "server/server.h"
#include "util/error.h"
#include "util/xalloc.h"

#define CHAIN_MAX 16

typedef struct srv_cert {
	struct srv_cert *older; /* replaced ones, freed at exit */
	gnutls_pcert_st chain[CHAIN_MAX];
	unsigned n;
	gnutls_privkey_t key;
} srv_cert;

/* One server a process: the callback has no pointer of its own. */
static _Atomic(srv_cert *) current;

static void
cert_free(srv_cert *c)
{
	unsigned i;

	for (i = 0; i < c->n; i++)
		gnutls_pcert_deinit(&c->chain[i]);
	if (c->key)
		gnutls_privkey_deinit(c->key);
	free(c);
}

/* The certificate chain and key of two PEM texts, checked to match. */
static int
cert_load(srv_cert **out, const char *cert_pem, const char *key_pem,
	  berth_error **err)
{
	gnutls_datum_t cd = {(unsigned char *)cert_pem,
			     (unsigned)strlen(cert_pem)};
	gnutls_datum_t kd = {(unsigned char *)key_pem,
			     (unsigned)strlen(key_pem)};
	gnutls_certificate_credentials_t probe = NULL;
	srv_cert *c = xcalloc(1, sizeof(*c));
	int e;

	/* The credentials check that the key belongs to the certificate. */
	if ((e = gnutls_certificate_allocate_credentials(&probe)) >= 0) {
		e = gnutls_certificate_set_x509_key_mem2(
			probe, &cd, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
		gnutls_certificate_free_credentials(probe);
	}
	c->n = CHAIN_MAX;
	if (e >= 0)
		e = gnutls_pcert_list_import_x509_raw(c->chain, &c->n, &cd,
						      GNUTLS_X509_FMT_PEM, 0);
	else
		c->n = 0;
	if (e < 0)
		c->n = 0;
	if (e >= 0 && (e = gnutls_privkey_init(&c->key)) >= 0)
		e = gnutls_privkey_import_x509_raw(
			c->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (e < 0) {
		cert_free(c);
		berth_error_set(err, BERTH_EUSAGE, 0,
				"the TLS certificate and key do not load: %s",
				gnutls_strerror(e));
		berth_error_hint(err, "give a PEM certificate (chain) and "
				      "the PEM private key that belongs to it");
		return BERTH_EUSAGE;
	}
	*out = c;
	return 0;
}

static int
retrieve(gnutls_session_t sess, const gnutls_datum_t *req_ca_dn, int nreqs,
	 const gnutls_pk_algorithm_t *algos, int n_algos,
	 gnutls_pcert_st **pcert, unsigned int *pcert_length,
	 gnutls_privkey_t *pkey)
{
	srv_cert *c = atomic_load(&current);

	(void)sess, (void)req_ca_dn, (void)nreqs, (void)algos, (void)n_algos;
	if (c == NULL)
		return -1;
	*pcert = c->chain;
	*pcert_length = c->n;
	*pkey = c->key;
	return 0;
}

void *
srv_tls_callback(void)
{
	return (void *)(gnutls_certificate_retrieve_function2 *)retrieve;
}

int
srv_tls_check(const char *cert_pem, const char *key_pem, berth_error **err)
{
	srv_cert *c = NULL;
	int r = cert_load(&c, cert_pem, key_pem, err);

	if (r == 0)
		cert_free(c);
	return r;
}

int
srv_tls_set(const char *cert_pem, const char *key_pem, berth_error **err)
{
	srv_cert *c = NULL;
	int r = cert_load(&c, cert_pem, key_pem, err);

	if (r < 0)
		return r;
	c->older = atomic_exchange(&current, c);
	return 0;
}

void
srv_tls_release(void)
{
	srv_cert *c = atomic_exchange(&current, NULL);

	while (c) {
		srv_cert *older = c->older;

		cert_free(c);
		c = older;
	}
}
