/*
 * PyPI version order: PEP 440, as the `packaging` library parses and
 * orders versions (packaging.version.Version): an optional epoch (N!), a
 * release (N.N...), then optional pre (a, b, rc and their spellings
 * alpha, beta, c, pre, preview), post (.postN, -N, rev, r) and dev (.devN)
 * parts, each with optional separators and number, and a local part
 * (+abc.5). Case is ignored, surrounding white space too.
 *
 * Numbers are compared as decimal strings without leading zeros, so any
 * length orders as Python's integers do.
 */
#include <stdbool.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "vuln/vuln_int.h"

#define PARTS_MAX (VULN_VERSION_MAX / 2 + 1)

typedef struct num {
	const char *p; /* digits without leading zeros; n == 0 is zero */
	size_t n;
} num;

typedef struct pep440 {
	char buf[VULN_VERSION_MAX + 1]; /* the text, lower-cased */
	num epoch;
	num release[PARTS_MAX];
	size_t n_release;
	int pre; /* -1 none, 0 a, 1 b, 2 rc */
	num pre_n;
	bool post, dev;
	num post_n, dev_n;
	bool local;
	struct {
		bool is_num;
		num v; /* a number, or the letters when !is_num */
	} lparts[PARTS_MAX];
	size_t n_local;
} pep440;

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_sep(char c)
{
	return c == '-' || c == '_' || c == '.';
}

static size_t
take_digits(const char *s, num *out)
{
	size_t n = 0;

	while (is_digit(s[n]))
		n++;
	out->p = s;
	out->n = n;
	while (out->n > 0 && *out->p == '0')
		out->p++, out->n--;
	return n;
}

/* The first of `words` that s starts with (in order, as the regular
 * expression tries them): its index, its length in *len; -1 for none. */
static int
take_word(const char *s, const char *const *words, size_t n_words, size_t *len)
{
	for (size_t i = 0; i < n_words; i++) {
		size_t l = strlen(words[i]);

		if (strncmp(s, words[i], l) == 0) {
			*len = l;
			return (int)i;
		}
	}
	return -1;
}

/* "[-_.]?N" after a word: consumed only when there are digits. */
static size_t
take_opt_number(const char *s, num *out)
{
	out->p = s;
	out->n = 0;
	if (is_sep(s[0]) && is_digit(s[1]))
		return 1 + take_digits(s + 1, out);
	if (is_digit(s[0]))
		return take_digits(s, out);
	return 0;
}

/* One "[-_.]?WORD[-_.]?N?" group; 0 when it is not there. */
static size_t
take_group(const char *s, const char *const *words, size_t n_words, int *which,
	   num *n)
{
	size_t i = is_sep(s[0]) ? 1 : 0, l;
	int w = take_word(s + i, words, n_words, &l);

	if (w < 0)
		return 0;
	*which = w;
	i += l;
	return i + take_opt_number(s + i, n);
}

static int
bad(berth_error **err, const char *orig, const char *why)
{
	return berth_error_set(err, BERTH_EUSAGE, 0,
			       "invalid PyPI version '%s': %s (PEP 440)", orig,
			       why);
}

static int
parse(pep440 *v, const char *orig, berth_error **err)
{
	static const char *const pre_words[] = {"alpha",   "a",	  "beta", "b",
						"preview", "pre", "c",	  "rc"};
	static const int pre_kind[] = {0, 0, 1, 1, 2, 2, 2, 2};
	static const char *const post_words[] = {"post", "rev", "r"};
	static const char *const dev_words[] = {"dev"};
	const char *s = orig, *e;
	size_t len, i = 0, k;
	char *b;
	int w;

	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || (e[-1] >= '\t' && e[-1] <= '\r')))
		e--;
	len = (size_t)(e - s);
	if (len > VULN_VERSION_MAX)
		return bad(err, orig, "longer than 256 bytes");
	memset(v, 0, offsetof(pep440, release));
	v->n_release = v->n_local = 0;
	v->pre = -1;
	v->post = v->dev = v->local = false;
	b = v->buf;
	for (size_t j = 0; j < len; j++)
		b[j] = (s[j] >= 'A' && s[j] <= 'Z') ? (char)(s[j] + 32) : s[j];
	b[len] = '\0';

	if (b[i] == 'v')
		i++;
	if (!is_digit(b[i]))
		return bad(err, orig, "no release number");
	k = take_digits(b + i, &v->release[0]);
	if (b[i + k] == '!') {
		v->epoch = v->release[0];
		i += k + 1;
		if (!is_digit(b[i]))
			return bad(err, orig,
				   "no release number after the "
				   "epoch");
		k = take_digits(b + i, &v->release[0]);
	}
	i += k;
	v->n_release = 1;
	while (b[i] == '.' && is_digit(b[i + 1])) {
		if (v->n_release == PARTS_MAX)
			return bad(err, orig, "too many release numbers");
		i += 1 + take_digits(b + i + 1, &v->release[v->n_release++]);
	}
	if ((k = take_group(b + i, pre_words, BERTH_ARRAY_SIZE(pre_words), &w,
			    &v->pre_n)) > 0) {
		v->pre = pre_kind[w];
		i += k;
	}
	if (b[i] == '-' && is_digit(b[i + 1])) {
		v->post = true;
		i += 1 + take_digits(b + i + 1, &v->post_n);
	} else if ((k = take_group(b + i, post_words,
				   BERTH_ARRAY_SIZE(post_words), &w,
				   &v->post_n)) > 0) {
		v->post = true;
		i += k;
	}
	if ((k = take_group(b + i, dev_words, 1, &w, &v->dev_n)) > 0) {
		v->dev = true;
		i += k;
	}
	if (b[i] == '+') {
		v->local = true;
		i++;
		for (;;) {
			size_t n = 0;
			bool digits_only = true;

			while ((b[i + n] >= 'a' && b[i + n] <= 'z') ||
			       is_digit(b[i + n])) {
				if (!is_digit(b[i + n]))
					digits_only = false;
				n++;
			}
			if (n == 0)
				return bad(err, orig, "empty local part");
			if (v->n_local == PARTS_MAX)
				return bad(err, orig, "too many local parts");
			v->lparts[v->n_local].is_num = digits_only;
			if (digits_only)
				take_digits(b + i, &v->lparts[v->n_local].v);
			else
				v->lparts[v->n_local].v = (num){b + i, n};
			v->n_local++;
			i += n;
			if (!is_sep(b[i]))
				break;
			i++;
		}
	}
	if (b[i] != '\0')
		return bad(err, orig, "unexpected text after the version");
	/* trailing zeros of the release do not count: 1.0 == 1 */
	while (v->n_release > 1 && v->release[v->n_release - 1].n == 0)
		v->n_release--;
	if (v->n_release == 1 && v->release[0].n == 0)
		v->n_release = 0;
	return 0;
}

static int
num_cmp(num a, num b)
{
	int r;

	if (a.n != b.n)
		return a.n < b.n ? -1 : 1;
	if (a.n == 0)
		return 0;
	r = memcmp(a.p, b.p, a.n);
	return r < 0 ? -1 : r > 0;
}

static int
str_cmp(num a, num b)
{
	size_t n = a.n < b.n ? a.n : b.n;
	int r = n ? memcmp(a.p, b.p, n) : 0;

	if (r != 0)
		return r < 0 ? -1 : 1;
	return a.n < b.n ? -1 : a.n > b.n;
}

/* packaging's _cmpkey: pre is -inf for a bare dev release, +inf when
 * absent; post -inf when absent; dev +inf when absent; local -inf. */
static int
pre_rank(const pep440 *v)
{
	if (v->pre < 0)
		return (!v->post && v->dev) ? -1 : 1;
	return 0;
}

static int
compare(const pep440 *a, const pep440 *b)
{
	int r, ra, rb;
	size_t n;

	if ((r = num_cmp(a->epoch, b->epoch)) != 0)
		return r;
	n = a->n_release < b->n_release ? a->n_release : b->n_release;
	for (size_t i = 0; i < n; i++)
		if ((r = num_cmp(a->release[i], b->release[i])) != 0)
			return r;
	if (a->n_release != b->n_release)
		return a->n_release < b->n_release ? -1 : 1;
	ra = pre_rank(a), rb = pre_rank(b);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (ra == 0) {
		if (a->pre != b->pre)
			return a->pre < b->pre ? -1 : 1;
		if ((r = num_cmp(a->pre_n, b->pre_n)) != 0)
			return r;
	}
	if (a->post != b->post)
		return a->post ? 1 : -1;
	if (a->post && (r = num_cmp(a->post_n, b->post_n)) != 0)
		return r;
	if (a->dev != b->dev)
		return a->dev ? -1 : 1;
	if (a->dev && (r = num_cmp(a->dev_n, b->dev_n)) != 0)
		return r;
	if (a->local != b->local)
		return a->local ? 1 : -1;
	n = a->n_local < b->n_local ? a->n_local : b->n_local;
	for (size_t i = 0; i < n; i++) {
		bool an = a->lparts[i].is_num, bn = b->lparts[i].is_num;

		if (an != bn)
			return an ? 1 : -1; /* a number sorts after letters */
		r = an ? num_cmp(a->lparts[i].v, b->lparts[i].v)
		       : str_cmp(a->lparts[i].v, b->lparts[i].v);
		if (r != 0)
			return r;
	}
	if (a->n_local != b->n_local)
		return a->n_local < b->n_local ? -1 : 1;
	return 0;
}

int
vuln_cmp_pep440(int *out, const char *a, const char *b, berth_error **err)
{
	pep440 va, vb;
	int r = 0;

	if (a)
		r = parse(&va, a, err);
	if (r == 0 && b)
		r = parse(&vb, b, err);
	if (r == 0)
		*out = a && b ? compare(&va, &vb) : 0;
	return r;
}
