/*
 * The pure parts of authentication: the RFC 7235 challenge grammar, token
 * responses, scope lists, Basic credentials and loopback hosts. No I/O, so
 * the unit tests and the fuzzer reach all of it.
 */
#include "registry/auth.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* RFC 7230 tchar. */
static bool
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 7235 token68 characters (before the trailing '='s). */
static bool
is_t68char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-._~+/", c) != NULL;
}

/* qdtext and the second byte of a quoted-pair: HTAB, SP, VCHAR, obs-text. */
static bool
is_qchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

struct parser {
	const char *s;
	size_t len;
	size_t pos;
	berth_error **err;
};

static bool
at_ws(const struct parser *p, size_t i)
{
	return i < p->len && (p->s[i] == ' ' || p->s[i] == '\t');
}

static size_t
skip_ws(const struct parser *p, size_t i)
{
	while (at_ws(p, i))
		i++;
	return i;
}

static size_t
scan_token(const struct parser *p, size_t i)
{
	while (i < p->len && is_tchar((unsigned char)p->s[i]))
		i++;
	return i;
}

static int
fail(struct parser *p, size_t at, const char *what)
{
	return berth_error_set(
		p->err, BERTH_EPROTO, 0,
		"invalid WWW-Authenticate header: %s at offset %zu", what, at);
}

/* Parses a quoted-string at p->pos (on the '"') into *out. */
static int
parse_quoted(struct parser *p, char **out)
{
	_cleanup_buf_ berth_buf b = BERTH_BUF_INIT;
	size_t i = p->pos + 1, start = p->pos;

	berth_buf_init(&b, BERTH_AUTH_MAX_HEADER);
	while (i < p->len) {
		unsigned char c = (unsigned char)p->s[i];

		if (c == '"') {
			p->pos = i + 1;
			*out = berth_buf_detach(&b);
			return 0;
		}
		if (c == '\\') {
			if (++i >= p->len)
				break;
			c = (unsigned char)p->s[i];
		}
		if (!is_qchar(c))
			return fail(p, i,
				    "control character in a quoted string");
		berth_buf_put(&b, &c, 1, NULL);
		i++;
	}
	return fail(p, start, "unterminated quoted string");
}

static int
add_param(struct parser *p, berth_auth_challenge *c, size_t at, char *name,
	  char *value)
{
	for (size_t i = 0; i < c->n_params; i++) {
		if (strcasecmp(c->params[i].name, name) == 0) {
			free(name);
			free(value);
			return fail(p, at, "a parameter given twice");
		}
	}
	if (c->n_params >= BERTH_AUTH_MAX_PARAMS) {
		free(name);
		free(value);
		return fail(p, at, "too many parameters");
	}
	c->params =
		xreallocarray(c->params, c->n_params + 1, sizeof(*c->params));
	c->params[c->n_params].name = name;
	c->params[c->n_params].value = value;
	c->n_params++;
	return 0;
}

/*
 * Parses the #auth-param list of challenge `c`, starting at a parameter
 * name. Stops at the end or before a list element that is not a parameter
 * (the next challenge's scheme).
 */
static int
parse_params(struct parser *p, berth_auth_challenge *c)
{
	bool first = true;

	for (;;) {
		size_t name_start = p->pos, name_end = scan_token(p, p->pos);
		size_t i;
		char *name, *value = NULL;

		if (name_end == name_start)
			return fail(p, p->pos, "expected a parameter name");
		i = skip_ws(p, name_end);
		if (i >= p->len || p->s[i] != '=') {
			if (first)
				return fail(
					p, i,
					"expected '=' after a parameter name");
			return 0; /* the next challenge begins here */
		}
		i = skip_ws(p, i + 1);
		if (i < p->len && p->s[i] == '"') {
			p->pos = i;
			if (parse_quoted(p, &value) < 0)
				return -1;
			i = p->pos;
		} else {
			size_t v_end = scan_token(p, i);

			if (v_end == i)
				return fail(p, i, "expected a parameter value");
			value = xstrndup(p->s + i, v_end - i);
			i = v_end;
		}
		name = xstrndup(p->s + name_start, name_end - name_start);
		if (add_param(p, c, name_start, name, value) < 0)
			return -1;
		first = false;

		i = skip_ws(p, i);
		if (i >= p->len) {
			p->pos = i;
			return 0;
		}
		if (p->s[i] != ',')
			return fail(p, i, "expected ',' after a parameter");
		/* Empty list elements (",,") are allowed. */
		while (i < p->len &&
		       (p->s[i] == ',' || p->s[i] == ' ' || p->s[i] == '\t'))
			i++;
		p->pos = i;
		if (i >= p->len)
			return 0;
	}
}

static void
challenge_release(berth_auth_challenge *c)
{
	free(c->scheme);
	free(c->token68);
	for (size_t i = 0; i < c->n_params; i++) {
		free(c->params[i].name);
		free(c->params[i].value);
	}
	free(c->params);
	memset(c, 0, sizeof(*c));
}

void
berth_auth_challenges_release(berth_auth_challenges *cs)
{
	if (cs == NULL)
		return;
	for (size_t i = 0; i < cs->n; i++)
		challenge_release(&cs->v[i]);
	free(cs->v);
	cs->v = NULL;
	cs->n = 0;
}

static int
parse_all(struct parser *p, berth_auth_challenges *cs)
{
	for (;;) {
		berth_auth_challenge *c;
		size_t end, t68;

		while (p->pos < p->len &&
		       (p->s[p->pos] == ',' || at_ws(p, p->pos)))
			p->pos++;
		if (p->pos >= p->len)
			return 0;
		end = scan_token(p, p->pos);
		if (end == p->pos)
			return fail(p, p->pos,
				    "expected an authentication scheme");
		if (cs->n >= BERTH_AUTH_MAX_CHALLENGES)
			return fail(p, p->pos, "too many challenges");
		cs->v = xreallocarray(cs->v, cs->n + 1, sizeof(*cs->v));
		c = &cs->v[cs->n++];
		memset(c, 0, sizeof(*c));
		c->scheme = xstrndup(p->s + p->pos, end - p->pos);
		p->pos = end;
		if (p->pos >= p->len || p->s[p->pos] == ',')
			continue;
		if (!at_ws(p, p->pos))
			return fail(p, p->pos,
				    "expected a space after the scheme");
		p->pos = skip_ws(p, p->pos);
		if (p->pos >= p->len || p->s[p->pos] == ',')
			continue;

		/* token68: 1*t68char *"=" alone in its list element. */
		t68 = p->pos;
		while (t68 < p->len && is_t68char((unsigned char)p->s[t68]))
			t68++;
		if (t68 > p->pos) {
			size_t e = t68, after;

			while (e < p->len && p->s[e] == '=')
				e++;
			after = skip_ws(p, e);
			if (after >= p->len || p->s[after] == ',') {
				c->token68 =
					xstrndup(p->s + p->pos, e - p->pos);
				p->pos = after;
				continue;
			}
		}
		if (parse_params(p, c) < 0)
			return -1;
	}
}

int
berth_auth_parse_challenges(berth_auth_challenges *out, const char *s,
			    size_t len, berth_error **err)
{
	berth_auth_challenges cs = {NULL, 0};
	struct parser p = {s, len, 0, err};

	if (len > BERTH_AUTH_MAX_HEADER)
		return berth_error_set(
			err, BERTH_EPROTO, 0,
			"invalid WWW-Authenticate header: longer "
			"than %d bytes",
			BERTH_AUTH_MAX_HEADER);
	if (parse_all(&p, &cs) < 0) {
		berth_auth_challenges_release(&cs);
		return BERTH_EPROTO;
	}
	if (cs.n == 0)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "invalid WWW-Authenticate header: no "
				       "challenge");
	*out = cs;
	return 0;
}

const berth_auth_challenge *
berth_auth_challenges_find(const berth_auth_challenges *cs, const char *scheme)
{
	for (size_t i = 0; i < cs->n; i++)
		if (strcasecmp(cs->v[i].scheme, scheme) == 0)
			return &cs->v[i];
	return NULL;
}

const char *
berth_auth_challenge_param(const berth_auth_challenge *c, const char *name)
{
	for (size_t i = 0; i < c->n_params; i++)
		if (strcasecmp(c->params[i].name, name) == 0)
			return c->params[i].value;
	return NULL;
}

static bool
token_usable(const char *t)
{
	/* It goes into a header line: no control characters, no spaces. */
	if (t == NULL || *t == '\0')
		return false;
	for (; *t; t++)
		if ((unsigned char)*t <= 0x20 || *t == 0x7f)
			return false;
	return true;
}

int
berth_auth_token_parse(berth_auth_token *out, const char *body, size_t len,
		       berth_error **err)
{
	json_auto_t *root = NULL;
	json_t *v;
	const char *tok = NULL;

	memset(out, 0, sizeof(*out));
	root = json_loadb(body, len, 0, NULL);
	if (!json_is_object(root))
		return berth_error_set(
			err, BERTH_EPROTO, 0,
			"the token server's answer is not a JSON "
			"object");
	v = json_object_get(root, "token");
	if (json_is_string(v) && json_string_length(v) > 0)
		tok = json_string_value(v);
	v = json_object_get(root, "access_token");
	if (tok == NULL && json_is_string(v) && json_string_length(v) > 0)
		tok = json_string_value(v);
	if (!token_usable(tok))
		return berth_error_set(
			err, BERTH_EPROTO, 0,
			"the token server's answer has no usable "
			"token");
	out->token = xstrdup(tok);
	out->expires_in = 60;
	v = json_object_get(root, "expires_in");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		out->expires_in = json_integer_value(v) > 86400 * 366
					  ? 86400 * 366
					  : (long)json_integer_value(v);
	v = json_object_get(root, "refresh_token");
	if (json_is_string(v) && token_usable(json_string_value(v)))
		out->refresh_token = xstrdup(json_string_value(v));
	return 0;
}

void
berth_auth_token_release(berth_auth_token *t)
{
	if (t->token)
		explicit_bzero(t->token, strlen(t->token));
	if (t->refresh_token)
		explicit_bzero(t->refresh_token, strlen(t->refresh_token));
	free(t->token);
	free(t->refresh_token);
	memset(t, 0, sizeof(*t));
}

struct scope_item {
	char *resource; /* "repository:a/b", or the whole item if opaque */
	char **actions;
	size_t n_actions;
	bool opaque;
};

static void
scope_add(struct scope_item **items, size_t *n, const char *s, size_t len)
{
	_cleanup_free_ char *item = xstrndup(s, len);
	char *first = strchr(item, ':'), *last = strrchr(item, ':');
	struct scope_item *it = NULL;
	const char *resource = item;
	char *acts = NULL;
	bool opaque = first == NULL || first == last;

	if (!opaque) {
		*last = '\0';
		acts = last + 1;
	}
	for (size_t i = 0; i < *n; i++) {
		if ((*items)[i].opaque == opaque &&
		    strcmp((*items)[i].resource, resource) == 0) {
			it = &(*items)[i];
			break;
		}
	}
	if (it == NULL) {
		*items = xreallocarray(*items, *n + 1, sizeof(**items));
		it = &(*items)[(*n)++];
		memset(it, 0, sizeof(*it));
		it->resource = xstrdup(resource);
		it->opaque = opaque;
	}
	if (opaque)
		return;
	for (char *save = NULL, *a = strtok_r(acts, ",", &save); a;
	     a = strtok_r(NULL, ",", &save)) {
		bool seen = false;

		for (size_t k = 0; k < it->n_actions && !seen; k++)
			seen = strcmp(it->actions[k], a) == 0;
		if (seen)
			continue;
		it->actions = xreallocarray(it->actions, it->n_actions + 1,
					    sizeof(*it->actions));
		it->actions[it->n_actions++] = xstrdup(a);
	}
}

static void
scope_add_list(struct scope_item **items, size_t *n, const char *list)
{
	const char *p = list;

	while (p && *p) {
		size_t len;

		while (*p == ' ')
			p++;
		len = strcspn(p, " ");
		if (len)
			scope_add(items, n, p, len);
		p += len;
	}
}

char *
berth_auth_scope_merge(const char *a, const char *b)
{
	struct scope_item *items = NULL;
	size_t n = 0;
	berth_buf out = BERTH_BUF_INIT;

	scope_add_list(&items, &n, a);
	scope_add_list(&items, &n, b);
	for (size_t i = 0; i < n; i++) {
		if (i)
			berth_buf_puts(&out, " ", NULL);
		berth_buf_puts(&out, items[i].resource, NULL);
		if (!items[i].opaque) {
			berth_buf_puts(&out, ":", NULL);
			for (size_t k = 0; k < items[i].n_actions; k++) {
				if (k)
					berth_buf_puts(&out, ",", NULL);
				berth_buf_puts(&out, items[i].actions[k], NULL);
			}
		}
		for (size_t k = 0; k < items[i].n_actions; k++)
			free(items[i].actions[k]);
		free(items[i].actions);
		free(items[i].resource);
	}
	free(items);
	return berth_buf_detach(&out);
}

char *
berth_auth_basic(const char *user, const char *password)
{
	_cleanup_free_ char *plain = xasprintf("%s:%s", user, password);
	size_t n = strlen(plain);
	char *out = xmalloc(6 + 4 * ((n + 2) / 3) + 1);

	memcpy(out, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)plain,
			(int)n);
	explicit_bzero(plain, n);
	return out;
}

bool
berth_host_is_loopback(const char *host)
{
	char name[256];
	const char *end;
	size_t n;
	struct in_addr a4;
	struct in6_addr a6;

	if (host == NULL)
		return false;
	if (host[0] == '[') {
		end = strchr(host, ']');
		if (end == NULL)
			return false;
		host++;
	} else {
		end = strchr(host, ':');
		/* Two colons without brackets: a bare IPv6 address. */
		if (end && strchr(end + 1, ':'))
			end = NULL;
		if (end == NULL)
			end = host + strlen(host);
	}
	n = (size_t)(end - host);
	if (n == 0 || n >= sizeof(name))
		return false;
	memcpy(name, host, n);
	name[n] = '\0';
	if (strcasecmp(name, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, name, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, name, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
	}
	return false;
}
