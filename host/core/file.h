/* Reading whole files safely (internal).
 *
 * Used for images, model JSON, weight shards and model files alike: the
 * file is opened without blocking (a FIFO given as a path must not hang),
 * must be a regular file no larger than a cap, and is read completely or
 * not at all. Failures are described in a caller's buffer rather than
 * logged, so worker threads can report them in a fixed order later.
 */
#ifndef CLFIT_CORE_FILE_H
#define CLFIT_CORE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "clfit/status.h"

/* printf into why[0..n) when why is not NULL. */
void clf_why(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reads `path` whole into a malloc'd buffer with one extra NUL byte after
 * the data (*len excludes it). CLF_ERR_FORMAT when the file exceeds
 * max_bytes, CLF_ERR_IO when it cannot be opened, is not a regular file
 * or cannot be read, CLF_ERR_NOMEM; `why` then says which. */
clf_status clf_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *len,
                         char *why, size_t why_size);

#endif
