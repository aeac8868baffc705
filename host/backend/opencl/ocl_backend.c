/* The OpenCL backend: context and queue, device memory, the op table. */
#include "ocl.h"

#include <clblast_c.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/ocl_tune.h"
#include "clfit/log.h"
#include "core/alloc.h"

static double mib(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

/* As clf_ocl_range for ops that only enqueue copies (no kernel indexes
 * the buffer, so no 2^32 limit): n elements of elsize at offset off. */
static bool copy_range(const clf_buf *b, size_t off, size_t n, size_t elsize, const char *op)
{
    size_t end, bytes;

    if (!b || !clf_add_size(off, n, &end) || !clf_mul_size(end, elsize, &bytes) ||
        bytes > b->bytes) {
        CLF_LOG_ERROR("opencl %s: range of %zu elements at offset %zu lies outside its "
                      "buffer (%zu bytes)", op, n, off, b ? b->bytes : 0);
        return false;
    }
    return true;
}

bool clf_ocl_range(const clf_buf *b, size_t off, size_t n, size_t elsize, const char *op)
{
    size_t end;

    if (!copy_range(b, off, n, elsize, op))
        return false;
    end = off + n;
    if (end > UINT32_MAX) {
        CLF_LOG_ERROR("opencl %s: range ends at element %zu; kernels index at most 2^32 "
                      "elements of a buffer", op, end);
        return false;
    }
    return true;
}

clf_status clf_ocl_check_alloc(const clf_device_desc *d, size_t in_use, size_t bytes,
                               const char *what)
{
    size_t total;

    if (bytes > d->max_alloc) {
        CLF_LOG_ERROR("buffer '%s' needs %zu bytes (%.1f MiB), but device '%s' allows at most "
                      "%llu bytes (%.1f MiB) in one allocation (CL_DEVICE_MAX_MEM_ALLOC_SIZE); "
                      "use a smaller batch or image size", what, bytes, mib(bytes), d->name,
                      (unsigned long long)d->max_alloc, mib(d->max_alloc));
        return CLF_ERR_DEVICE_MEM;
    }
    if (!clf_add_size(in_use, bytes, &total) || total > d->global_mem) {
        CLF_LOG_ERROR("buffer '%s' needs %zu bytes (%.1f MiB) on top of %zu bytes in use, but "
                      "device '%s' has %llu bytes (%.1f MiB) of global memory; use a smaller "
                      "batch or image size", what, bytes, mib(bytes), in_use, d->name,
                      (unsigned long long)d->global_mem, mib(d->global_mem));
        return CLF_ERR_DEVICE_MEM;
    }
    return CLF_OK;
}

/* Creates the cl_mem of b; a zero-byte request still gets a small one. */
static clf_status mem_new(clf_backend *be, size_t bytes, const char *what, clf_buf *b)
{
    clf_ocl *o = clf_ocl_of(be);
    clf_status st = clf_ocl_check_alloc(&be->desc, o->in_use, bytes, what);
    cl_int err = CL_SUCCESS;

    if (st != CLF_OK)
        return st;
    b->mem = clCreateBuffer(o->ctx, CL_MEM_READ_WRITE, bytes ? bytes : 16, NULL, &err);
    if (err != CL_SUCCESS)
        CLF_LOG_ERROR("opencl: buffer '%s' of %zu bytes could not be created", what, bytes);
    CLF_CL_CHECK_ERR(clCreateBuffer, err);
    b->bytes = bytes;
    o->in_use += bytes;
cleanup:
    return st;
}

static void mem_free(clf_backend *be, clf_buf *b)
{
    if (b->mem) {
        CLF_CL_WARN(clReleaseMemObject(b->mem));
        clf_ocl_of(be)->in_use -= b->bytes;
    }
    b->mem = NULL;
    b->bytes = 0;
}

static clf_status ocl_buf_new(clf_backend *be, size_t bytes, const char *what, clf_buf **out)
{
    clf_buf *b = calloc(1, sizeof *b);
    clf_status st;

    *out = NULL;
    if (!b) {
        CLF_LOG_ERROR("opencl: out of host memory for buffer '%s'", what);
        return CLF_ERR_NOMEM;
    }
    st = mem_new(be, bytes, what, b);
    if (st != CLF_OK) {
        free(b);
        return st;
    }
    *out = b;
    return CLF_OK;
}

static void ocl_buf_free(clf_backend *be, clf_buf *b)
{
    if (!b)
        return;
    mem_free(be, b);
    free(b);
}

clf_status clf_ocl_scratch(clf_backend *be, int slot, size_t bytes, clf_buf **out)
{
    clf_buf *s = &clf_ocl_of(be)->scratch[slot];
    static const char *const names[] = {"im2col scratch", "row scratch", "copy scratch",
                                        "split-k scratch", "gemm packing scratch"};
    clf_status st;

    *out = NULL;
    if (s->mem && s->bytes >= bytes) {
        *out = s;
        return CLF_OK;
    }
    /* freed buffers live on until the commands that use them complete */
    mem_free(be, s);
    st = mem_new(be, bytes, names[slot], s);
    if (st == CLF_OK)
        *out = s;
    return st;
}

static clf_status ocl_write(clf_backend *be, clf_buf *dst, size_t off, const void *src,
                            size_t bytes)
{
    clf_ocl *o = clf_ocl_of(be);
    clf_status st = CLF_OK;

    if (!copy_range(dst, off, bytes, 1, "write"))
        return CLF_ERR_ARG;
    if (bytes)
        CLF_CL_CHECK(clEnqueueWriteBuffer(clf_ocl_of(be)->queue, dst->mem, CL_TRUE, off,
                                          bytes, src, 0, NULL, clf_ocl_prof_event(o)));
    clf_ocl_prof_keep(o, "write");
cleanup:
    return st;
}

static clf_status ocl_read(clf_backend *be, clf_buf *src, size_t off, void *dst, size_t bytes)
{
    clf_ocl *o = clf_ocl_of(be);
    clf_status st = CLF_OK;

    if (!copy_range(src, off, bytes, 1, "read"))
        return CLF_ERR_ARG;
    if (bytes)
        CLF_CL_CHECK(clEnqueueReadBuffer(clf_ocl_of(be)->queue, src->mem, CL_TRUE, off,
                                         bytes, dst, 0, NULL, clf_ocl_prof_event(o)));
    clf_ocl_prof_keep(o, "read");
cleanup:
    return st;
}

static clf_status ocl_fill(clf_backend *be, clf_buf *dst, size_t off, size_t n, float value)
{
    clf_ocl *o = clf_ocl_of(be);
    clf_status st = CLF_OK;

    if (!copy_range(dst, off, n, sizeof(float), "fill"))
        return CLF_ERR_ARG;
    if (n)
        CLF_CL_CHECK(clEnqueueFillBuffer(clf_ocl_of(be)->queue, dst->mem, &value,
                                         sizeof value, off * sizeof(float),
                                         n * sizeof(float), 0, NULL,
                                         clf_ocl_prof_event(o)));
    clf_ocl_prof_keep(o, "fill");
cleanup:
    return st;
}

/* Copies bytes; ranges of one buffer that overlap go through scratch
 * (OpenCL refuses them), which gives memmove's result. */
static clf_status ocl_copy(clf_backend *be, clf_buf *src, size_t so, clf_buf *dst, size_t dso,
                           size_t n)
{
    cl_command_queue q = clf_ocl_of(be)->queue;
    size_t bytes = n * sizeof(float), s0 = so * sizeof(float), d0 = dso * sizeof(float);
    clf_status st = CLF_OK;
    clf_buf *tmp;

    if (!copy_range(src, so, n, sizeof(float), "copy source") ||
        !copy_range(dst, dso, n, sizeof(float), "copy destination"))
        return CLF_ERR_ARG;
    if (n == 0 || (src == dst && so == dso))
        return CLF_OK;
    if (src == dst && s0 < d0 + bytes && d0 < s0 + bytes) {
        st = clf_ocl_scratch(be, CLF_SCRATCH_COPY, bytes, &tmp);
        if (st != CLF_OK)
            return st;
        CLF_CL_CHECK(clEnqueueCopyBuffer(q, src->mem, tmp->mem, s0, 0, bytes, 0, NULL, NULL));
        CLF_CL_CHECK(clEnqueueCopyBuffer(q, tmp->mem, dst->mem, 0, d0, bytes, 0, NULL, NULL));
        return CLF_OK;
    }
    CLF_CL_CHECK(clEnqueueCopyBuffer(q, src->mem, dst->mem, s0, d0, bytes, 0, NULL,
                                     clf_ocl_prof_event(clf_ocl_of(be))));
    clf_ocl_prof_keep(clf_ocl_of(be), "copy");
cleanup:
    return st;
}

static clf_status ocl_finish(clf_backend *be)
{
    clf_status st = CLF_OK;

    CLF_CL_CHECK(clFinish(clf_ocl_of(be)->queue));
cleanup:
    return st;
}

/* Releases everything; safe on a partly opened backend. */
static void ocl_destroy(clf_backend *be)
{
    clf_ocl *o = clf_ocl_of(be);
    int cbs;

    if (!o)
        return;
    if (o->queue)
        CLF_CL_WARN(clFinish(o->queue));
    clf_ocl_prof_close(o);
    for (int i = 0; i < CLF_SCRATCH_COUNT_; i++)
        mem_free(be, &o->scratch[i]);
    for (int i = 0; i < CLF_K_COUNT_; i++)
        if (o->kernels[i])
            CLF_CL_WARN(clReleaseKernel(o->kernels[i]));
    if (o->program)
        CLF_CL_WARN(clReleaseProgram(o->program));
    free(o->bin_path);
    /* CLBlast caches programs that hold on to this context; drop them. Its
     * cache is process-wide, so another open backend recompiles (or hits
     * the driver's own cache) on its next GEMM. */
    cbs = (int)CLBlastClearCache();
    if (cbs != 0)
        clf_clblast_report("CLBlastClearCache()", cbs, __FILE__, __LINE__);
    if (o->queue)
        CLF_CL_WARN(clReleaseCommandQueue(o->queue));
    if (o->ctx)
        CLF_CL_WARN(clReleaseContext(o->ctx));
    free(o);
    be->impl = NULL;
}

static const clf_backend_ops ocl_ops = {
    .kind = "opencl",
    .buf_new = ocl_buf_new,
    .buf_free = ocl_buf_free,
    .write = ocl_write,
    .read = ocl_read,
    .fill = ocl_fill,
    .copy = ocl_copy,
    .finish = ocl_finish,
    .gemm = clf_ocl_gemm,
    .bias_act = clf_ocl_bias_act,
    .act_backward = clf_ocl_act_backward,
    .col_sum = clf_ocl_col_sum,
    .softmax = clf_ocl_softmax,
    .softmax_xent = clf_ocl_softmax_xent,
    .adam = clf_ocl_adam,
    .sgd = clf_ocl_sgd,
    .dense_update = clf_ocl_dense_update,
    .dropout = clf_ocl_dropout,
    .u8_to_float = clf_ocl_u8_to_float,
    .conv2d = clf_ocl_conv2d,
    .depthwise_conv2d = clf_ocl_depthwise_conv2d,
    .avg_pool = clf_ocl_avg_pool,
    .global_avg_pool = clf_ocl_global_avg_pool,
    .global_avg_pool_backward = clf_ocl_global_avg_pool_backward,
    .zero_pad = clf_ocl_zero_pad,
    .add = clf_ocl_add,
    .channel_affine = clf_ocl_channel_affine,
    .destroy = ocl_destroy,
};

/* Finds device d of platform p. */
static clf_status find_device(int p, int d, cl_platform_id *plat, cl_device_id *dev)
{
    cl_platform_id *plats = NULL;
    cl_device_id *devs = NULL;
    cl_uint np = 0, nd = 0;
    clf_status st = clf_ocl_platforms(false, &plats, &np);

    if (st == CLF_OK && (p < 0 || (cl_uint)p >= np))
        st = CLF_ERR_DEVICE;
    if (st == CLF_OK)
        st = clf_ocl_devices(plats[p], &devs, &nd);
    if (st == CLF_OK && (d < 0 || (cl_uint)d >= nd))
        st = CLF_ERR_DEVICE;
    if (st == CLF_ERR_DEVICE)
        CLF_LOG_ERROR("opencl: there is no device opencl:%d:%d", p, d);
    if (st == CLF_OK) {
        *plat = plats[p];
        *dev = devs[d];
    }
    free(plats);
    free(devs);
    return st;
}

/* Context, queue and limits for the chosen device. */
static clf_status open_device(clf_backend *be, clf_ocl *o)
{
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)o->platform,
                                     0};
    clf_status st = CLF_OK;
    cl_int err = CL_SUCCESS;

    o->ctx = clCreateContext(props, 1, &o->device, NULL, NULL, &err);
    CLF_CL_CHECK_ERR(clCreateContext, err);
    /* profiling costs PoCL nothing measurable; events are made only on
     * request (ocl_profile.c) */
    o->queue = clCreateCommandQueue(o->ctx, o->device, CL_QUEUE_PROFILING_ENABLE, &err);
    CLF_CL_CHECK_ERR(clCreateCommandQueue, err);
    CLF_CL_CHECK(clGetDeviceInfo(o->device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof o->max_item,
                                 o->max_item, NULL));
    o->local_mem = be->desc.local_mem;
    o->im2col_bytes = (size_t)64 << 20; /* big enough for long GEMMs */
    o->skinny_gemm = true;
    o->cpu_kernels = strcmp(be->desc.type, "CPU") == 0;

cleanup:
    return st;
}

/* GEMM parameters from the device's tuning file, or the defaults; the
 * CLBlast ones go to CLBlast now (a failure there is only a warning). */
static void apply_tuning(clf_backend *be, clf_ocl *o)
{
    clf_tune t;

    clf_tune_load(&be->desc, &t, &o->tuned);
    o->gemm_r = t.gemm_r;
    o->gemm_v = t.gemm_v;
    o->k_slice = t.k_slice;
    for (int i = 0; i < t.n_clblast; i++) {
        const clf_clblast_params *p = &t.clblast[i];
        const char *names[CLF_TUNE_MAX_PARAMS];
        int cbs;

        for (int j = 0; j < p->n; j++)
            names[j] = p->names[j];
        cbs = (int)CLBlastOverrideParameters(o->device, p->kernel, CLBlastPrecisionSingle,
                                             (size_t)p->n, names, p->values);
        if (cbs != 0)
            CLF_LOG_WARN("CLBlast refused the tuned parameters for %s (%s); it keeps its "
                         "own", p->kernel, clf_clblast_status_name(cbs));
    }
}

clf_status clf_opencl_backend_open(int platform, int device, clf_backend **out)
{
    clf_backend *be = calloc(1, sizeof *be);
    clf_ocl *o = calloc(1, sizeof *o);
    clf_status st;

    *out = NULL;
    if (!be || !o) {
        free(be);
        free(o);
        CLF_LOG_ERROR("opencl backend: out of host memory");
        return CLF_ERR_NOMEM;
    }
    be->ops = &ocl_ops;
    be->impl = o;
    st = find_device(platform, device, &o->platform, &o->device);
    if (st == CLF_OK)
        st = clf_ocl_describe(o->platform, o->device, platform, device, &be->desc);
    if (st == CLF_OK)
        st = open_device(be, o);
    if (st == CLF_OK)
        apply_tuning(be, o);
    if (st == CLF_OK)
        st = clf_ocl_build_kernels(o, &be->desc);
    if (st != CLF_OK) {
        CLF_LOG_ERROR("opencl: could not open device opencl:%d:%d%s%s", platform, device,
                      be->desc.name[0] ? " " : "", be->desc.name);
        clf_backend_close(be);
        return st;
    }
    *out = be;
    return CLF_OK;
}
