/*
 * libFuzzer harness for the WWW-Authenticate challenge parser
 * (berth_auth_parse_challenges), with the token-response parser and the
 * scope merger run over the same bytes. Besides the sanitizers, it checks:
 * - a refused header yields BERTH_EPROTO, a one-line message, nothing kept;
 * - an accepted one has schemes and parameter names made of token
 *   characters, no parameter twice in a challenge, no control characters in
 *   values, and stays within the BERTH_AUTH_MAX_* bounds;
 * - writing the parse back out (every value quoted and escaped) and parsing
 *   that gives the same challenges;
 * - merging scope lists is idempotent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/auth.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c)))
			return false;
	}
	return true;
}

static void
check_challenges(const berth_auth_challenges *cs)
{
	if (cs->n == 0 || cs->n > BERTH_AUTH_MAX_CHALLENGES)
		abort();
	for (size_t i = 0; i < cs->n; i++) {
		const berth_auth_challenge *c = &cs->v[i];

		if (!is_token(c->scheme))
			abort();
		if (c->token68 && c->n_params)
			abort(); /* one or the other */
		if (c->n_params > BERTH_AUTH_MAX_PARAMS)
			abort();
		for (size_t k = 0; k < c->n_params; k++) {
			if (!is_token(c->params[k].name))
				abort();
			for (const char *v = c->params[k].value; *v; v++)
				if (((unsigned char)*v < 0x20 && *v != '\t') ||
				    *v == 0x7f)
					abort();
			for (size_t j = 0; j < k; j++)
				if (strcasecmp(c->params[j].name,
					       c->params[k].name) == 0)
					abort();
			if (berth_auth_challenge_param(c, c->params[k].name) !=
			    c->params[k].value)
				abort();
		}
	}
}

/* The challenges written back as a header, every value quoted. */
static char *
serialize(const berth_auth_challenges *cs)
{
	berth_buf b = BERTH_BUF_INIT;

	for (size_t i = 0; i < cs->n; i++) {
		const berth_auth_challenge *c = &cs->v[i];

		berth_buf_printf(&b, NULL, "%s%s", i ? ", " : "", c->scheme);
		if (c->token68)
			berth_buf_printf(&b, NULL, " %s", c->token68);
		for (size_t k = 0; k < c->n_params; k++) {
			berth_buf_printf(&b, NULL, "%s%s=\"", k ? ", " : " ",
					 c->params[k].name);
			for (const char *v = c->params[k].value; *v; v++) {
				if (*v == '"' || *v == '\\')
					berth_buf_put(&b, "\\", 1, NULL);
				berth_buf_put(&b, v, 1, NULL);
			}
			berth_buf_put(&b, "\"", 1, NULL);
		}
	}
	return berth_buf_detach(&b);
}

static bool
same(const berth_auth_challenges *a, const berth_auth_challenges *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const berth_auth_challenge *x = &a->v[i], *y = &b->v[i];

		if (strcmp(x->scheme, y->scheme) != 0 ||
		    (x->token68 == NULL) != (y->token68 == NULL) ||
		    (x->token68 && strcmp(x->token68, y->token68) != 0) ||
		    x->n_params != y->n_params)
			return false;
		for (size_t k = 0; k < x->n_params; k++)
			if (strcmp(x->params[k].name, y->params[k].name) != 0 ||
			    strcmp(x->params[k].value, y->params[k].value) != 0)
				return false;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	berth_auth_challenges cs = {NULL, 0}, again = {NULL, 0};
	berth_error *err = NULL;
	berth_auth_token tok;
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	if (berth_auth_parse_challenges(&cs, s, size, &err) == 0) {
		char *out;

		check_challenges(&cs);
		out = serialize(&cs);
		/* Quoting can lengthen the text past the size bound. */
		if (strlen(out) <= BERTH_AUTH_MAX_HEADER) {
			if (berth_auth_parse_challenges(
				    &again, out, strlen(out), NULL) != 0 ||
			    !same(&cs, &again))
				abort();
		}
		berth_auth_challenges_release(&again);
		free(out);
	} else {
		if (err == NULL || err->code != BERTH_EPROTO ||
		    strchr(err->msg, '\n') || cs.n != 0 || cs.v != NULL)
			abort();
	}
	berth_auth_challenges_release(&cs);
	berth_error_free(err);
	err = NULL;

	if (berth_auth_token_parse(&tok, s, size, &err) == 0) {
		if (tok.token == NULL || tok.expires_in <= 0 ||
		    strpbrk(tok.token, " \r\n"))
			abort();
	} else if (err == NULL || err->code != BERTH_EPROTO) {
		abort();
	}
	berth_auth_token_release(&tok);
	berth_error_free(err);

	if (strlen(s) == size && size < 4096) {
		char *m1 = berth_auth_scope_merge(s, NULL);
		char *m2 = berth_auth_scope_merge(m1, m1);

		if (strcmp(m1, m2) != 0)
			abort();
		free(m1);
		free(m2);
	}
	free(s);
	return 0;
}
