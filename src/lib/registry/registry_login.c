/*
 * berth_registry_login: checks credentials with a /v2/ ping, offline from
 * the credential store, and takes the identity token the registry gave.
 */
#include "registry/registry.h"

#include "registry/auth.h"

int
berth_registry_login(char **out, berth_registry *r, berth_error **err)
{
	int rc;

	*out = NULL;
	berth_auth_set_offline(r->auth, true);
	rc = berth_registry_ping(r, err);
	if (rc == 0)
		*out = berth_auth_take_refresh_token(r->auth);
	return rc;
}
