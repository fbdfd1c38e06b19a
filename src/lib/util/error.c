#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

void
berth_error_free(berth_error *e)
{
	if (e == NULL)
		return;
	free(e->msg);
	free(e->hint);
	free(e);
}

int
berth_error_set(berth_error **err, berth_code code, int sys_errno,
		const char *fmt, ...)
{
	va_list ap;
	berth_error *e;

	if (err == NULL)
		return code;
	e = xcalloc(1, sizeof(*e));
	e->code = code;
	e->sys_errno = sys_errno;
	va_start(ap, fmt);
	e->msg = xvasprintf(fmt, ap);
	va_end(ap);
	berth_error_free(*err);
	*err = e;
	return code;
}

void
berth_error_hint(berth_error **err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || *err == NULL)
		return;
	free((*err)->hint);
	va_start(ap, fmt);
	(*err)->hint = xvasprintf(fmt, ap);
	va_end(ap);
}

int
berth_error_wrap(berth_error **err, int code, const char *fmt, ...)
{
	va_list ap;
	char *prefix, *msg;

	if (err == NULL || *err == NULL)
		return code;
	va_start(ap, fmt);
	prefix = xvasprintf(fmt, ap);
	va_end(ap);
	msg = xasprintf("%s: %s", prefix, (*err)->msg);
	free(prefix);
	free((*err)->msg);
	(*err)->msg = msg;
	return code;
}

int
berth_error_move(berth_error **to, berth_error **from, int code)
{
	if (to == NULL) {
		berth_error_freep(from);
		return code;
	}
	berth_error_free(*to);
	*to = *from;
	*from = NULL;
	return code;
}

const char *
berth_code_name(berth_code code)
{
	static const char *const names[] = {
		"OK",	      "EGENERIC", "EUSAGE",	  "EREF",
		"ENOTFOUND",  "EAUTH",	  "EDENIED",	  "ETOOMANY",
		"ENET",	      "ETLS",	  "EPROTO",	  "EDIGEST",
		"EPLATFORM",  "EIO",	  "EUNSUPPORTED", "ESERVER",
		"ECORRUPT",   "EEXIST",	  "ETOOBIG",	  "EINTERRUPTED",
		"ESIGNATURE",
	};
	size_t i = (size_t)(-(int)code);

	if ((int)code > 0 || i >= sizeof(names) / sizeof(names[0]))
		return "EUNKNOWN";
	return names[i];
}
