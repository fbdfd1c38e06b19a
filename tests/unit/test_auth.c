/*
 * Authentication: the WWW-Authenticate challenge parser (RFC 7235) against
 * a table of well-formed, odd and hostile headers; token responses; scope
 * lists; Basic credentials; loopback hosts.
 */
#include "test.h"

#include "registry/auth.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* "Scheme[t68]{name=value;…}|…": one string to compare a parse with. */
static char *
render(const berth_auth_challenges *cs)
{
	berth_buf b = BERTH_BUF_INIT;

	for (size_t i = 0; i < cs->n; i++) {
		const berth_auth_challenge *c = &cs->v[i];

		if (i)
			berth_buf_puts(&b, "|", NULL);
		berth_buf_puts(&b, c->scheme, NULL);
		if (c->token68)
			berth_buf_printf(&b, NULL, "[%s]", c->token68);
		berth_buf_puts(&b, "{", NULL);
		for (size_t k = 0; k < c->n_params; k++)
			berth_buf_printf(&b, NULL, "%s%s=%s", k ? ";" : "",
					 c->params[k].name, c->params[k].value);
		berth_buf_puts(&b, "}", NULL);
	}
	return berth_buf_detach(&b);
}

static const struct {
	const char *in;
	const char *want; /* rendered parse, or NULL: must be refused */
} cases[] = {
	/* What registries send. */
	{"Bearer "
	 "realm=\"https://auth.docker.io/"
	 "token\",service=\"registry.docker.io\","
	 "scope=\"repository:samalba/my-app:pull,push\"",
	 "Bearer{realm=https://auth.docker.io/token;service=registry.docker.io;"
	 "scope=repository:samalba/my-app:pull,push}"},
	{"Bearer realm=\"http://127.0.0.1:5001/token\",service=\"berth-test\"",
	 "Bearer{realm=http://127.0.0.1:5001/token;service=berth-test}"},
	{"Basic realm=\"Registry Realm\"", "Basic{realm=Registry Realm}"},
	{"Basic", "Basic{}"},
	{"Bearer "
	 "realm=\"https://ghcr.io/"
	 "token\",service=\"ghcr.io\",scope=\"repository:a/b:pull\","
	 "error=\"insufficient_scope\"",
	 "Bearer{realm=https://ghcr.io/"
	 "token;service=ghcr.io;scope=repository:a/b:pull;"
	 "error=insufficient_scope}"},
	/* Several challenges, and the ambiguity of commas. */
	{"Basic realm=\"a\", Bearer realm=\"b\",service=\"c\"",
	 "Basic{realm=a}|Bearer{realm=b;service=c}"},
	{"Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", "
	 "Basic realm=\"simple\"",
	 "Newauth{realm=apps;type=1;title=Login to "
	 "\"apps\"}|Basic{realm=simple}"},
	{"Bearer realm=\"x\", Basic", "Bearer{realm=x}|Basic{}"},
	{"Basic, Bearer realm=\"x\"", "Basic{}|Bearer{realm=x}"},
	/* A bare token after a comma is, by the grammar, a new scheme. */
	{"Bearer realm=\"x\",service", "Bearer{realm=x}|service{}"},
	/* Tokens, case, whitespace and empty list elements. */
	{"Bearer realm=x,service=y", "Bearer{realm=x;service=y}"},
	{"bEaReR REALM=\"x\"", "bEaReR{REALM=x}"},
	{"Bearer\trealm=\"x\"", "Bearer{realm=x}"},
	{"Bearer realm = \"x\" , service =y", "Bearer{realm=x;service=y}"},
	{", ,Bearer realm=\"x\",, service=\"y\" ,",
	 "Bearer{realm=x;service=y}"},
	{"Bearer   realm=\"x\"   ", "Bearer{realm=x}"},
	/* Quoted strings. */
	{"Bearer realm=\"a\\\\b\\\"c\"", "Bearer{realm=a\\b\"c}"},
	{"Bearer realm=\"\"", "Bearer{realm=}"},
	{"Bearer realm=\"a,b=c, Basic d\"", "Bearer{realm=a,b=c, Basic d}"},
	{"Bearer realm=\"\\x\"", "Bearer{realm=x}"},
	{"Bearer realm=\"caf\xc3\xa9\"", "Bearer{realm=caf\xc3\xa9}"},
	{"Bearer realm=\"tab\there\"", "Bearer{realm=tab\there}"},
	/* token68. */
	{"Basic dXNlcjpwYXNz", "Basic[dXNlcjpwYXNz]{}"},
	{"Basic dXNlcg==", "Basic[dXNlcg==]{}"},
	{"Negotiate abc=, Bearer realm=\"x\"",
	 "Negotiate[abc=]{}|Bearer{realm=x}"},
	{"Bearer a-b._~+/c", "Bearer[a-b._~+/c]{}"},
	/* Refused. */
	{"", NULL},
	{"   ", NULL},
	{",,,", NULL},
	{"Bearer realm=\"abc", NULL},	/* unterminated */
	{"Bearer realm=\"abc\\", NULL}, /* trailing backslash */
	{"Bearer realm=\"a\x01"
	 "b\"",
	 NULL},				    /* control character */
	{"Bearer realm=\"a\\\x01\"", NULL}, /* escaped control character */
	{"Bearer realm=\"a\x7f\"", NULL},   /* DEL */
	{"Bearer realm=\"a\nb\"", NULL},    /* header injection */
	{"Bearer realm=\"a\" service=\"b\"", NULL}, /* missing comma */
	{"Bearer realm=\"a\",realm=\"b\"", NULL},   /* duplicate */
	{"Bearer realm=\"a\",REALM=\"b\"", NULL},   /* duplicate, other case */
	{"Bearer realm=,service=\"x\"", NULL},
	{"Bearer realm=\"x\", =foo", NULL},
	{"=Bearer", NULL},
	{"Bea(rer realm=\"x\"", NULL},
	{"Bearer realm=https://x/token", NULL}, /* '/' needs quoting */
	{"Bearer realm=\"x\"garbage", NULL},
	{"Bearer \"realm\"=\"x\"", NULL},
	{"\xff\xfe", NULL},
};

TEST(table)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
		berth_auth_challenges cs = {NULL, 0};
		berth_error *err = NULL;
		int r = berth_auth_parse_challenges(&cs, cases[i].in,
						    strlen(cases[i].in), &err);

		if (cases[i].want) {
			char *got = r == 0 ? render(&cs) : NULL;

			CHECK(r == 0, "case %zu '%s' refused: %s", i,
			      cases[i].in, err ? err->msg : "?");
			if (got)
				CHECK_STR(got, cases[i].want);
			free(got);
		} else {
			CHECK(r == BERTH_EPROTO, "case %zu '%s' accepted", i,
			      cases[i].in);
			CHECK(err && err->msg && !strchr(err->msg, '\n') &&
				      strncmp(err->msg,
					      "invalid WWW-Authenticate",
					      24) == 0,
			      "case %zu: message '%s'", i, err ? err->msg : "");
			CHECK(cs.n == 0 && cs.v == NULL,
			      "case %zu: nothing kept on failure", i);
		}
		berth_auth_challenges_release(&cs);
		berth_error_free(err);
	}
}

TEST(nul_and_bounds)
{
	berth_auth_challenges cs = {NULL, 0};
	berth_error *err = NULL;
	static const char nul[] = "Bearer realm=\"a\0b\"";
	char *s;
	berth_buf b = BERTH_BUF_INIT;

	/* An embedded NUL (the length says there is more) is refused. */
	CHECK(berth_auth_parse_challenges(&cs, nul, sizeof(nul) - 1, &err) ==
		      BERTH_EPROTO,
	      "NUL accepted");
	berth_error_free(err);
	err = NULL;

	/* Bounds: BERTH_AUTH_MAX_PARAMS parameters pass, one more fails. */
	berth_buf_puts(&b, "Bearer ", NULL);
	for (int i = 0; i < BERTH_AUTH_MAX_PARAMS; i++)
		berth_buf_printf(&b, NULL, "%sp%d=v", i ? "," : "", i);
	CHECK(berth_auth_parse_challenges(&cs, b.ptr, b.len, &err) == 0 &&
		      cs.v[0].n_params == BERTH_AUTH_MAX_PARAMS,
	      "%d params refused", BERTH_AUTH_MAX_PARAMS);
	berth_auth_challenges_release(&cs);
	berth_buf_puts(&b, ",extra=1", NULL);
	CHECK(berth_auth_parse_challenges(&cs, b.ptr, b.len, &err) ==
		      BERTH_EPROTO,
	      "too many params accepted");
	berth_error_free(err);
	err = NULL;
	berth_buf_release(&b);

	for (int i = 0; i < BERTH_AUTH_MAX_CHALLENGES; i++)
		berth_buf_puts(&b, "Basic, ", NULL);
	CHECK(berth_auth_parse_challenges(&cs, b.ptr, b.len, &err) == 0 &&
		      cs.n == BERTH_AUTH_MAX_CHALLENGES,
	      "16 challenges refused");
	berth_auth_challenges_release(&cs);
	berth_buf_puts(&b, "Basic", NULL);
	CHECK(berth_auth_parse_challenges(&cs, b.ptr, b.len, &err) ==
		      BERTH_EPROTO,
	      "17 challenges accepted");
	berth_error_free(err);
	err = NULL;
	berth_buf_release(&b);

	/* A header over the size bound, even if well-formed. */
	s = xmalloc(BERTH_AUTH_MAX_HEADER + 32);
	memcpy(s, "Bearer realm=\"", 14);
	memset(s + 14, 'a', BERTH_AUTH_MAX_HEADER);
	memcpy(s + 14 + BERTH_AUTH_MAX_HEADER, "\"", 2);
	CHECK(berth_auth_parse_challenges(&cs, s, strlen(s), &err) ==
		      BERTH_EPROTO,
	      "oversized header accepted");
	berth_error_free(err);
	free(s);
}

TEST(lookup)
{
	berth_auth_challenges cs = {NULL, 0};
	const char *h = "basic realm=\"b\", BEARER Realm=\"r\",Service=\"s\"";
	const berth_auth_challenge *c;

	CHECK(berth_auth_parse_challenges(&cs, h, strlen(h), NULL) == 0,
	      "parse failed");
	c = berth_auth_challenges_find(&cs, "Bearer");
	CHECK(c != NULL, "Bearer not found");
	if (c) {
		CHECK_STR(berth_auth_challenge_param(c, "realm"), "r");
		CHECK_STR(berth_auth_challenge_param(c, "SERVICE"), "s");
		CHECK(berth_auth_challenge_param(c, "scope") == NULL,
		      "absent param found");
	}
	CHECK(berth_auth_challenges_find(&cs, "Basic") == &cs.v[0],
	      "Basic not first");
	CHECK(berth_auth_challenges_find(&cs, "Digest") == NULL,
	      "Digest found");
	berth_auth_challenges_release(&cs);
}

TEST(token_parse)
{
	static const struct {
		const char *body;
		const char *token; /* NULL: refused */
		long expires;
		const char *refresh;
	} t[] = {
		{"{\"token\":\"abc\",\"expires_in\":300}", "abc", 300, NULL},
		{"{\"access_token\":\"xyz\"}", "xyz", 60, NULL},
		{"{\"token\":\"t1\",\"access_token\":\"t2\"}", "t1", 60, NULL},
		{"{\"token\":\"\",\"access_token\":\"t2\"}", "t2", 60, NULL},
		{"{\"token\":\"a\",\"expires_in\":-5}", "a", 60, NULL},
		{"{\"token\":\"a\",\"expires_in\":\"300\"}", "a", 60, NULL},
		{"{\"token\":\"a\",\"expires_in\":99999999999}", "a",
		 86400 * 366, NULL},
		{"{\"token\":\"a\",\"refresh_token\":\"r\"}", "a", 60, "r"},
		{"{\"token\":\"a b\"}", NULL, 0, NULL},
		{"{\"token\":\"a\\r\\nX-Evil: 1\"}", NULL, 0, NULL},
		{"{\"token\":42}", NULL, 0, NULL},
		{"{}", NULL, 0, NULL},
		{"[\"token\"]", NULL, 0, NULL},
		{"not json", NULL, 0, NULL},
		{"", NULL, 0, NULL},
	};

	for (size_t i = 0; i < BERTH_ARRAY_SIZE(t); i++) {
		berth_auth_token tok;
		berth_error *err = NULL;
		int r = berth_auth_token_parse(&tok, t[i].body,
					       strlen(t[i].body), &err);

		if (t[i].token) {
			CHECK(r == 0, "token case %zu refused", i);
			CHECK_STR(tok.token, t[i].token);
			CHECK(tok.expires_in == t[i].expires,
			      "token case %zu: expires_in %ld", i,
			      tok.expires_in);
			CHECK_STR(tok.refresh_token, t[i].refresh);
		} else {
			CHECK(r == BERTH_EPROTO && err,
			      "token case %zu accepted", i);
		}
		berth_auth_token_release(&tok);
		berth_error_free(err);
	}
}

TEST(scope_merge)
{
	static const struct {
		const char *a, *b, *want;
	} t[] = {
		{"repository:a/b:pull", NULL, "repository:a/b:pull"},
		{NULL, "repository:a/b:pull", "repository:a/b:pull"},
		{NULL, NULL, ""},
		{"", "  ", ""},
		{"repository:a/b:pull", "repository:a/b:pull",
		 "repository:a/b:pull"},
		{"repository:a/b:pull,push", "repository:a/b:pull",
		 "repository:a/b:pull,push"},
		{"repository:a/b:pull", "repository:a/b:push,delete",
		 "repository:a/b:pull,push,delete"},
		{"repository:x:pull,push repository:y:pull",
		 "repository:y:pull repository:x:delete",
		 "repository:x:pull,push,delete repository:y:pull"},
		{"repository:a/b:pull", "registry:catalog:*",
		 "repository:a/b:pull registry:catalog:*"},
		{"repository:host:5000/a:pull", "repository:host:5000/a:push",
		 "repository:host:5000/a:pull,push"},
		{"opaque", "opaque other", "opaque other"},
		{"repository:a:pull,,pull", NULL, "repository:a:pull"},
	};

	for (size_t i = 0; i < BERTH_ARRAY_SIZE(t); i++) {
		char *got = berth_auth_scope_merge(t[i].a, t[i].b);

		CHECK_STR(got, t[i].want);
		free(got);
	}
}

TEST(basic)
{
	char *h = berth_auth_basic("Aladdin", "open sesame");

	CHECK_STR(h, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
	free(h);
	h = berth_auth_basic("user", "p:ss");
	CHECK_STR(h, "Basic dXNlcjpwOnNz");
	free(h);
	h = berth_auth_basic("", "");
	CHECK_STR(h, "Basic Og==");
	free(h);
}

TEST(loopback)
{
	static const struct {
		const char *host;
		bool want;
	} t[] = {
		{"localhost", true},
		{"localhost:5000", true},
		{"LOCALHOST:80", true},
		{"127.0.0.1", true},
		{"127.0.0.1:5000", true},
		{"127.255.1.2:443", true},
		{"[::1]:5000", true},
		{"[::1]", true},
		{"::1", true},
		{"[::ffff:127.0.0.1]:5000", true},
		{"128.0.0.1", false},
		{"10.0.0.1:5000", false},
		{"example.com", false},
		{"localhost.example.com", false},
		{"localhostx:5000", false},
		{"[::2]:5000", false},
		{"127.0.0.1.nip.io", false},
		{"[::1", false},
		{"", false},
		{":5000", false},
	};

	for (size_t i = 0; i < BERTH_ARRAY_SIZE(t); i++)
		CHECK(berth_host_is_loopback(t[i].host) == t[i].want,
		      "'%s' should%s be loopback", t[i].host,
		      t[i].want ? "" : " not");
	CHECK(!berth_host_is_loopback(NULL), "NULL is loopback");
}

TEST_MAIN("test_auth")
