/* S3's XML answers, read with libxml2. */
#include "server/storage/s3_int.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/error.h"
#include "util/xalloc.h"

struct s3_xml_node {
	xmlNode *n;
};

static xmlDoc *
parse(const char *xml, size_t len)
{
	if (xml == NULL || len == 0 || len > (size_t)INT32_MAX)
		return NULL;
	return xmlReadMemory(xml, (int)len, NULL, NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR |
				     XML_PARSE_NOWARNING);
}

static bool
named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)n->name, name) == 0;
}

static char *
text_of(xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *s = xstrdup(t ? (const char *)t : "");

	xmlFree(t);
	return s;
}

static void
walk(xmlNode *n, const char *name, void (*fn)(const s3_xml_node *, void *),
     void *ud)
{
	for (; n; n = n->next) {
		if (named(n, name)) {
			s3_xml_node w = {n};

			fn(&w, ud);
			continue;
		}
		walk(n->children, name, fn, ud);
	}
}

int
s3_xml_each(const char *xml, size_t len, const char *name,
	    void (*fn)(const s3_xml_node *n, void *ud), void *ud,
	    berth_error **err)
{
	xmlDoc *doc = parse(xml, len);

	if (doc == NULL)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "S3 answered with a body that is not "
				       "XML");
	walk(xmlDocGetRootElement(doc), name, fn, ud);
	xmlFreeDoc(doc);
	return 0;
}

char *
s3_xml_child(const s3_xml_node *n, const char *child)
{
	xmlNode *c;

	for (c = n->n->children; c; c = c->next)
		if (named(c, child))
			return text_of(c);
	return NULL;
}

static xmlNode *
find(xmlNode *n, const char *name)
{
	xmlNode *f;

	for (; n; n = n->next) {
		if (named(n, name))
			return n;
		if ((f = find(n->children, name)) != NULL)
			return f;
	}
	return NULL;
}

char *
s3_xml_find(const char *xml, size_t len, const char *name)
{
	xmlDoc *doc = parse(xml, len);
	xmlNode *n;
	char *s = NULL;

	if (doc == NULL)
		return NULL;
	if ((n = find(xmlDocGetRootElement(doc), name)) != NULL)
		s = text_of(n);
	xmlFreeDoc(doc);
	return s;
}

int64_t
s3_iso8601(const char *s)
{
	struct tm tm = {0};

	if (s == NULL ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}
