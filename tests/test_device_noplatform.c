/* A machine without any OpenCL platform: before the first OpenCL call,
 * main() points the ICD loader (ocl-icd honours OCL_ICD_VENDORS) at an
 * empty directory. Listing and opening OpenCL must then fail with
 * CLF_ERR_NO_PLATFORM and a message that says how to install a driver;
 * "cpu" must still work, and no spec at all must fall back to it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "clfit/device.h"
#include "clfit/log.h"
#include "support/backends.h"

static char logged[8192];

static void capture(clf_log_level level, const char *msg, void *user)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    size_t at = strlen(logged);

    (void)user;
    snprintf(logged + at, sizeof logged - at, "%s: %s\n", names[level], msg);
}

static int setup(void **state)
{
    (void)state;
    logged[0] = '\0';
    clf_log_set_callback(capture, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    clf_log_set_callback(NULL, NULL);
    return 0;
}

static void test_list_says_install_a_driver(void **state)
{
    clf_device_desc *list = (clf_device_desc *)1;
    size_t n = 7;

    (void)state;
    assert_int_equal(clf_devices_list(&list, &n), CLF_ERR_NO_PLATFORM);
    assert_null(list);
    assert_int_equal(n, 0);
    assert_non_null(strstr(logged, "warning: no OpenCL platform found"));
    assert_null(strstr(logged, "error:"));
    assert_non_null(strstr(logged, "apt-get install pocl-opencl-icd"));
    assert_non_null(strstr(logged, "--device cpu"));
    assert_false(clf_test_have_opencl());
}

static void test_opencl_specs_fail(void **state)
{
    const char *specs[] = {"opencl", "opencl:0:0", "pthread"};
    clf_backend *be;

    (void)state;
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        logged[0] = '\0';
        assert_int_equal(clf_backend_open(specs[i], &be), CLF_ERR_NO_PLATFORM);
        assert_null(be);
        assert_non_null(strstr(logged, "pocl-opencl-icd"));
    }
}

/* No spec: the cpu backend, with one info line and no error. */
static void test_default_falls_back_to_cpu(void **state)
{
    clf_backend *be;
    clf_buf *b;
    float v = 0.0f;

    (void)state;
    unsetenv("CLFIT_DEVICE");
    assert_int_equal(clf_backend_open(NULL, &be), CLF_OK);
    assert_string_equal(clf_backend_kind(be), "cpu");
    assert_non_null(strstr(logged, "info: no OpenCL platform found; using the plain C cpu"));
    assert_null(strstr(logged, "error:"));
    assert_int_equal(be->ops->buf_new(be, sizeof v, "v", &b), CLF_OK);
    assert_int_equal(be->ops->fill(be, b, 0, 1, 2.5f), CLF_OK);
    assert_int_equal(be->ops->read(be, b, 0, &v, sizeof v), CLF_OK);
    assert_float_equal(v, 2.5f, 0.0f);
    be->ops->buf_free(be, b);
    clf_backend_close(be);
}

static void test_cpu_still_works(void **state)
{
    clf_backend *be;

    (void)state;
    assert_int_equal(clf_backend_open("cpu", &be), CLF_OK);
    assert_string_equal(clf_backend_kind(be), "cpu");
    assert_string_equal(logged, "");
    clf_backend_close(be);
}

int main(void)
{
    char dir[] = "/tmp/clfit-no-vendors-XXXXXX";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_says_install_a_driver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_opencl_specs_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_falls_back_to_cpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_still_works, setup, teardown),
    };
    int failed;

    /* must happen before anything asks the loader for platforms */
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    setenv("OCL_ICD_VENDORS", dir, 1);
    unsetenv("OCL_ICD_FILENAMES");
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(dir);
    return failed;
}
