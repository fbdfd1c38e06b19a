/* GET /metrics: the registry (ops/metrics.h) in the Prometheus text
 * format; who may read it is authorize.c's business. */
#include "server/ops/metrics.h"
#include "server/server.h"

int
h_metrics_get(srv_req *r)
{
	berth_buf b = BERTH_BUF_INIT;
	size_t len;

	srv_metrics_render(&b);
	len = b.len;
	return srv_send_body(r, MHD_HTTP_OK, SRV_METRICS_CONTENT_TYPE,
			     berth_buf_detach(&b), len);
}
