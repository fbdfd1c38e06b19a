/*
 * berth serve's audit log: one JSON object per line for every push, pull,
 * delete, login (token issued or refused) and denial:
 *
 *   {"time":"2026-05-01T12:00:00.123Z","action":"pull","user":"alice",
 *    "ip":"10.0.0.7","repository":"team/app","reference":"v1",
 *    "digest":"sha256:…","status":200,"result":"ok"}
 *
 * A deletion by a job of the server has an "actor" ("retention") instead
 * of a user and address, its policy in "detail" and no status.
 *
 * Lines are written with one write(2) each, so concurrent requests never
 * mix. Passwords and tokens are never among the fields.
 */
#ifndef BERTH_SERVER_ACCESS_AUDIT_H
#define BERTH_SERVER_ACCESS_AUDIT_H

#include "berth/common.h"

typedef struct berth_audit berth_audit;

/* Opens (appending, creating 0640) the log file. */
int berth_audit_open(berth_audit **out, const char *path, berth_error **err);
void berth_audit_free(berth_audit *a);

typedef struct berth_audit_event {
	const char *action; /* push, pull, delete, login, denied */
	const char *user;   /* or NULL */
	const char *actor;  /* a job of the server (gc, retention), or NULL */
	const char *ip;
	const char *repository; /* or NULL */
	const char *reference;	/* tag or digest asked for, or NULL */
	const char *digest;	/* content digest answered, or NULL */
	const char *detail;	/* e.g. the refused action, or NULL */
	unsigned status;	/* HTTP status; 0 for a job (not written) */
} berth_audit_event;

void berth_audit_write(berth_audit *a, const berth_audit_event *ev);

#endif
