/* Opening backends in tests, and twin buffers for comparing them.
 *
 * clf_test_backend("cpu") or clf_test_backend("opencl") returns an open
 * backend (close it with clf_backend_close). Where no OpenCL device exists
 * the "opencl" case calls cmocka's skip() with a message, so call it from
 * inside a test, not from a group setup. Any other failure fails the test.
 *
 * clf_test_have_opencl() says whether any OpenCL device exists, without
 * opening one or logging (asked once per process).
 *
 * A clf_twin is the cpu backend beside the OpenCL one; a clf_tbuf is one
 * buffer on each holding the same bytes, so a test runs an op on both
 * (for s in 0, 1: tw->be[s]->ops->op(tw->be[s], ..., buf.on[s], ...)) and
 * compares what comes back. Failures inside these helpers fail the test.
 */
#ifndef CLFIT_TEST_BACKENDS_H
#define CLFIT_TEST_BACKENDS_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/backend.h"
#include "clfit/device.h"
#include "core/rng.h"

bool clf_test_have_opencl(void);

/* Runs a cmocka group once per backend, the open backend as its state:
 * on cpu, then on opencl where a device exists (a line says it was
 * skipped otherwise). Returns the number of failed tests. Call as
 * CLF_TEST_ON_BACKENDS(tests) from main. */
struct CMUnitTest;
int clf_test_on_backends(const char *name, const struct CMUnitTest *tests, size_t n);
#define CLF_TEST_ON_BACKENDS(tests) \
    clf_test_on_backends(#tests, tests, sizeof(tests) / sizeof((tests)[0]))

clf_backend *clf_test_backend(const char *spec);

typedef struct clf_twin {
    clf_backend *be[2]; /* [0] cpu, the reference; [1] opencl */
} clf_twin;

typedef struct clf_tbuf {
    clf_buf *on[2];
    size_t bytes;
    float *host; /* the floats written (NULL for raw buffers) */
} clf_tbuf;

/* Calls op `name` on side s of a twin: CLF_TWIN_OP(&tw, s, fill, buf, 0, n, 1.0f). */
#define CLF_TWIN_OP(tw, s, name, ...) ((tw)->be[s]->ops->name((tw)->be[s], __VA_ARGS__))

/* Opens both backends (skipping without OpenCL); close with
 * clf_twin_close. */
void clf_twin_open(clf_twin *tw);
void clf_twin_close(clf_twin *tw);

/* n floats uniform in [lo, hi) on both backends; buf.host keeps them. */
clf_tbuf clf_tbuf_rand(clf_twin *tw, clf_rng *r, size_t n, float lo, float hi);

/* The same `bytes` bytes of data on both backends. */
clf_tbuf clf_tbuf_raw(clf_twin *tw, const void *data, size_t bytes);

/* Reads n floats at element offset off from both sides into out[0] and
 * out[1] (malloc'd; free them). */
void clf_tbuf_read(clf_twin *tw, const clf_tbuf *b, size_t off, size_t n, float *out[2]);

void clf_tbuf_free(clf_twin *tw, clf_tbuf *b);

/* Fails unless |got[i] - want[i]| <= rel * scale[i] for every i, where a
 * NULL scale means |want[i]|. `what` names the op in the message. */
void clf_test_close(const float *got, const float *want, const double *scale, size_t n,
                    double rel, const char *what);

#endif
