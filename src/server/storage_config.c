/* berth serve's s3-* settings into the S3 blob store's options. */
#include "server/storage_config.h"

#include <string.h>

int
srv_storage_open_cfg(srv_storage **out, const berth_serve_config *c, int conns,
		     berth_error **err)
{
	berth_s3_opts o = {0};

	if (c->s3_bucket == NULL)
		return srv_storage_open_with(out, c->storage, NULL, c->metadata,
					     conns, err);
	o.endpoint = c->s3_endpoint;
	o.bucket = c->s3_bucket;
	o.prefix = c->s3_prefix;
	o.region = c->s3_region;
	/* AWS wants virtual hosts; other stores mostly take paths. */
	o.path_style = c->s3_addressing ? strcmp(c->s3_addressing, "path") == 0
					: c->s3_endpoint != NULL;
	o.access_key = c->s3_access_key;
	o.secret_key = c->s3_secret_key;
	o.session_token = c->s3_session_token;
	o.ca_file = c->s3_ca_file;
	o.redirect = c->s3_redirect != 0;
	o.redirect_ttl = c->s3_redirect_ttl;
	o.part_size = c->s3_part_size;
	return srv_storage_open_with(out, c->storage, &o, c->metadata, conns,
				     err);
}
