/* Opening backends in tests, skipping cleanly without an OpenCL device. */
#include "support/backends.h"

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

bool clf_test_have_opencl(void)
{
    static int known = -1;
    cl_platform_id *plats = NULL;
    cl_uint np = 0;

    if (known >= 0)
        return known == 1;
    known = 0;
    if (clf_ocl_platforms(true, &plats, &np) != CLF_OK)
        return false;
    for (cl_uint p = 0; p < np && !known; p++) {
        cl_device_id *devs = NULL;
        cl_uint nd = 0;

        if (clf_ocl_devices(plats[p], &devs, &nd) == CLF_OK && nd > 0)
            known = 1;
        free(devs);
    }
    free(plats);
    return known == 1;
}

clf_backend *clf_test_backend(const char *spec)
{
    clf_backend *be = NULL;
    clf_status st;

    if (strncmp(spec, "opencl", 6) == 0 && !clf_test_have_opencl()) {
        printf("skipping: no OpenCL device (install pocl-opencl-icd to run this test)\n");
        skip();
    }
    st = clf_backend_open(spec, &be);
    if (st != CLF_OK)
        fail_msg("opening backend \"%s\" failed: %s", spec, clf_status_name(st));
    return be;
}

static int open_group(void **state, const char *spec)
{
    clf_backend *be = NULL;

    if (clf_backend_open(spec, &be) != CLF_OK)
        return -1;
    *state = be;
    return 0;
}

static int open_cpu(void **state) { return open_group(state, "cpu"); }
static int open_opencl(void **state) { return open_group(state, "opencl"); }

static int close_group(void **state)
{
    clf_backend_close(*state);
    return 0;
}

int clf_test_on_backends(const char *name, const struct CMUnitTest *tests, size_t n)
{
    char label[128];
    int failed;

    snprintf(label, sizeof label, "%s on cpu", name);
    failed = _cmocka_run_group_tests(label, tests, n, open_cpu, close_group);
    if (!clf_test_have_opencl()) {
        printf("skipping %s on opencl: no OpenCL device (install pocl-opencl-icd)\n", name);
        return failed;
    }
    snprintf(label, sizeof label, "%s on opencl", name);
    return failed + _cmocka_run_group_tests(label, tests, n, open_opencl, close_group);
}

void clf_twin_open(clf_twin *tw)
{
    /* OpenCL first: without it skip() jumps out, and a cpu backend opened
     * before would leak (valgrind found it) */
    tw->be[1] = clf_test_backend("opencl");
    tw->be[0] = clf_test_backend("cpu");
}

void clf_twin_close(clf_twin *tw)
{
    clf_backend_close(tw->be[0]);
    clf_backend_close(tw->be[1]);
    tw->be[0] = tw->be[1] = NULL;
}

clf_tbuf clf_tbuf_raw(clf_twin *tw, const void *data, size_t bytes)
{
    clf_tbuf b = {{NULL, NULL}, bytes, NULL};

    for (int s = 0; s < 2; s++) {
        clf_backend *be = tw->be[s];

        if (be->ops->buf_new(be, bytes, "test buffer", &b.on[s]) != CLF_OK ||
            be->ops->write(be, b.on[s], 0, data, bytes) != CLF_OK)
            fail_msg("%s: could not make a test buffer of %zu bytes", be->ops->kind, bytes);
    }
    return b;
}

clf_tbuf clf_tbuf_rand(clf_twin *tw, clf_rng *r, size_t n, float lo, float hi)
{
    float *h = malloc((n ? n : 1) * sizeof *h);
    clf_tbuf b;

    assert_non_null(h);
    for (size_t i = 0; i < n; i++)
        h[i] = lo + (hi - lo) * clf_rng_uniform(r);
    b = clf_tbuf_raw(tw, h, n * sizeof *h);
    b.host = h;
    return b;
}

void clf_tbuf_read(clf_twin *tw, const clf_tbuf *b, size_t off, size_t n, float *out[2])
{
    for (int s = 0; s < 2; s++) {
        clf_backend *be = tw->be[s];

        out[s] = malloc((n ? n : 1) * sizeof(float));
        assert_non_null(out[s]);
        if (be->ops->read(be, b->on[s], off * sizeof(float), out[s], n * sizeof(float)) !=
            CLF_OK)
            fail_msg("%s: reading a test buffer failed", be->ops->kind);
    }
}

void clf_tbuf_free(clf_twin *tw, clf_tbuf *b)
{
    for (int s = 0; s < 2; s++)
        tw->be[s]->ops->buf_free(tw->be[s], b->on[s]);
    free(b->host);
    memset(b, 0, sizeof *b);
}

void clf_test_close(const float *got, const float *want, const double *scale, size_t n,
                    double rel, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double s = scale ? scale[i] : fabs((double)want[i]);
        double err = fabs((double)got[i] - (double)want[i]);

        /* written so that a NaN on either side fails too */
        if (!(err <= rel * s))
            fail_msg("%s: element %zu is %.9g, the reference %.9g (error %.3g > %.3g)", what,
                     i, (double)got[i], (double)want[i], err, rel * s);
    }
}
