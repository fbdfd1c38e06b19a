#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/xalloc.h"

void
berth_buf_init(berth_buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void
berth_buf_release(berth_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

void
berth_buf_clear(berth_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

static size_t
buf_max(const berth_buf *b)
{
	return b->max ? b->max : BERTH_BUF_DEFAULT_MAX;
}

int
berth_buf_put(berth_buf *b, const void *p, size_t len, berth_error **err)
{
	size_t need;

	if (len > buf_max(b) - b->len)
		return berth_error_set(err, BERTH_ETOOBIG, 0,
				       "data exceeds the limit of %zu bytes",
				       buf_max(b));
	need = b->len + len + 1;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < need)
			cap *= 2;
		b->ptr = xrealloc(b->ptr, cap);
		b->cap = cap;
	}
	if (len)
		memcpy(b->ptr + b->len, p, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int
berth_buf_puts(berth_buf *b, const char *s, berth_error **err)
{
	return berth_buf_put(b, s, strlen(s), err);
}

int
berth_buf_printf(berth_buf *b, berth_error **err, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	r = berth_buf_puts(b, s, err);
	free(s);
	return r;
}

char *
berth_buf_detach(berth_buf *b)
{
	char *p = b->ptr ? b->ptr : xstrdup("");

	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}
