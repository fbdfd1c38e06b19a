/*
 * An archive read from a descriptor to its end, its files staged in the
 * store's ingest directory (uncommitted blob writers) while they are
 * hashed. Which of them are blobs is known only at the end (docker writes
 * manifest.json last), so nothing is committed until the caller has
 * checked everything and commits the files it uses.
 */
#ifndef BERTH_LIB_ARCHIVE_STAGED_H
#define BERTH_LIB_ARCHIVE_STAGED_H

#include <stdbool.h>
#include <stdint.h>

#include "berth/archive.h"
#include "berth/store.h"

typedef struct staged_file {
	char *name;	      /* clean name in the archive */
	char *link;	      /* a link's target (clean), or NULL */
	berth_blob_writer *w; /* a staged regular file, or NULL */
	berth_digest digest;  /* of the content: sha512 under blobs/sha512/ */
	int64_t size;
	bool use; /* commit it */
	bool committed;
} staged_file;

typedef struct staged_archive {
	berth_store *s;
	staged_file *files;
	size_t n;
} staged_archive;

/*
 * Reads every entry of the archive on fd (through any compression
 * libarchive knows). Directories are checked and dropped, regular files
 * and links kept; anything else, an unsafe name or a name twice is
 * refused (BERTH_EPROTO), as is input that is not a tar archive or ends
 * early.
 */
int staged_read(staged_archive *a, berth_store *s, int fd,
		const berth_load_opts *o, berth_error **err);

/* The regular file `name` designates, following links; NULL if none. */
staged_file *staged_find(staged_archive *a, const char *name);

/* A staged file's content in memory (NUL-terminated), at most max bytes:
 * BERTH_ETOOBIG past it. */
int staged_slurp(char **out, size_t *len, const staged_file *f, size_t max,
		 berth_error **err);

/* Opens a staged file for reading; the caller closes *fd. */
int staged_open(int *fd, const staged_file *f, berth_error **err);

/* Commits every file marked `use` into blobs/. */
int staged_commit(staged_archive *a, berth_error **err);

/* Frees everything; uncommitted staging files are removed. */
void staged_release(staged_archive *a);

#endif
