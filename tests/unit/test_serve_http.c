/*
 * berth serve's parsers of request paths, headers and bodies: the path's
 * decoding, Range, Content-Range and the urlencoded token form.
 */
#include "test.h"

#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "server/http/form.h"
#include "server/http/path.h"
#include "server/http/range.h"

/* Range against a 1000-byte blob; off/len are 7/7 when untouched. */
static int
range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	*off = *len = 7;
	return srv_parse_range(off, len, h, size);
}

TEST(range_closed)
{
	uint64_t off, len;

	CHECK(range("bytes=0-99", 1000, &off, &len) == 1, "bytes=0-99");
	CHECK(off == 0 && len == 100, "off %llu len %llu",
	      (unsigned long long)off, (unsigned long long)len);
	CHECK(range("bytes=10-10", 1000, &off, &len) == 1, "one byte");
	CHECK(off == 10 && len == 1, "off %llu len %llu",
	      (unsigned long long)off, (unsigned long long)len);
	CHECK(range("bytes=990-5000", 1000, &off, &len) == 1, "clipped end");
	CHECK(off == 990 && len == 10, "off %llu len %llu",
	      (unsigned long long)off, (unsigned long long)len);
}

TEST(range_open_and_suffix)
{
	uint64_t off, len;

	CHECK(range("bytes=900-", 1000, &off, &len) == 1, "open end");
	CHECK(off == 900 && len == 100, "off %llu len %llu",
	      (unsigned long long)off, (unsigned long long)len);
	CHECK(range("bytes=-10", 1000, &off, &len) == 1, "suffix");
	CHECK(off == 990 && len == 10, "off %llu len %llu",
	      (unsigned long long)off, (unsigned long long)len);
	CHECK(range("bytes=-5000", 1000, &off, &len) == 1, "long suffix");
	CHECK(off == 0 && len == 1000, "off %llu len %llu",
	      (unsigned long long)off, (unsigned long long)len);
}

TEST(range_unsatisfiable)
{
	uint64_t off, len;

	CHECK(range("bytes=1000-", 1000, &off, &len) == -1, "start at size");
	CHECK(range("bytes=2000-3000", 1000, &off, &len) == -1, "past end");
	CHECK(range("bytes=-0", 1000, &off, &len) == -1, "empty suffix");
	CHECK(range("bytes=-10", 0, &off, &len) == -1, "empty blob");
	CHECK(range("bytes=0-", 0, &off, &len) == -1, "empty blob, open");
	CHECK(off == 7 && len == 7, "outputs untouched");
}

TEST(range_ignored)
{
	static const char *const bad[] = {
		"",	      "bytes=",	   "bytes=a-b",	    "bytes=5",
		"bytes=9-3",  "items=0-1", "bytes=0-1,3-4", "bytes=-",
		"bytes=1-2x", "bytes=-1x", "Bytes=0-1",
	};
	uint64_t off, len;

	CHECK(range(NULL, 1000, &off, &len) == 0, "no header");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(range(bad[i], 1000, &off, &len) == 0, "'%s' ignored",
		      bad[i]);
		CHECK(off == 7 && len == 7, "'%s' left the outputs", bad[i]);
	}
}

TEST(content_range_forms)
{
	int64_t a = -1, b = -1;

	CHECK(srv_parse_content_range(&a, &b, "0-99"), "plain");
	CHECK(a == 0 && b == 99, "%lld-%lld", (long long)a, (long long)b);
	CHECK(srv_parse_content_range(&a, &b, "bytes=100-199"), "bytes=");
	CHECK(a == 100 && b == 199, "%lld-%lld", (long long)a, (long long)b);
	CHECK(srv_parse_content_range(&a, &b, "bytes 5-5/10"), "bytes, total");
	CHECK(a == 5 && b == 5, "%lld-%lld", (long long)a, (long long)b);
}

TEST(content_range_malformed)
{
	static const char *const bad[] = {
		"", "5", "5-", "-5", "9-3", "a-b", "0-1x", "-1-5", "0-1 /2",
	};
	int64_t a = -7, b = -7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!srv_parse_content_range(&a, &b, bad[i]), "'%s' refused",
		      bad[i]);
		CHECK(a == -7 && b == -7, "'%s' left the outputs", bad[i]);
	}
}

/* ---- the urlencoded form ---- */

typedef struct seen {
	char text[512]; /* "key=value;" per field, NUL bytes as '0' */
	int n, stop_at;
} seen;

static int
on_field(void *cls, const char *key, const char *value, size_t vlen)
{
	seen *s = cls;
	size_t o = strlen(s->text);

	o += (size_t)snprintf(s->text + o, sizeof(s->text) - o, "%s=", key);
	for (size_t i = 0; i < vlen && o + 2 < sizeof(s->text); i++)
		s->text[o++] = value[i] ? value[i] : '0';
	if (o + 1 < sizeof(s->text))
		s->text[o++] = ';';
	s->text[o] = '\0';
	s->n++;
	return s->n == s->stop_at ? 9 : 0;
}

static const char *
walk(seen *s, const char *body)
{
	memset(s, 0, sizeof(*s));
	CHECK(srv_form_parse(body, strlen(body), on_field, s) == 0, "'%s'",
	      body);
	return s->text;
}

TEST(form_fields)
{
	seen s;

	CHECK_STR(walk(&s, "grant_type=password&username=alice"),
		  "grant_type=password;username=alice;");
	CHECK_STR(walk(&s, ""), "");
	CHECK_STR(walk(&s, "a=1&&b=2&"), "a=1;b=2;");
	CHECK_STR(walk(&s, "bare&=v&k="), "bare=;=v;k=;");
	CHECK_STR(walk(&s, "a=x=y"), "a=x=y;");
	CHECK_STR(walk(&s, "scope=a&scope=b"), "scope=a;scope=b;");
	CHECK_STR(walk(&s, "a=1\r\nb=2\n"), "a=1;b=2;");
}

TEST(form_decoding)
{
	seen s;

	CHECK_STR(walk(&s, "scope=repository%3Aa%3Apull+repository%3Ab%3Apush"),
		  "scope=repository:a:pull repository:b:push;");
	CHECK_STR(walk(&s, "p%61ss=%2b%2B%26"), "pass=++&;");
	CHECK_STR(walk(&s, "a=%zz%4&b=%"), "a=%zz%4;b=%;");
	CHECK_STR(walk(&s, "a=x%00y"), "a=x0y;");
	CHECK(s.n == 1, "one field");
}

TEST(form_binary_body)
{
	static const char body[] = {'a', '=', 'x', '\0', 'y',
				    '&', 'b', '=', 'z'};
	seen s = {0};

	CHECK(srv_form_parse(body, sizeof(body), on_field, &s) == 0, "walk");
	CHECK_STR(s.text, "a=x0y;b=z;");
}

TEST(form_callback_stops)
{
	seen s = {.stop_at = 2};

	CHECK(srv_form_parse("a=1&b=2&c=3", 11, on_field, &s) == 9,
	      "the callback's value");
	CHECK(s.n == 2, "stopped after %d fields", s.n);
}

TEST(form_content_type)
{
	CHECK(srv_form_content_type_ok("application/x-www-form-urlencoded"),
	      "exact");
	CHECK(srv_form_content_type_ok(
		      "Application/X-WWW-Form-Urlencoded; charset=utf-8"),
	      "case and parameters");
	CHECK(!srv_form_content_type_ok(NULL), "none");
	CHECK(!srv_form_content_type_ok("multipart/form-data; boundary=x"),
	      "multipart");
	CHECK(!srv_form_content_type_ok("application/json"), "json");
}

/* The decoded path of raw, and whether it held %00. */
static char *
path(const char *raw, srv_path_status *st)
{
	char *out = NULL;

	*st = srv_path_decode(&out, raw, strlen(raw));
	return out;
}

TEST(path_decoding)
{
	srv_path_status st;
	char *p;

	p = path("/v2/a%62c/tags/list", &st);
	CHECK(st == SRV_PATH_OK && strcmp(p, "/v2/abc/tags/list") == 0, "%s",
	      p);
	free(p);
	p = path("/v2/a%zz%4/x%", &st);
	CHECK(st == SRV_PATH_OK && strcmp(p, "/v2/a%zz%4/x%") == 0,
	      "a stray %% stays: %s", p);
	free(p);
	p = path("/v2/a%0ab", &st);
	CHECK(st == SRV_PATH_OK && strcmp(p, "/v2/a\nb") == 0,
	      "control bytes are decoded (the name check refuses them): %s", p);
	free(p);
}

TEST(path_encoded_slash_stays)
{
	srv_path_status st;
	char *p;

	p = path("/v2/a%2fb/manifests/x%2Fy", &st);
	CHECK(st == SRV_PATH_OK && strcmp(p, "/v2/a%2fb/manifests/x%2Fy") == 0,
	      "an encoded slash never becomes a separator: %s", p);
	free(p);
}

TEST(path_nul_refused)
{
	srv_path_status st;
	char *p;

	p = path("/v2/a%00b/tags/list", &st);
	CHECK(st == SRV_PATH_NUL, "%%00 is reported");
	CHECK(strcmp(p, "/v2/a%00b/tags/list") == 0,
	      "the path is not cut there: %s", p);
	free(p);
}

TEST(query_count)
{
	CHECK(srv_query_count(NULL) == 0 && srv_query_count("") == 0,
	      "no query");
	CHECK(srv_query_count("n=1") == 1, "one");
	CHECK(srv_query_count("a=1&b&&c=") == 4, "empty ones count");
}

TEST_MAIN("test_serve_http")
