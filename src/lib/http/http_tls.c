/*
 * The TLS hook of every verified connection: adds the extra CA files
 * (certs.d, berth's ca-file) to the trust libcurl loaded, and records what
 * the peer's certificate says and why it was refused, so a failure can
 * name the issuer, the names the certificate is valid for, or its expiry.
 *
 * The record is the handle's (berth_http_tls_hook.info), reached from
 * the connection's SSL_CTX: libcurl makes one SSL_CTX per connection, and
 * a handle's connections close with the handle, so the record outlives
 * every handshake that writes it. berth_http_do copies it into the
 * response.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int info_index = -1;
static pthread_once_t info_once = PTHREAD_ONCE_INIT;

static void
make_index(void)
{
	info_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* The record of the connection a certificate is being verified for. */
static berth_http_tls_info *
info_of(X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
		x, SSL_get_ex_data_X509_STORE_CTX_idx());

	if (ssl == NULL || info_index < 0)
		return NULL;
	return SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), info_index);
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
	berth_http_tls_info *info = info_of(x);

	if (info == NULL)
		return ok;
	info->seen = true;
	if (cert && depth == 0 && info->leaf_subject[0] == '\0') {
		name_text(X509_get_subject_name(cert), info->leaf_subject,
			  sizeof(info->leaf_subject));
		name_text(X509_get_issuer_name(cert), info->leaf_issuer,
			  sizeof(info->leaf_issuer));
		leaf_names(cert, info->leaf_names, sizeof(info->leaf_names));
		time_text(X509_get0_notAfter(cert), info->not_after,
			  sizeof(info->not_after));
	}
	if (!ok && info->verify_error == 0 && cert) {
		info->verify_error = X509_STORE_CTX_get_error(x);
		name_text(X509_get_subject_name(cert), info->error_subject,
			  sizeof(info->error_subject));
		name_text(X509_get_issuer_name(cert), info->error_issuer,
			  sizeof(info->error_issuer));
	}
	return ok;
}

/*
 * Sees every record the peer sends: the alert it refused the handshake
 * with ("certificate required", "bad certificate"), or a first record
 * header that is no TLS content type, i.e. a plain HTTP answer.
 */
static void
on_message(int write_p, int version, int content_type, const void *buf,
	   size_t len, SSL *ssl, void *arg)
{
	berth_http_tls_info *info = arg;
	const unsigned char *p = buf;

	(void)version;
	(void)ssl;
	if (write_p || info == NULL)
		return;
	if (content_type == SSL3_RT_ALERT && len >= 2 && info->alert < 0)
		info->alert = p[1];
	else if (content_type == SSL3_RT_HEADER && len >= 1 &&
		 (p[0] < SSL3_RT_CHANGE_CIPHER_SPEC || p[0] > 24))
		info->not_tls = true; /* 20..24 are TLS's content types */
}

static bool
load_ca(berth_http_tls_info *info, X509_STORE *store, const char *file)
{
	if (X509_STORE_load_file(store, file) == 1)
		return true;
	snprintf(info->bad_ca_file, sizeof(info->bad_ca_file), "%s", file);
	return false;
}

CURLcode
berth_http_tls_ctx(CURL *c, void *ssl_ctx, void *hook)
{
	const berth_http_tls_hook *k = hook;
	const berth_http_opts *o = k->opts;
	X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);

	(void)c;
	pthread_once(&info_once, make_index);
	if (info_index < 0 ||
	    SSL_CTX_set_ex_data(ssl_ctx, info_index, k->info) != 1)
		return CURLE_SSL_CONNECT_ERROR;
	SSL_CTX_set_msg_callback(ssl_ctx, on_message);
	SSL_CTX_set_msg_callback_arg(ssl_ctx, k->info);
	if (o->tls_verify_off)
		return CURLE_OK;
	if (store == NULL)
		return CURLE_SSL_CACERT_BADFILE;
	if (o->ca_file && !load_ca(k->info, store, o->ca_file))
		return CURLE_SSL_CACERT_BADFILE;
	for (size_t i = 0; o->ca_files && o->ca_files[i]; i++)
		if (!load_ca(k->info, store, o->ca_files[i]))
			return CURLE_SSL_CACERT_BADFILE;
	SSL_CTX_set_verify(ssl_ctx, SSL_CTX_get_verify_mode(ssl_ctx),
			   on_verify);
	return CURLE_OK;
}
