/* Per-op timing of the OpenCL backend from profiling events (internal).
 *
 * The queue is always created with CL_QUEUE_PROFILING_ENABLE; events are
 * kept only between clf_opencl_profile_begin and _end, so a normal run
 * pays nothing. `clfit bench --profile` uses it to show where a training
 * step's time goes. Times are the device's (CL_PROFILING_COMMAND_START to
 * _END), summed per kernel name; host-side gaps between commands (launch
 * overhead) show up as the difference between a step's wall time and the
 * sum here.
 */
#ifndef CLFIT_OCL_PROFILE_H
#define CLFIT_OCL_PROFILE_H

#include <stddef.h>

#include "clfit/device.h"
#include "clfit/status.h"

typedef struct clf_op_time {
    char name[40];   /* kernel name, or "write", "read", "fill", "copy",
                        "clblast_sgemm" */
    unsigned count;  /* commands of that name */
    double ms;       /* summed device time */
    double min_ms;   /* the shortest one (the least disturbed by load) */
} clf_op_time;

/* Starts recording (drops anything recorded before). CLF_ERR_UNSUPPORTED
 * for a backend that is not OpenCL. */
clf_status clf_opencl_profile_begin(clf_backend *be);

/* Waits for the queue, sums the recorded commands per name into out
 * (at most max entries, in order of first appearance; *n says how many)
 * and stops recording. */
clf_status clf_opencl_profile_end(clf_backend *be, clf_op_time *out, size_t max, size_t *n);

#endif
