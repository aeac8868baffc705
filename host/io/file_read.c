/* Whole-file reads with a size cap, and path helpers. */
#include "io/file_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "core/file.h"

clf_status clf_file_read_all(const char *path, size_t max_bytes, char **data, size_t *len)
{
    char why[256];
    uint8_t *buf;
    clf_status st = clf_read_file(path, max_bytes, &buf, len, why, sizeof why);

    *data = st == CLF_OK ? (char *)buf : NULL;
    if (st != CLF_OK)
        CLF_LOG_ERROR("%s: %s", path, why);
    return st;
}

char *clf_path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n;
    char *d;

    if (!slash)
        return clf_strdup(".");
    n = slash == path ? 1 : (size_t)(slash - path);
    d = clf_malloc_array(n + 1, 1, "directory name");
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

char *clf_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = clf_malloc_array(a + b + 2, 1, "path");

    if (p)
        snprintf(p, a + b + 2, "%s/%s", dir, name);
    return p;
}
