/* berth serve: the registry server lives in src/server; this only hands
 * over the arguments. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "server/serve.h"

int
cmd_serve(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	int status = berth_serve_main(argc, argv);

	/* The server reports its own failures and picks its exit status. */
	if (status != 0) {
		fflush(stdout);
		exit(status);
	}
	return 0;
}
