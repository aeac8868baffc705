/* OpenCL platform and device discovery, and what each device reports. */
#include "ocl.h"

#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"

/* ocl-icd's code for "no platform"; not in the 1.2 headers */
#define CLF_PLATFORM_NOT_FOUND_KHR (-1001)

void clf_ocl_log_no_platform(clf_log_level level)
{
    CLF_LOG_AT_(level, "no OpenCL platform found: install an OpenCL driver for your device "
                       "(for the CPU, e.g. `apt-get install pocl-opencl-icd`; check with "
                       "`clinfo -l`), or use `--device cpu`, which needs none");
}

clf_status clf_ocl_platforms(bool quiet, cl_platform_id **out, cl_uint *count)
{
    clf_status st = CLF_OK;
    cl_platform_id *ids = NULL;
    cl_uint n = 0;
    cl_int err;

    *out = NULL;
    *count = 0;
    err = clGetPlatformIDs(0, NULL, &n);
    if (err == CLF_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && n == 0)) {
        if (!quiet)
            clf_ocl_log_no_platform(CLF_LOG_ERROR);
        return CLF_ERR_NO_PLATFORM;
    }
    CLF_CL_CHECK_ERR(clGetPlatformIDs, err);

    ids = clf_malloc_array(n, sizeof *ids, "OpenCL platform list");
    if (!ids)
        return CLF_ERR_NOMEM;
    CLF_CL_CHECK(clGetPlatformIDs(n, ids, NULL));
    *out = ids;
    *count = n;
    return CLF_OK;

cleanup:
    free(ids);
    return st;
}

clf_status clf_ocl_devices(cl_platform_id p, cl_device_id **out, cl_uint *count)
{
    clf_status st = CLF_OK;
    cl_device_id *ids = NULL;
    cl_uint n = 0;
    cl_int err;

    *out = NULL;
    *count = 0;
    err = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, NULL, &n);
    if (err == CL_DEVICE_NOT_FOUND || (err == CL_SUCCESS && n == 0))
        return CLF_OK;
    CLF_CL_CHECK_ERR(clGetDeviceIDs, err);

    ids = clf_malloc_array(n, sizeof *ids, "OpenCL device list");
    if (!ids)
        return CLF_ERR_NOMEM;
    CLF_CL_CHECK(clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, n, ids, NULL));
    *out = ids;
    *count = n;
    return CLF_OK;

cleanup:
    free(ids);
    return st;
}

/* Strips leading and trailing blanks (some drivers pad their names). */
static void trim(char *s)
{
    size_t a = strspn(s, " \t"), n = strlen(s);

    while (n > a && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
        n--;
    memmove(s, s + a, n - a);
    s[n - a] = '\0';
}

/* Copies src into dst of cap bytes, cut to fit and NUL-terminated. */
static void copy_cut(char *dst, size_t cap, char *src)
{
    size_t n;

    trim(src);
    n = strlen(src);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* A device string query of any length, trimmed and cut to fit dst. */
static clf_status device_str(cl_device_id dev, cl_device_info what, char *dst, size_t cap)
{
    clf_status st = CLF_OK;
    size_t len = 0;
    char *buf = NULL;

    CLF_CL_CHECK(clGetDeviceInfo(dev, what, 0, NULL, &len));
    buf = clf_calloc_array(len + 1, 1, "OpenCL device string");
    if (!buf)
        return CLF_ERR_NOMEM;
    CLF_CL_CHECK(clGetDeviceInfo(dev, what, len, buf, NULL));
    copy_cut(dst, cap, buf);
cleanup:
    free(buf);
    return st;
}

/* The platform's name, as device_str. */
static clf_status platform_name(cl_platform_id plat, char *dst, size_t cap)
{
    clf_status st = CLF_OK;
    size_t len = 0;
    char *buf = NULL;

    CLF_CL_CHECK(clGetPlatformInfo(plat, CL_PLATFORM_NAME, 0, NULL, &len));
    buf = clf_calloc_array(len + 1, 1, "OpenCL platform name");
    if (!buf)
        return CLF_ERR_NOMEM;
    CLF_CL_CHECK(clGetPlatformInfo(plat, CL_PLATFORM_NAME, len, buf, NULL));
    copy_cut(dst, cap, buf);
cleanup:
    free(buf);
    return st;
}

static const char *type_name(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (t & CL_DEVICE_TYPE_CPU)
        return "CPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return "ACCELERATOR";
    return "OTHER";
}

clf_status clf_ocl_describe(cl_platform_id plat, cl_device_id dev, int p, int d,
                            clf_device_desc *out)
{
    clf_status st;
    cl_device_type type = 0;
    cl_ulong gmem = 0, alloc = 0, lmem = 0;
    cl_uint units = 0;
    size_t wg = 0;

    memset(out, 0, sizeof *out);
    out->platform = p;
    out->device = d;
    st = platform_name(plat, out->platform_name, sizeof out->platform_name);
    if (st == CLF_OK)
        st = device_str(dev, CL_DEVICE_NAME, out->name, sizeof out->name);
    if (st == CLF_OK)
        st = device_str(dev, CL_DEVICE_OPENCL_C_VERSION, out->opencl_c, sizeof out->opencl_c);
    if (st == CLF_OK)
        st = device_str(dev, CL_DRIVER_VERSION, out->driver, sizeof out->driver);
    if (st != CLF_OK)
        return st;

    CLF_CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL));
    CLF_CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gmem, &gmem, NULL));
    CLF_CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof alloc, &alloc,
                                 NULL));
    CLF_CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof lmem, &lmem, NULL));
    CLF_CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL));
    CLF_CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units,
                                 NULL));
    strcpy(out->type, type_name(type));
    out->global_mem = gmem;
    out->max_alloc = alloc;
    out->local_mem = lmem;
    out->max_work_group = wg;
    out->compute_units = units;
cleanup:
    return st;
}
