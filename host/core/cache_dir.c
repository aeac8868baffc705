/* The user's cache folder and atomic writes. */
#include "core/cache_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "io/file_read.h"

uint64_t clf_fnv1a(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* mkdir -p: every missing folder of `path`, mode 0700 (a cache may hold
 * file names of the user's data). */
static int make_dirs(char *path)
{
    struct stat sb;

    for (char *s = path + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            *s = '/';
            return -1;
        }
        *s = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* The cache root before "/sub", malloc'd; NULL when there is none. */
static char *cache_root(void)
{
    const char *own = getenv("CLFIT_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");

    if (own)
        return *own ? clf_strdup(own) : NULL;
    if (xdg && xdg[0] == '/')
        return clf_path_join(xdg, "clfit");
    if (home && home[0] == '/')
        return clf_path_join(home, ".cache/clfit");
    CLF_LOG_DEBUG("no cache folder: neither XDG_CACHE_HOME nor HOME is set");
    return NULL;
}

char *clf_cache_dir(const char *sub)
{
    char *root = cache_root(), *dir;

    if (!root)
        return NULL;
    dir = clf_path_join(root, sub);
    free(root);
    if (dir && make_dirs(dir) != 0) {
        CLF_LOG_WARN("cannot use the cache folder '%s': %s (set CLFIT_CACHE_DIR to another "
                     "folder, or to an empty value to turn caching off)", dir,
                     strerror(errno));
        free(dir);
        dir = NULL;
    }
    return dir;
}

static int write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;

    while (len > 0) {
        ssize_t w = write(fd, p, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

clf_status clf_write_file_atomic(const char *path, const void *head, size_t head_len,
                                 const void *body, size_t body_len)
{
    size_t n = strlen(path) + 16;
    char *tmp = clf_malloc_array(n, 1, "temporary path");
    int fd = -1, ok = 0;

    if (!tmp)
        return CLF_ERR_NOMEM;
    snprintf(tmp, n, "%s.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd >= 0)
        ok = write_all(fd, head, head_len) == 0 && write_all(fd, body, body_len) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok) {
        CLF_LOG_WARN("cannot write '%s': %s", path, strerror(errno));
        if (fd >= 0)
            unlink(tmp);
    }
    free(tmp);
    return ok ? CLF_OK : CLF_ERR_IO;
}

clf_status clf_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat sb;
    uint8_t *buf = NULL;
    size_t got = 0;

    *data = NULL;
    *len = 0;
    if (fd < 0)
        return CLF_ERR_IO;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max_bytes ||
        !(buf = malloc((size_t)sb.st_size + 1))) {
        close(fd);
        return CLF_ERR_IO;
    }
    while (got < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != (size_t)sb.st_size) {
        free(buf);
        return CLF_ERR_IO;
    }
    *data = buf;
    *len = got;
    return CLF_OK;
}
