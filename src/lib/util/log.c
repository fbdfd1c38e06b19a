#include "berth/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"

/* Indexed by berth_log_level. */
static const char *const level_names[] = {"error", "warn", "info", "debug"};

static berth_log_fn log_fn;
static void *log_ud;
static berth_log_level log_level = BERTH_LOG_WARN;

const char *
berth_log_level_name(berth_log_level level)
{
	if ((int)level < 0 || (size_t)level >= BERTH_ARRAY_SIZE(level_names))
		return "unknown";
	return level_names[level];
}

int
berth_log_level_parse(berth_log_level *out, const char *name, berth_error **err)
{
	for (size_t i = 0; name && i < BERTH_ARRAY_SIZE(level_names); i++)
		if (strcmp(name, level_names[i]) == 0) {
			*out = (berth_log_level)i;
			return 0;
		}
	berth_error_set(err, BERTH_EUSAGE, 0, "invalid log level '%s'",
			name ? name : "");
	berth_error_hint(err, "use error, warn, info or debug");
	return BERTH_EUSAGE;
}

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
	_cleanup_free_ char *raw = NULL;
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	if (log_fn == NULL || level > log_level)
		return;
	va_start(ap, fmt);
	raw = xvasprintf(fmt, ap);
	va_end(ap);
	/* Messages quote names from the network: one line, whatever they hold.
	 */
	msg = berth_str_escape_log(raw, strlen(raw));
	log_fn(level, msg, log_ud);
}
