/* The program binary cache (backend/opencl/ocl_bincache.c): a first open
 * builds from source and stores the binary; a second loads it; a damaged,
 * truncated or foreign file is reported with a warning naming it, rebuilt
 * and rewritten; CLFIT_CACHE_DIR="" turns the cache off; a cache folder
 * that cannot be created is a warning, not a failure. After every open
 * the kernels must compute what the cpu backend computes (adam). Each
 * test uses its own temporary CLFIT_CACHE_DIR. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/opencl/ocl.h"
#include "support/backends.h"
#include "support/logcap.h"

typedef struct cache_fixture {
    char dir[64];
    char file[512]; /* the one .clbin file, once there is one */
} cache_fixture;

static int setup(void **state)
{
    cache_fixture *f = calloc(1, sizeof *f);

    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/clfit-bincache-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    setenv("CLFIT_CACHE_DIR", f->dir, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    cache_fixture *f = *state;
    char cmd[128];

    unsetenv("CLFIT_CACHE_DIR");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* Finds the single program file in <dir>/kernels; false when none. */
static bool find_file(cache_fixture *f)
{
    char sub[128];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(sub, sizeof sub, "%s/kernels", f->dir);
    d = opendir(sub);
    if (!d)
        return false;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".clbin") && strlen(e->d_name) == 22) {
            snprintf(f->file, sizeof f->file, "%s/%s", sub, e->d_name);
            n++;
        }
    closedir(d);
    assert_true(n <= 1);
    return n == 1;
}

/* Three Adam steps on both backends agree: the kernels work. */
static void kernels_work(clf_twin *tw)
{
    enum { N = 1000 };
    clf_tbuf w, g, m, v;
    float *out[2];
    clf_rng r;

    clf_rng_seed(&r, 5);
    w = clf_tbuf_rand(tw, &r, N, -1.0f, 1.0f);
    g = clf_tbuf_rand(tw, &r, N, -1.0f, 1.0f);
    m = clf_tbuf_rand(tw, &r, N, -0.1f, 0.1f);
    v = clf_tbuf_rand(tw, &r, N, 0.0f, 0.1f);
    for (int s = 0; s < 2; s++)
        assert_int_equal(CLF_TWIN_OP(tw, s, adam, N, w.on[s], 0, g.on[s], 0, m.on[s], 0,
                                     v.on[s], 0, 1e-3f, 0.9f, 0.999f, 1e-7f),
                         CLF_OK);
    clf_tbuf_read(tw, &w, 0, N, out);
    clf_test_close(out[1], out[0], NULL, N, 1e-6, "adam after a cached build");
    free(out[0]);
    free(out[1]);
    clf_tbuf_free(tw, &w);
    clf_tbuf_free(tw, &g);
    clf_tbuf_free(tw, &m);
    clf_tbuf_free(tw, &v);
}

/* Opens the twin, checks the cache state and the kernels, closes. */
static void open_expect(clf_bin_state want)
{
    clf_twin tw;

    clf_twin_open(&tw);
    assert_int_equal(clf_ocl_of(tw.be[1])->bin_state, want);
    kernels_work(&tw);
    clf_twin_close(&tw);
}

static void test_miss_then_hit(void **state)
{
    cache_fixture *f = *state;

    open_expect(CLF_BIN_MISS);
    assert_true(find_file(f));
    open_expect(CLF_BIN_HIT);
}

/* Rewrites the cache file through `damage`, then expects a warning that
 * names the file and `why`, and a rebuild that rewrites the file. */
static void damaged(cache_fixture *f, void (*damage)(FILE *, long), const char *why)
{
    FILE *fp;
    long size;

    fp = fopen(f->file, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    size = ftell(fp);
    damage(fp, size);
    assert_int_equal(fclose(fp), 0);

    logcap_begin();
    open_expect(CLF_BIN_BAD);
    assert_true(LOGCAP_HAS("unusable", f->file, why, "rebuilding"));
    logcap_end();
}

static void flip_payload_byte(FILE *fp, long size)
{
    int c;

    assert_int_equal(fseek(fp, size / 2, SEEK_SET), 0);
    c = fgetc(fp);
    assert_int_equal(fseek(fp, size / 2, SEEK_SET), 0);
    fputc(c ^ 0x5a, fp);
}

static void truncate_half(FILE *fp, long size)
{
    assert_int_equal(ftruncate(fileno(fp), size / 2), 0);
}

static void wrong_magic(FILE *fp, long size)
{
    (void)size;
    assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
    fputs("NOTCLFIT", fp);
}

/* A different key: as if written for another device or source. */
static void other_key(FILE *fp, long size)
{
    (void)size;
    assert_int_equal(fseek(fp, 16, SEEK_SET), 0);
    fputc(fgetc(fp) ^ 1, fp);
}

/* Each kind of damage in turn; each rebuild leaves a good file, which the
 * last open loads. */
static void test_damaged_files(void **state)
{
    cache_fixture *f = *state;

    open_expect(CLF_BIN_MISS);
    assert_true(find_file(f));
    damaged(f, flip_payload_byte, "checksum");
    damaged(f, truncate_half, "truncated");
    damaged(f, wrong_magic, "not a clfit program binary");
    damaged(f, other_key, "another device");
    open_expect(CLF_BIN_HIT);
}

static void test_cache_off(void **state)
{
    cache_fixture *f = *state;

    setenv("CLFIT_CACHE_DIR", "", 1);
    open_expect(CLF_BIN_OFF);
    open_expect(CLF_BIN_OFF);
    assert_false(find_file(f));
}

/* A regular file where the cache folder should be. */
static void test_unusable_folder(void **state)
{
    cache_fixture *f = *state;
    char path[128];
    FILE *fp;

    snprintf(path, sizeof path, "%s/file", f->dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fclose(fp), 0);
    setenv("CLFIT_CACHE_DIR", path, 1);
    logcap_begin();
    open_expect(CLF_BIN_OFF);
    assert_true(LOGCAP_HAS("cannot use the cache folder", path));
    logcap_end();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_miss_then_hit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unusable_folder, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
