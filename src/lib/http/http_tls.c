/*
 * The TLS hook of every verified connection: adds the extra CA files
 * (certs.d, berth's ca-file) to the trust libcurl loaded, and records what
 * the peer's certificate says and why it was refused, so a failure can
 * name the issuer, the names the certificate is valid for, or its expiry.
 *
 * The record is thread-local: a handle's handshake runs inside
 * curl_easy_perform on the calling thread, and berth_http_do reads the
 * record on that thread right after.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static __thread berth_http_tls_info tls_info;

const berth_http_tls_info *
berth_http_tls_last(void)
{
	return &tls_info;
}

void
berth_http_tls_reset(void)
{
	memset(&tls_info, 0, sizeof(tls_info));
}

void
berth_http_tls_set_certs_d(const char *dir)
{
	tls_info.certs_d = dir;
}

const char *
berth_http_certs_d(void)
{
	return tls_info.certs_d ? tls_info.certs_d : "/etc/docker/certs.d";
}

static void
name_text(X509_NAME *n, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int k;

	buf[0] = '\0';
	if (b == NULL || n == NULL)
		goto out;
	/* RFC 2253 order, as "CN=berth test CA,O=…" */
	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	k = BIO_read(b, buf, (int)len - 1);
	buf[k > 0 ? k : 0] = '\0';
out:
	BIO_free(b);
}

static void
append(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);

	if (n + 3 < len)
		snprintf(buf + n, len - n, "%s%s", n ? ", " : "", s);
}

static void
leaf_names(X509 *cert, char *buf, size_t len)
{
	GENERAL_NAMES *names =
		X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	char one[300];

	buf[0] = '\0';
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);

		if (g->type == GEN_DNS) {
			snprintf(one, sizeof(one), "%.*s",
				 ASN1_STRING_length(g->d.dNSName),
				 (const char *)ASN1_STRING_get0_data(
					 g->d.dNSName));
			append(buf, len, one);
		} else if (g->type == GEN_IPADD) {
			const ASN1_OCTET_STRING *ip = g->d.iPAddress;
			char a[INET6_ADDRSTRLEN] = "";
			int fam = ASN1_STRING_length(ip) == 4 ? AF_INET
								 : AF_INET6;

			if (ASN1_STRING_length(ip) == 4 ||
			    ASN1_STRING_length(ip) == 16)
				inet_ntop(fam, ASN1_STRING_get0_data(ip), a,
					  sizeof(a));
			append(buf, len, a);
		}
	}
	GENERAL_NAMES_free(names);
}

static void
time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int k;

	buf[0] = '\0';
	if (b && t && ASN1_TIME_print(b, t)) {
		k = BIO_read(b, buf, (int)len - 1);
		buf[k > 0 ? k : 0] = '\0';
	}
	BIO_free(b);
}

static int
on_verify(int ok, X509_STORE_CTX *x)
{
	X509 *cert = X509_STORE_CTX_get_current_cert(x);
	int depth = X509_STORE_CTX_get_error_depth(x);

	tls_info.seen = true;
	if (cert && depth == 0 && tls_info.leaf_subject[0] == '\0') {
		name_text(X509_get_subject_name(cert), tls_info.leaf_subject,
			  sizeof(tls_info.leaf_subject));
		name_text(X509_get_issuer_name(cert), tls_info.leaf_issuer,
			  sizeof(tls_info.leaf_issuer));
		leaf_names(cert, tls_info.leaf_names,
			   sizeof(tls_info.leaf_names));
		time_text(X509_get0_notAfter(cert), tls_info.not_after,
			  sizeof(tls_info.not_after));
	}
	if (!ok && tls_info.verify_error == 0 && cert) {
		tls_info.verify_error = X509_STORE_CTX_get_error(x);
		name_text(X509_get_subject_name(cert), tls_info.error_subject,
			  sizeof(tls_info.error_subject));
		name_text(X509_get_issuer_name(cert), tls_info.error_issuer,
			  sizeof(tls_info.error_issuer));
	}
	return ok;
}

static bool
load_ca(X509_STORE *store, const char *file)
{
	if (X509_STORE_load_file(store, file) == 1)
		return true;
	snprintf(tls_info.bad_ca_file, sizeof(tls_info.bad_ca_file), "%s",
		 file);
	return false;
}

CURLcode
berth_http_tls_ctx(CURL *c, void *ssl_ctx, void *ud)
{
	const berth_http_opts *o = ud;
	X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);

	(void)c;
	if (store == NULL)
		return CURLE_SSL_CACERT_BADFILE;
	if (o->ca_file && !load_ca(store, o->ca_file))
		return CURLE_SSL_CACERT_BADFILE;
	for (size_t i = 0; o->ca_files && o->ca_files[i]; i++)
		if (!load_ca(store, o->ca_files[i]))
			return CURLE_SSL_CACERT_BADFILE;
	SSL_CTX_set_verify(ssl_ctx, SSL_CTX_get_verify_mode(ssl_ctx),
			   on_verify);
	return CURLE_OK;
}
