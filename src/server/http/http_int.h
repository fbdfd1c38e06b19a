/*
 * Private to src/server/http: the dispatcher's libmicrohttpd callbacks,
 * which the daemon registers.
 */
#ifndef BERTH_SERVER_HTTP_HTTP_INT_H
#define BERTH_SERVER_HTTP_HTTP_INT_H

#include <microhttpd.h>

/* MHD's URI-log callback: makes the request's context from the raw path. */
void *srv_dispatch_uri(void *cls, const char *uri, struct MHD_Connection *conn);

/* MHD's access handler: headers, then each body chunk, then the end. */
enum MHD_Result srv_dispatch_request(void *cls, struct MHD_Connection *conn,
				     const char *url, const char *method,
				     const char *version,
				     const char *upload_data,
				     size_t *upload_data_size, void **con_cls);

/* MHD's completion callback: the access log, the audit line, the free. */
void srv_dispatch_completed(void *cls, struct MHD_Connection *conn,
			    void **con_cls,
			    enum MHD_RequestTerminationCode toe);

#endif
