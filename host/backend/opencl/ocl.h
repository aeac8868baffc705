/* The OpenCL backend's private declarations (internal).
 *
 * One context and one in-order queue on one device; one program built
 * from the kernels in cl/ (embedded at build time); GEMM through CLBlast,
 * except skinny shapes (cl/gemm.cl). Every cl* and CLBlast call goes
 * through CLF_CL_CHECK / CLF_CLBLAST_CHECK, which log the call's name, the
 * error's name and file:line, set `st` and jump to the enclosing
 * function's `cleanup:` label.
 *
 * Known limits, by design for now:
 * - Kernels index buffers with 32-bit unsigned integers, so a range an op
 *   touches must end below 2^32 elements of its buffer (checked on the
 *   host by clf_ocl_range; an op past it fails with CLF_ERR_ARG).
 * - CLBlast's programs are compiled by CLBlast at their first use in a
 *   process; only the driver's own cache (PoCL keeps one) makes that fast
 *   in a second process. clfit's own program goes through its binary
 *   cache (ocl_bincache.c).
 * - Closing a backend clears CLBlast's process-wide program cache.
 * - Not thread-safe: one thread drives a backend at a time.
 */
#ifndef CLFIT_OCL_H
#define CLFIT_OCL_H

#include <CL/cl.h>

#include "backend/backend.h"
#include "clfit/log.h"

/* Every kernel the backend uses, by its name in the .cl files. */
#define CLF_OCL_KERNELS(X)                                                     \
    X(scale_rows)                                                              \
    X(gemm_small_k)                                                            \
    X(gemm_split_k)                                                            \
    X(gemm_split_k_sum)                                                        \
    X(gemm_k_slices)                                                           \
    X(gemm_pack_a)                                                             \
    X(gemm_pack_b)                                                             \
    X(gemm_tile)                                                               \
    X(bias_act)                                                                \
    X(act_backward)                                                            \
    X(col_sum)                                                                 \
    X(softmax)                                                                 \
    X(xent_rows)                                                               \
    X(xent_reduce)                                                             \
    X(adam)                                                                    \
    X(sgd)                                                                     \
    X(dense_update)                                                            \
    X(dropout)                                                                 \
    X(u8_to_float)                                                             \
    X(rgb_to_planes)                                                           \
    X(im2col)                                                                  \
    X(depthwise_conv)                                                          \
    X(depthwise_rows16)                                                        \
    X(conv_direct16)                                                           \
    X(avg_pool)                                                                \
    X(global_avg_pool)                                                         \
    X(global_avg_pool_backward)                                                \
    X(zero_pad)                                                                \
    X(add_act)                                                                 \
    X(channel_affine)

#define CLF_OCL_KERNEL_ENUM_(name) CLF_K_##name,
typedef enum clf_ocl_kernel { CLF_OCL_KERNELS(CLF_OCL_KERNEL_ENUM_) CLF_K_COUNT_ } clf_ocl_kernel;
#undef CLF_OCL_KERNEL_ENUM_

/* Scratch buffers the backend keeps between ops and grows on demand. */
enum {
    CLF_SCRATCH_IM2COL,
    CLF_SCRATCH_ROWS,
    CLF_SCRATCH_COPY,
    CLF_SCRATCH_GEMM,
    CLF_SCRATCH_PACK,
    CLF_SCRATCH_COUNT_
};

/* What the program binary cache did at open (ocl_bincache.c). */
typedef enum clf_bin_state {
    CLF_BIN_OFF,  /* no cache folder */
    CLF_BIN_MISS, /* no file yet: built from source and stored */
    CLF_BIN_HIT,  /* built from the cached binary */
    CLF_BIN_BAD   /* the file was unusable: rebuilt and rewritten */
} clf_bin_state;

struct clf_buf {
    cl_mem mem;
    size_t bytes; /* as asked for (the cl_mem may be a little larger) */
};

typedef struct clf_ocl {
    cl_platform_id platform;
    cl_device_id device;
    cl_context ctx;
    cl_command_queue queue;
    cl_program program;
    cl_kernel kernels[CLF_K_COUNT_];
    size_t kernel_wg[CLF_K_COUNT_]; /* CL_KERNEL_WORK_GROUP_SIZE */
    size_t max_item[3];             /* CL_DEVICE_MAX_WORK_ITEM_SIZES */
    uint64_t local_mem;             /* CL_DEVICE_LOCAL_MEM_SIZE */
    char build_options[128];
    size_t in_use; /* bytes held by live buffers, against global memory */
    size_t im2col_bytes; /* largest im2col block (tests lower it) */
    bool skinny_gemm;    /* false: every GEMM through CLBlast (tests, timing) */
    /* Kernels written for CPU devices (one work-item does a long vector
     * loop; few work-groups): on for CL_DEVICE_TYPE_CPU, tests flip it. */
    bool cpu_kernels;
    int gemm_r, gemm_v;  /* gemm_tile's tile: GT_R rows, GT_V float16s */
    int k_slice;         /* gemm_k_slices' slice of k */
    bool tuned;          /* the three above came from a tuning file */
    clf_buf scratch[CLF_SCRATCH_COUNT_];
    struct clf_ocl_prof *prof; /* non-NULL while recording (ocl_profile.c) */
    clf_bin_state bin_state;
    char *bin_path;      /* the program's cache file; NULL without a cache */
    uint64_t bin_key;
    size_t bin_stored;   /* payload bytes last stored or loaded */
} clf_ocl;

static inline clf_ocl *clf_ocl_of(clf_backend *be)
{
    return (clf_ocl *)be->impl;
}

/* The cl_mem of an optional buffer (NULL stays NULL). */
static inline cl_mem clf_ocl_mem(const clf_buf *b)
{
    return b ? b->mem : NULL;
}

/* "CL_OUT_OF_RESOURCES" etc.; "CL_UNKNOWN_ERROR" outside the table. */
const char *clf_cl_error_name(cl_int err);

/* "CLBlastInvalidDimension" etc. */
const char *clf_clblast_status_name(int status);

/* Logs "`call` failed: NAME (code) at file:line"; only the function name
 * of `call` (the text before its first parenthesis) is printed. */
void clf_ocl_report(const char *call, cl_int err, const char *file, int line);
void clf_clblast_report(const char *call, int status, const char *file, int line);

#define CLF_CL_CHECK(call)                                                     \
    do {                                                                       \
        cl_int clf_err_ = (call);                                              \
        if (clf_err_ != CL_SUCCESS) {                                          \
            clf_ocl_report(#call, clf_err_, __FILE__, __LINE__);               \
            st = CLF_ERR_OPENCL;                                               \
            goto cleanup;                                                      \
        }                                                                      \
    } while (0)

/* For calls that return an object and report through an error pointer:
 *   mem = clCreateBuffer(..., &err); CLF_CL_CHECK_ERR(clCreateBuffer, err); */
#define CLF_CL_CHECK_ERR(name, err)                                            \
    do {                                                                       \
        if ((err) != CL_SUCCESS) {                                             \
            clf_ocl_report(#name, (err), __FILE__, __LINE__);                  \
            st = CLF_ERR_OPENCL;                                               \
            goto cleanup;                                                      \
        }                                                                      \
    } while (0)

/* For release calls on cleanup paths: a failure is logged as a warning
 * and the cleanup goes on. */
#define CLF_CL_WARN(call)                                                      \
    do {                                                                       \
        cl_int clf_err_ = (call);                                              \
        if (clf_err_ != CL_SUCCESS)                                            \
            clf_ocl_report(#call, clf_err_, __FILE__, __LINE__);               \
    } while (0)

#define CLF_CLBLAST_CHECK(call)                                                \
    do {                                                                       \
        int clf_cbs_ = (int)(call);                                            \
        if (clf_cbs_ != 0) {                                                   \
            clf_clblast_report(#call, clf_cbs_, __FILE__, __LINE__);           \
            st = CLF_ERR_CLBLAST;                                              \
            goto cleanup;                                                      \
        }                                                                      \
    } while (0)

/* Devices (ocl_device.c). */

/* All platforms; CLF_ERR_NO_PLATFORM when there is none (logged only when
 * `quiet` is false). *out is malloc'd. */
clf_status clf_ocl_platforms(bool quiet, cl_platform_id **out, cl_uint *count);

/* The devices of one platform; a platform without devices gives 0. */
clf_status clf_ocl_devices(cl_platform_id p, cl_device_id **out, cl_uint *count);

/* Fills *out from the device's queries; p and d are its indices. */
clf_status clf_ocl_describe(cl_platform_id plat, cl_device_id dev, int p, int d,
                            clf_device_desc *out);

/* Logs the advice for a machine without any OpenCL platform. */
void clf_ocl_log_no_platform(clf_log_level level);

/* Memory (ocl_backend.c). */

/* True when n elements of elsize bytes at element offset off lie inside b
 * and end below 2^32 elements; else logs which op and range, false. */
bool clf_ocl_range(const clf_buf *b, size_t off, size_t n, size_t elsize, const char *op);

/* Checks a buffer request against the device's single-allocation and
 * global-memory limits, given `in_use` bytes already held; logs what was
 * asked and what the device allows and returns CLF_ERR_DEVICE_MEM. */
clf_status clf_ocl_check_alloc(const clf_device_desc *d, size_t in_use, size_t bytes,
                               const char *what);

/* A scratch buffer of at least `bytes`, valid until the next call with the
 * same slot (the queue is in order, so ops may reuse it freely). */
clf_status clf_ocl_scratch(clf_backend *be, int slot, size_t bytes, clf_buf **out);

/* Programs (ocl_program.c). */

/* Builds `count` sources as one program with the backend's options; on a
 * failed build logs the whole build log and returns CLF_ERR_BUILD. */
clf_status clf_ocl_build(clf_ocl *o, const char *const *sources, const size_t *lengths,
                         size_t count, cl_program *out);

/* Builds one arbitrary source on the backend's device and releases it
 * (tests use it to see a broken kernel fail with its build log). */
clf_status clf_opencl_build_source(clf_backend *be, const char *source);

/* The program from the binary cache when it holds a usable binary for
 * this device, driver, options and sources; else built from the sources
 * (clf_ocl_build) and stored. Sets o->program and o->bin_state. */
clf_status clf_ocl_build_program(clf_ocl *o, const clf_device_desc *d, const char *const *srcs,
                                 const size_t *lens, size_t count);

/* Builds the embedded kernels and creates every kernel in the table. */
clf_status clf_ocl_build_kernels(clf_ocl *o, const clf_device_desc *d);

/* Profiling (ocl_profile.c). Pass clf_ocl_prof_event(o) as an enqueue
 * call's event (NULL when not recording); after the call succeeds,
 * clf_ocl_prof_keep(o, name) keeps it under `name` (a static string). */
cl_event *clf_ocl_prof_event(clf_ocl *o);
void clf_ocl_prof_keep(clf_ocl *o, const char *name);
void clf_ocl_prof_close(clf_ocl *o);

/* Launching (ocl_program.c). */

typedef struct clf_karg {
    size_t size;
    const void *value; /* NULL: `size` bytes of local memory */
} clf_karg;

#define CLF_ARG(x) ((clf_karg){sizeof(x), &(x)})
#define CLF_LOCAL(bytes) ((clf_karg){(bytes), NULL})
#define CLF_NARGS(a) (sizeof(a) / sizeof((a)[0]))

/* Sets the arguments and enqueues kernel k over `dims` dimensions. global
 * sizes must be multiples of local ones; local may be NULL. */
clf_status clf_ocl_launch(clf_ocl *o, clf_ocl_kernel k, const char *op, const clf_karg *args,
                          size_t nargs, cl_uint dims, const size_t *global, const size_t *local);

/* One work-item per element i in [0, n): the kernel checks i < n itself. */
clf_status clf_ocl_launch_1d(clf_ocl *o, clf_ocl_kernel k, const char *op, const clf_karg *args,
                             size_t nargs, size_t n);

/* The largest power of two <= want that the kernel and the device allow,
 * with `local_bytes_per_item` bytes of local memory per work-item. */
size_t clf_ocl_group_size(const clf_ocl *o, clf_ocl_kernel k, size_t want,
                          size_t local_bytes_per_item);

/* Ops, spread over ocl_*.c and collected in ocl_backend.c. */
clf_status clf_ocl_gemm(clf_backend *be, bool ta, bool tb, int m, int n, int k, float alpha,
                        clf_buf *a, size_t ao, int lda, clf_buf *b, size_t bo, int ldb,
                        float beta, clf_buf *c, size_t co, int ldc);
/* C = act(A B + bias), A m x k and B k x n row-major as stored, through
 * gemm_tile with the bias and activation applied as the tile is stored
 * (CPU devices). CLF_ERR_UNSUPPORTED, with nothing enqueued or logged,
 * where that kernel does not run: the caller then uses gemm + bias_act.
 * Ranges are the caller's to check. */
clf_status clf_ocl_gemm_bias_act(clf_backend *be, int m, int n, int k, clf_buf *a, size_t ao,
                                 int lda, clf_buf *b, size_t bo, int ldb, clf_buf *c,
                                 size_t co, int ldc, clf_buf *bias, size_t bias_off,
                                 clf_act act);
clf_status clf_ocl_bias_act(clf_backend *be, int rows, int cols, clf_buf *x, size_t xo,
                            clf_buf *bias, size_t bo, clf_act act);
clf_status clf_ocl_act_backward(clf_backend *be, size_t n, clf_act act, clf_buf *y, size_t yo,
                                clf_buf *dy, size_t dyo);
clf_status clf_ocl_col_sum(clf_backend *be, int rows, int cols, clf_buf *x, size_t xo,
                           float beta, clf_buf *y, size_t yo);
clf_status clf_ocl_softmax(clf_backend *be, int rows, int cols, clf_buf *x, size_t xo,
                           clf_buf *y, size_t yo);
clf_status clf_ocl_softmax_xent(clf_backend *be, int rows, int cols, clf_buf *logits,
                                size_t lo, clf_buf *labels, size_t lbo, float grad_scale,
                                clf_buf *grad, size_t go, clf_buf *stats, size_t so);
clf_status clf_ocl_adam(clf_backend *be, size_t n, clf_buf *w, size_t wo, clf_buf *g,
                        size_t go, clf_buf *m, size_t mo, clf_buf *v, size_t vo, float lr_t,
                        float b1, float b2, float eps);
clf_status clf_ocl_sgd(clf_backend *be, size_t n, clf_buf *w, size_t wo, clf_buf *g,
                       size_t go, clf_buf *vel, size_t vo, float lr, float momentum,
                       bool nesterov);
clf_status clf_ocl_dense_update(clf_backend *be, int rows, int in, int units, clf_buf *x,
                                size_t xo, int ldx, clf_buf *dy, size_t dyo,
                                const clf_opt_step *opt, clf_buf *w, clf_buf *const *w_slot,
                                clf_buf *b, clf_buf *const *b_slot);
clf_status clf_ocl_dropout(clf_backend *be, size_t n, float rate, uint32_t seed, clf_buf *x,
                           size_t xo, clf_buf *y, size_t yo);
clf_status clf_ocl_u8_to_float(clf_backend *be, int n_img, int h, int w, int c, bool chw,
                               float scale, float shift, clf_buf *src, size_t so,
                               clf_buf *dst, size_t dso);
clf_status clf_ocl_conv2d(clf_backend *be, const clf_conv_shape *s, clf_buf *x, size_t xo,
                          clf_buf *w, size_t wo, clf_buf *bias, size_t bo, clf_act act,
                          clf_buf *y, size_t yo);
clf_status clf_ocl_depthwise_conv2d(clf_backend *be, const clf_conv_shape *s, clf_buf *x,
                                    size_t xo, clf_buf *w, size_t wo, clf_buf *bias,
                                    size_t bo, clf_act act, clf_buf *y, size_t yo);
clf_status clf_ocl_avg_pool(clf_backend *be, const clf_pool_shape *s, clf_buf *x, size_t xo,
                            clf_buf *y, size_t yo);
clf_status clf_ocl_global_avg_pool(clf_backend *be, int n, int hw, int c, clf_buf *x,
                                   size_t xo, clf_buf *y, size_t yo);
clf_status clf_ocl_global_avg_pool_backward(clf_backend *be, int n, int hw, int c,
                                            clf_buf *dy, size_t dyo, clf_buf *dx,
                                            size_t dxo);
clf_status clf_ocl_zero_pad(clf_backend *be, int n, int h, int w, int c, int top, int bottom,
                            int left, int right, clf_buf *x, size_t xo, clf_buf *y,
                            size_t yo);
clf_status clf_ocl_add(clf_backend *be, size_t n, clf_buf *a, size_t ao, clf_buf *b,
                       size_t bo, clf_act act, clf_buf *y, size_t yo);
clf_status clf_ocl_channel_affine(clf_backend *be, int rows, int c, clf_buf *x, size_t xo,
                                  clf_buf *scale, size_t so, clf_buf *shift, size_t sho,
                                  clf_act act, clf_buf *y, size_t yo);

#endif
