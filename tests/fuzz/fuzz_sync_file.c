/*
 * libFuzzer harness for berth_sync_list_parse (berth sync's YAML or JSON
 * file). Besides the sanitizers, it checks that a refusal is BERTH_EUSAGE
 * with a one-line message naming a line, and that an accepted file holds
 * at least one repository, each with a registry, a name and valid tags.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "berth/ref.h"
#include "berth/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	berth_sync_list *l = NULL;
	berth_error *err = NULL;
	int rc = berth_sync_list_parse(&l, (const char *)data, size, "fuzz",
				       &err);

	if (rc == 0) {
		if (err != NULL || l == NULL || l->n == 0)
			abort();
		for (size_t i = 0; i < l->n; i++) {
			const berth_sync_repo *r = &l->repos[i];

			if (!r->registry || !r->repo || !r->dest_name)
				abort();
			for (size_t k = 0; k < r->n_tags; k++)
				if (!berth_ref_tag_valid(r->tags[k]))
					abort();
		}
	} else if (rc != BERTH_EUSAGE || l != NULL || err == NULL ||
		   err->msg == NULL || strchr(err->msg, '\n') ||
		   strstr(err->msg, "line ") == NULL) {
		abort();
	}
	berth_sync_list_free(l);
	berth_error_free(err);
	return 0;
}
