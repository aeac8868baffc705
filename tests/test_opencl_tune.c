/* GEMM tuning files (backend/opencl/ocl_tune.h): a saved file reads back
 * as written; an unusable file (bad header, another device, a value out
 * of range, an unknown key, binary junk) is ignored with a warning naming
 * the file and line; a file's tile and slice reach the OpenCL backend,
 * whose GEMMs then still agree with the cpu backend on every path they
 * change; a CLBlast override CLBlast refuses is only a warning. Each test
 * uses its own temporary CLFIT_CACHE_DIR. The search itself (clfit tune)
 * takes minutes and is not run here. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/opencl/ocl.h"
#include "backend/opencl/ocl_tune.h"
#include "support/backends.h"
#include "support/logcap.h"

static int setup(void **state)
{
    char *dir = malloc(64);

    if (!dir)
        return -1;
    strcpy(dir, "/tmp/clfit-tune-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    setenv("CLFIT_CACHE_DIR", dir, 1);
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    unsetenv("CLFIT_CACHE_DIR");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *)*state);
    free(*state);
    return system(cmd) == 0 ? 0 : -1;
}

/* A device description like the backend's, without opening anything. */
static clf_device_desc fake_device(void)
{
    clf_device_desc d;

    memset(&d, 0, sizeof d);
    strcpy(d.name, "test device");
    strcpy(d.platform_name, "test platform");
    strcpy(d.driver, "1.0");
    return d;
}

static void write_bytes(const clf_device_desc *d, const char *data, size_t len)
{
    char *path = clf_tune_path(d);
    FILE *f;

    assert_non_null(path);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(path);
}

static void write_text(const clf_device_desc *d, const char *text)
{
    write_bytes(d, text, strlen(text));
}

static void test_round_trip(void **state)
{
    clf_device_desc d = fake_device();
    clf_tune t, got;
    bool used;

    (void)state;
    clf_tune_default(&t);
    t.gemm_r = 8;
    t.gemm_v = 3;
    t.k_slice = 2048;
    t.n_clblast = 1;
    strcpy(t.clblast[0].kernel, "Copy");
    t.clblast[0].n = 2;
    strcpy(t.clblast[0].names[0], "COPY_DIMX");
    strcpy(t.clblast[0].names[1], "COPY_VW");
    t.clblast[0].values[0] = 16;
    t.clblast[0].values[1] = 4;
    assert_int_equal(clf_tune_save(&d, &t), CLF_OK);
    assert_int_equal(clf_tune_load(&d, &got, &used), CLF_OK);
    assert_true(used);
    assert_int_equal(got.gemm_r, 8);
    assert_int_equal(got.gemm_v, 3);
    assert_int_equal(got.k_slice, 2048);
    assert_int_equal(got.n_clblast, 1);
    assert_string_equal(got.clblast[0].kernel, "Copy");
    assert_int_equal(got.clblast[0].n, 2);
    assert_string_equal(got.clblast[0].names[1], "COPY_VW");
    assert_int_equal(got.clblast[0].values[0], 16);
}

/* The file (len bytes) must be refused with `why` on line `line`, the
 * defaults kept. */
static void refused_bytes(const char *data, size_t len, int line, const char *why)
{
    clf_device_desc d = fake_device();
    char *path = clf_tune_path(&d), where[16];
    clf_tune t;
    bool used = true;

    write_bytes(&d, data, len);
    snprintf(where, sizeof where, "line %d", line);
    logcap_begin();
    assert_int_equal(clf_tune_load(&d, &t, &used), CLF_OK);
    assert_true(LOGCAP_HAS("ignoring the tuning file", path, where, why));
    logcap_end();
    assert_false(used);
    assert_int_equal(t.gemm_r, 6); /* the defaults */
    assert_int_equal(t.gemm_v, 4);
    assert_int_equal(t.k_slice, 1024);
    assert_int_equal(t.n_clblast, 0);
    free(path);
}

static void refused(const char *text, int line, const char *why)
{
    refused_bytes(text, strlen(text), line, why);
}

static void test_bad_files(void **state)
{
    (void)state;
    refused("clfit-tune 2\n", 1, "first line");
    refused("clfit-tune 1\ndevice other device\n", 2, "another device");
    refused("clfit-tune 1\ndevice test device\ndriver 0.9\n", 3, "another driver");
    refused("clfit-tune 1\ngemm_tile 6 5\n", 2, "gemm_tile needs");   /* v > 4 */
    refused("clfit-tune 1\ngemm_tile 17 1\n", 2, "gemm_tile needs");  /* r > 16 */
    refused("clfit-tune 1\ngemm_tile 6 4 1\n", 2, "gemm_tile needs"); /* extra value */
    refused("clfit-tune 1\n# note\nk_slice 100\n", 3, "k_slice needs"); /* not 16k */
    refused("clfit-tune 1\nspeed fast\n", 2, "unknown key");
    refused("clfit-tune 1\nclblast Xgemm KWG\n", 2, "clblast needs");
    refused_bytes("clfit-tune 1\n\0junk", 17, 0, "not text");
}

/* No file: defaults, nothing said. */
static void test_missing_file(void **state)
{
    clf_device_desc d = fake_device();
    clf_tune t;
    bool used = true;

    (void)state;
    logcap_begin();
    assert_int_equal(clf_tune_load(&d, &t, &used), CLF_OK);
    assert_string_equal(logcap_text(), "");
    logcap_end();
    assert_false(used);
    assert_int_equal(t.gemm_r, 6);
}

/* NN GEMMs of the tile path (several row and column panels, partial
 * ones) and of the k-slices path, against the cpu backend. */
static void gemms_agree(clf_twin *tw)
{
    const int shapes[][3] = {{50, 70, 90}, {13, 100, 33}, {12, 10, 5000}};
    clf_rng r;

    clf_rng_seed(&r, 77);
    for (int i = 0; i < 3; i++) {
        int m = shapes[i][0], n = shapes[i][1], k = shapes[i][2];
        clf_tbuf a = clf_tbuf_rand(tw, &r, (size_t)m * k, -1.0f, 1.0f);
        clf_tbuf b = clf_tbuf_rand(tw, &r, (size_t)k * n, -1.0f, 1.0f);
        clf_tbuf c = clf_tbuf_rand(tw, &r, (size_t)m * n, -1.0f, 1.0f);
        double *scale = malloc((size_t)m * n * sizeof *scale);
        float *out[2];

        assert_non_null(scale);
        for (int s = 0; s < 2; s++)
            assert_int_equal(CLF_TWIN_OP(tw, s, gemm, false, false, m, n, k, 1.0f, a.on[s], 0,
                                         k, b.on[s], 0, n, 0.0f, c.on[s], 0, n),
                             CLF_OK);
        for (int x = 0; x < m; x++)
            for (int y = 0; y < n; y++) {
                double sum = 0.0;

                for (int p = 0; p < k; p++)
                    sum += fabs((double)a.host[(size_t)x * k + p] * b.host[(size_t)p * n + y]);
                scale[(size_t)x * n + y] = sum;
            }
        clf_tbuf_read(tw, &c, 0, (size_t)m * n, out);
        clf_test_close(out[1], out[0], scale, (size_t)m * n, 1e-5, "tuned gemm");
        free(out[0]);
        free(out[1]);
        free(scale);
        clf_tbuf_free(tw, &a);
        clf_tbuf_free(tw, &b);
        clf_tbuf_free(tw, &c);
    }
}

/* Writes a file for the real device with tile r x v and slice `slice`,
 * opens the backend, checks it took them and that GEMMs still agree. */
static void tuned_backend(int r, int v, int slice, const char *extra)
{
    clf_backend *probe = clf_test_backend("opencl");
    clf_device_desc d = *clf_backend_device(probe);
    char text[512];
    clf_twin tw;

    clf_backend_close(probe);
    snprintf(text, sizeof text, "clfit-tune 1\ndevice %s\ndriver %s\ngemm_tile %d %d\n"
             "k_slice %d\n%s", d.name, d.driver, r, v, slice, extra);
    write_text(&d, text);
    clf_twin_open(&tw);
    assert_true(clf_ocl_of(tw.be[1])->tuned);
    assert_int_equal(clf_ocl_of(tw.be[1])->gemm_r, r);
    assert_int_equal(clf_ocl_of(tw.be[1])->gemm_v, v);
    assert_int_equal(clf_ocl_of(tw.be[1])->k_slice, slice);
    clf_ocl_of(tw.be[1])->cpu_kernels = true; /* the paths the file tunes */
    gemms_agree(&tw);
    clf_twin_close(&tw);
}

static void test_tuned_tiles(void **state)
{
    (void)state;
    /* a new tile builds the whole program once (seconds on a cold driver
     * cache), so one that differs from the defaults in both sizes */
    tuned_backend(4, 2, 256, "");
}

/* CLBlast refuses an unknown kernel name: a warning, the backend opens. */
static void test_clblast_refusal(void **state)
{
    (void)state;
    logcap_begin();
    tuned_backend(6, 4, 1024, "clblast NoSuchKernel X=1\n");
    assert_true(LOGCAP_HAS("CLBlast refused the tuned parameters for NoSuchKernel"));
    logcap_end();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tuned_tiles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clblast_refusal, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
