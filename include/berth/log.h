/*
 * libberth never prints: it logs through a handler the program installs.
 * Messages below the level are not even formatted (redis serverLog).
 */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

#include "berth/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum berth_log_level {
	BERTH_LOG_ERROR = 0,
	BERTH_LOG_WARN = 1,
	BERTH_LOG_INFO = 2,
	BERTH_LOG_DEBUG = 3,
} berth_log_level;

typedef void (*berth_log_fn)(berth_log_level level, const char *msg, void *ud);

/* Installs the handler (NULL: drop everything) and the most verbose level. */
BERTH_EXTERN void berth_log_set_handler(berth_log_fn fn, void *ud);
BERTH_EXTERN void berth_log_set_level(berth_log_level level);
BERTH_EXTERN berth_log_level berth_log_get_level(void);

/* "error", "warn", "info" or "debug"; "unknown" outside the enum. */
BERTH_EXTERN const char *berth_log_level_name(berth_log_level level);

/*
 * The level a name gives ("error", "warn", "info", "debug", as
 * berth_log_level_name writes them). BERTH_EUSAGE for any other name.
 */
BERTH_EXTERN int berth_log_level_parse(berth_log_level *out, const char *name,
				       berth_error **err);

/* Never pass a password, token or Authorization header. */
BERTH_EXTERN void berth_log_msg(berth_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define berth_log(level, ...)                                                  \
	do {                                                                   \
		if ((level) <= berth_log_get_level())                          \
			berth_log_msg((level), __VA_ARGS__);                   \
	} while (0)

#ifdef __cplusplus
}
#endif
#endif
