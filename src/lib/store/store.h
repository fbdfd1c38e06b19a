/*
 * Resumable downloads: a blob being pulled is staged in
 * ROOT/ingest/blob-partial-<alg>-<hex>, a name fixed by its digest, so a pull
 * that was interrupted (network drop, Ctrl-C, kill -9) leaves the bytes it
 * got there and the next pull continues from its end. The writer holds
 * the file's flock while it writes (a second puller of the same blob
 * stages its own copy instead). The digest is verified over the whole
 * blob at commit; a mismatch removes the partial file. Partial files are
 * kept on purpose and are no damage (fsck and gc leave them); those no
 * writer holds are removed once older than the configured age.
 */
#ifndef BERTH_LIB_STORE_STORE_H
#define BERTH_LIB_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "berth/store.h"

/*
 * Starts or resumes writing blob `d` of `size` bytes. The bytes already
 * staged are hashed again; berth_blob_writer_written() tells how many
 * there are (the download continues from there). When the writer is
 * freed without a commit, or a commit finds the blob short, the partial
 * file stays for the next pull.
 */
int store_blob_resume(berth_blob_writer **out, berth_store *s,
		      const berth_digest *d, int64_t size, berth_error **err);

/*
 * The bytes staged for `w` are worthless (the registry sent the wrong
 * ones): freeing the writer removes its partial file instead of keeping it
 * for the next pull.
 */
void store_blob_forget(berth_blob_writer *w);

/*
 * Removes partial files no writer holds whose last write is older than
 * `max_age` seconds. Returns how many.
 */
size_t store_partial_clean(berth_store *s, long max_age);

/*
 * The staging file of an uncommitted writer, to read back what was
 * written (berth load decompresses a staged layer to check its diff ID
 * before anything is committed); NULL once committed or discarded.
 */
const char *store_blob_writer_path(const berth_blob_writer *w);

#endif
