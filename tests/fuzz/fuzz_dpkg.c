/*
 * libFuzzer harness for the SBOM's package database parsers: dpkg's
 * status file (and status.d), and the apk database and Python metadata
 * that share its "Key: value" stanzas. The first byte picks the parser
 * (modulo 3: 0 dpkg, 1 apk, 2 Python metadata); the rest is the file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sbom/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	berth_sbom_list l = {NULL, 0, 0};
	const char *p = (const char *)data + 1;
	size_t len, total = 0;

	if (size < 1)
		return 0;
	len = size - 1;
	switch (data[0] % 3) {
	case 0:
		berth_sbom_parse_dpkg(&l, p, len);
		break;
	case 1:
		berth_sbom_parse_apk(&l, p, len);
		break;
	default:
		berth_sbom_parse_python(&l, p, len);
		break;
	}
	/* Every package has a name and a version, and what is kept is
	 * never more than the input: no growth beyond it. */
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].name == NULL || l.v[i].version == NULL)
			abort();
		total += strlen(l.v[i].name) + strlen(l.v[i].version);
		if (l.v[i].source)
			total += strlen(l.v[i].source);
	}
	if (total > len)
		abort();
	berth_sbom_list_release(&l);
	return 0;
}
