/*
 * berth serve: the OCI registry server. The CLI hands it its arguments
 * (argv[0] is "serve"); it parses them, serves until SIGTERM or SIGINT and
 * returns the process exit status (0 after a clean shutdown).
 */
#ifndef BERTH_SERVER_SERVE_H
#define BERTH_SERVER_SERVE_H

int berth_serve_main(int argc, char **argv);

#endif
