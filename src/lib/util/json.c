/* JSON helpers (json.h). */
#include "util/json.h"

#include <string.h>

#include "util/str.h"

#define JSON_WHY_MAX 160

char *
berth_json_why(const json_error_t *e)
{
	return berth_str_quote(e->text, strnlen(e->text, sizeof(e->text)),
			       JSON_WHY_MAX);
}
