/*
 * libFuzzer harness for the certs.d reader (berth_certs_lookup). The
 * input's first line is the registry host, each further line a file name
 * created (empty) in certs.d/<host>/ of a temporary directory. Besides
 * the sanitizers, it checks:
 * - a host that could leave certs.d ('/', "..") finds nothing;
 * - every CA file is a *.crt of the host's directory, and a client
 *   certificate is a *.cert whose *.key was found beside it;
 * - a refused directory is BERTH_ETLS with a one-line message naming the
 *   file at fault, and leaves nothing to release.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/config.h"

#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FILES 32
#define MAX_NAME 64

static char certs_d[300];

static void
empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[600];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) < 0 && errno == EISDIR)
			rmdir(path);
	}
	closedir(d);
}

/* certs.d holds at most one level of directories: the hosts. */
static void
empty_certs_d(void)
{
	DIR *d = opendir(certs_d);
	struct dirent *e;
	char path[600];

	if (d == NULL)
		abort();
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", certs_d, e->d_name);
		empty_dir(path);
		if (rmdir(path) < 0)
			unlink(path);
	}
	closedir(d);
}

static void
setup(void)
{
	const char *tmp = fuzz_tmp_make("certs");

	snprintf(certs_d, sizeof(certs_d), "%s/certs.d", tmp);
	if (mkdir(certs_d, 0700) < 0)
		abort();
}

static bool
name_ok(const char *s)
{
	return *s && strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
	       strcmp(s, "..") != 0;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && strcmp(s + n - k, suffix) == 0;
}

/* `path` is DIR/NAME with NAME one of the files created. */
static bool
in_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && path[n] == '/' &&
	       name_ok(path + n + 1) && access(path, F_OK) == 0;
}

static void
check(const berth_certs *c, const char *host, bool host_ok)
{
	if (!host_ok) {
		if (c->n_ca_files || c->client_cert || c->client_key)
			abort();
		return;
	}
	if (c->ca_files == NULL || c->ca_files[c->n_ca_files] != NULL)
		abort();
	for (size_t i = 0; i < c->n_ca_files; i++)
		if (!ends_with(c->ca_files[i], ".crt") ||
		    !in_dir(c->ca_files[i], c->dir))
			abort();
	if ((c->client_cert == NULL) != (c->client_key == NULL))
		abort();
	if (c->client_cert &&
	    (!ends_with(c->client_cert, ".cert") ||
	     !ends_with(c->client_key, ".key") ||
	     !in_dir(c->client_cert, c->dir) || !in_dir(c->client_key, c->dir)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char host[MAX_NAME + 1], name[MAX_NAME + 1], dir[400], path[500];
	berth_certs c = BERTH_CERTS_INIT;
	berth_error *err = NULL;
	size_t i = 0, n, files = 0;
	bool host_ok;

	if (fuzz_tmp[0] == '\0')
		setup();
	/* the first line, NUL-free and bounded, is the host */
	for (n = 0; i < size && data[i] != '\n'; i++)
		if (n < MAX_NAME && data[i] != '\0')
			host[n++] = (char)data[i];
	host[n] = '\0';
	i++;
	host_ok = name_ok(host);
	snprintf(dir, sizeof(dir), "%s/%s", certs_d, host);
	if (host_ok && mkdir(dir, 0700) < 0)
		abort();
	while (host_ok && i < size && files < MAX_FILES) {
		int fd;

		for (n = 0; i < size && data[i] != '\n'; i++)
			if (n < MAX_NAME && data[i] != '\0')
				name[n++] = (char)data[i];
		name[n] = '\0';
		i++;
		if (!name_ok(name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			abort();
		close(fd);
		files++;
	}
	if (berth_certs_lookup(&c, certs_d, host, &err) < 0) {
		if (err == NULL || err->code != BERTH_ETLS ||
		    strchr(err->msg, '\n') || strstr(err->msg, dir) == NULL ||
		    c.dir || c.ca_files || c.client_cert)
			abort();
		berth_error_free(err);
	} else {
		check(&c, host, host_ok);
		berth_certs_release(&c);
	}
	empty_certs_d();
	return 0;
}
