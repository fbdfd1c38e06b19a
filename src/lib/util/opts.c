#include "util/opts.h"

#include <ctype.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

int
berth_opts_check(unsigned version, unsigned known, const char *what,
		 berth_error **err)
{
	_cleanup_free_ char *macro = NULL;

	if (version >= 1 && version <= known)
		return 0;
	/* Every such struct berth_x has its BERTH_X_INIT. */
	macro = xasprintf("%s_INIT", what);
	for (char *p = macro; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	berth_error_set(err, BERTH_EUSAGE, 0,
			"%s version %u is not supported (this libberth knows "
			"1 to %u)",
			what, version, known);
	berth_error_hint(err,
			 "initialise the struct with %s and build against "
			 "this libberth's headers",
			 macro);
	return BERTH_EUSAGE;
}
