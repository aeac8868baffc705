/* Building the embedded kernels, logging build logs, launching kernels. */
#include "ocl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_sources.h"
#include "clfit/log.h"
#include "core/alloc.h"

#define KERNEL_NAME_(name) #name,
static const char *const kernel_names[] = {CLF_OCL_KERNELS(KERNEL_NAME_)};
#undef KERNEL_NAME_

/* Logs text line by line at `level` (the logger's buffer is bounded, and
 * a build log can be long); very long lines are split. */
static void log_lines(clf_log_level level, const char *text)
{
    enum { PIECE = 1000 };

    while (*text) {
        size_t n = strcspn(text, "\n"), i = 0;

        do {
            size_t len = n - i < PIECE ? n - i : PIECE;

            CLF_LOG_AT_(level, "  %.*s", (int)len, text + i);
            i += len;
        } while (i < n);
        text += n;
        if (*text == '\n')
            text++;
    }
}

/* Logs the program's build log for the device at `level`. */
static void log_build_log(cl_program prog, cl_device_id dev, clf_log_level level)
{
    size_t len = 0;
    char *text;

    if (clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) != CL_SUCCESS ||
        len <= 1)
        return;
    text = clf_calloc_array(len + 1, 1, "OpenCL build log");
    if (!text)
        return;
    if (clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, len, text, NULL) ==
        CL_SUCCESS) {
        CLF_LOG_AT_(level, "OpenCL build log:");
        log_lines(level, text);
    }
    free(text);
}

clf_status clf_ocl_build(clf_ocl *o, const char *const *sources, const size_t *lengths,
                         size_t count, cl_program *out)
{
    clf_status st = CLF_OK;
    cl_program prog = NULL;
    cl_int err = CL_SUCCESS;

    *out = NULL;
    prog = clCreateProgramWithSource(o->ctx, (cl_uint)count, (const char **)sources, lengths,
                                     &err);
    CLF_CL_CHECK_ERR(clCreateProgramWithSource, err);
    err = clBuildProgram(prog, 1, &o->device, o->build_options, NULL, NULL);
    if (err == CL_BUILD_PROGRAM_FAILURE || err == CL_COMPILE_PROGRAM_FAILURE) {
        CLF_LOG_ERROR("OpenCL: building the kernels failed (options \"%s\")",
                      o->build_options);
        log_build_log(prog, o->device, CLF_LOG_ERROR);
        st = CLF_ERR_BUILD;
        goto cleanup;
    }
    CLF_CL_CHECK_ERR(clBuildProgram, err);
    if (clf_log_get_level() >= CLF_LOG_DEBUG)
        log_build_log(prog, o->device, CLF_LOG_DEBUG); /* warnings */
    *out = prog;
    return CLF_OK;

cleanup:
    if (prog)
        CLF_CL_WARN(clReleaseProgram(prog));
    return st;
}

clf_status clf_opencl_build_source(clf_backend *be, const char *source)
{
    size_t len = strlen(source);
    cl_program prog;
    clf_status st = clf_ocl_build(clf_ocl_of(be), &source, &len, 1, &prog);

    if (st == CLF_OK)
        CLF_CL_WARN(clReleaseProgram(prog));
    return st;
}

/* "-cl-std=CL1.2"; gemm_tile's tile size (-DGT_R, -DGT_V, tunable);
 * "-cl-denorms-are-zero", because subnormal floats (a
 * saturated softmax's gradient, Adam's moments after it) slow x86 CPUs
 * about 20-fold (PoCL: Adam over 1.5M weights 23 ms instead of 1.1 ms)
 * and the cpu backend flushes them too; and exact division and square
 * root where the device offers them, so results match the cpu backend. */
static clf_status choose_options(clf_ocl *o, const clf_device_desc *d)
{
    clf_status st = CLF_OK;
    cl_device_fp_config fp = 0;
    int major = 0, minor = 0;

    if (sscanf(d->opencl_c, "OpenCL C %d.%d", &major, &minor) != 2 ||
        major * 10 + minor < 12) {
        CLF_LOG_ERROR("device '%s' supports \"%s\", but clfit's kernels need OpenCL C 1.2; "
                      "update its driver or choose another device", d->name, d->opencl_c);
        return CLF_ERR_UNSUPPORTED;
    }
    CLF_CL_CHECK(clGetDeviceInfo(o->device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL));
    snprintf(o->build_options, sizeof o->build_options,
             "-cl-std=CL1.2 -cl-denorms-are-zero%s -DGT_R=%d -DGT_V=%d",
             (fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT)
                 ? " -cl-fp32-correctly-rounded-divide-sqrt" : "", o->gemm_r, o->gemm_v);
cleanup:
    return st;
}

/* The embedded sources in build order: "common" first, then the rest. */
static clf_status gather_sources(const char ***srcs, size_t **lens, size_t *count)
{
    size_t n = clf_cl_source_count, j = 1;
    const char **s = clf_malloc_array(n + 1, sizeof *s, "kernel source list");
    size_t *l = clf_malloc_array(n + 1, sizeof *l, "kernel source list");

    if (!s || !l) {
        free(s);
        free(l);
        return CLF_ERR_NOMEM;
    }
    s[0] = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t at = strcmp(clf_cl_sources[i].name, "common") == 0 ? 0 : j++;
        if (at >= n) /* no "common" among the sources */
            break;
        s[at] = clf_cl_sources[i].text;
        l[at] = clf_cl_sources[i].length;
    }
    if (!s[0]) {
        CLF_LOG_ERROR("opencl: the embedded kernels lack cl/common.cl");
        free(s);
        free(l);
        return CLF_ERR_BUILD;
    }
    *srcs = s;
    *lens = l;
    *count = n;
    return CLF_OK;
}

static clf_status create_kernels(clf_ocl *o)
{
    clf_status st = CLF_OK;
    cl_int err = CL_SUCCESS;

    for (int i = 0; i < CLF_K_COUNT_; i++) {
        o->kernels[i] = clCreateKernel(o->program, kernel_names[i], &err);
        if (err != CL_SUCCESS)
            CLF_LOG_ERROR("opencl: kernel '%s' is missing from the program", kernel_names[i]);
        CLF_CL_CHECK_ERR(clCreateKernel, err);
        CLF_CL_CHECK(clGetKernelWorkGroupInfo(o->kernels[i], o->device,
                                              CL_KERNEL_WORK_GROUP_SIZE,
                                              sizeof o->kernel_wg[i], &o->kernel_wg[i], NULL));
    }
cleanup:
    return st;
}

clf_status clf_ocl_build_kernels(clf_ocl *o, const clf_device_desc *d)
{
    const char **srcs = NULL;
    size_t *lens = NULL, count = 0;
    clf_status st = choose_options(o, d);

    if (st == CLF_OK)
        st = gather_sources(&srcs, &lens, &count);
    if (st == CLF_OK)
        st = clf_ocl_build_program(o, d, srcs, lens, count);
    if (st == CLF_OK)
        st = create_kernels(o);
    free(srcs);
    free(lens);
    return st;
}

clf_status clf_ocl_launch(clf_ocl *o, clf_ocl_kernel k, const char *op, const clf_karg *args,
                          size_t nargs, cl_uint dims, const size_t *global, const size_t *local)
{
    clf_status st = CLF_OK;
    cl_kernel kern = o->kernels[k];

    for (size_t i = 0; i < nargs; i++)
        CLF_CL_CHECK(clSetKernelArg(kern, (cl_uint)i, args[i].size, args[i].value));
    CLF_CL_CHECK(clEnqueueNDRangeKernel(o->queue, kern, dims, NULL, global, local, 0, NULL,
                                        clf_ocl_prof_event(o)));
    clf_ocl_prof_keep(o, kernel_names[k]);
    return CLF_OK;

cleanup:
    CLF_LOG_ERROR("opencl %s: launching kernel '%s' failed", op, kernel_names[k]);
    return st;
}

size_t clf_ocl_group_size(const clf_ocl *o, clf_ocl_kernel k, size_t want,
                          size_t local_bytes_per_item)
{
    size_t cap = o->kernel_wg[k] < o->max_item[0] ? o->kernel_wg[k] : o->max_item[0];
    size_t g = 1;

    if (local_bytes_per_item) {
        /* leave a quarter of local memory for the compiler's own use */
        size_t lm = (size_t)(o->local_mem - o->local_mem / 4) / local_bytes_per_item;
        cap = lm < cap ? lm : cap;
    }
    while (g * 2 <= want && g * 2 <= cap)
        g *= 2;
    return g;
}

clf_status clf_ocl_launch_1d(clf_ocl *o, clf_ocl_kernel k, const char *op, const clf_karg *args,
                             size_t nargs, size_t n)
{
    size_t local = clf_ocl_group_size(o, k, 256, 0), global;

    if (n == 0)
        return CLF_OK;
    global = (n + local - 1) / local * local;
    return clf_ocl_launch(o, k, op, args, nargs, 1, &global, &local);
}
