/* berth-serve: the registry server as its own program, so that the client
 * never loads the server's libraries; `berth serve` runs it. */
#include "server/serve.h"

int
main(int argc, char **argv)
{
	return berth_serve_main(argc, argv);
}
