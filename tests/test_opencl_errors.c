/* Failing devices explain themselves: a kernel that does not build gives
 * CLF_ERR_BUILD and its build log; a buffer above the device's single
 * allocation limit or its global memory gives CLF_ERR_DEVICE_MEM, saying
 * how much was asked and what the device allows, before allocating.
 * main() lowers PoCL's memory to 1 GiB (POCL_MEMORY_LIMIT, read when PoCL
 * starts) so the limits are reached without using much memory: buffers
 * are never written, and PoCL allocates on first use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/opencl/ocl.h"
#include "clfit/log.h"
#include "support/backends.h"
#include "support/logcap.h"

static int setup(void **state)
{
    (void)state;
    logcap_begin();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    logcap_end();
    return 0;
}

/* An undeclared identifier: every compiler names it in its log. */
static void test_broken_kernel_logs_build_log(void **state)
{
    clf_backend *be = clf_test_backend("opencl");
    const char *bad = "kernel void broken(global float *x)\n"
                      "{\n"
                      "    x[0] = clfit_undeclared_name * 2.0f;\n"
                      "}\n";

    (void)state;
    assert_int_equal(clf_opencl_build_source(be, bad), CLF_ERR_BUILD);
    assert_non_null(strstr(logcap_text(), "building the kernels failed"));
    assert_non_null(strstr(logcap_text(), "-cl-std=CL1.2"));
    assert_non_null(strstr(logcap_text(), "OpenCL build log:"));
    assert_non_null(strstr(logcap_text(), "clfit_undeclared_name"));

    logcap_begin();
    assert_int_equal(clf_opencl_build_source(be, "kernel void fine(global float *x)\n"
                                                 "{ x[0] = 1.0f; }\n"),
                     CLF_OK);
    assert_string_equal(logcap_text(), "");
    clf_backend_close(be);
}

/* Expects buf_new to refuse `bytes` with a message holding each needle. */
static void expect_refused(clf_backend *be, size_t bytes, const char *n1, const char *n2)
{
    clf_buf *b = (clf_buf *)1;

    logcap_begin();
    assert_int_equal(be->ops->buf_new(be, bytes, "big tensor", &b), CLF_ERR_DEVICE_MEM);
    assert_null(b);
    assert_non_null(strstr(logcap_text(), "'big tensor'"));
    if (!strstr(logcap_text(), n1) || !strstr(logcap_text(), n2))
        fail_msg("expected \"%s\" and \"%s\" in:\n%s", n1, n2, logcap_text());
}

static void test_allocation_limits(void **state)
{
    clf_backend *be = clf_test_backend("opencl");
    const clf_device_desc *d = clf_backend_device(be);
    size_t max = (size_t)d->max_alloc, n = 0;
    char asked[32], allows[32];
    clf_buf *held[64];

    (void)state;
    snprintf(asked, sizeof asked, "%zu bytes", max + 1);
    snprintf(allows, sizeof allows, "%llu bytes", (unsigned long long)max);
    expect_refused(be, max + 1, asked, allows);
    assert_non_null(strstr(logcap_text(), "CL_DEVICE_MAX_MEM_ALLOC_SIZE"));

    /* fill global memory with the largest buffers allowed, then one more */
    while ((n + 1) * max <= d->global_mem && n < 64) {
        assert_int_equal(be->ops->buf_new(be, max, "slab", &held[n]), CLF_OK);
        n++;
    }
    snprintf(allows, sizeof allows, "%llu bytes", (unsigned long long)d->global_mem);
    expect_refused(be, d->global_mem - n * max + 4, "global memory", allows);
    while (n > 0)
        be->ops->buf_free(be, held[--n]);
    clf_backend_close(be);
}

/* The check itself, with made-up limits: 1000 bytes in one allocation,
 * 2500 in all. */
static void test_check_alloc_arithmetic(void **state)
{
    clf_device_desc d = {.name = "made-up", .max_alloc = 1000, .global_mem = 2500};

    (void)state;
    assert_int_equal(clf_ocl_check_alloc(&d, 0, 1000, "a"), CLF_OK);
    assert_int_equal(clf_ocl_check_alloc(&d, 0, 1001, "a"), CLF_ERR_DEVICE_MEM);
    assert_int_equal(clf_ocl_check_alloc(&d, 1500, 1000, "a"), CLF_OK);
    assert_int_equal(clf_ocl_check_alloc(&d, 1501, 1000, "a"), CLF_ERR_DEVICE_MEM);
    assert_int_equal(clf_ocl_check_alloc(&d, SIZE_MAX, 10, "a"), CLF_ERR_DEVICE_MEM);
}

/* Names in the messages the check macros produce. */
static void test_error_names(void **state)
{
    (void)state;
    assert_string_equal(clf_cl_error_name(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES");
    assert_string_equal(clf_cl_error_name(-1001), "CL_PLATFORM_NOT_FOUND_KHR");
    assert_string_equal(clf_cl_error_name(12345), "CL_UNKNOWN_ERROR");
    assert_string_equal(clf_clblast_status_name(-1017), "CLBlastInvalidDimension");
    assert_string_equal(clf_clblast_status_name(-4), "CL_MEM_OBJECT_ALLOCATION_FAILURE");
    clf_ocl_report("clEnqueueNDRangeKernel(q, k, 1, NULL, g, l, 0, NULL, NULL)",
                   CL_INVALID_WORK_GROUP_SIZE, "x.c", 12);
    assert_non_null(strstr(logcap_text(), "OpenCL: clEnqueueNDRangeKernel failed: "
                                   "CL_INVALID_WORK_GROUP_SIZE (-54) at x.c:12"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_broken_kernel_logs_build_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_alloc_arithmetic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_names, setup, teardown),
    };

    setenv("POCL_MEMORY_LIMIT", "1", 1); /* GiB; other drivers ignore it */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
