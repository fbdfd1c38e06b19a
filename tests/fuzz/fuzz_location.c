/*
 * libFuzzer harness for berth_location_parse (copy's SOURCE and
 * DESTINATION). Besides the sanitizers, it checks that a parsed location's
 * string parses back to the same location, and that a refusal is one line
 * with the code the parser documents.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "berth/copy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	berth_location *l = NULL, *again = NULL;
	berth_error *err = NULL;
	int rc;

	memcpy(s, data, size);
	s[size] = '\0';
	rc = berth_location_parse(&l, s, &err);
	if (rc == 0) {
		char *str = berth_location_string(l), *str2;

		if (err != NULL || berth_location_parse(&again, str, NULL) != 0)
			abort(); /* the canonical form parses */
		str2 = berth_location_string(again);
		if (strcmp(str, str2) != 0 || again->kind != l->kind)
			abort(); /* to the same location */
		if (l->kind == BERTH_LOCATION_OCI && l->path[0] == '\0')
			abort();
		if (l->kind == BERTH_LOCATION_REGISTRY && l->ref == NULL)
			abort();
		free(str);
		free(str2);
		berth_location_free(again);
		berth_location_free(l);
	} else {
		if (l != NULL || err == NULL || strchr(err->msg, '\n') ||
		    (err->code != BERTH_EUSAGE && err->code != BERTH_EREF) ||
		    err->code != rc)
			abort();
		berth_error_free(err);
	}
	free(s);
	return 0;
}
