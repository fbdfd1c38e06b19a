/* Running docker-credential-* helpers (see cred_helper.h). */
#include "config/cred_helper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"

#define HELPER_OUTPUT_MAX ((size_t)64 << 10)

static bool
name_valid(const char *name)
{
	if (name == NULL || *name == '\0' || strlen(name) > 64)
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == '\0' || (unsigned char)*p < 0x21)
			return false;
	return true;
}

/* Writes `in` to fd and reads the child's output into *b until EOF. */
static int
exchange(int in_fd, int out_fd, const char *in, berth_buf *b)
{
	size_t off = 0, len = in ? strlen(in) : 0;
	char chunk[4096];

	while (off < len) {
		ssize_t n = write(in_fd, in + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the helper closed stdin: read what it says */
		off += (size_t)n;
	}
	close(in_fd);
	for (;;) {
		ssize_t n = read(out_fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (berth_buf_put(b, chunk, (size_t)n, NULL) < 0)
			return -1;
	}
	return 0;
}

/* The helper's message, one line, for an error. */
static char *
one_line(const char *s)
{
	char *t = xstrndup(s ? s : "", 200);
	size_t n;

	for (char *p = t; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	n = strlen(t);
	while (n > 0 && t[n - 1] == ' ')
		t[--n] = '\0';
	return t;
}

int
cred_helper_run(const char *name, const char *action, const char *input,
		char **out, berth_error **err)
{
	_cleanup_free_ char *prog = NULL, *msg = NULL;
	_cleanup_buf_ berth_buf b = BERTH_BUF_INIT;
	int in[2] = {-1, -1}, outp[2] = {-1, -1};
	int status = 0, r = 0;
	pid_t pid;

	*out = NULL;
	if (!name_valid(name)) {
		_cleanup_free_ char *shown = berth_str_quote(
			name ? name : "", name ? strlen(name) : 0, 64);

		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid credential helper name '%s'",
				       shown);
	}
	prog = xasprintf("docker-credential-%s", name);
	berth_buf_init(&b, HELPER_OUTPUT_MAX);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot run '%s': %s", prog,
				    strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot run '%s': %s", prog,
				    strerror(errno));
		goto out;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		dup2(outp[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execlp(prog, prog, action, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	exchange(in[1], outp[0], input, &b);
	in[1] = -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	msg = one_line(b.ptr);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && (b.len == 0)) {
		r = berth_error_set(err, BERTH_EAUTH, 0,
				    "credential helper '%s' not found", prog);
		berth_error_hint(err,
				 "install '%s' on PATH, or remove it from "
				 "credsStore/credHelpers in config.json",
				 prog);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (strstr(msg, "credentials not found") ||
		    strstr(msg, "could not be found"))
			r = 1;
		else
			r = berth_error_set(err, BERTH_EAUTH, 0,
					    "credential helper '%s %s' failed: "
					    "%s",
					    prog, action,
					    *msg ? msg : "no message");
	} else {
		*out = berth_buf_detach(&b);
		if (*out == NULL)
			*out = xstrdup("");
	}
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	if (b.ptr)
		explicit_bzero(b.ptr, b.len);
	return r;
}

int
cred_helper_get(const char *name, const char *server, berth_credentials *c,
		berth_error **err)
{
	_cleanup_free_ char *out = NULL;
	json_auto_t *root = NULL;
	const char *user, *secret;
	int r;

	memset(c, 0, sizeof(*c));
	r = cred_helper_run(name, "get", server, &out, err);
	if (r != 0)
		return r > 0 ? 0 : r;
	root = json_loads(out, 0, NULL);
	explicit_bzero(out, strlen(out));
	user = json_string_value(json_object_get(root, "Username"));
	secret = json_string_value(json_object_get(root, "Secret"));
	if (!json_is_object(root) || secret == NULL)
		return berth_error_set(err, BERTH_EAUTH, 0,
				       "credential helper "
				       "'docker-credential-%s' sent an invalid "
				       "answer for '%s'",
				       name, server);
	if (user && strcmp(user, "<token>") == 0) {
		c->identity_token = xstrdup(secret);
	} else {
		c->username = xstrdup(user ? user : "");
		c->password = xstrdup(secret);
	}
	return 0;
}

int
cred_helper_store(const char *name, const char *server,
		  const berth_credentials *c, berth_error **err)
{
	json_auto_t *o = json_object();
	_cleanup_free_ char *in = NULL, *out = NULL;
	bool token = c->identity_token && *c->identity_token;
	int r;

	json_object_set_new(o, "ServerURL", json_string(server));
	json_object_set_new(o, "Username",
			    json_string(token ? "<token>" : c->username));
	json_object_set_new(
		o, "Secret",
		json_string(token ? c->identity_token : c->password));
	in = json_dumps(o, JSON_COMPACT);
	r = cred_helper_run(name, "store", in, &out, err);
	explicit_bzero(in, strlen(in));
	if (r > 0)
		r = berth_error_set(err, BERTH_EAUTH, 0,
				    "credential helper 'docker-credential-%s' "
				    "did not store the credentials",
				    name);
	return r;
}

int
cred_helper_erase(const char *name, const char *server, bool *found,
		  berth_error **err)
{
	_cleanup_free_ char *out = NULL;
	int r = cred_helper_run(name, "erase", server, &out, err);

	*found = r == 0;
	return r > 0 ? 0 : r;
}
