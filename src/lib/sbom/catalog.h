/*
 * The catalogers: one parser a package database format, each over the
 * bytes of one file (the caller reads and bounds them). A parser never
 * fails: what it cannot read is not a package and is left out, so a
 * damaged or hostile file costs nothing but its own entries, and what it
 * returns is never larger than its input.
 */
#ifndef BERTH_LIB_SBOM_CATALOG_H
#define BERTH_LIB_SBOM_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "berth/sbom.h"

/* A growable list of packages. */
typedef struct berth_sbom_list {
	berth_sbom_package *v;
	size_t n, cap;
} berth_sbom_list;

/* A new zeroed package of type t at the end of l. */
berth_sbom_package *berth_sbom_list_add(berth_sbom_list *l, berth_sbom_type t);

/* Moves every package of `from` to the end of `to`; `from` ends empty. */
void berth_sbom_list_move(berth_sbom_list *to, berth_sbom_list *from);

void berth_sbom_list_release(berth_sbom_list *l);
void berth_sbom_package_release(berth_sbom_package *p);

/* dpkg's status file (or one file of distroless' status.d/): the
 * installed stanzas (Status "... installed", or none). */
void berth_sbom_parse_dpkg(berth_sbom_list *out, const char *p, size_t len);

/* apk's lib/apk/db/installed. */
void berth_sbom_parse_apk(berth_sbom_list *out, const char *p, size_t len);

/* A Python core metadata file (METADATA, PKG-INFO): one package. */
void berth_sbom_parse_python(berth_sbom_list *out, const char *p, size_t len);

/* An npm package.json: one package, if it has a name and a version. */
void berth_sbom_parse_npm(berth_sbom_list *out, const char *p, size_t len);

/* os-release(5): ID, VERSION_ID and PRETTY_NAME (or NAME); each out is
 * replaced (freed first) when the file has the key. */
void berth_sbom_parse_os_release(char **id, char **version_id, char **name,
				 const char *p, size_t len);

/* How much of a file the Go cataloger needs to see first, and how much
 * after the data start it reads. */
#define BERTH_SBOM_ELF_HEAD ((size_t)64 << 10)
#define BERTH_SBOM_GO_SEARCH ((size_t)64 << 10)
#define BERTH_SBOM_GO_DATA ((size_t)1 << 20)

/*
 * The file offset where a Go ELF binary's build information is searched
 * (its first writable, non-executable PT_LOAD segment, as Go's
 * debug/buildinfo has it), from the file's first bytes; -1 when `head` is
 * not an ELF file whose program headers lie within it.
 */
int64_t berth_sbom_elf_data_offset(const uint8_t *head, size_t len);

/*
 * The Go modules of the build information found in `data` (bytes from
 * the data start): the "\xff Go buildinf:" header on a 16-byte boundary
 * within BERTH_SBOM_GO_SEARCH bytes, the Go version and the module list
 * inline after it (Go 1.18 and later): the toolchain as "stdlib", the main
 * module and each dependency (a replacement replaces it). 0 packages when
 * there is none.
 */
void berth_sbom_parse_go(berth_sbom_list *out, const uint8_t *data, size_t len);

#endif
