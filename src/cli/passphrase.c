/*
 * The passphrase of a private key, from where cosign takes it: a file
 * (--passphrase-file), the environment variable COSIGN_PASSWORD (set, even
 * empty, it is the passphrase: what CI pipelines that sign with cosign
 * already have), else a prompt on the terminal without echo.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define PASS_MAX 4096

/* One line from the terminal `fd`, without echo; caller frees. */
static int
ask(char **out, int fd, const char *prompt, berth_error **err)
{
	struct termios old, quiet;
	char buf[PASS_MAX];
	size_t n = 0;
	bool restore = tcgetattr(fd, &old) == 0;

	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	(void)!write(fd, prompt, strlen(prompt));
	while (n < sizeof(buf) - 1) {
		ssize_t r = read(fd, &buf[n], 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || buf[n] == '\n')
			break;
		n++;
	}
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	buf[n] = '\0';
	*out = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static int
from_terminal(char **out, bool confirm, berth_error **err)
{
	_cleanup_close_ int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	_cleanup_free_ char *again = NULL;
	int r;

	if (fd < 0) {
		r = berth_error_set(err, BERTH_EUSAGE, 0,
				    "no passphrase for the private key, and "
				    "no terminal to ask for one");
		berth_error_hint(err, "set COSIGN_PASSWORD or give "
				      "--passphrase-file FILE");
		return r;
	}
	if ((r = ask(out, fd, "Enter password for private key: ", err)) < 0 ||
	    !confirm)
		return r;
	ask(&again, fd, "Enter password for private key again: ", err);
	if (strcmp(*out, again) != 0) {
		explicit_bzero(*out, strlen(*out));
		free(*out);
		*out = NULL;
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "the passwords do not match");
	}
	explicit_bzero(again, strlen(again));
	return 0;
}

int
cli_passphrase(char **out, const char *file, bool confirm, berth_error **err)
{
	const char *env = getenv("COSIGN_PASSWORD");
	size_t len = 0;
	int r;

	if (file) {
		r = berth_file_read(out, &len, file, PASS_MAX, err);
		if (r < 0)
			return berth_error_wrap(err, r, "--passphrase-file");
		/* One line: its newline is not part of the passphrase. */
		if (len && (*out)[len - 1] == '\n')
			(*out)[--len] = '\0';
		if (len && (*out)[len - 1] == '\r')
			(*out)[--len] = '\0';
		if (strlen(*out) != len) {
			free(*out);
			*out = NULL;
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "passphrase file '%s' holds a "
					       "NUL byte",
					       file);
		}
		return 0;
	}
	if (env) {
		*out = xstrdup(env);
		return 0;
	}
	return from_terminal(out, confirm, err);
}

void
cli_passphrase_free(char *p)
{
	if (p) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}
