#include "util/cidr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

bool
berth_cidr_parse(const char *cidr, int *family, unsigned char addr[16],
		 int *bits)
{
	const char *slash = strchr(cidr, '/');
	_cleanup_free_ char *a = NULL;
	char *end;
	long b;

	if (slash == NULL)
		return false;
	a = xstrndup(cidr, (size_t)(slash - cidr));
	b = strtol(slash + 1, &end, 10);
	if (slash[1] == '\0' || *end || b < 0)
		return false;
	if (inet_pton(AF_INET, a, addr) == 1 && b <= 32)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, a, addr) == 1 && b <= 128)
		*family = AF_INET6;
	else
		return false;
	*bits = (int)b;
	return true;
}

static bool
prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[whole] ^ b[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

bool
berth_cidr_contains(const char *cidr, const char *ip)
{
	unsigned char net[16], addr[16];
	int family, bits;

	if (!berth_cidr_parse(cidr, &family, net, &bits))
		return false;
	if (inet_pton(family, ip, addr) != 1)
		return false;
	return prefix_equal(net, addr, bits);
}
