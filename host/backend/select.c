/* Device listing and choice: clf_devices_list and clf_backend_open
 * (the spec grammar is documented in include/clfit/device.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/opencl/ocl.h"
#include "clfit/log.h"
#include "core/alloc.h"

/* Describes every device of the given platforms into a malloc'd array. */
static clf_status describe_all(cl_platform_id *plats, cl_uint np, clf_device_desc **out,
                               size_t *count)
{
    clf_device_desc *list = NULL;
    size_t n = 0;
    clf_status st = CLF_OK;

    for (cl_uint p = 0; p < np && st == CLF_OK; p++) {
        cl_device_id *devs = NULL;
        cl_uint nd = 0;

        st = clf_ocl_devices(plats[p], &devs, &nd);
        if (st == CLF_OK && nd)
            st = clf_realloc_array((void **)&list, n + nd, sizeof *list, "device list");
        for (cl_uint d = 0; d < nd && st == CLF_OK; d++, n++)
            st = clf_ocl_describe(plats[p], devs[d], (int)p, (int)d, &list[n]);
        free(devs);
    }
    if (st != CLF_OK) {
        free(list);
        return st;
    }
    *out = list;
    *count = n;
    return CLF_OK;
}

/* As clf_devices_list; with `quiet`, a missing platform is not logged. */
static clf_status list_devices(bool quiet, clf_device_desc **out, size_t *count)
{
    cl_platform_id *plats = NULL;
    cl_uint np = 0;
    clf_status st;

    *out = NULL;
    *count = 0;
    st = clf_ocl_platforms(quiet, &plats, &np);
    if (st == CLF_OK)
        st = describe_all(plats, np, out, count);
    free(plats);
    return st;
}

/* No platform is a warning here: a listing still has the cpu backend. */
clf_status clf_devices_list(clf_device_desc **out, size_t *count)
{
    clf_status st = list_devices(true, out, count);

    if (st == CLF_ERR_NO_PLATFORM)
        clf_ocl_log_no_platform(CLF_LOG_WARN);
    return st;
}

/* Logs the devices a spec can name, one per line. */
static void log_choices(const clf_device_desc *list, size_t n)
{
    CLF_LOG_ERROR("devices that exist (choose one with --device or CLFIT_DEVICE):");
    CLF_LOG_ERROR("  cpu          the plain C backend");
    for (size_t i = 0; i < n; i++)
        CLF_LOG_ERROR("  opencl:%d:%d   %s (%s, %s)", list[i].platform, list[i].device,
                      list[i].name, list[i].type, list[i].platform_name);
    if (n == 0)
        CLF_LOG_ERROR("  (no OpenCL device)");
}

/* Case-insensitive substring test. */
static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay; hay++) {
        size_t i = 0;

        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

/* A decimal index, nothing else; false for anything else. */
static bool parse_index(const char *s, const char *end, int *out)
{
    long v = 0;

    if (s == end || end - s > 6)
        return false;
    for (const char *c = s; c < end; c++) {
        if (!isdigit((unsigned char)*c))
            return false;
        v = v * 10 + (*c - '0');
    }
    *out = (int)v;
    return true;
}

/* Index into list of the device the spec names, or -1. "opencl" is the
 * first GPU, else the first device. *syntax is set when an "opencl:"
 * spec is malformed. */
static long pick(const char *spec, const clf_device_desc *list, size_t n, bool *syntax)
{
    *syntax = false;
    if (strcasecmp(spec, "opencl") == 0) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(list[i].type, "GPU") == 0)
                return (long)i;
        return n ? 0 : -1;
    }
    if (strncasecmp(spec, "opencl:", 7) == 0) {
        const char *ps = spec + 7, *colon = strchr(ps, ':');
        int p, d;

        if (!colon || !parse_index(ps, colon, &p) ||
            !parse_index(colon + 1, colon + strlen(colon), &d)) {
            *syntax = true;
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            if (list[i].platform == p && list[i].device == d)
                return (long)i;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (contains_nocase(list[i].name, spec))
            return (long)i;
    return -1;
}

/* Opens the OpenCL device `spec` names (anything but "cpu"). */
static clf_status open_opencl(const char *spec, const char *source, clf_backend **out)
{
    clf_device_desc *list = NULL;
    size_t n = 0;
    bool syntax;
    long at;
    clf_status st = list_devices(false, &list, &n);

    if (st != CLF_OK)
        return st;
    at = pick(spec, list, n, &syntax);
    if (at < 0) {
        if (syntax)
            CLF_LOG_ERROR("device \"%s\"%s is malformed: write opencl:P:D with a platform "
                          "and a device number, e.g. opencl:0:0", spec, source);
        else
            CLF_LOG_ERROR("no device matches \"%s\"%s", spec, source);
        log_choices(list, n);
        free(list);
        return CLF_ERR_DEVICE;
    }
    st = clf_opencl_backend_open(list[at].platform, list[at].device, out);
    if (st == CLF_OK)
        CLF_LOG_DEBUG("device opencl:%d:%d: %s", list[at].platform, list[at].device,
                      list[at].name);
    free(list);
    return st;
}

static clf_status open_spec(const char *spec, const char *source, clf_backend **out)
{
    if (strcasecmp(spec, "cpu") == 0)
        return clf_cpu_backend_open(out);
    return open_opencl(spec, source, out);
}

/* No spec and no CLFIT_DEVICE: OpenCL when a device exists, else cpu. */
static clf_status open_default(clf_backend **out)
{
    clf_device_desc *list = NULL;
    size_t n = 0;
    clf_status st = list_devices(true, &list, &n);

    free(list);
    if (st == CLF_OK && n > 0)
        return open_spec("opencl", "", out);
    if (st != CLF_OK && st != CLF_ERR_NO_PLATFORM)
        return st;
    CLF_LOG_INFO("no OpenCL %s found; using the plain C cpu backend (install an OpenCL "
                 "driver, e.g. `apt-get install pocl-opencl-icd`, to use OpenCL)",
                 st == CLF_ERR_NO_PLATFORM ? "platform" : "device");
    return clf_cpu_backend_open(out);
}

clf_status clf_backend_open(const char *spec, clf_backend **out)
{
    const char *env;

    *out = NULL;
    if (spec && *spec)
        return open_spec(spec, "", out);
    env = getenv("CLFIT_DEVICE");
    if (env && *env)
        return open_spec(env, " (from CLFIT_DEVICE)", out);
    return open_default(out);
}
