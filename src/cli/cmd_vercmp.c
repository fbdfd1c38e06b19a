/*
 * berth _vercmp ECOSYSTEM: orders the version pairs of standard input
 * ("A<TAB>B" a line), one answer a line: "<", "=", ">" or "error: why".
 * Not listed; the tests compare it, in bulk, with dpkg, packaging and
 * npm's semver.
 */
#include <stdio.h>
#include <string.h>

#include "berth/vuln.h"
#include "cli/cli.h"
#include "util/cleanup.h"

int
cmd_vercmp(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	berth_vuln_ecosystem eco;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int r;

	if (argc != 2)
		return cli_usage_error(err, "_vercmp", "expected ECOSYSTEM");
	if (strcmp(argv[1], "semver") == 0)
		eco = BERTH_VULN_ECO_SEMVER;
	else if ((r = berth_vuln_ecosystem_parse(&eco, NULL, argv[1], err)) < 0)
		return r;
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
