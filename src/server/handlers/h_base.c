/* GET /v2/: the API version check (and the authentication probe). */
#include "server/server.h"
#include "util/xalloc.h"

int
h_base_get(srv_req *r)
{
	return srv_send_body(r, MHD_HTTP_OK, "application/json", xstrdup("{}"),
			     2);
}
