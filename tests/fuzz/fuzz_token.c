/*
 * libFuzzer harness for berth serve's token verification: whatever a
 * client puts in "Authorization: Bearer …" goes through berth_jwt_verify.
 * Besides the sanitizers it checks that nothing but a token the harness's
 * own key signed is ever accepted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/access/jwt.h"

#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static berth_jwt_keys *keys;

static void
setup(void)
{
	const char *dir = fuzz_tmp_make("token");
	char key[300];
	berth_error *err = NULL;

	keys = berth_jwt_keys_new();
	if (berth_jwt_keys_load_dir(keys, dir, &err) != 0)
		abort();
	/* The key now lives in memory only. */
	snprintf(key, sizeof(key), "%s/signing.pem", dir);
	unlink(key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	berth_jwt_check check = {
		.algs = BERTH_JWT_ES256 | BERTH_JWT_RS256,
		.issuer = "berth",
		.audience = "berth",
		.now = (int64_t)time(NULL),
		.skew = 30,
	};
	berth_error *err = NULL;
	json_t *claims = NULL;
	char *token = malloc(size + 1);

	if (keys == NULL)
		setup();
	memcpy(token, data, size);
	token[size] = '\0';
	if (berth_jwt_verify(&claims, keys, token, &check, &err) == 0)
		abort(); /* random bytes are never a token signed by our key */
	json_decref(claims);
	berth_error_free(err);
	free(token);
	return 0;
}
