/*
 * libFuzzer harness for the urlencoded form walker (srv_form_parse, the
 * token service's POST body). Besides the sanitizers, it checks:
 * - every value is NUL-terminated at vlen, and the decoded bytes never
 *   outgrow the body;
 * - encoding the fields again (every byte but letters and digits as %XX)
 *   and walking that gives the same fields;
 * - a callback's non-zero return stops the walk and comes back out.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/http/form.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 64

typedef struct fields {
	char *key[MAX_FIELDS];
	char *value[MAX_FIELDS];
	size_t vlen[MAX_FIELDS];
	size_t n, total, calls, stop_at;
} fields;

static int
collect(void *cls, const char *key, const char *value, size_t vlen)
{
	fields *f = cls;

	if (value[vlen] != '\0')
		abort();
	f->calls++;
	f->total += strlen(key) + vlen;
	if (f->n < MAX_FIELDS) {
		f->key[f->n] = strdup(key);
		f->value[f->n] = malloc(vlen + 1);
		memcpy(f->value[f->n], value, vlen + 1);
		f->vlen[f->n] = vlen;
		f->n++;
	}
	return f->calls == f->stop_at ? 42 : 0;
}

static void
fields_release(fields *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->key[i]);
		free(f->value[i]);
	}
	memset(f, 0, sizeof(*f));
}

static void
encode(berth_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			berth_buf_put(b, s + i, 1, NULL);
		else
			berth_buf_printf(b, NULL, "%%%02X", c);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fields f = {0}, again = {0}, stopped = {0};
	berth_buf b = BERTH_BUF_INIT;
	const char *body = (const char *)data;

	if (srv_form_parse(body, size, collect, &f) != 0)
		abort();
	if (f.total > size)
		abort();

	if (f.calls <= MAX_FIELDS) {
		for (size_t i = 0; i < f.n; i++) {
			if (i)
				berth_buf_put(&b, "&", 1, NULL);
			encode(&b, f.key[i], strlen(f.key[i]));
			berth_buf_put(&b, "=", 1, NULL);
			encode(&b, f.value[i], f.vlen[i]);
		}
		if (srv_form_parse(b.len ? berth_buf_cstr(&b) : "", b.len,
				   collect, &again) != 0 ||
		    again.n != f.n)
			abort();
		for (size_t i = 0; i < f.n; i++)
			if (strcmp(again.key[i], f.key[i]) != 0 ||
			    again.vlen[i] != f.vlen[i] ||
			    memcmp(again.value[i], f.value[i], f.vlen[i]) != 0)
				abort();
	}

	if (f.calls > 0) {
		stopped.stop_at = (f.calls + 1) / 2;
		if (srv_form_parse(body, size, collect, &stopped) != 42 ||
		    stopped.calls != stopped.stop_at)
			abort();
	}
	berth_buf_release(&b);
	fields_release(&f);
	fields_release(&again);
	fields_release(&stopped);
	return 0;
}
