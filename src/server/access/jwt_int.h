/* Internals shared by jwt.c and jwt_keys.c. Not an interface. */
#ifndef BERTH_SERVER_ACCESS_JWT_INT_H
#define BERTH_SERVER_ACCESS_JWT_INT_H

#include <openssl/evp.h>

#include "server/access/jwt.h"

#define JWT_KID_MAX 64

typedef struct jwt_key {
	EVP_PKEY *pkey;
	unsigned alg; /* the one enum berth_jwt_alg this key verifies */
	bool priv;
	char kid[JWT_KID_MAX];
} jwt_key;

struct berth_jwt_keys {
	jwt_key *keys;
	size_t n;
	int signer; /* index of the signing key, when has_signer */
	bool has_signer;
};

#endif
