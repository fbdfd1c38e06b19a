/*
 * Repository-name and tag grammar (OCI distribution spec) and Docker Hub's
 * host names: the one copy of these rules, see names.h.
 */
#include "oci/names.h"

#include <string.h>
#include <strings.h>

static bool
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool
is_sep(char c)
{
	return c == '.' || c == '_' || c == '-';
}

berth_name_fault
berth_name_component_check(size_t *at, size_t *at_len, const char *s,
			   size_t len, bool fold_case)
{
	size_t i = 0;

	*at = 0;
	*at_len = 0;
	if (len == 0)
		return BERTH_NAME_EMPTY;
	if (is_sep(s[0])) {
		*at_len = 1;
		return BERTH_NAME_BAD_START;
	}
	for (;;) {
		size_t run = i;

		while (i < len &&
		       (is_lower_alnum(s[i]) || (fold_case && is_upper(s[i]))))
			i++;
		if (i == len)
			return BERTH_NAME_OK;
		if (i == run)
			break; /* after a separator run: not a separator */
		run = i;
		while (i < len && is_sep(s[i]))
			i++;
		if (i == run)
			break;
		if (i == len) {
			*at = run;
			*at_len = i - run;
			return BERTH_NAME_BAD_END;
		}
		if (!(i - run == 1 ||
		      (i - run == 2 && s[run] == '_' && s[run + 1] == '_') ||
		      strspn(s + run, "-") >= i - run)) {
			*at = run;
			*at_len = i - run;
			return BERTH_NAME_BAD_SEPARATOR;
		}
	}
	*at = i;
	*at_len = 1;
	return BERTH_NAME_BAD_CHAR;
}

bool
berth_ref_name_valid(const char *name)
{
	const char *c = name, *end;

	if (name == NULL || *name == '\0' || strlen(name) > BERTH_NAME_MAX)
		return false;
	end = name + strlen(name);
	for (;;) {
		const char *slash = memchr(c, '/', (size_t)(end - c));
		size_t clen = slash ? (size_t)(slash - c) : (size_t)(end - c);
		size_t at, at_len;

		if (berth_name_component_check(&at, &at_len, c, clen, false) !=
		    BERTH_NAME_OK)
			return false;
		if (slash == NULL)
			return true;
		c = slash + 1;
	}
}

bool
berth_ref_tag_valid_len(const char *tag, size_t len)
{
	if (tag == NULL || len == 0 || len > BERTH_TAG_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = tag[i];

		if (is_lower_alnum(c) || is_upper(c) || c == '_')
			continue;
		if (i > 0 && (c == '.' || c == '-'))
			continue;
		return false;
	}
	return true;
}

bool
berth_ref_tag_valid(const char *tag)
{
	return tag != NULL && berth_ref_tag_valid_len(tag, strlen(tag));
}

bool
berth_ref_is_docker_hub(const char *host)
{
	return host != NULL && (strcasecmp(host, BERTH_DOCKER_HUB) == 0 ||
				strcasecmp(host, "index.docker.io") == 0 ||
				strcasecmp(host, BERTH_DOCKER_HUB_API) == 0);
}
