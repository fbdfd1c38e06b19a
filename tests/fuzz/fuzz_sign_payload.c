/*
 * libFuzzer harness for berth_sign_payload_parse (a signature's payload
 * blob, as a registry hands it over). Besides the sanitizers, it checks
 * that an accepted payload names a valid digest, that berth's own payload
 * for what it names parses back to the same fields, and that a refusal is
 * BERTH_EPROTO with a one-line message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "berth/digest.h"
#include "berth/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	berth_sign_payload_info info = {0}, again = {0};
	berth_error *err = NULL;
	char *mine;
	int r;

	r = berth_sign_payload_parse(&info, (const char *)data, size, &err);
	if (r != 0) {
		if (r != BERTH_EPROTO || err == NULL || err->msg == NULL ||
		    strchr(err->msg, '\n'))
			abort();
		berth_error_free(err);
		return 0;
	}
	if (err || !berth_digest_valid(info.digest) ||
	    info.docker_reference == NULL)
		abort();
	mine = berth_sign_payload(info.docker_reference, info.digest);
	if (berth_sign_payload_parse(&again, mine, strlen(mine), NULL) != 0 ||
	    strcmp(again.digest, info.digest) != 0 ||
	    strcmp(again.docker_reference, info.docker_reference) != 0 ||
	    again.optional != NULL)
		abort();
	free(mine);
	berth_sign_payload_info_release(&again);
	berth_sign_payload_info_release(&info);
	return 0;
}
