/*
 * berth serve's options for the completion scripts, read from
 * `berth-serve --help-options`: its settings table lives in the server
 * program, which berth does not link.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define SERVE_OPTIONS_MAX ((size_t)1 << 20)

extern char **environ;

/* berth-serve's standard output for `args`; fails unless it exits 0. */
static int
run_output(berth_buf *out, char *const args[], berth_error **err)
{
	posix_spawn_file_actions_t fa;
	char chunk[4096];
	int fds[2], status, e, r = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(fds) < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot make a pipe: %s",
				       strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	e = posix_spawn(&pid, args[0], &fa, NULL, args, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (e != 0) {
		close(fds[0]);
		return berth_error_set(err, BERTH_EIO, e, "cannot run '%s': %s",
				       args[0], strerror(e));
	}
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0 && r == 0)
		r = berth_buf_put(out, chunk, (size_t)n, err);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return r;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return berth_error_set(err, BERTH_EIO, 0,
				       "'%s %s' failed (status %d)", args[0],
				       args[1], status);
	return 0;
}

void
cli_serve_options_free(cli_option *opts)
{
	for (cli_option *o = opts; o && o->name; o++) {
		free((char *)o->name);
		free((char *)o->arg);
		free((char *)o->help);
	}
	free(opts);
}

/* One line "NAME<TAB>ARG<TAB>HELP" as a row; -1 if it is not one. */
static int
parse_line(cli_option *o, char *line, int key)
{
	char *tab1 = strchr(line, '\t'), *tab2;

	if (tab1 == NULL || (tab2 = strchr(tab1 + 1, '\t')) == NULL ||
	    tab1 == line)
		return -1;
	*tab1 = *tab2 = '\0';
	o->key = key;
	o->name = xstrdup(line);
	o->arg = tab2 > tab1 + 1 ? xstrdup(tab1 + 1) : NULL;
	/* The completion offers files and directories by the value's name,
	 * as --help writes it. */
	o->flags = o->arg && strcmp(o->arg, "FILE") == 0  ? CLI_OPT_FILE
		   : o->arg && strcmp(o->arg, "DIR") == 0 ? CLI_OPT_DIR
							  : 0;
	o->help = xstrdup(tab2 + 1);
	return 0;
}

int
cli_serve_options(cli_option **out, berth_error **err)
{
	_cleanup_free_ char *server = NULL, *text = NULL;
	_cleanup_buf_ berth_buf b = BERTH_BUF_INIT;
	cli_option *opts = xcalloc(1, sizeof(*opts));
	char *line, *save = NULL;
	size_t n = 0;
	int r;

	berth_buf_init(&b, SERVE_OPTIONS_MAX);
	if ((r = cli_serve_path(&server, err)) < 0 ||
	    (r = run_output(&b, (char *const[]){server, "--help-options", NULL},
			    err)) < 0) {
		free(opts);
		return r;
	}
	text = berth_buf_detach(&b);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		opts = xreallocarray(opts, n + 2, sizeof(*opts));
		memset(&opts[n], 0, 2 * sizeof(*opts));
		if (parse_line(&opts[n], line, 0x100 + (int)n) < 0) {
			cli_serve_options_free(opts);
			return berth_error_set(err, BERTH_EPROTO, 0,
					       "'%s --help-options' printed "
					       "an unexpected line",
					       server);
		}
		n++;
	}
	*out = opts;
	return 0;
}
