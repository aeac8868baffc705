/* Device listing and the --device / CLFIT_DEVICE spec grammar of
 * include/clfit/device.h: cpu, opencl, opencl:P:D, bad indices, malformed
 * specs, case-insensitive name substrings, the environment default, and
 * that an unknown device is an error that lists the devices. Cases that
 * need an OpenCL device skip without one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clfit/device.h"
#include "clfit/log.h"
#include "support/backends.h"
#include "support/logcap.h"

static int setup(void **state)
{
    (void)state;
    unsetenv("CLFIT_DEVICE");
    logcap_begin();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    logcap_end();
    unsetenv("CLFIT_DEVICE");
    return 0;
}

/* Opens spec, expects `want`, and returns the backend's kind ("" when
 * none opened). */
static const char *open_kind(const char *spec, clf_status want)
{
    static char kind[16];
    clf_backend *be = (clf_backend *)1;
    clf_status st = clf_backend_open(spec, &be);

    if (st != want)
        fail_msg("spec \"%s\": got %s, want %s; log:\n%s", spec ? spec : "(null)",
                 clf_status_name(st), clf_status_name(want), logcap_text());
    if (st != CLF_OK) {
        assert_null(be);
        return "";
    }
    snprintf(kind, sizeof kind, "%s", clf_backend_kind(be));
    clf_backend_close(be);
    return kind;
}

static void need_opencl(void)
{
    if (!clf_test_have_opencl()) {
        printf("skipping: no OpenCL device (install pocl-opencl-icd to run this test)\n");
        skip();
    }
}

static void test_cpu_spec(void **state)
{
    clf_backend *be;

    (void)state;
    assert_string_equal(open_kind("cpu", CLF_OK), "cpu");
    assert_string_equal(open_kind("CPU", CLF_OK), "cpu");
    assert_int_equal(clf_backend_open("cpu", &be), CLF_OK);
    assert_int_equal(clf_backend_device(be)->platform, -1);
    clf_backend_close(be);
}

/* Every listed device has its fields filled and plausible. */
static void test_list(void **state)
{
    clf_device_desc *list = NULL;
    size_t n = 0;

    (void)state;
    need_opencl();
    assert_int_equal(clf_devices_list(&list, &n), CLF_OK);
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) {
        const clf_device_desc *d = &list[i];

        assert_true(d->platform >= 0 && d->device >= 0);
        assert_true(d->name[0] != '\0' && d->platform_name[0] != '\0');
        assert_true(strncmp(d->opencl_c, "OpenCL C ", 9) == 0);
        assert_true(d->driver[0] != '\0');
        assert_true(strcmp(d->type, "GPU") == 0 || strcmp(d->type, "CPU") == 0 ||
                    strcmp(d->type, "ACCELERATOR") == 0 || strcmp(d->type, "OTHER") == 0);
        assert_true(d->global_mem > 0 && d->max_alloc > 0 && d->max_alloc <= d->global_mem);
        assert_true(d->local_mem > 0 && d->max_work_group > 0 && d->compute_units > 0);
        if (i > 0) /* numbered in order: P ascending, D counting within P */
            assert_true(d->platform > d[-1].platform ||
                        (d->platform == d[-1].platform && d->device == d[-1].device + 1));
    }
    free(list);
}

/* "opencl" is the first GPU, else the first device. */
static void test_opencl_best(void **state)
{
    clf_device_desc *list = NULL, want;
    size_t n = 0, pick = 0;
    clf_backend *be;

    (void)state;
    need_opencl();
    assert_int_equal(clf_devices_list(&list, &n), CLF_OK);
    for (size_t i = n; i-- > 0;)
        if (strcmp(list[i].type, "GPU") == 0)
            pick = i;
    want = list[pick];
    free(list);
    assert_int_equal(clf_backend_open("opencl", &be), CLF_OK);
    assert_string_equal(clf_backend_kind(be), "opencl");
    assert_int_equal(clf_backend_device(be)->platform, want.platform);
    assert_int_equal(clf_backend_device(be)->device, want.device);
    assert_string_equal(clf_backend_device(be)->name, want.name);
    clf_backend_close(be);
}

static void test_index_spec(void **state)
{
    clf_backend *be;

    (void)state;
    need_opencl();
    assert_int_equal(clf_backend_open("opencl:0:0", &be), CLF_OK);
    assert_int_equal(clf_backend_device(be)->platform, 0);
    assert_int_equal(clf_backend_device(be)->device, 0);
    clf_backend_close(be);
    assert_string_equal(open_kind("OpenCL:0:0", CLF_OK), "opencl");
}

/* A device that does not exist: an error that lists what does. */
static void test_bad_index_lists_devices(void **state)
{
    clf_device_desc *list = NULL;
    size_t n = 0;
    char line[64];

    (void)state;
    need_opencl();
    assert_int_equal(clf_devices_list(&list, &n), CLF_OK);
    open_kind("opencl:0:99", CLF_ERR_DEVICE);
    assert_non_null(strstr(logcap_text(), "no device matches \"opencl:0:99\""));
    assert_non_null(strstr(logcap_text(), "  cpu "));
    for (size_t i = 0; i < n; i++) {
        snprintf(line, sizeof line, "opencl:%d:%d ", list[i].platform, list[i].device);
        assert_non_null(strstr(logcap_text(), line));
        assert_non_null(strstr(logcap_text(), list[i].name));
    }
    logcap_begin();
    open_kind("opencl:99:0", CLF_ERR_DEVICE);
    assert_non_null(strstr(logcap_text(), "opencl:0:0"));
    free(list);
}

static void test_malformed_specs(void **state)
{
    const char *bad[] = {"opencl:", "opencl:0", "opencl:x:0", "opencl:0:", "opencl:-1:0",
                         "opencl:0:0:0", "opencl:0:1x"};

    (void)state;
    need_opencl();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        logcap_begin();
        open_kind(bad[i], CLF_ERR_DEVICE);
        assert_non_null(strstr(logcap_text(), "malformed"));
        assert_non_null(strstr(logcap_text(), "opencl:0:0")); /* the listing */
    }
}

/* Part of the first device's name, in the wrong case, picks it. */
static void test_name_substring(void **state)
{
    clf_device_desc *list = NULL;
    size_t n = 0, len;
    char part[32];
    clf_backend *be;

    (void)state;
    need_opencl();
    assert_int_equal(clf_devices_list(&list, &n), CLF_OK);
    len = strlen(list[0].name);
    snprintf(part, sizeof part, "%.*s", (int)(len < 8 ? len : 8), list[0].name + len / 3);
    for (char *c = part; *c; c++) /* swap the case of every letter */
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    assert_int_equal(clf_backend_open(part, &be), CLF_OK);
    assert_string_equal(clf_backend_device(be)->name, list[0].name);
    clf_backend_close(be);
    free(list);

    open_kind("no-such-device-anywhere", CLF_ERR_DEVICE);
    assert_non_null(strstr(logcap_text(), "no device matches \"no-such-device-anywhere\""));
}

/* CLFIT_DEVICE is the default for a NULL or empty spec; an explicit spec
 * wins; a bad value names the variable. */
static void test_environment(void **state)
{
    (void)state;
    setenv("CLFIT_DEVICE", "cpu", 1);
    assert_string_equal(open_kind(NULL, CLF_OK), "cpu");
    assert_string_equal(open_kind("", CLF_OK), "cpu");
    need_opencl();
    setenv("CLFIT_DEVICE", "opencl:0:0", 1);
    assert_string_equal(open_kind(NULL, CLF_OK), "opencl");
    assert_string_equal(open_kind("cpu", CLF_OK), "cpu");
    setenv("CLFIT_DEVICE", "opencl:7:7", 1);
    open_kind(NULL, CLF_ERR_DEVICE);
    assert_non_null(strstr(logcap_text(), "CLFIT_DEVICE"));
}

/* With neither a spec nor CLFIT_DEVICE: OpenCL where a device exists. */
static void test_default(void **state)
{
    (void)state;
    assert_string_equal(open_kind(NULL, CLF_OK), clf_test_have_opencl() ? "opencl" : "cpu");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cpu_spec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_opencl_best, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_spec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_index_lists_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_specs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_substring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
