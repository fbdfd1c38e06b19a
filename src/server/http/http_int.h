/*
 * Private to src/server/http: the dispatcher's libmicrohttpd callbacks,
 * which the daemon registers.
 */
#ifndef BERTH_SERVER_HTTP_HTTP_INT_H
#define BERTH_SERVER_HTTP_HTTP_INT_H

#include <stdbool.h>

#include <microhttpd.h>

#include "server/server.h"

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

/* ---- conns.c: the deadlines of connections ---- */

/* Starts the sweep thread (before the daemon); stops it (after). */
int srv_conns_start(srv *s, berth_error **err);
void srv_conns_stop(srv *s);

/* MHD's notify-connection callback: a connection starts or is closed. */
void srv_conns_notify(void *cls, struct MHD_Connection *mc,
		      void **socket_context,
		      enum MHD_ConnectionNotificationCode code);

/* The tracked state of a connection (NULL if untracked: then the calls
 * below do nothing). */
srv_conn *srv_conn_of(struct MHD_Connection *mc);

/* The dispatcher's news: headers in, body bytes, body done, answered. */
void srv_conn_headers_in(srv *s, srv_conn *c, bool has_body);
void srv_conn_body(srv_conn *c, size_t len);
void srv_conn_body_done(srv *s, srv_conn *c);
void srv_conn_answered(srv *s, srv_conn *c);

#endif
