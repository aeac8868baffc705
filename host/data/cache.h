/* On-disk cache of decoded, resized images (internal).
 *
 * One file per data folder and image size:
 *   CACHE_DIR/clfit-<16 hex digits: hash of the folder's real path>-<h>x<w>.cache
 * It holds, for every usable image of the last load, its path relative to
 * the folder, the size and modification time (to the nanosecond) the file
 * had when it was decoded, and its h x w x 3 pixels. An entry is used only
 * while the file's size and mtime are unchanged; anything else is decoded
 * again. The file starts with a magic and a version, bumped whenever
 * decoding or resizing changes; every count and length in it is checked
 * against the file's size before use. A cache that does not check out is
 * ignored with a warning and rewritten, never trusted. Bad images are not
 * cached: they are tried again (and reported again) on every load.
 *
 * Layout, little-endian: "CLFCACHE", u32 version, u32 height, u32 width,
 * u32 CRC-32 of the index (header with this field zero, entries, names),
 * u64 count, u64 name bytes; count entries of {u64 size, i64 mtime
 * seconds, u32 mtime nanoseconds, u32 name length, u32 CRC-32 of the
 * image's pixels}; the names, back to back; count images of h * w * 3
 * bytes. A damaged index makes the whole file ignored; a damaged image is
 * decoded again, with a warning.
 */
#ifndef CLFIT_DATA_CACHE_H
#define CLFIT_DATA_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clfit/status.h"

#define CLF_CACHE_VERSION 2

/* What identifies a file's content for the cache. */
typedef struct clf_file_stamp {
    uint64_t size;
    int64_t sec;
    uint32_t nsec;
    bool valid; /* false when stat failed */
} clf_file_stamp;

void clf_file_stamp_get(const char *path, clf_file_stamp *st);

typedef struct clf_cache clf_cache;

/* Opens the cache of `data_dir` at h x w. NULL when there is none (silent)
 * or it is unusable (after a warning naming the file and the reason). */
clf_cache *clf_cache_open(const char *cache_dir, const char *data_dir, int h, int w);

/* Copies the cached pixels of `rel` (a path relative to the data folder)
 * into dst and returns true when the entry exists and `st` matches it. A
 * failed read is a warning and a miss. */
bool clf_cache_get(clf_cache *c, const char *rel, const clf_file_stamp *st, uint8_t *dst);

size_t clf_cache_entries(const clf_cache *c);
void clf_cache_close(clf_cache *c);

/* Writes n images as the cache of `data_dir`, replacing the old file
 * atomically (a temporary file, then rename). Creates cache_dir (one
 * level) if needed. Failures are warnings; the status says which. */
clf_status clf_cache_save(const char *cache_dir, const char *data_dir, int h, int w, size_t n,
                          const uint8_t *pixels, const char *const *rel,
                          const clf_file_stamp *stamps);

#endif
