/* Helpers shared by the harnesses: a quiet log and a scratch directory. */
#define _GNU_SOURCE /* memmem */
#include "harness.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "clfit/log.h"
#include "io/safetensors.h"

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
    if (getenv("FUZZ_VERBOSE")) /* to see why an input is refused */
        return;
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

/* In the header (hdr[0..n)), the value `old` of the CRC entry becomes
 * the 8 hex digits of crc. */
static void patch_crc(char *hdr, size_t n, const char *old, uint32_t crc)
{
    const char *key = "\"" CLF_ST_CRC_KEY "\"";
    char want[16], now[16], *at = memmem(hdr, n, key, strlen(key)), *v;

    if (!at)
        return;
    snprintf(want, sizeof want, "\"%s\"", old);
    snprintf(now, sizeof now, "\"%08x\"", crc);
    v = memmem(at, n - (size_t)(at - hdr), want, strlen(want));
    if (v)
        memcpy(v, now, strlen(now));
}

uint8_t *fuzz_fix_crc(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    const char *old;
    char copy[9];
    clf_st_file f;
    uint32_t crc;
    size_t hlen;

    if (!buf)
        abort();
    memcpy(buf, data, size);
    if (clf_st_parse(buf, size, "fuzz", &f) != CLF_OK)
        return buf;
    old = clf_st_meta(&f, CLF_ST_CRC_KEY);
    hlen = f.header_len;
    if (old && strlen(old) == 8 && strspn(old, "0123456789abcdefABCDEF") == 8 &&
        clf_st_crc_meta(f.meta, &crc) == CLF_OK) {
        memcpy(copy, old, sizeof copy);
        crc = (uint32_t)crc32_z(crc, f.data, f.data_len);
        clf_st_free(&f);
        patch_crc((char *)buf + 8, hlen, copy, crc);
        return buf;
    }
    clf_st_free(&f);
    return buf;
}

const char *fuzz_seed_dir(void)
{
    const char *d = getenv("FUZZ_WRITE_SEEDS");

    return d && *d ? d : NULL;
}
