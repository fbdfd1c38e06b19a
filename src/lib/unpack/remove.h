/*
 * Removing a tree below a directory fd without following symbolic links
 * and with a fixed number of open descriptors, however deep the tree
 * (a layer's names are under PATH_MAX, but links can stack them deeper).
 */
#ifndef BERTH_LIB_UNPACK_REMOVE_H
#define BERTH_LIB_UNPACK_REMOVE_H

/* Removes `name` in dirfd and, for a directory, everything below it.
 * 0 when gone (or never there), else -1 with errno. */
int berth_remove_tree(int dirfd, const char *name);

#endif
