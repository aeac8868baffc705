/* TEMPORARY stand-in, see backends.h. */
#include "support/backends.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

clf_backend *clf_test_backend(const char *spec)
{
    clf_backend *be = NULL;

    if (strcmp(spec, "cpu") != 0) {
        print_message("no OpenCL backend in this build yet: skipped\n");
        skip();
    }
    assert_int_equal(clf_cpu_backend_open(&be), CLF_OK);
    return be;
}
