/* Scratch folders for tests that write files. */
#ifndef CLFIT_TEST_TMPDIR_H
#define CLFIT_TEST_TMPDIR_H

#include <stddef.h>

/* Makes a new empty folder under $TMPDIR (or /tmp) and returns its path
 * (static storage, valid until the next call); NULL after printing why. */
const char *tmpdir_make(const char *tag);

/* path = dir + "/" + name into buf; returns buf. */
const char *tmpdir_path(char *buf, size_t size, const char *dir, const char *name);

/* Removes the folder and the regular files directly inside it. */
void tmpdir_remove(const char *dir);

/* Number of entries in dir whose name contains `part` (-1 on error). */
int tmpdir_count(const char *dir, const char *part);

/* Reads a whole file (malloc'd, NUL appended); NULL when it cannot. */
unsigned char *tmpdir_read(const char *path, size_t *len);

/* Writes len bytes to path; 0 on success. */
int tmpdir_write(const char *path, const void *data, size_t len);

#endif
