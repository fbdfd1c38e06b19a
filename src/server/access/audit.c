/* The audit log (see audit.h). */
#include "server/access/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

struct berth_audit {
	int fd;
};

int
berth_audit_open(berth_audit **out, const char *path, berth_error **err)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot open audit log '%s': %s", path,
				       strerror(errno));
	*out = xcalloc(1, sizeof(**out));
	(*out)->fd = fd;
	return 0;
}

void
berth_audit_free(berth_audit *a)
{
	if (a == NULL)
		return;
	close(a->fd);
	free(a);
}

static void
set_str(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

void
berth_audit_write(berth_audit *a, const berth_audit_event *ev)
{
	json_auto_t *o = json_object();
	_cleanup_free_ char *line = NULL;
	struct timespec now;
	struct tm tm;
	char when[48];
	size_t len;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	len = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + len, sizeof(when) - len, ".%03ldZ",
		 now.tv_nsec / 1000000);
	set_str(o, "time", when);
	set_str(o, "action", ev->action);
	set_str(o, "user", ev->user);
	set_str(o, "actor", ev->actor);
	set_str(o, "ip", ev->ip);
	set_str(o, "repository", ev->repository);
	set_str(o, "reference", ev->reference);
	set_str(o, "digest", ev->digest);
	set_str(o, "detail", ev->detail);
	if (ev->status != 0)
		json_object_set_new(o, "status", json_integer(ev->status));
	json_object_set_new(o, "result",
			    json_string(ev->status < 400 ? "ok"
					: ev->status == 401 ||
							ev->status == 403 ||
							ev->status == 429
						? "denied"
						: "failed"));
	/* Invalid UTF-8 (a hostile name) drops the field, not the line. */
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line == NULL)
		return;
	len = strlen(line);
	line = xrealloc(line, len + 2);
	line[len++] = '\n';
	if (write(a->fd, line, len) < 0)
		(void)0;
}
