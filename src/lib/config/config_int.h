/* The configuration module's internals, shared by config*.c, credentials*.c
 * and certs.c, and reachable from unit tests. */
#ifndef BERTH_LIB_CONFIG_CONFIG_INT_H
#define BERTH_LIB_CONFIG_CONFIG_INT_H

#include "berth/config.h"
#include "config/config.h"

/* Records a value for `berth config`; `replace` drops earlier ones. */
void config_setting_add(berth_config *c, const char *key, const char *value,
			const char *origin, bool replace);
void config_setting_drop(berth_config *c, const char *key);

/* HOST, HOST:PORT, [V6]:PORT or a CIDR (no scheme, no path). */
bool config_entry_valid(const char *s);

/* An http(s) URL with a host and no path beyond "/". */
bool config_mirror_url_valid(const char *s);

/*
 * A key or value of a configuration file, or a parser's words about one,
 * made safe for a message (berth_str_quote: one line, no terminal
 * controls, at most 200 bytes). Caller frees.
 */
char *config_quote(const char *s);

#endif
