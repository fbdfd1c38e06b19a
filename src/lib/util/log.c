#include "berth/log.h"

#include <stdarg.h>
#include <stdlib.h>

#include "util/xalloc.h"

static berth_log_fn log_fn;
static void *log_ud;
static berth_log_level log_level = BERTH_LOG_WARN;

void
berth_log_set_handler(berth_log_fn fn, void *ud)
{
	log_fn = fn;
	log_ud = ud;
}

void
berth_log_set_level(berth_log_level level)
{
	log_level = level;
}

berth_log_level
berth_log_get_level(void)
{
	return log_fn ? log_level : (berth_log_level)-1;
}

void
berth_log_msg(berth_log_level level, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (log_fn == NULL || level > log_level)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	log_fn(level, msg, log_ud);
	free(msg);
}
