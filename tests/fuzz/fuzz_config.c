/*
 * libFuzzer harness for the configuration files berth reads: berth's own
 * config.json, Docker's daemon.json and Docker's config.json (the
 * credentials). The first input byte picks the file, the rest is its
 * content, written to a file in a temporary directory (the readers take
 * paths, as users give them). Besides the sanitizers, it checks:
 * - a refused file fails with BERTH_EUSAGE and a one-line message that
 *   names the file;
 * - every setting `berth config` would list has a key, a value and an
 *   origin;
 * - credentials found are a user name or an identity token.
 * No credential helper runs: fork() below fails as it does when the
 * process table is full (a fork of this process costs a thousand
 * executions), and PATH points at an empty directory besides.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/config.h"
#include "berth/log.h"
#include "berth/registry.h"

#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

pid_t
fork(void)
{
	errno = EAGAIN;
	return -1;
}

static char bin[300], berth_file[300], daemon_json[300];
static char docker_dir[300], docker_json[320], none[300];

static void
setup(void)
{
	const char *tmp = fuzz_tmp_make("config");

	snprintf(bin, sizeof(bin), "%s/bin", tmp);
	snprintf(berth_file, sizeof(berth_file), "%s/berth.json", tmp);
	snprintf(daemon_json, sizeof(daemon_json), "%s/daemon.json", tmp);
	snprintf(docker_dir, sizeof(docker_dir), "%s/docker", tmp);
	snprintf(docker_json, sizeof(docker_json), "%s/config.json",
		 docker_dir);
	snprintf(none, sizeof(none), "%s/none.json", tmp);
	if (mkdir(bin, 0700) < 0 || mkdir(docker_dir, 0700) < 0)
		abort();
	setenv("PATH", bin, 1);
	unsetenv("BERTH_CONFIG");
	unsetenv("BERTH_DAEMON_JSON");
	unsetenv("DOCKER_CONFIG");
	unsetenv("BERTH_CERTS_D");
	signal(SIGPIPE, SIG_IGN);
	/* unknown keys are warned about; not the harness's output */
	berth_log_set_handler(NULL, NULL);
}

static void
put(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

static void
check_error(berth_error *err, const char *path)
{
	if (err == NULL || err->code != BERTH_EUSAGE || err->msg == NULL ||
	    strchr(err->msg, '\n') || strstr(err->msg, path) == NULL)
		abort();
	berth_error_free(err);
}

static void
check_config(const berth_config *c)
{
	for (size_t i = 0; i < c->n_settings; i++)
		if (c->settings[i].key == NULL ||
		    c->settings[i].value == NULL ||
		    c->settings[i].origin == NULL)
			abort();
	for (size_t i = 0; i < c->n_mirrors; i++)
		if (c->mirrors[i].registry == NULL || c->mirrors[i].url == NULL)
			abort();
	if (c->retries < 0 || c->read_timeout < 0 || c->connect_timeout_ms < 0)
		abort();
}

static void
credentials(const berth_config *c)
{
	static const char *const hosts[] = {"docker.io", "localhost:5000",
					    "ghcr.io", "[::1]:5000",
					    "registry.example.com"};

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		berth_credentials cred = BERTH_CREDENTIALS_INIT;
		berth_error *err = NULL;
		char *from = NULL;

		if (berth_config_get_credentials(&cred, &from, c, hosts[i],
						 &err) < 0) {
			/* no helper can be run: EIO (fork), EAUTH */
			if (err == NULL || err->msg == NULL ||
			    strchr(err->msg, '\n') ||
			    (err->code != BERTH_EUSAGE &&
			     err->code != BERTH_EAUTH &&
			     err->code != BERTH_EIO))
				abort();
			berth_error_free(err);
		} else if (cred.username || cred.identity_token) {
			if (from == NULL)
				abort();
		}
		free(from);
		berth_credentials_release(&cred);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	berth_config_paths p = BERTH_CONFIG_PATHS_INIT;
	berth_config c = BERTH_CONFIG_INIT;
	berth_error *err = NULL;
	const char *path;
	int which;

	if (size == 0)
		return 0;
	if (fuzz_tmp[0] == '\0')
		setup();
	which = data[0] % 3;
	path = which == 0 ? berth_file : which == 1 ? daemon_json : docker_json;
	put(path, data + 1, size - 1);
	p.config = which == 0 ? berth_file : none;
	p.daemon_json = which == 1 ? daemon_json : none;
	p.docker_config = docker_dir;
	p.certs_d = fuzz_tmp;
	if (berth_config_load_paths(&c, &p, &err) < 0) {
		if (which == 2)
			abort(); /* config.json is read only for credentials */
		check_error(err, path);
	} else {
		check_config(&c);
		if (which == 2)
			credentials(&c);
		berth_config_release(&c);
	}
	unlink(path);
	return 0;
}
