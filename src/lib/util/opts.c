#include "util/opts.h"

#include "util/error.h"

int
berth_opts_check(unsigned version, unsigned known, const char *what,
		 berth_error **err)
{
	if (version >= 1 && version <= known)
		return 0;
	berth_error_set(err, BERTH_EUSAGE, 0,
			"%s version %u is not supported (this libberth knows "
			"1 to %u)",
			what, version, known);
	berth_error_hint(err, "initialise the struct with its _INIT macro and "
			      "build against this libberth's headers");
	return BERTH_EUSAGE;
}
