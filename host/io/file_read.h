/* Whole-file reads with a size cap (internal). */
#ifndef CLFIT_IO_FILE_READ_H
#define CLFIT_IO_FILE_READ_H

#include <stddef.h>

#include "clfit/status.h"

/* Reads all of `path` into a malloc'd buffer with a NUL byte appended
 * (not counted in *len), so text can be parsed in place. Files larger
 * than max_bytes are refused. On failure logs the file name and reason
 * and returns CLF_ERR_IO (missing, unreadable, or not a regular file: a
 * folder, or a FIFO, which is never waited on), CLF_ERR_FORMAT (too
 * large) or CLF_ERR_NOMEM; *data is then NULL. The caller frees *data. */
clf_status clf_file_read_all(const char *path, size_t max_bytes, char **data, size_t *len);

/* The directory part of path ("." when there is none), malloc'd; NULL
 * after logging when out of memory. */
char *clf_path_dirname(const char *path);

/* dir + "/" + name, malloc'd; NULL after logging when out of memory. */
char *clf_path_join(const char *dir, const char *name);

#endif
