/*
 * Alpine version order, as apk-tools defines it:
 *
 *	digit{.digit}...{letter}{_suffix{number}}...{~hash}{-rN}
 *
 * compared token by token. Numbers compare as numbers, except that a
 * component after a '.' with a leading zero compares as a string
 * (1.02 < 1.1, as in Gentoo). Suffixes order alpha < beta < pre < rc <
 * (none) < cvs < svn < git < hg < p; when one version runs out first,
 * the longer one is newer unless what it has next is a pre-release
 * suffix.
 */
#include <stdbool.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/str.h"
#include "vuln/vuln_int.h"

enum tok {
	T_INITIAL_DIGIT,
	T_DIGIT,
	T_LETTER,
	T_SUFFIX,
	T_SUFFIX_NO,
	T_HASH,
	T_REVISION,
	T_END,
	T_INVALID,
};

/* In order; SUF_NONE is where a version without a suffix sits. */
enum suf {
	SUF_ALPHA,
	SUF_BETA,
	SUF_PRE,
	SUF_RC,
	SUF_NONE,
	SUF_CVS,
	SUF_SVN,
	SUF_GIT,
	SUF_HG,
	SUF_P,
	SUF_INVALID
};

static const char *const suffixes[] = {"alpha", "beta", "pre", "rc", "",
				       "cvs",	"svn",	"git", "hg", "p"};

typedef struct tstate {
	const char *p, *end;
	enum tok tok;
	enum suf suf;
	unsigned long long num;
	const char *val; /* the token's text */
	size_t val_len;
} tstate;

static void
digits(tstate *t)
{
	const char *s = t->p;

	t->num = 0;
	while (t->p < t->end && *t->p >= '0' && *t->p <= '9')
		t->num = t->num * 10 + (unsigned)(*t->p++ - '0');
	t->val = s;
	t->val_len = (size_t)(t->p - s);
	if (t->val_len == 0)
		t->tok = T_INVALID;
}

static enum suf
suffix_of(const char *s, size_t n)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(suffixes); i++)
		if (i != SUF_NONE && strlen(suffixes[i]) == n &&
		    memcmp(suffixes[i], s, n) == 0)
			return (enum suf)i;
	return SUF_INVALID;
}

static void
next(tstate *t)
{
	char c;

	if (t->p == t->end) {
		t->tok = T_END;
		return;
	}
	c = *t->p;
	if (c >= 'a' && c <= 'z') {
		if (t->tok > T_DIGIT)
			goto invalid;
		t->val = t->p++;
		t->val_len = 1;
		t->tok = T_LETTER;
	} else if (c == '.' || (c >= '0' && c <= '9')) {
		if (c == '.') {
			if (t->tok > T_DIGIT)
				goto invalid;
			t->p++;
		}
		if (t->tok == T_INITIAL_DIGIT || t->tok == T_DIGIT)
			t->tok = T_DIGIT;
		else if (t->tok == T_SUFFIX)
			t->tok = T_SUFFIX_NO;
		else
			goto invalid;
		digits(t);
	} else if (c == '_') {
		const char *s;

		if (t->tok > T_SUFFIX_NO)
			goto invalid;
		s = ++t->p;
		while (t->p < t->end && *t->p >= 'a' && *t->p <= 'z')
			t->p++;
		t->val = s;
		t->val_len = (size_t)(t->p - s);
		t->suf = suffix_of(s, t->val_len);
		if (t->suf == SUF_INVALID)
			goto invalid;
		t->tok = T_SUFFIX;
	} else if (c == '~') {
		const char *s;

		if (t->tok >= T_HASH)
			goto invalid;
		s = ++t->p;
		while (t->p < t->end && berth_hex_digit(*t->p) >= 0)
			t->p++;
		t->val = s;
		t->val_len = (size_t)(t->p - s);
		if (t->val_len == 0)
			goto invalid;
		t->tok = T_HASH;
	} else if (c == '-') {
		if (t->tok >= T_REVISION || t->end - t->p < 2 || t->p[1] != 'r')
			goto invalid;
		t->p += 2;
		t->tok = T_REVISION;
		digits(t);
	} else {
	invalid:
		t->tok = T_INVALID;
	}
}

static void
first(tstate *t, const char *s)
{
	t->p = s;
	t->end = s + strlen(s);
	t->tok = T_INITIAL_DIGIT;
	t->suf = SUF_NONE;
	digits(t);
}

static int
blob_cmp(const tstate *a, const tstate *b)
{
	size_t n = a->val_len < b->val_len ? a->val_len : b->val_len;
	int r = memcmp(a->val, b->val, n);

	if (r != 0)
		return r;
	return a->val_len < b->val_len ? -1 : a->val_len > b->val_len;
}

static int
token_cmp(const tstate *a, const tstate *b)
{
	unsigned long long x, y;

	switch (a->tok) {
	case T_DIGIT:
		if (a->val[0] == '0' || b->val[0] == '0')
			return blob_cmp(a, b);
		/* fallthrough */
	case T_INITIAL_DIGIT:
	case T_SUFFIX_NO:
	case T_REVISION:
		x = a->num, y = b->num;
		break;
	case T_LETTER:
		x = (unsigned char)a->val[0], y = (unsigned char)b->val[0];
		break;
	case T_SUFFIX:
		x = a->suf, y = b->suf;
		break;
	default:
		return blob_cmp(a, b);
	}
	return x < y ? -1 : x > y;
}

static int
validate(const char *s, berth_error **err)
{
	tstate t;

	if (strlen(s) > VULN_VERSION_MAX)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "Alpine version '%.40s...' is longer "
				       "than %d bytes",
				       s, VULN_VERSION_MAX);
	for (first(&t, s); t.tok < T_END; next(&t))
		;
	if (t.tok != T_END)
		return berth_error_set(
			err, BERTH_EUSAGE, 0,
			"invalid Alpine version '%s': unexpected '%.8s' at "
			"offset %zu (expected digits{.digits}{letter}"
			"{_suffix{N}}{~hash}{-rN})",
			s, t.p < t.end ? t.p : "end", (size_t)(t.p - s));
	return 0;
}

int
vuln_cmp_apk(int *out, const char *a, const char *b, berth_error **err)
{
	tstate ta, tb;
	int r;

	if ((a && (r = validate(a, err)) < 0) ||
	    (b && (r = validate(b, err)) < 0))
		return r;
	*out = 0;
	if (!a || !b)
		return 0;
	for (first(&ta, a), first(&tb, b); ta.tok == tb.tok && ta.tok < T_END;
	     next(&ta), next(&tb)) {
		if ((r = token_cmp(&ta, &tb)) != 0) {
			*out = r;
			return 0;
		}
	}
	if (ta.tok == tb.tok)
		*out = 0;
	else if (ta.tok == T_SUFFIX && ta.suf < SUF_NONE)
		*out = -1;
	else if (tb.tok == T_SUFFIX && tb.suf < SUF_NONE)
		*out = 1;
	else
		*out = ta.tok > tb.tok ? -1 : 1;
	return 0;
}
