/*
 * Names of archive entries, which come from outside: cleaned to one
 * spelling ("./a//b/" is "a/b") or refused. Nothing is ever extracted by
 * these names, but a name that could mean a path outside the archive is
 * refused all the same, as docker load refuses it. Pure logic.
 */
#ifndef BERTH_LIB_ARCHIVE_NAMES_H
#define BERTH_LIB_ARCHIVE_NAMES_H

/*
 * The clean form of an entry's name; NULL when it is empty, absolute, has
 * a ".." component, a control character or is longer than PATH_MAX.
 * Caller frees.
 */
char *archive_name_clean(const char *name);

/*
 * The entry a symbolic link `from` (a clean name) with `target` points to,
 * cleaned; NULL when the target is absolute or leaves the archive.
 * Caller frees.
 */
char *archive_link_resolve(const char *from, const char *target);

#endif
