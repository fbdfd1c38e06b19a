/* Durations (duration.h). */
#include "util/duration.h"

#include <errno.h>
#include <stdlib.h>

#include "util/error.h"

#define DURATION_MAX_S (100LL * 366 * 86400)

int
berth_duration_parse(const char *s, int64_t *seconds, berth_error **err)
{
	long long n, unit = 1;
	char *end;

	errno = 0;
	n = s ? strtoll(s, &end, 10) : -1;
	if (s == NULL || errno || end == s || n < 0 || s[0] == '-' ||
	    s[0] == '+' || s[0] == ' ')
		goto bad;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	case 'w':
		unit = 7 * 86400;
		break;
	default:
		goto bad;
	}
	if (*end && end[1] != '\0')
		goto bad;
	if (n > DURATION_MAX_S / unit)
		goto bad;
	*seconds = (int64_t)(n * unit);
	return 0;
bad:
	berth_error_set(err, BERTH_EUSAGE, 0, "invalid duration '%s'",
			s ? s : "");
	berth_error_hint(err, "write a whole number and a unit: s, m, h, d or "
			      "w (e.g. 90s, 36h, 30d)");
	return BERTH_EUSAGE;
}
