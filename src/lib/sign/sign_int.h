/* What the files of the signature module share. */
#ifndef BERTH_LIB_SIGN_SIGN_INT_H
#define BERTH_LIB_SIGN_SIGN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "berth/sign.h"
#include "sign/sigcheck.h"

struct berth_sign_key {
	EVP_PKEY *pkey;
	bool private_key;
};

/* Standard base64 with padding (what Go's encoding/json writes for
 * []byte and cosign's annotation holds); caller frees. */
char *sign_b64_encode(const void *p, size_t len);

/* Decodes standard padded base64 into *out (caller frees, *len bytes);
 * -1 when `s` is not that. */
int sign_b64_decode(unsigned char **out, size_t *len, const char *s);

#endif
