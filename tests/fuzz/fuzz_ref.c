/*
 * libFuzzer harness for berth_ref_parse. Besides the sanitizers, it checks
 * that the canonical string of a parsed reference and its familiar form
 * both parse back to the same reference.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "berth/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_roundtrip(const berth_ref *r)
{
	berth_ref *again = NULL, *fam = NULL, *dup;
	berth_error *err = NULL;
	char *s = berth_ref_string(r), *s2 = NULL, *f = berth_ref_familiar(r);

	if (berth_ref_parse(&again, s, &err) != 0)
		abort(); /* the canonical form must parse */
	s2 = berth_ref_string(again);
	if (strcmp(s, s2) != 0)
		abort(); /* and be a fixed point */
	if (berth_ref_parse(&fam, f, &err) != 0)
		abort(); /* the familiar form must parse too */
	free(s2);
	s2 = berth_ref_string(fam);
	if (strcmp(s, s2) != 0)
		abort(); /* to the same reference */
	if (berth_ref_reference(r) == NULL)
		abort(); /* berth_ref_parse always yields a tag or digest */
	dup = berth_ref_dup(r);
	free(berth_ref_name(dup));
	(void)berth_ref_api_host(dup);
	berth_ref_free(dup);
	berth_ref_free(again);
	berth_ref_free(fam);
	free(s);
	free(s2);
	free(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	berth_ref *r = NULL;
	berth_error *err = NULL;

	berth_ref *r2 = NULL;
	int rc, rc2;

	memcpy(s, data, size);
	s[size] = '\0';
	rc = berth_ref_parse(&r, s, &err);
	rc2 = berth_ref_parse(&r2, s, NULL); /* same code without an error */
	if (rc != rc2)
		abort();
	berth_ref_free(r2);
	if (rc == 0) {
		check_roundtrip(r);
		berth_ref_free(r);
	} else {
		/* messages stay one line */
		if (err == NULL || err->code != BERTH_EREF ||
		    strchr(err->msg, '\n'))
			abort();
		berth_error_free(err);
	}
	free(s);
	return 0;
}
