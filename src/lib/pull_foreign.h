/*
 * Non-distributable (foreign) layers of berth pull: a registry need not
 * hold them, their descriptor's `urls` say where they are. berth refuses
 * them unless the registry is listed in allow-nondistributable-artifacts
 * (the setting docker and containers-image use for such layers), and
 * then fetches them from those URLs, checking size and digest as for any
 * blob. A foreign layer without URLs is fetched from the registry.
 */
#ifndef BERTH_LIB_PULL_FOREIGN_H
#define BERTH_LIB_PULL_FOREIGN_H

#include <stdbool.h>

#include "berth/common.h"
#include "berth/manifest.h"
#include "berth/store.h"

/* True for a layer of a non-distributable media type with URLs. */
bool pull_foreign_has_urls(const berth_descriptor *d);

/* The refusal: names the layer and the setting that allows it for
 * `host`. */
int pull_foreign_refuse(const berth_descriptor *d, const char *host,
			berth_error **err);

/* Downloads d from its URLs, in order, into w (empty) and commits it:
 * the first that gives the right bytes wins. */
int pull_foreign_fetch(berth_blob_writer *w, const berth_descriptor *d,
		       berth_error **err);

#endif
