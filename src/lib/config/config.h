/* What the configuration module offers the rest of libberth (its
 * internals are in config_int.h, private to this folder). */
#ifndef BERTH_LIB_CONFIG_CONFIG_H
#define BERTH_LIB_CONFIG_CONFIG_H

#include <stdbool.h>

/*
 * Splits "name", "name:port", "[v6]", "[v6]:port" into the bare host
 * (brackets removed) and the port (0 when none). Caller frees *name.
 */
bool config_split_host(const char *host, char **name, unsigned *port);

/* Docker Hub's names: docker.io, index.docker.io, registry-1.docker.io. */
bool config_is_docker_hub(const char *host);

#endif
