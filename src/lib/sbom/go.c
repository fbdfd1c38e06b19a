/*
 * Go binaries' build information, as Go's debug/buildinfo reads it: in an
 * ELF file, the first writable non-executable PT_LOAD segment holds, on a
 * 16-byte boundary near its start, a 32-byte header ("\xff Go buildinf:",
 * the pointer size, flags), and since Go 1.18 (flag 2) the Go version and
 * the module information right after it as two uvarint-length strings.
 * The module information is lines of tab-separated words: "mod" (the main
 * module), "dep" (a dependency), "=>" (the replacement of the line before)
 * and others that are not packages. Older binaries keep pointers instead
 * and are not read.
 */
#include <stdlib.h>
#include <string.h>

#include "sbom/catalog.h"
#include "util/xalloc.h"

static const char magic[14] = "\xff Go buildinf:";

#define PT_LOAD_ 1
#define PF_X_ 1
#define PF_W_ 2

static uint64_t
get(const uint8_t *p, size_t n, bool be)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[be ? n - 1 - i : i] << (8 * i);
	return v;
}

int64_t
berth_sbom_elf_data_offset(const uint8_t *h, size_t len)
{
	bool is64, be;
	uint64_t phoff, phent, phnum;

	if (len < 52 || memcmp(h,
			       "\x7f"
			       "ELF",
			       4) != 0)
		return -1;
	if ((h[4] != 1 && h[4] != 2) || (h[5] != 1 && h[5] != 2))
		return -1;
	is64 = h[4] == 2;
	be = h[5] == 2;
	if (is64 && len < 64)
		return -1;
	phoff = is64 ? get(h + 32, 8, be) : get(h + 28, 4, be);
	phent = get(h + (is64 ? 54 : 42), 2, be);
	phnum = get(h + (is64 ? 56 : 44), 2, be);
	if (phent < (is64 ? 56u : 32u) || phoff >= len)
		return -1;
	for (uint64_t i = 0; i < phnum; i++) {
		uint64_t off = phoff + i * phent, type, flags, poff;
		const uint8_t *ph;

		if (off > len || len - off < phent)
			return -1;
		ph = h + off;
		type = get(ph, 4, be);
		flags = is64 ? get(ph + 4, 4, be) : get(ph + 24, 4, be);
		poff = is64 ? get(ph + 8, 8, be) : get(ph + 4, 4, be);
		if (type == PT_LOAD_ && (flags & (PF_X_ | PF_W_)) == PF_W_)
			return poff > INT64_MAX ? -1 : (int64_t)poff;
	}
	return -1;
}

/* A uvarint-length string at *p; false when it runs past end. */
static bool
string_at(const uint8_t **p, const uint8_t *end, const uint8_t **s, size_t *n)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (*p < end && shift < 64) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			if (v > (uint64_t)(end - *p))
				return false;
			*s = *p;
			*n = (size_t)v;
			*p += v;
			return true;
		}
		shift += 7;
	}
	return false;
}

/* Field i (tab-separated) of line[0..n), or NULL. */
static char *
word(const char *line, size_t n, int i)
{
	const char *p = line, *end = line + n;

	for (; i > 0; i--) {
		const char *t = memchr(p, '\t', (size_t)(end - p));

		if (t == NULL)
			return NULL;
		p = t + 1;
	}
	const char *t = memchr(p, '\t', (size_t)(end - p));
	size_t l = t ? (size_t)(t - p) : (size_t)(end - p);

	return l ? xstrndup(p, l) : NULL;
}

static void
add_module(berth_sbom_list *out, const char *line, size_t n)
{
	char *path = word(line, n, 1), *ver = word(line, n, 2);
	berth_sbom_package *p;

	if (path == NULL) {
		free(ver);
		return;
	}
	if (ver && strcmp(ver, "(devel)") == 0) {
		free(ver);
		ver = NULL;
	}
	p = berth_sbom_list_add(out, BERTH_SBOM_GO);
	p->name = path;
	p->version = ver;
}

static void
parse_modinfo(berth_sbom_list *out, const char *mod, size_t len)
{
	const char *p = mod, *end = mod + len;
	size_t first = out->n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > 4 &&
		    (memcmp(p, "mod\t", 4) == 0 || memcmp(p, "dep\t", 4) == 0))
			add_module(out, p, n);
		else if (n > 3 && memcmp(p, "=>\t", 3) == 0 && out->n > first) {
			berth_sbom_package *last = &out->v[out->n - 1];
			char *path = word(p, n, 1), *ver = word(p, n, 2);

			/* A local directory replacement ("./dep", version
			 * "(devel)" or none) keeps the requirement. */
			if (path && ver && path[0] != '.' && path[0] != '/' &&
			    strcmp(ver, "(devel)") != 0) {
				free(last->name);
				free(last->version);
				last->name = path;
				last->version = ver;
			} else {
				free(path);
				free(ver);
			}
		}
		p = nl ? nl + 1 : end;
	}
}

void
berth_sbom_parse_go(berth_sbom_list *out, const uint8_t *data, size_t len)
{
	size_t limit = len < BERTH_SBOM_GO_SEARCH ? len : BERTH_SBOM_GO_SEARCH;
	const uint8_t *end = data + len, *p, *vs, *ms;
	size_t i, vn, mn;
	berth_sbom_package *pk;

	for (i = 0; i + 32 <= limit; i += 16)
		if (memcmp(data + i, magic, sizeof(magic)) == 0)
			break;
	if (i + 32 > limit)
		return;
	p = data + i;
	if ((p[14] != 4 && p[14] != 8) || !(p[15] & 2))
		return;
	p += 32;
	if (!string_at(&p, end, &vs, &vn) || !string_at(&p, end, &ms, &mn))
		return;
	/* The module information is framed by 16-byte sentinels. */
	if (mn >= 33 && ms[mn - 17] == '\n') {
		ms += 16;
		mn -= 32;
	}
	if (vn > 2 && memcmp(vs, "go", 2) == 0) {
		const uint8_t *sp = memchr(vs, ' ', vn);

		pk = berth_sbom_list_add(out, BERTH_SBOM_GO);
		pk->name = xstrdup("stdlib");
		pk->version = xstrndup((const char *)vs + 2,
				       (sp ? (size_t)(sp - vs) : vn) - 2);
	}
	parse_modinfo(out, (const char *)ms, mn);
}
