/* Durations (duration.h). */
#include "util/duration.h"

#include <string.h>

#include "util/error.h"

#define DURATION_MAX_MS (100LL * 366 * 86400 * 1000)

static const struct {
	const char *name;
	int64_t ms;
} units[] = {
	{"", 1000},
	{"ms", 1},
	{"s", 1000},
	{"m", 60 * 1000},
	{"h", 3600 * 1000},
	{"d", 86400 * 1000},
	{"w", 7LL * 86400 * 1000},
};

static int
bad(const char *s, berth_error **err)
{
	berth_error_set(err, BERTH_EUSAGE, 0, "invalid duration '%.40s'",
			s ? s : "");
	berth_error_hint(err, "write a number and a unit: ms, s, m, h, d or "
			      "w (e.g. 90s, 36h, 30d)");
	return BERTH_EUSAGE;
}

int
berth_duration_parse_ms(const char *s, int64_t *ms, berth_error **err)
{
	/* By hand, not strtod: no signs, blanks, exponents, hex or "inf". */
	long double x = 0, scale = 1;
	const char *p = s;

	if (s == NULL || *p < '0' || *p > '9')
		return bad(s, err);
	for (; *p >= '0' && *p <= '9' && x <= DURATION_MAX_MS; p++)
		x = x * 10 + (*p - '0');
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return bad(s, err);
		for (p++; *p >= '0' && *p <= '9'; p++)
			x += (*p - '0') * (scale /= 10);
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].name) != 0)
			continue;
		x *= units[i].ms;
		if (x > DURATION_MAX_MS)
			return bad(s, err);
		*ms = (int64_t)(x + 0.5L);
		return 0;
	}
	return bad(s, err);
}

int
berth_duration_parse(const char *s, int64_t *seconds, berth_error **err)
{
	int64_t ms;

	if (berth_duration_parse_ms(s, &ms, err) < 0)
		return BERTH_EUSAGE;
	if (ms % 1000 != 0) {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"invalid duration '%.40s': whole seconds only",
				s);
		berth_error_hint(err, "write e.g. 90s, 36h or 30d");
		return BERTH_EUSAGE;
	}
	*seconds = ms / 1000;
	return 0;
}
