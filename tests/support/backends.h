/* Opening backends in tests.
 *
 * clf_test_backend("cpu") or clf_test_backend("opencl") returns an open
 * backend (close it with clf_backend_close). Where no OpenCL device exists
 * the "opencl" case calls cmocka's skip() with a message, so call it from
 * inside a test, not from a group setup. Any other failure fails the test.
 *
 * clf_test_have_opencl() says whether any OpenCL device exists, without
 * opening one or logging (asked once per process).
 */
#ifndef CLFIT_TEST_BACKENDS_H
#define CLFIT_TEST_BACKENDS_H

#include <stdbool.h>

#include "clfit/device.h"

bool clf_test_have_opencl(void);

clf_backend *clf_test_backend(const char *spec);

#endif
