/*
 * Values of the response headers that say when to come back: Retry-After
 * and the RateLimit pair. Used for retries (registry), error messages
 * (http_status.c) and the pull quota alike.
 */
#include "http/http.h"

#include <limits.h>

/* Leading decimal digits of s as a non-negative long, capped at LONG_MAX;
 * *end is past them. False when s does not start with a digit. */
static bool
read_digits(long *out, const char **end, const char *s)
{
	long v = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		int d = *s - '0';

		v = v > (LONG_MAX - d) / 10 ? LONG_MAX : v * 10 + d;
	}
	*out = v;
	*end = s;
	return true;
}

long
berth_http_retry_after(const char *value, time_t now)
{
	const char *end;
	long s;
	time_t t;

	if (value == NULL)
		return -1;
	if (read_digits(&s, &end, value) && *end == '\0')
		return s;
	t = curl_getdate(value, NULL);
	if (t == (time_t)-1)
		return -1;
	return t > now ? (long)(t - now) : 0;
}

bool
berth_http_ratelimit_parse(long *count, long *window, const char *value)
{
	const char *p = value, *end;

	*count = *window = -1;
	if (value == NULL)
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!read_digits(count, &end, p))
		return false;
	if (end[0] == ';' && end[1] == 'w' && end[2] == '=')
		read_digits(window, &end, end + 3); /* else no window: -1 */
	return true;
}
