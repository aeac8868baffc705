/* TEMPORARY stand-in until the opencl branch lands its
 * tests/support/backends.{c,h}: only "cpu" opens; "opencl" skips. */
#ifndef CLFIT_TEST_BACKENDS_H
#define CLFIT_TEST_BACKENDS_H

#include "backend/backend.h"
#include "clfit/device.h"

clf_backend *clf_test_backend(const char *spec);

#endif
