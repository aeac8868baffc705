/* Files replaced in one step (internal): written to a temporary file in
 * the same folder, flushed to disk, then renamed over the target, so a
 * crash at any instant leaves either the old file or the new one, never a
 * mix. Used for model files, checkpoints, rewritten CSV logs and plots.
 */
#ifndef CLFIT_IO_ATOMIC_FILE_H
#define CLFIT_IO_ATOMIC_FILE_H

#include <stdio.h>

#include "clfit/status.h"

typedef struct clf_atomic_file {
    FILE *f;                     /* write here between open and commit (the
                                    descriptor is also readable) */
    char *tmp;                   /* "<path>.tmp-<pid>-<n>" */
    char *path;                  /* the target */
} clf_atomic_file;

/* Creates the temporary file next to `path` (mode 0666 less the umask).
 * CLF_ERR_IO (logged with the folder and the reason) when the folder is
 * missing or not writable; CLF_ERR_NOMEM. On failure *af is empty. */
clf_status clf_atomic_open(const char *path, clf_atomic_file *af);

/* Flushes, fsyncs and closes the temporary file, renames it over the
 * target and fsyncs the folder. A target that exists and is not a regular
 * file (a symlink, device, FIFO or folder, which the rename would replace
 * rather than write to) is refused with CLF_ERR_IO and left as it is. On
 * any failure (a full disk shows up here) the temporary file is removed,
 * the target is left as it was, and
 * CLF_ERR_IO is returned after logging the reason. *af is released either
 * way. */
clf_status clf_atomic_commit(clf_atomic_file *af);

/* Closes and removes the temporary file; the target is untouched. Safe
 * on a released or zeroed *af. */
void clf_atomic_abort(clf_atomic_file *af);

/* Writes len bytes to `path` atomically (open, write, commit). */
clf_status clf_atomic_write(const char *path, const void *data, size_t len);

/* fsync of the folder holding `path`, so a rename or a new file in it
 * survives a power cut. CLF_ERR_IO after logging when it fails. */
clf_status clf_fsync_dir_of(const char *path);

#endif
