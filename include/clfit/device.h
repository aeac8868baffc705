/* Compute devices: listing them and opening a backend on one.
 *
 * A backend is where every op of a model runs: "cpu" (the plain C
 * reference) or one OpenCL device. Device specs, as on the command line:
 *   "cpu"            the plain C backend
 *   "opencl"         the best OpenCL device: the first GPU, else the first
 *   "opencl:P:D"     platform P, device D, as clf_devices_list numbers them
 *   any other text   the first OpenCL device whose name contains it,
 *                    compared case-insensitively
 * A NULL or empty spec means $CLFIT_DEVICE, else "opencl" when a platform
 * exists, else "cpu" (with one info line saying so).
 */
#ifndef CLFIT_DEVICE_H
#define CLFIT_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "clfit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clf_backend clf_backend;

typedef struct clf_device_desc {
    int platform;            /* P in opencl:P:D; -1 for the cpu backend */
    int device;              /* D in opencl:P:D; -1 for the cpu backend */
    char name[256];          /* device name */
    char platform_name[256]; /* platform name ("" for cpu) */
    char type[16];           /* "GPU", "CPU", "ACCELERATOR", "OTHER", "HOST" */
    char opencl_c[64];       /* OpenCL C version string ("" for cpu) */
    char driver[64];         /* driver version ("" for cpu) */
    uint64_t global_mem;     /* bytes */
    uint64_t max_alloc;      /* largest single buffer, bytes */
    uint64_t local_mem;      /* bytes of local memory per work-group */
    size_t max_work_group;   /* largest work-group size */
    unsigned compute_units;
} clf_device_desc;

/* Lists every device of every OpenCL platform, in the order opencl:P:D
 * numbers them. *out is malloc'd (free() it); *count may be 0.
 * Returns CLF_ERR_NO_PLATFORM (after a warning that says how to install
 * a driver; the cpu backend still works) when the ICD loader finds no
 * platform. */
clf_status clf_devices_list(clf_device_desc **out, size_t *count);

/* Opens a backend on the device `spec` names (see above). On an unknown or
 * unusable spec, logs the devices that exist and returns CLF_ERR_DEVICE or
 * CLF_ERR_NO_PLATFORM; *out is then NULL. */
clf_status clf_backend_open(const char *spec, clf_backend **out);

/* Releases every buffer and OpenCL object the backend holds. NULL is fine. */
void clf_backend_close(clf_backend *be);

/* The device the backend runs on; valid until clf_backend_close. */
const clf_device_desc *clf_backend_device(const clf_backend *be);

/* "cpu" or "opencl". */
const char *clf_backend_kind(const clf_backend *be);

#ifdef __cplusplus
}
#endif
#endif
