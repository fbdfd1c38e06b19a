/* The one rule of address ranges ("10.0.0.0/8", "fd00::/8"): the client's
 * insecure-registries and the server's address lists. */
#ifndef BERTH_LIB_UTIL_CIDR_H
#define BERTH_LIB_UTIL_CIDR_H

#include <stdbool.h>

/* Parses "addr/bits" into family, address bytes and prefix length. */
bool berth_cidr_parse(const char *cidr, int *family, unsigned char addr[16],
		      int *bits);

/* True when the address `ip` (text) lies in `cidr` ("10.0.0.0/8"). */
bool berth_cidr_contains(const char *cidr, const char *ip);

#endif
