/*
 * The SBOM catalogers (src/lib/sbom): each package database format parsed
 * from bytes, purls as purl-spec encodes them, Go build information found
 * in an ELF file made here, and layers built here with libarchive walked
 * as an image's merged file system has them (whiteouts, opaque
 * directories, replacement).
 */
#include "test.h"

#include <archive.h>
#include <archive_entry.h>

#include "sbom/catalog.h"
#include "sbom/purl.h"
#include "sbom/walk.h"
#include "util/error.h"
#include "util/xalloc.h"

static const berth_sbom_package *
find(const berth_sbom_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

#define P(s) s, strlen(s)

TEST(dpkg_status)
{
	berth_sbom_list l = {NULL, 0, 0};
	const berth_sbom_package *p;

	berth_sbom_parse_dpkg(&l, P("Package: openssl\r\n"
				    "Status: install ok installed\r\n"
				    "Version: 3.0.11-1~deb12u2\r\n"
				    "Architecture: amd64\r\n"
				    "Source: openssl (3.0.11-1)\r\n"
				    "Description: TLS\r\n"
				    " continued: not a field\r\n"
				    "\r\n"
				    "Package: removed\n"
				    "Status: deinstall ok config-files\n"
				    "Version: 1.0\n"
				    "\n\n\n"
				    "Package: noversion\n"
				    "Status: install ok installed\n"
				    "\n"
				    "package: libc6\n"
				    "Version: 2.36-9\n"
				    "Source: glibc\n"
				    "Architecture: amd64"));
	CHECK(l.n == 2, "%zu packages", l.n);
	p = find(&l, "openssl");
	CHECK(p != NULL, "openssl");
	if (p) {
		CHECK_STR(p->version, "3.0.11-1~deb12u2");
		CHECK_STR(p->arch, "amd64");
		CHECK_STR(p->source, "openssl");
		CHECK_STR(p->source_version, "3.0.11-1");
		CHECK(p->type == BERTH_SBOM_DEB, "type");
	}
	/* status.d stanzas have no Status; field names ignore case */
	p = find(&l, "libc6");
	CHECK(p && strcmp(p->source, "glibc") == 0 && !p->source_version,
	      "libc6's source");
	CHECK(find(&l, "removed") == NULL, "config-files only: not listed");
	berth_sbom_list_release(&l);

	berth_sbom_parse_dpkg(&l, P(""));
	berth_sbom_parse_dpkg(&l, P("\n\n: x\nPackage\n"));
	CHECK(l.n == 0, "nothing from nothing: %zu", l.n);
	berth_sbom_list_release(&l);
}

TEST(apk_installed)
{
	berth_sbom_list l = {NULL, 0, 0};
	const berth_sbom_package *p;

	berth_sbom_parse_apk(&l, P("C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\n"
				   "L:MIT\no:musl\nF:lib\nR:libc.so\n\n"
				   "P:busybox\nV:1.36.1-r5\nL:GPL-2.0-only\n"
				   "o:busybox\n\nP:broken\n"));
	CHECK(l.n == 2, "%zu packages", l.n);
	p = find(&l, "musl");
	CHECK(p && strcmp(p->version, "1.2.4-r2") == 0 &&
		      strcmp(p->arch, "x86_64") == 0 &&
		      strcmp(p->license, "MIT") == 0 &&
		      strcmp(p->source, "musl") == 0,
	      "musl's fields");
	p = find(&l, "busybox");
	CHECK(p && strcmp(p->license, "GPL-2.0-only") == 0, "busybox");
	berth_sbom_list_release(&l);
}

TEST(python_metadata)
{
	berth_sbom_list l = {NULL, 0, 0};

	berth_sbom_parse_python(&l, P("Metadata-Version: 2.4\nName: Foo_Bar\n"
				      "Version: 1.0.post1\nLicense: MIT "
				      "License\nLicense-Expression: MIT OR "
				      "Apache-2.0\n\nName: body\n"));
	berth_sbom_parse_python(&l, P("Name: requests\nVersion: 2.31.0\n"
				      "License: Apache 2.0\n"));
	berth_sbom_parse_python(&l, P("Name: unknown\nVersion: 1\n"
				      "License: UNKNOWN\n"));
	berth_sbom_parse_python(&l, P("Name: noversion\n"));
	CHECK(l.n == 3, "%zu packages", l.n);
	CHECK(l.n > 0 && strcmp(l.v[0].license, "MIT OR Apache-2.0") == 0,
	      "License-Expression wins");
	CHECK(l.n > 1 && strcmp(l.v[1].license, "Apache 2.0") == 0, "License");
	CHECK(l.n > 2 && l.v[2].license == NULL, "UNKNOWN is no licence");
	CHECK(find(&l, "body") == NULL, "the body is not headers");
	berth_sbom_list_release(&l);
}

TEST(npm_package_json)
{
	berth_sbom_list l = {NULL, 0, 0};

	berth_sbom_parse_npm(&l, P("{\"name\":\"@types/node\",\"version\":"
				   "\"20.1.0\",\"license\":\"MIT\"}"));
	berth_sbom_parse_npm(&l, P("{\"name\":\"old\",\"version\":\"1.0.0\","
				   "\"license\":{\"type\":\"BSD\"}}"));
	berth_sbom_parse_npm(&l, P("{\"name\":\"older\",\"version\":\"1.0.0\","
				   "\"licenses\":[{\"type\":\"MIT\"},"
				   "\"ISC\"]}"));
	berth_sbom_parse_npm(&l, P("{\"name\":\"nover\"}"));
	berth_sbom_parse_npm(&l, P("{\"name\":\"x\",\"version\":1}"));
	berth_sbom_parse_npm(&l, P("not json"));
	CHECK(l.n == 3, "%zu packages", l.n);
	CHECK(l.n == 3 && strcmp(l.v[1].license, "BSD") == 0 &&
		      strcmp(l.v[2].license, "MIT OR ISC") == 0,
	      "licence shapes");
	berth_sbom_list_release(&l);
}

TEST(os_release)
{
	char *id = NULL, *ver = NULL, *name = NULL;

	berth_sbom_parse_os_release(&id, &ver, &name,
				    P("NAME=\"Alpine Linux\"\nID=alpine\n"
				      "VERSION_ID=3.18.4\nPRETTY_NAME=\"Alpine "
				      "\\\"x\\\" v3.18\"\nID_LIKE=foo\n"));
	CHECK_STR(id, "alpine");
	CHECK_STR(ver, "3.18.4");
	CHECK_STR(name, "Alpine \"x\" v3.18");
	berth_sbom_parse_os_release(&id, &ver, &name,
				    P("ID='ubuntu'\r\nVERSION_ID=\"22.04\"\r\n"
				      "NAME=Ubuntu"));
	CHECK_STR(id, "ubuntu");
	CHECK_STR(ver, "22.04");
	CHECK_STR(name, "Ubuntu");
	free(id);
	free(ver);
	free(name);
}

static char *
purl_of(berth_sbom_type t, const char *name, const char *version,
	const char *arch, const char *os, const char *osver)
{
	berth_sbom_package p = {0};

	p.type = t;
	p.name = (char *)name;
	p.version = (char *)version;
	p.arch = (char *)arch;
	return berth_sbom_purl(&p, os, osver);
}

#define PURL(want, ...)                                                        \
	do {                                                                   \
		char *got_ = purl_of(__VA_ARGS__);                             \
		CHECK_STR(got_, want);                                         \
		free(got_);                                                    \
	} while (0)

TEST(purl_encoding)
{
	const char *q[] = {"arch",	     "amd64",	     "distro", "",
			   "repository_url", "https://x y/", NULL};
	char *s;

	PURL("pkg:deb/debian/openssl@3.0.11-1?arch=amd64&distro=debian-12",
	     BERTH_SBOM_DEB, "openssl", "3.0.11-1", "amd64", "debian", "12");
	/* ':' stays, '+' is encoded */
	PURL("pkg:deb/ubuntu/libc6@1:2.35-0ubuntu3%2Bx?arch=amd64&distro="
	     "ubuntu-22.04",
	     BERTH_SBOM_DEB, "libc6", "1:2.35-0ubuntu3+x", "amd64", "ubuntu",
	     "22.04");
	PURL("pkg:deb/debian/tzdata@2024a-0?arch=all", BERTH_SBOM_DEB, "tzdata",
	     "2024a-0", "all", NULL, NULL);
	PURL("pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=3.18.4",
	     BERTH_SBOM_APK, "musl", "1.2.4-r2", "x86_64", "alpine", "3.18.4");
	PURL("pkg:pypi/foo-bar@1.0", BERTH_SBOM_PYPI, "Foo_Bar", "1.0", NULL,
	     NULL, NULL);
	PURL("pkg:npm/%40types/node@20.1.0", BERTH_SBOM_NPM, "@types/node",
	     "20.1.0", NULL, NULL, NULL);
	PURL("pkg:npm/left-pad@1.3.0", BERTH_SBOM_NPM, "left-pad", "1.3.0",
	     NULL, NULL, NULL);
	PURL("pkg:golang/github.com/google/uuid@v1.6.0", BERTH_SBOM_GO,
	     "github.com/google/uuid", "v1.6.0", NULL, NULL, NULL);
	PURL("pkg:golang/example.com/hello", BERTH_SBOM_GO, "example.com/hello",
	     NULL, NULL, NULL, NULL);
	PURL("pkg:golang/stdlib@1.19.8", BERTH_SBOM_GO, "stdlib", "1.19.8",
	     NULL, NULL, NULL);
	/* empty qualifiers left out; values encoded; '/' in a name too */
	s = berth_purl("generic", "a b/c", "n/m", "1 2", q);
	CHECK_STR(s, "pkg:generic/a%20b/c/n%2Fm@1%202?arch=amd64&"
		     "repository_url=https:%2F%2Fx%20y%2F");
	free(s);
}

/* ---- Go build information ---- */

static size_t
put_uvarint(uint8_t *p, size_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* An ELF64 little-endian file: a text segment, then a writable one at
 * file offset 0x2000 whose start holds the build information. */
static uint8_t *
go_elf(size_t *len, const char *modinfo)
{
	size_t cap = 0x4000, n;
	uint8_t *f = xcalloc(1, cap);
	uint8_t *ph;
	static const char sentinel[] = "0123456789abcdef";
	char *mod = xasprintf("%s%s%s", sentinel, modinfo, sentinel);

	memcpy(f,
	       "\x7f"
	       "ELF\x02\x01\x01",
	       7);
	f[32] = 64;  /* e_phoff */
	f[54] = 56;  /* e_phentsize */
	f[56] = 2;   /* e_phnum */
	ph = f + 64; /* PT_LOAD r-x at 0 */
	ph[0] = 1, ph[4] = 5;
	ph += 56; /* PT_LOAD rw- at 0x2000 */
	ph[0] = 1, ph[4] = 6;
	ph[9] = 0x20;
	n = 0x2000 + 16; /* 16 bytes in: still on the boundary */
	memcpy(f + n, "\xff Go buildinf:", 14);
	f[n + 14] = 8;
	f[n + 15] = 2;
	n += 32;
	n += put_uvarint(f + n, 8);
	memcpy(f + n, "go1.19.8", 8);
	n += 8;
	n += put_uvarint(f + n, strlen(mod));
	memcpy(f + n, mod, strlen(mod));
	*len = cap;
	free(mod);
	return f;
}

TEST(go_buildinfo)
{
	berth_sbom_list l = {NULL, 0, 0};
	size_t len;
	uint8_t *f = go_elf(&len, "path\texample.com/hello\n"
				  "mod\texample.com/hello\t(devel)\t\n"
				  "dep\tgithub.com/google/uuid\tv1.6.0\th1:x=\n"
				  "dep\tgolang.org/x/text\tv0.3.0\th1:y=\n"
				  "=>\tgolang.org/x/text\tv0.14.0\th1:z=\n"
				  "dep\tlocal/thing\tv0.0.0\t\n"
				  "=>\t../thing\t(devel)\t\n"
				  "build\tCGO_ENABLED=0\n");
	int64_t off = berth_sbom_elf_data_offset(f, len);
	const berth_sbom_package *p;

	CHECK(off == 0x2000, "data start %lld", (long long)off);
	berth_sbom_parse_go(&l, f + off, len - (size_t)off);
	CHECK(l.n == 5, "%zu packages", l.n);
	p = find(&l, "stdlib");
	CHECK(p && strcmp(p->version, "1.19.8") == 0, "the toolchain");
	p = find(&l, "example.com/hello");
	CHECK(p && p->version == NULL, "the main module, (devel)");
	p = find(&l, "golang.org/x/text");
	CHECK(p && strcmp(p->version, "v0.14.0") == 0, "replaced version");
	p = find(&l, "local/thing");
	CHECK(p && strcmp(p->version, "v0.0.0") == 0,
	      "a directory replacement keeps the requirement");
	berth_sbom_list_release(&l);

	/* not ELF, truncated program headers, no build information */
	CHECK(berth_sbom_elf_data_offset((const uint8_t *)"#!/bin/sh\n", 10) <
		      0,
	      "a script");
	CHECK(berth_sbom_elf_data_offset(f, 100) < 0, "headers cut");
	memset(f + 0x2000, 0, 64);
	berth_sbom_parse_go(&l, f + off, len - (size_t)off);
	CHECK(l.n == 0, "no magic: %zu", l.n);
	free(f);
}

/* ---- layers walked ---- */

typedef struct layer {
	struct archive *w;
	char *buf;
	size_t cap, used, pos;
} layer;

static void
layer_begin(layer *l)
{
	l->cap = 8 << 20;
	l->buf = xmalloc(l->cap);
	l->used = l->pos = 0;
	l->w = archive_write_new();
	archive_write_set_format_pax_restricted(l->w);
	archive_write_open_memory(l->w, l->buf, l->cap, &l->used);
}

static void
add(layer *l, const char *name, mode_t type, mode_t perm, const void *data,
    size_t len)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	if (type == AE_IFLNK)
		archive_entry_set_symlink(e, "elsewhere");
	if (type == AE_IFREG)
		archive_entry_set_size(e, (la_int64_t)len);
	if (archive_write_header(l->w, e) != ARCHIVE_OK)
		exit(2);
	if (len)
		archive_write_data(l->w, data, len);
	archive_entry_free(e);
}

static void
add_file(layer *l, const char *name, const char *data)
{
	add(l, name, AE_IFREG, 0644, data, strlen(data));
}

static ssize_t
mem_read(void *ctx, const void **buf, berth_error **err)
{
	layer *l = ctx;
	size_t n = l->used - l->pos < 1000 ? l->used - l->pos : 1000;

	*buf = l->buf + l->pos;
	l->pos += n;
	return (ssize_t)n;
}

static int
walk(berth_sbom_walk *w, layer *l, int i, berth_error **err)
{
	berth_digest d = {BERTH_DIGEST_SHA256, ""};
	int r;

	archive_write_close(l->w);
	archive_write_free(l->w);
	snprintf(d.str, sizeof(d.str), "sha256:%064d", i);
	r = berth_sbom_walk_layer(w, &d, mem_read, l, "layer", err);
	free(l->buf);
	return r;
}

static const char *
npm(const char *name, const char *version)
{
	static char buf[4][128];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "{\"name\":\"%s\",\"version\":\"%s\"}",
		 name, version);
	return buf[k];
}

TEST(walk_merged_file_system)
{
	berth_sbom_walk *w = NULL;
	berth_sbom_list pkgs = {NULL, 0, 0};
	berth_sbom b = {0};
	berth_error *err = NULL;
	const berth_sbom_package *p;
	layer l;
	size_t glen;
	uint8_t *gobin = go_elf(&glen, "mod\texample.com/hello\tv1.0.0\t\n");

	CHECK(berth_sbom_walk_new(&w, &err) == 0, "walk_new");
	layer_begin(&l);
	add_file(&l, "./usr/lib/os-release", "ID=debian\nVERSION_ID=12\n");
	add_file(&l, "var/lib/dpkg/status",
		 "Package: a\nVersion: 1\n\nPackage: b\nVersion: 2\n");
	add_file(&l, "n/node_modules/gone/package.json", npm("gone", "1"));
	add_file(&l, "n/node_modules/kept/package.json", npm("kept", "1"));
	add_file(&l, "n/node_modules/kept/lib/package.json", npm("deep", "1"));
	add_file(&l, "n/node_modules/@s/p/package.json", npm("@s/p", "1"));
	add_file(&l, "n/node_modules/kept/node_modules/nested/package.json",
		 npm("nested", "3"));
	add_file(&l, "opq/node_modules/old/package.json", npm("old", "1"));
	add_file(&l, "file/node_modules/x/package.json", npm("x", "1"));
	add_file(&l, "py/a-1.dist-info/METADATA", "Name: a\nVersion: 1\n");
	add_file(&l, "py/b.egg-info", "Name: b\nVersion: 2\n");
	add_file(&l, "py/c.egg-info/PKG-INFO", "Name: c\nVersion: 3\n");
	add(&l, "usr/bin/hello", AE_IFREG, 0755, gobin, glen);
	add(&l, "usr/share/hello.dat", AE_IFREG, 0644, gobin, glen);
	CHECK(walk(w, &l, 1, &err) == 0, "layer 1: %s", err ? err->msg : "");

	layer_begin(&l);
	/* a whiteout hides lower layers only, not its own layer's file */
	add_file(&l, "n/node_modules/.wh.gone", "");
	add_file(&l, "n/node_modules/new/package.json", npm("new", "2"));
	add_file(&l, "n/node_modules/.wh.new", "");
	add_file(&l, "n/node_modules/kept/package.json", npm("kept", "2"));
	add_file(&l, "opq/.wh..wh..opq", "");
	add_file(&l, "opq/node_modules/fresh/package.json", npm("fresh", "1"));
	add_file(&l, "file", "a file replaces the directory\n");
	add(&l, "py/a-1.dist-info/METADATA", AE_IFLNK, 0777, NULL, 0);
	add_file(&l, "var/lib/dpkg/status", "Package: a\nVersion: 1.1\n");
	CHECK(walk(w, &l, 2, &err) == 0, "layer 2: %s", err ? err->msg : "");

	berth_sbom_walk_finish(w, &pkgs, &b);
	CHECK_STR(b.os_id, "debian");
	CHECK_STR(b.os_version_id, "12");
	CHECK(find(&pkgs, "gone") == NULL, "whited out");
	CHECK(find(&pkgs, "new") != NULL, "own layer's file stays");
	p = find(&pkgs, "kept");
	CHECK(p && strcmp(p->version, "2") == 0 && p->layer_index == 1 &&
		      strcmp(p->layer.str + 7 + 63, "2") == 0,
	      "replaced by the later layer");
	CHECK(find(&pkgs, "deep") == NULL, "not a package root");
	CHECK(find(&pkgs, "@s/p") != NULL, "scoped");
	CHECK(find(&pkgs, "nested") != NULL, "nested node_modules");
	CHECK(find(&pkgs, "old") == NULL && find(&pkgs, "fresh") != NULL,
	      "opaque directory");
	CHECK(find(&pkgs, "x") == NULL, "directory replaced by a file");
	p = find(&pkgs, "a");
	CHECK(p && p->type == BERTH_SBOM_DEB && strcmp(p->version, "1.1") == 0,
	      "status replaced");
	CHECK(find(&pkgs, "b") && find(&pkgs, "b")->type == BERTH_SBOM_PYPI,
	      "egg-info file");
	CHECK(find(&pkgs, "c") != NULL, "egg-info directory");
	p = find(&pkgs, "example.com/hello");
	CHECK(p && strcmp(p->path, "usr/bin/hello") == 0,
	      "Go binary, executable only");
	/* a; b, c; new, kept, @s/p, nested, fresh; hello, stdlib */
	CHECK(pkgs.n == 10, "%zu packages", pkgs.n);
	for (size_t i = 0; i < pkgs.n; i++)
		CHECK(pkgs.v[i].path != NULL, "path of %s", pkgs.v[i].name);
	berth_sbom_list_release(&pkgs);
	free(b.os_id);
	free(b.os_version_id);
	free(b.os_name);
	berth_sbom_walk_free(w);
	berth_error_free(err);
	free(gobin);
}

TEST(walk_not_tar)
{
	berth_sbom_walk *w = NULL;
	berth_error *err = NULL;
	layer l = {0};
	berth_digest d = {BERTH_DIGEST_SHA256, "sha256:x"};

	l.buf = xcalloc(1, 1024);
	memset(l.buf, 'x', 1024);
	l.used = 1024;
	CHECK(berth_sbom_walk_new(&w, &err) == 0, "walk_new");
	CHECK(berth_sbom_walk_layer(w, &d, mem_read, &l, "layer 1", &err) ==
		      BERTH_EPROTO,
	      "refused");
	CHECK(err && strstr(err->msg, "layer 1: not a valid tar archive"),
	      "message: %s", err ? err->msg : "");
	free(l.buf);
	berth_error_free(err);
	berth_sbom_walk_free(w);
}

TEST_MAIN("test_sbom")
