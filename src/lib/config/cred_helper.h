/*
 * Docker's credential helper protocol: `docker-credential-NAME ACTION`,
 * found on PATH, reads its input on stdin and answers on stdout:
 *   get    in: server URL          out: {"ServerURL","Username","Secret"}
 *   store  in: {"ServerURL","Username","Secret"}
 *   erase  in: server URL
 *   list   in: nothing             out: {"URL": "username", …}
 * A Username of "<token>" means Secret is an identity token.
 */
#ifndef BERTH_LIB_CONFIG_CRED_HELPER_H
#define BERTH_LIB_CONFIG_CRED_HELPER_H

#include "berth/registry.h"

/*
 * Runs the helper. Returns 0 with its stdout in *out (caller frees), 1
 * when it reports "credentials not found", or BERTH_EAUTH naming the
 * helper and what it wrote on failure.
 */
int cred_helper_run(const char *name, const char *action, const char *input,
		    char **out, berth_error **err);

/* get: fills *c (zeroed when the helper has none). */
int cred_helper_get(const char *name, const char *server, berth_credentials *c,
		    berth_error **err);

int cred_helper_store(const char *name, const char *server,
		      const berth_credentials *c, berth_error **err);

/* erase: *found tells whether the helper had them. */
int cred_helper_erase(const char *name, const char *server, bool *found,
		      berth_error **err);

#endif
