/* Write-then-rename file replacement. */
#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "io/file_read.h"

static void release(clf_atomic_file *af)
{
    free(af->tmp);
    free(af->path);
    af->tmp = af->path = NULL;
    af->f = NULL;
}

clf_status clf_atomic_open(const char *path, clf_atomic_file *af)
{
    static atomic_uint counter;
    size_t size = strlen(path) + 64;
    int fd;

    memset(af, 0, sizeof *af);
    af->path = clf_strdup(path);
    af->tmp = clf_malloc_array(size, 1, "temporary file name");
    if (!af->path || !af->tmp) {
        release(af);
        return CLF_ERR_NOMEM;
    }
    snprintf(af->tmp, size, "%s.tmp-%ld-%u", path, (long)getpid(),
             atomic_fetch_add(&counter, 1));

    /* O_EXCL: never write through a file or link someone else put there;
     * O_RDWR: callers may read back what was written (plot checks) */
    fd = open(af->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0)
        af->f = fdopen(fd, "wb");
    if (!af->f) {
        CLF_LOG_ERROR("%s: cannot create a file next to it (%s): %s; check that the "
                      "folder exists and is writable", path, af->tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(af->tmp);
        }
        release(af);
        return CLF_ERR_IO;
    }
    return CLF_OK;
}

void clf_atomic_abort(clf_atomic_file *af)
{
    if (af->f) {
        fclose(af->f);
        unlink(af->tmp);
    }
    release(af);
}

clf_status clf_fsync_dir_of(const char *path)
{
    char *dir = clf_path_dirname(path);
    int fd, rc = -1;

    if (!dir)
        return CLF_ERR_NOMEM;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        rc = fsync(fd);
        close(fd);
    }
    if (rc != 0)
        CLF_LOG_ERROR("%s: cannot sync folder %s: %s", path, dir, strerror(errno));
    free(dir);
    return rc == 0 ? CLF_OK : CLF_ERR_IO;
}

/* What stands at path, when it is something a rename would wrongly
 * replace (a device, FIFO, socket, symlink or folder); NULL otherwise. */
static const char *not_a_file(const char *path)
{
    struct stat sb;

    if (lstat(path, &sb) != 0 || S_ISREG(sb.st_mode))
        return NULL;
    return S_ISLNK(sb.st_mode) ? "a symbolic link" : S_ISDIR(sb.st_mode) ? "a folder"
         : S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ? "a device" : S_ISFIFO(sb.st_mode)
         ? "a FIFO" : "not a regular file";
}

clf_status clf_atomic_commit(clf_atomic_file *af)
{
    const char *what = not_a_file(af->path);
    int err = 0;
    clf_status st;

    /* the rename would replace the device or link itself, not write to it */
    if (what) {
        CLF_LOG_ERROR("%s: is %s; clfit writes a new file and renames it into place, which "
                      "would replace it: give the path of a regular file (or a new one)",
                      af->path, what);
        clf_atomic_abort(af);
        return CLF_ERR_IO;
    }

    errno = 0;
    if (fflush(af->f) != 0 || ferror(af->f) || fsync(fileno(af->f)) != 0)
        err = errno ? errno : EIO;
    if (fclose(af->f) != 0 && !err)
        err = errno ? errno : EIO;
    af->f = NULL;
    if (!err && rename(af->tmp, af->path) != 0)
        err = errno;
    if (err) {
        CLF_LOG_ERROR("%s: writing failed: %s; the previous file, if any, is unchanged",
                      af->path, strerror(err));
        unlink(af->tmp);
        release(af);
        return CLF_ERR_IO;
    }
    st = clf_fsync_dir_of(af->path);
    release(af);
    return st;
}

clf_status clf_atomic_write(const char *path, const void *data, size_t len)
{
    clf_atomic_file af;
    clf_status st = clf_atomic_open(path, &af);

    if (st != CLF_OK)
        return st;
    if (len && fwrite(data, 1, len, af.f) != len) {
        CLF_LOG_ERROR("%s: writing %zu bytes failed: %s", path, len, strerror(errno));
        clf_atomic_abort(&af);
        return CLF_ERR_IO;
    }
    return clf_atomic_commit(&af);
}
