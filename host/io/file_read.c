/* Whole-file reads with a size cap, and path helpers. */
#include "io/file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clfit/log.h"
#include "core/alloc.h"

/* Size of an open file, or -1 when it cannot be told. */
static long file_size(FILE *f)
{
    long n;

    if (fseek(f, 0, SEEK_END) != 0)
        return -1;
    n = ftell(f);
    if (fseek(f, 0, SEEK_SET) != 0)
        return -1;
    return n;
}

/* Opens path for reading only if it is a regular file. O_NONBLOCK keeps a
 * FIFO from blocking the open (a named pipe given as a model file would
 * otherwise hang clfit); a folder or device is refused by name. */
static FILE *open_regular(const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    FILE *f;

    if (fd < 0) {
        CLF_LOG_ERROR("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        CLF_LOG_ERROR("%s: not a regular file (%s)", path,
                      S_ISDIR(st.st_mode) ? "a folder" : "a pipe, socket or device");
        close(fd);
        return NULL;
    }
    f = fdopen(fd, "rb");
    if (!f) {
        CLF_LOG_ERROR("%s: cannot open: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

clf_status clf_file_read_all(const char *path, size_t max_bytes, char **data, size_t *len)
{
    FILE *f = open_regular(path);
    long n;
    char *buf;

    *data = NULL;
    *len = 0;
    if (!f)
        return CLF_ERR_IO;
    n = file_size(f);
    if (n < 0) {
        CLF_LOG_ERROR("%s: cannot tell the file size: %s", path, strerror(errno));
        fclose(f);
        return CLF_ERR_IO;
    }
    if ((unsigned long)n > max_bytes) {
        CLF_LOG_ERROR("%s: %ld bytes, more than the %zu this reader accepts", path, n,
                      max_bytes);
        fclose(f);
        return CLF_ERR_FORMAT;
    }

    buf = clf_malloc_array((size_t)n + 1, 1, path);
    if (!buf) {
        fclose(f);
        return CLF_ERR_NOMEM;
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        CLF_LOG_ERROR("%s: read failed after fewer than %ld bytes", path, n);
        free(buf);
        fclose(f);
        return CLF_ERR_IO;
    }
    fclose(f);
    buf[n] = '\0';
    *data = buf;
    *len = (size_t)n;
    return CLF_OK;
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
