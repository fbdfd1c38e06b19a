/* The request path's one decoder (see path.h). */
#include "server/http/path.h"

#include <stdbool.h>
#include <string.h>

#include "util/str.h"
#include "util/xalloc.h"

srv_path_status
srv_path_decode(char **out, const char *raw, size_t len)
{
	char *p = xmalloc(len + 1);
	bool nul = false;
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		int hi, lo, c;

		if (raw[i] != '%' || i + 2 >= len ||
		    (hi = berth_hex_digit(raw[i + 1])) < 0 ||
		    (lo = berth_hex_digit(raw[i + 2])) < 0) {
			p[n++] = raw[i];
			continue;
		}
		c = hi << 4 | lo;
		if (c == '/') {
			memcpy(p + n, raw + i, 3);
			n += 3;
		} else if (c == 0) {
			/* Kept visible for the log, refused by the caller. */
			memcpy(p + n, raw + i, 3);
			n += 3;
			nul = true;
		} else {
			p[n++] = (char)c;
		}
		i += 2;
	}
	p[n] = '\0';
	*out = p;
	return nul ? SRV_PATH_NUL : SRV_PATH_OK;
}

size_t
srv_query_count(const char *query)
{
	size_t n = 1;

	if (query == NULL || *query == '\0')
		return 0;
	for (; *query; query++)
		if (*query == '&')
			n++;
	return n;
}
