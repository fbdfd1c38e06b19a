/* NULL-terminated string arrays, as the public API hands them out. */
#include <stdlib.h>

#include "berth/common.h"

void
berth_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}
