/*
 * berth _vercmp ECOSYSTEM: orders the version pairs of standard input
 * ("A<TAB>B" a line), one answer a line: "<", "=", ">" or "error: why".
 * berth _vercmp ECOSYSTEM --sort: the versions of standard input (one a
 * line), sorted. Not listed; the tests compare it, in bulk, with dpkg,
 * packaging and npm's semver.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/vuln.h"
#include "cli/cli.h"
#include "util/cleanup.h"

static berth_vuln_ecosystem sort_eco;
static int sort_failed;

static int
by_version(const void *x, const void *y)
{
	int c = 0;

	if (berth_version_compare(&c, sort_eco, *(char *const *)x,
				  *(char *const *)y, NULL) < 0)
		sort_failed = 1;
	return c;
}

static int
sort_lines(berth_vuln_ecosystem eco, berth_error **err)
{
	char **v = NULL, *line = NULL;
	size_t n = 0, cap = 0, lcap = 0;
	ssize_t len;

	while ((len = getline(&line, &lcap, stdin)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (n == cap)
			v = realloc(v, (cap = cap * 2 + 256) * sizeof(*v));
		v[n++] = strdup(line);
	}
	free(line);
	sort_eco = eco;
	qsort(v, n, sizeof(*v), by_version);
	for (size_t i = 0; i < n; i++) {
		printf("%s\n", v[i]);
		free(v[i]);
	}
	free(v);
	if (sort_failed)
		return cli_usage_error(err, "_vercmp",
				       "a version does not parse");
	return 0;
}

int
cmd_vercmp(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	berth_vuln_ecosystem eco;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int r;

	if (argc != 2 && !(argc == 3 && strcmp(argv[2], "--sort") == 0))
		return cli_usage_error(err, "_vercmp",
				       "expected ECOSYSTEM [--sort]");
	if (strcmp(argv[1], "semver") == 0)
		eco = BERTH_VULN_ECO_SEMVER;
	else if ((r = berth_vuln_ecosystem_parse(&eco, NULL, argv[1], err)) < 0)
		return r;
	if (argc == 3)
		return sort_lines(eco, err);
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		char *tab = strchr(line, '\t');
		berth_error *e = NULL;
		int c;

		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (tab == NULL) {
			printf("error: no tab\n");
			continue;
		}
		*tab = '\0';
		if (berth_version_compare(&c, eco, line, tab + 1, &e) < 0)
			printf("error: %s\n", e && e->msg ? e->msg : "failed");
		else
			printf("%s\n", c < 0 ? "<" : c > 0 ? ">" : "=");
		berth_error_free(e);
	}
	return 0;
}
