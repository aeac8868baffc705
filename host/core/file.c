/* Reading whole files safely, and failure reasons written into a buffer. */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void clf_why(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;

    if (!why || n == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
}

/* Reads exactly `len` bytes; false on an error or an early end of file. */
static bool read_exact(int fd, uint8_t *buf, size_t len, char *why, size_t why_size)
{
    size_t got = 0;

    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            clf_why(why, why_size, "read failed: %s", strerror(errno));
            return false;
        }
        if (r == 0) {
            clf_why(why, why_size, "file shrank while being read (%zu of %zu bytes)", got, len);
            return false;
        }
        got += (size_t)r;
    }
    return true;
}

/* Opens without blocking (a FIFO named x.png must not hang the scan) and
 * checks that it is a regular file of an acceptable size. Returns -1, or
 * -2 when the file is too large. */
static int open_regular(const char *path, size_t max_bytes, size_t *len, char *why,
                        size_t why_size)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0) {
        clf_why(why, why_size, "cannot open: %s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        clf_why(why, why_size, "not a regular file");
        close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > (uint64_t)max_bytes) {
        clf_why(why, why_size, "file is %lld bytes, over the %zu-byte limit",
            (long long)st.st_size, max_bytes);
        close(fd);
        return -2;
    }
    *len = (size_t)st.st_size;
    return fd;
}

clf_status clf_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *len,
                         char *why, size_t why_size)
{
    size_t n = 0;
    uint8_t *buf;
    int fd;

    *data = NULL;
    *len = 0;
    fd = open_regular(path, max_bytes, &n, why, why_size);
    if (fd < 0)
        return fd == -2 ? CLF_ERR_FORMAT : CLF_ERR_IO;

    /* one byte more for a terminating NUL, so text parsers can use it */
    buf = n < SIZE_MAX ? malloc(n + 1) : NULL;
    if (!buf) {
        clf_why(why, why_size, "out of memory reading %zu bytes", n);
        close(fd);
        return CLF_ERR_NOMEM;
    }
    if (!read_exact(fd, buf, n, why, why_size)) {
        free(buf);
        close(fd);
        return CLF_ERR_IO;
    }
    close(fd);
    buf[n] = 0;
    *data = buf;
    *len = n;
    return CLF_OK;
}
