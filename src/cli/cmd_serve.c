/*
 * berth serve: runs berth-serve, installed beside berth. The server is a
 * program of its own so that the client's start-up does not pay for
 * libmicrohttpd, GnuTLS and SQLite.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

int
cli_serve_path(char **out, berth_error **err)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot find berth's own path: %s",
				       strerror(errno));
	self[n] = '\0';
	slash = strrchr(self, '/');
	*slash = '\0';
	*out = xasprintf("%s/berth-serve", self);
	return 0;
}

int
cmd_serve(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_free_ char *server = NULL;
	int r;

	if ((r = cli_serve_path(&server, err)) < 0)
		return r;
	argv[0] = "serve";
	execv(server, argv);
	berth_error_set(err, BERTH_EIO, errno, "cannot run '%s': %s", server,
			strerror(errno));
	berth_error_hint(err, "install berth-serve in the same directory "
			      "as berth ('make' builds both)");
	return BERTH_EIO;
}
