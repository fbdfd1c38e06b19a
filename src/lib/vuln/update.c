/*
 * berth scan --update: one OSV all.zip downloaded into the database
 * directory. The file is written beside its final name and renamed over
 * it only once it is complete and loads, so a scan running meanwhile
 * reads the old database or the new one, never half of one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/log.h"
#include "http/http.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"
#include "vuln/vuln_int.h"

/* The largest all.zip OSV publishes is a few hundred MiB. */
#define ZIP_MAX ((int64_t)2 << 30)

typedef struct sink_state {
	int fd;
	int64_t n;
	const char *path;
} sink_state;

static int
sink(void *ud, const void *p, size_t len, berth_error **err)
{
	sink_state *s = ud;

	s->n += (int64_t)len;
	if (s->n > ZIP_MAX)
		return berth_error_set(err, BERTH_ETOOBIG, 0,
				       "the download is over 2 GiB");
	if (berth_write_full(s->fd, p, len) != 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot write '%s': %s", s->path,
				       strerror(errno));
	return 0;
}

/* ".../Debian/all.zip" -> "Debian.zip"; ".../x.zip" -> "x.zip" */
static char *
file_name(const char *url)
{
	const char *end = url + strcspn(url, "?#"), *slash, *prev;
	size_t n;

	slash = memrchr(url, '/', (size_t)(end - url));
	if (slash == NULL || slash + 1 >= end)
		return NULL;
	if ((size_t)(end - slash - 1) == 7 &&
	    strncmp(slash + 1, "all.zip", 7) == 0) {
		prev = memrchr(url, '/', (size_t)(slash - url));
		if (prev == NULL || prev + 1 >= slash || prev[-1] == '/')
			return NULL;
		n = (size_t)(slash - prev - 1);
		return xasprintf("%.*s.zip", (int)n, prev + 1);
	}
	n = (size_t)(end - slash - 1);
	if (n < 5 || strncmp(end - 4, ".zip", 4) != 0)
		return NULL;
	return xstrndup(slash + 1, n);
}

int
berth_vuln_db_update(char **saved_path, const char *dir, const char *url,
		     berth_error **err)
{
	berth_http_opts ho = {.user_agent = "berth/0.1"};
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	berth_http_resp resp;
	berth_http *h;
	berth_vuln_db *db = NULL;
	_cleanup_free_ char *name = NULL, *path = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -1;
	sink_state st;
	int r;

	if (strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "--update URL '%s' is not http or https",
				       url);
	if ((name = file_name(url)) == NULL || strchr(name, '/') ||
	    name[0] == '.') {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"--update URL '%s' does not end in "
				"ECOSYSTEM/all.zip or NAME.zip",
				url);
		berth_error_hint(err, "e.g. https://osv-vulnerabilities."
				      "storage.googleapis.com/Debian/all.zip");
		return BERTH_EUSAGE;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot create '%s': %s", dir,
				       strerror(errno));
	path = xasprintf("%s/%s", dir, name);
	tmp = xasprintf("%s/.%s.tmp.%d", dir, name, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot create '%s': %s", tmp,
				       strerror(errno));
	st = (sink_state){fd, 0, tmp};
	h = berth_http_new(&ho);
	req.url = url;
	req.peer = "advisory server";
	req.follow = true;
	req.sink = sink;
	req.sink_ud = &st;
	berth_http_resp_init(&resp);
	r = berth_http_do(h, &req, &resp, err);
	if (r == 0 && (resp.status < 200 || resp.status > 299))
		r = berth_error_set(
			err,
			resp.status == 404 ? BERTH_ENOTFOUND : BERTH_ESERVER, 0,
			"'%s' answered HTTP %ld", url, resp.status);
	berth_http_resp_release(&resp);
	berth_http_free(h);
	if (r == 0 && fsync(fd) < 0)
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot write '%s': %s", tmp,
				    strerror(errno));
	if (r == 0 && (r = berth_vuln_db_open(&db, tmp, err)) == 0) {
		if (berth_vuln_db_count(db) == 0 &&
		    berth_vuln_db_skipped(db) > 0)
			r = berth_error_set(err, BERTH_EPROTO, 0,
					    "'%s' holds no advisory berth can "
					    "read",
					    url);
		berth_vuln_db_free(db);
	}
	if (r == 0 && rename(tmp, path) < 0)
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot rename '%s' to '%s': %s", tmp, path,
				    strerror(errno));
	if (r < 0) {
		unlink(tmp);
		return berth_error_wrap(err, r, "updating from '%s'", url);
	}
	berth_fsync_dir(dir);
	*saved_path = steal_ptr(&path);
	return 0;
}
