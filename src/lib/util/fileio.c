#include "util/fileio.h"

#include <errno.h>
#include <unistd.h>

int
berth_write_full(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len > 0) {
		ssize_t n = write(fd, c, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		c += n;
		len -= (size_t)n;
	}
	return 0;
}
