/* The user's cache folder and a stable hash. */
#include "core/cache_dir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
