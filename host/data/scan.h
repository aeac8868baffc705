/* Finding the classes and image files of an image folder (internal).
 *
 * Like torchvision's ImageFolder: the sorted names of the subfolders of
 * `dir` are the classes (labels 0..N-1); each class folder is walked
 * recursively, following symlinks, and its files are listed in the order
 * ImageFolder uses (by folder path, then by name, byte-wise). Differences,
 * on purpose: names starting with '.' are skipped everywhere; a folder
 * that is already on the current path (a symlink loop) is skipped with a
 * warning instead of recursing forever; walking stops at depth
 * CLF_SCAN_MAX_DEPTH with a warning.
 */
#ifndef CLFIT_DATA_SCAN_H
#define CLFIT_DATA_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clfit/status.h"

#define CLF_SCAN_MAX_DEPTH 64

typedef struct clf_scan_file {
    char *path;     /* dir/class/.../name */
    int32_t label;  /* index into classes */
    size_t dir_len; /* bytes of path before the file name's '/' */
} clf_scan_file;

typedef struct clf_scan {
    char **classes; /* sorted class folder names */
    int n_classes;
    clf_scan_file *files; /* candidates: files with an image extension */
    size_t n_files;
    size_t n_other;  /* files skipped for their extension */
    char *other_example; /* one of them, for the log (NULL if none) */
} clf_scan;

/* True when `name` ends in one of the image extensions, compared
 * case-insensitively: jpg jpeg png bmp gif tga ppm pgm pnm pbm. */
bool clf_scan_is_image_name(const char *name);

/* Scans `dir`. CLF_ERR_IO when it cannot be opened, CLF_ERR_DATA when it
 * has no class subfolder (both logged, naming the folder); CLF_ERR_NOMEM.
 * Unreadable subfolders and symlink loops are warnings. Free with
 * clf_scan_free (also after a failure). */
clf_status clf_scan_folder(const char *dir, clf_scan *out);

void clf_scan_free(clf_scan *s);

#endif
