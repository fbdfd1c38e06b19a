/*
 * Debian version order: libdpkg's own parser and comparison (deb-version(5)),
 * never a copy of them.
 *
 * libdpkg is only a static library, built without -fPIC, so it can be
 * linked into programs and libberth.a but not into libberth.so: the shared
 * library refers to its two functions weakly (BERTH_PIC, set by the
 * Makefile for those objects) and answers BERTH_EUNSUPPORTED when the
 * program loading it did not link them.
 */
#define LIBDPKG_VOLATILE_API 1

#include <dpkg/dpkg-db.h>
#include <dpkg/dpkg.h>
#include <dpkg/error.h>
#include <dpkg/version.h>
#include <pthread.h>
#include <string.h>

#include "util/error.h"
#include "vuln/vuln_int.h"

#ifdef BERTH_PIC
#pragma weak parseversion
#pragma weak dpkg_version_compare
#pragma weak dpkg_error_destroy
#pragma weak nffreeall
#endif

/* parseversion copies into one process-wide pool (not thread-safe), which
 * is emptied after each comparison so that a long-running scanner does
 * not grow. */
static pthread_mutex_t dpkg_lock = PTHREAD_MUTEX_INITIALIZER;

static int
parse(struct dpkg_version *v, const char *s, berth_error **err)
{
	struct dpkg_error derr = DPKG_ERROR_INIT;

	if (strlen(s) > VULN_VERSION_MAX)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "Debian version '%.40s...' is longer "
				       "than %d bytes",
				       s, VULN_VERSION_MAX);
	/* a warning (a version not starting with a digit) still fills v,
	 * and dpkg --compare-versions goes on comparing: so do we */
	if (parseversion(v, s, &derr) < 0 && derr.type != DPKG_MSG_WARN) {
		int r = berth_error_set(err, BERTH_EUSAGE, 0,
					"invalid Debian version '%s': %s", s,
					derr.str ? derr.str : "does not parse");

		dpkg_error_destroy(&derr);
		return r;
	}
	dpkg_error_destroy(&derr);
	return 0;
}

int
vuln_cmp_deb(int *out, const char *a, const char *b, berth_error **err)
{
	struct dpkg_version va, vb;
	int r;

#ifdef BERTH_PIC
	if (parseversion == NULL || dpkg_version_compare == NULL ||
	    nffreeall == NULL || dpkg_error_destroy == NULL) {
		berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				"Debian version order needs libdpkg, which "
				"this program does not link");
		berth_error_hint(err, "link the program with libberth.a and "
				      "-ldpkg (pkg-config --static berth)");
		return BERTH_EUNSUPPORTED;
	}
#endif
	pthread_mutex_lock(&dpkg_lock);
	r = a ? parse(&va, a, err) : 0;
	if (r == 0 && b)
		r = parse(&vb, b, err);
	if (r == 0)
		*out = a && b ? dpkg_version_compare(&va, &vb) : 0;
	nffreeall();
	pthread_mutex_unlock(&dpkg_lock);
	return r;
}
