/* Helpers shared by the harnesses: a quiet log and a scratch directory. */
#include "harness.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clfit/log.h"

static void discard(clf_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)user;
    /* Touch the whole message so ASan checks it was NUL-terminated. */
    if (strlen(msg) > (size_t)1 << 30)
        abort();
}

void fuzz_quiet_log(void)
{
    clf_log_set_callback(discard, NULL);
    clf_log_set_level(CLF_LOG_DEBUG);
}

static char dir[512];

/* Removes the scratch directory and the files in it at exit. */
static void remove_scratch(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[1024];

    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

const char *fuzz_scratch_dir(void)
{
    const char *tmp;

    if (dir[0])
        return dir;
    tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/clfit-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(remove_scratch);
    return dir;
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");

    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}
