/*
 * libcurl failures turned into berth errors: one message naming the peer
 * ("registry 'host:port'") and what failed, and a hint with the remedy.
 * HTTP statuses are mapped in http_status.c.
 */
#include "http/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* Lowercases the first letter of strerror()'s "Connection refused". */
static char *
errno_text(int e)
{
	char *s = xstrdup(strerror(e));

	if (s[0] >= 'A' && s[0] <= 'Z' && (s[1] < 'A' || s[1] > 'Z'))
		s[0] = (char)(s[0] - 'A' + 'a');
	return s;
}

/* Removes the first occurrence of [from, to-or-end) found by `from`. */
static void
cut(char *s, const char *from, const char *to)
{
	char *a = strstr(s, from), *b;

	if (a == NULL)
		return;
	b = to ? strstr(a + strlen(from), to) : NULL;
	b = b ? b + strlen(to) : a + strlen(from);
	memmove(a, b, strlen(b) + 1);
}

/*
 * curl's error buffer, or its generic text, made one line, without
 * OpenSSL's version and error-queue noise: "OpenSSL SSL_read:
 * OpenSSL/3.0.22: error:0A000412:SSL routines::sslv3 alert bad
 * certificate, errno 0" reads "OpenSSL SSL_read: sslv3 alert bad
 * certificate".
 */
static char *
curl_text(CURLcode rc, const char *errbuf)
{
	char *s = xstrdup(errbuf && *errbuf ? errbuf : curl_easy_strerror(rc));
	size_t n;

	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	cut(s, "OpenSSL/", ": ");
	cut(s, "error:", "::");
	cut(s, ", errno 0", NULL);
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '.'))
		s[--n] = '\0';
	return s;
}

/* Does curl's "Failed to connect to HOST port N" name host:port `hp`? */
static bool
connect_text_names(const char *text, const char *hp)
{
	const char *colon = strrchr(hp, ':');
	_cleanup_free_ char *want = NULL;

	if (colon == NULL)
		return true;
	if (hp[0] == '[')
		want = xasprintf("%.*s port %s ", (int)(colon - hp - 2), hp + 1,
				 colon + 1);
	else
		want = xasprintf("%.*s port %s ", (int)(colon - hp), hp,
				 colon + 1);
	return strstr(text, want) != NULL;
}

/*
 * A certificate the peer presented was refused: say why in the words
 * Docker users know ("x509: certificate signed by unknown authority"),
 * naming the issuer, the names it is valid for, or when it expired.
 */
static int
tls_verify_error(berth_error **err, const berth_http_tls_info *t,
		 const char *certs_d, const char *who, const char *hp,
		 const char *host, const char *text)
{
	int v = t->verify_error, r;

	switch (v) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		r = berth_error_set(
			err, BERTH_ETLS, 0,
			"x509: certificate signed by unknown authority: %s "
			"presents a certificate for '%s' issued by '%s', "
			"which is not trusted",
			who, t->error_subject, t->error_issuer);
		berth_error_hint(err,
				 "put the CA certificate of '%s' in "
				 "%s/%s/ca.crt; for testing only, "
				 "list '%s' in insecure-registries",
				 t->error_issuer, certs_d, hp, hp);
		return r;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		r = berth_error_set(
			err, BERTH_ETLS, 0,
			"x509: certificate has expired or is not yet valid: "
			"the certificate of %s for '%s' is valid until %s",
			who, t->error_subject,
			t->not_after[0] ? t->not_after : "(unknown)");
		berth_error_hint(err,
				 "the registry's administrator must renew "
				 "its certificate; also check this machine's "
				 "clock");
		return r;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case 0:
		/* The chain verified, yet curl refused the peer: its own
		 * check of the host name against the certificate failed. */
		if (v != 0 || t->seen) {
			r = berth_error_set(
				err, BERTH_ETLS, 0,
				"x509: certificate is valid for %s, not '%s': "
				"%s presents a certificate for other names",
				t->leaf_names[0] ? t->leaf_names
						 : t->leaf_subject,
				host, who);
			berth_error_hint(err,
					 "address the registry by a name its "
					 "certificate lists, or have the "
					 "certificate reissued for '%s'",
					 host);
			return r;
		}
		break;
	default:
		break;
	}
	r = berth_error_set(
		err, BERTH_ETLS, 0,
		"the TLS certificate of %s is not trusted: %s%s%s%s", who, text,
		t->error_issuer[0] ? " (issuer '" : "", t->error_issuer,
		t->error_issuer[0] ? "')" : "");
	berth_error_hint(err,
			 "if '%s' uses a private CA, put its "
			 "certificate in %s/%s/ca.crt; "
			 "for testing only, list it in insecure-registries",
			 hp, certs_d, hp);
	return r;
}

/* The alerts a server refuses a handshake with for want of a client
 * certificate (TLS 1.3's own one, and what TLS 1.2 servers send). */
static bool
alert_wants_client_cert(int alert)
{
	return alert == SSL_AD_CERTIFICATE_REQUIRED ||
	       alert == SSL_AD_HANDSHAKE_FAILURE ||
	       alert == SSL_AD_BAD_CERTIFICATE;
}

int
berth_http_curl_error(berth_error **err, CURLcode rc, const char *errbuf,
		      int os_errno, bool got_response, const char *url,
		      const char *orig_url, const char *peer,
		      const char *ca_file, const berth_http_tls_info *tls,
		      const char *certs_d_opt)
{
	static const berth_http_tls_info none = {.alert = -1};
	const berth_http_tls_info *t = tls ? tls : &none;
	const char *certs_d =
		certs_d_opt ? certs_d_opt : BERTH_HTTP_CERTS_D_DEFAULT;
	_cleanup_free_ char *hp = berth_http_url_hostport(url);
	_cleanup_free_ char *orig_hp = berth_http_url_hostport(orig_url);
	_cleanup_free_ char *who = NULL, *text = curl_text(rc, errbuf);
	_cleanup_free_ char *host = NULL, *etext = NULL;
	const char *p = peer ? peer : "server";
	bool plain = strncmp(url, "http://", 7) == 0;
	int r;

	if (hp == NULL)
		hp = xstrdup(url);
	if (orig_hp && strcmp(hp, orig_hp) != 0)
		who = xasprintf("'%s' (where %s '%s' redirected)", hp, p,
				orig_hp);
	else
		who = xasprintf("%s '%s'", p, hp);
	host = xstrdup(hp);
	if (strrchr(host, ':') && host[0] != '[')
		*strrchr(host, ':') = '\0';
	else if (host[0] == '[' && strstr(host, "]:"))
		strstr(host, "]:")[1] = '\0';

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		r = berth_error_set(err, BERTH_ENET, 0, "cannot resolve '%s'",
				    host);
		berth_error_hint(
			err, "check the name '%s' and your DNS settings", host);
		return r;
	case CURLE_COULDNT_RESOLVE_PROXY:
		r = berth_error_set(err, BERTH_ENET, 0,
				    "cannot resolve the proxy's host: %s",
				    text);
		berth_error_hint(err,
				 "check HTTPS_PROXY, HTTP_PROXY and NO_PROXY");
		return r;
	case CURLE_COULDNT_CONNECT:
		if (strstr(text, "Failed to connect to ") &&
		    !connect_text_names(text, hp)) {
			/* curl names where it connected: not the peer, so a
			 * proxy from the environment. */
			r = berth_error_set(err, BERTH_ENET, os_errno,
					    "cannot connect to the proxy for "
					    "%s: %s",
					    who, text);
			berth_error_hint(err, "check HTTPS_PROXY, HTTP_PROXY "
					      "and NO_PROXY");
			return r;
		}
		etext = errno_text(os_errno ? os_errno : ECONNREFUSED);
		r = berth_error_set(err, BERTH_ENET, os_errno,
				    "cannot connect to %s: %s", who, etext);
		berth_error_hint(err,
				 "is the %s running and listening on that "
				 "address?",
				 p);
		return r;
	case CURLE_OPERATION_TIMEDOUT:
		r = berth_error_set(err, BERTH_ENET, ETIMEDOUT,
				    "connection to %s timed out: %s", who,
				    text);
		berth_error_hint(err,
				 "check the network path to '%s', or try "
				 "again later",
				 hp);
		return r;
	case CURLE_GOT_NOTHING:
		r = berth_error_set(
			err, BERTH_ENET, 0,
			"%s closed the connection without answering", who);
		if (plain)
			berth_error_hint(err,
					 "try again; if it persists, '%s' may "
					 "expect HTTPS: do not force plain "
					 "HTTP for it",
					 hp);
		else
			berth_error_hint(err,
					 "try again; if it persists, "
					 "check that '%s' is an HTTPS "
					 "server",
					 hp);
		return r;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		if (t->alert >= 0) {
			/* TLS 1.3 rejects a client certificate after the
			 * handshake: the alert arrives with the first read. */
			r = berth_error_set(
				err, BERTH_ETLS, 0,
				"TLS connection to %s was rejected: %s", who,
				text);
			berth_error_hint(err,
					 "the %s may require a client "
					 "certificate: put it in "
					 "%s/%s/client.cert "
					 "and client.key",
					 p, certs_d, hp);
			return r;
		}
		/* fall through */
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		r = berth_error_set(err, BERTH_ENET, os_errno,
				    "connection to %s broke: %s", who, text);
		if (!plain && !got_response)
			berth_error_hint(err,
					 "try again; if the %s requires a "
					 "client certificate, put it in "
					 "%s/%s/client.cert "
					 "and client.key",
					 p, certs_d, hp);
		else
			berth_error_hint(err, "try again");
		return r;
	case CURLE_PROXY:
		r = berth_error_set(err, BERTH_ENET, 0,
				    "the proxy failed to reach %s: %s", who,
				    text);
		berth_error_hint(err,
				 "check HTTPS_PROXY, HTTP_PROXY and NO_PROXY");
		return r;
	case CURLE_TOO_MANY_REDIRECTS:
		r = berth_error_set(err, BERTH_EPROTO, 0,
				    "too many redirects from %s", who);
		berth_error_hint(err,
				 "the %s redirects in a loop; tell its "
				 "administrator",
				 p);
		return r;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
		if (plain && (strstr(text, "HTTP/0.9") ||
			      rc == CURLE_WEIRD_SERVER_REPLY)) {
			/* Binary bytes to a plain request: a TLS record. */
			r = berth_error_set(
				err, BERTH_ETLS, 0,
				"%s answered a plain HTTP request "
				"with something else, probably TLS: %s",
				who, text);
			berth_error_hint(
				err,
				"the %s may expect HTTPS on that "
				"port; do not force plain HTTP for '%s'",
				p, hp);
			return r;
		}
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "%s sent an invalid response: %s", who,
				       text);
	case CURLE_SSL_CACERT_BADFILE:
		if (t->bad_ca_file[0])
			ca_file = t->bad_ca_file;
		r = berth_error_set(err, BERTH_ETLS, 0,
				    "cannot load the CA certificates%s%s%s "
				    "for %s: %s",
				    ca_file ? " in '" : "",
				    ca_file ? ca_file : "", ca_file ? "'" : "",
				    who, text);
		berth_error_hint(err,
				 "check that the file is a PEM certificate "
				 "bundle");
		return r;
	case CURLE_PEER_FAILED_VERIFICATION:
		return tls_verify_error(err, t, certs_d, who, hp, host, text);
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CLIENTCERT:
		r = berth_error_set(err, BERTH_ETLS, 0,
				    "client certificate for %s refused: %s",
				    who, text);
		berth_error_hint(err,
				 "put a client certificate and key as "
				 "%s/%s/client.cert and "
				 "client.key",
				 certs_d, hp);
		return r;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		if (t->not_tls) {
			r = berth_error_set(
				err, BERTH_ETLS, 0,
				"%s answered in plain HTTP on a TLS "
				"connection",
				who);
			berth_error_hint(err,
					 "if '%s' serves plain HTTP, list "
					 "it in insecure-registries",
					 hp);
			return r;
		}
		if (alert_wants_client_cert(t->alert)) {
			r = berth_error_set(err, BERTH_ETLS, 0,
					    "TLS handshake with %s failed: %s",
					    who, text);
			berth_error_hint(err,
					 "the %s may require a client "
					 "certificate: put it in "
					 "%s/%s/client.cert "
					 "and client.key",
					 p, certs_d, hp);
			return r;
		}
		r = berth_error_set(err, BERTH_ETLS, 0,
				    "TLS handshake with %s failed: %s", who,
				    text);
		berth_error_hint(err,
				 "check the TLS setup of '%s' "
				 "(%s/%s/)",
				 hp, certs_d, hp);
		return r;
	case CURLE_URL_MALFORMAT:
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "invalid URL for %s: %s", who, text);
	case CURLE_READ_ERROR:
		return berth_error_set(err, BERTH_EIO, os_errno,
				       "cannot read the data to send to %s: %s",
				       who, text);
	case CURLE_WRITE_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
		return berth_error_set(err, BERTH_EINTERRUPTED, 0,
				       "transfer from %s aborted", who);
	case CURLE_OUT_OF_MEMORY:
		abort();
	default:
		return berth_error_set(err, BERTH_ENET, os_errno,
				       "request to %s failed: %s", who, text);
	}
}
