/* The on-disk cache of built OpenCL programs.
 *
 * A built program's binary (clGetProgramInfo CL_PROGRAM_BINARIES) is kept
 * in <cache>/kernels/<key>.clbin, where the key hashes the device name,
 * platform, driver version, build options and every kernel source, so a
 * new driver or changed kernels simply miss. A later start creates the
 * program from it (clCreateProgramWithBinary) and skips the compiler; on
 * drivers without a cache of their own that saves seconds per start.
 *
 * File: "CLFITBIN", u32 format version, u32 0, u64 key, u64 payload
 * length, u64 FNV-1a of the payload (little-endian), then the payload.
 * A file that fails any check, or that the driver refuses, is reported
 * with a warning, rebuilt from source and rewritten. Writes are atomic.
 *
 * Known limit: PoCL's binary holds the program's LLVM IR only; PoCL still
 * compiles each kernel for its work-group size at the first launch (about
 * 0.2 s a kernel here) unless its own cache (POCL_CACHE_DIR) has it.
 */
#include "ocl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "core/cache_dir.h"
#include "core/file.h"
#include "io/atomic_file.h"
#include "io/file_read.h"

enum { HEADER = 40, FORMAT = 1 };
#define MAX_BINARY ((size_t)1 << 30)

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    return clf_fnv1a(h, s, strlen(s) + 1); /* the NUL separates fields */
}

/* Everything the built program depends on. */
static uint64_t program_key(const clf_ocl *o, const clf_device_desc *d,
                            const char *const *srcs, const size_t *lens, size_t count)
{
    uint64_t h = hash_str(CLF_FNV_START, "clfit program binary");

    h = hash_str(h, d->name);
    h = hash_str(h, d->platform_name);
    h = hash_str(h, d->driver);
    h = hash_str(h, d->opencl_c);
    h = hash_str(h, o->build_options);
    for (size_t i = 0; i < count; i++) {
        h = clf_fnv1a(h, &lens[i], sizeof lens[i]);
        h = clf_fnv1a(h, srcs[i], lens[i]);
    }
    return h;
}

/* The payload of a cache file after every check, or NULL with *why set. */
static const uint8_t *check_file(const uint8_t *f, size_t len, uint64_t key, size_t *payload,
                                 const char **why)
{
    uint64_t n;

    if (len < HEADER || memcmp(f, "CLFITBIN", 8) != 0) {
        *why = "not a clfit program binary";
        return NULL;
    }
    if (get64(f + 8) != FORMAT) {
        *why = "written by another version of clfit";
        return NULL;
    }
    n = get64(f + 24);
    if (get64(f + 16) != key || n != len - HEADER) {
        *why = get64(f + 16) != key ? "made for another device or kernel source"
                                   : "truncated or padded";
        return NULL;
    }
    if (clf_fnv1a(CLF_FNV_START, f + HEADER, (size_t)n) != get64(f + 32)) {
        *why = "its checksum does not match (damaged)";
        return NULL;
    }
    *payload = (size_t)n;
    return f + HEADER;
}

/* Creates and builds the program from a binary; false on any failure
 * (nothing logged but at debug level: the caller warns once). */
static bool build_binary(clf_ocl *o, const uint8_t *bin, size_t len, cl_program *out)
{
    cl_int err = CL_SUCCESS, bin_status = CL_SUCCESS;
    cl_program prog = clCreateProgramWithBinary(o->ctx, 1, &o->device, &len, &bin,
                                                &bin_status, &err);

    if (err != CL_SUCCESS || bin_status != CL_SUCCESS) {
        CLF_LOG_DEBUG("clCreateProgramWithBinary: %s / %s", clf_cl_error_name(err),
                      clf_cl_error_name(bin_status));
        if (prog)
            clReleaseProgram(prog);
        return false;
    }
    err = clBuildProgram(prog, 1, &o->device, o->build_options, NULL, NULL);
    if (err != CL_SUCCESS) {
        CLF_LOG_DEBUG("clBuildProgram from a binary: %s", clf_cl_error_name(err));
        clReleaseProgram(prog);
        return false;
    }
    *out = prog;
    return true;
}

/* The program's binary for the backend's device, malloc'd. */
static clf_status program_binary(cl_program prog, uint8_t **out, size_t *len)
{
    clf_status st = CLF_OK;
    size_t size = 0;
    uint8_t *bin = NULL;
    cl_uint ndev = 0;

    *out = NULL;
    CLF_CL_CHECK(clGetProgramInfo(prog, CL_PROGRAM_NUM_DEVICES, sizeof ndev, &ndev, NULL));
    if (ndev != 1) {
        CLF_LOG_DEBUG("program binary: %u devices, expected 1", ndev);
        return CLF_ERR_UNSUPPORTED;
    }
    CLF_CL_CHECK(clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL));
    if (size == 0 || size > MAX_BINARY)
        return CLF_ERR_UNSUPPORTED; /* the driver offers no binary */
    bin = malloc(size);
    if (!bin)
        return CLF_ERR_NOMEM;
    CLF_CL_CHECK(clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL));
    *out = bin;
    *len = size;
    return CLF_OK;
cleanup:
    free(bin);
    return st;
}

/* The header, then the payload, replacing the file in one step. */
static clf_status write_file(const char *path, const uint8_t *head, const uint8_t *bin,
                             size_t len)
{
    clf_atomic_file af;
    clf_status st = clf_atomic_open(path, &af);

    if (st != CLF_OK)
        return st;
    if (fwrite(head, 1, HEADER, af.f) != HEADER || fwrite(bin, 1, len, af.f) != len) {
        CLF_LOG_WARN("cannot write the kernel cache file '%s'", path);
        clf_atomic_abort(&af);
        return CLF_ERR_IO;
    }
    return clf_atomic_commit(&af);
}

/* Writes the program's binary to o->bin_path; remembers its size. */
static void store(clf_ocl *o, cl_program prog)
{
    uint8_t head[HEADER], *bin = NULL;
    size_t len = 0;

    if (!o->bin_path || program_binary(prog, &bin, &len) != CLF_OK)
        return;
    memcpy(head, "CLFITBIN", 8);
    put64(head + 8, FORMAT);
    put64(head + 16, o->bin_key);
    put64(head + 24, len);
    put64(head + 32, clf_fnv1a(CLF_FNV_START, bin, len));
    if (write_file(o->bin_path, head, bin, len) == CLF_OK) {
        o->bin_stored = len;
        CLF_LOG_DEBUG("stored the built kernels in '%s' (%zu bytes)", o->bin_path, len);
    }
    free(bin);
}

/* Tries the cache file; sets o->bin_state to HIT, MISS or BAD. */
static bool load(clf_ocl *o, cl_program *out)
{
    uint8_t *file = NULL;
    size_t len = 0, n = 0;
    const uint8_t *payload;
    const char *why = "the driver refused it";

    if (clf_read_file(o->bin_path, MAX_BINARY + HEADER, &file, &len, NULL, 0) != CLF_OK) {
        o->bin_state = CLF_BIN_MISS;
        return false;
    }
    payload = check_file(file, len, o->bin_key, &n, &why);
    if (payload && build_binary(o, payload, n, out)) {
        free(file);
        o->bin_state = CLF_BIN_HIT;
        o->bin_stored = n;
        CLF_LOG_DEBUG("kernels loaded from the cache file '%s'", o->bin_path);
        return true;
    }
    free(file);
    o->bin_state = CLF_BIN_BAD;
    CLF_LOG_WARN("the kernel cache file '%s' is unusable (%s); rebuilding the kernels from "
                 "source", o->bin_path, why);
    return false;
}

clf_status clf_ocl_build_program(clf_ocl *o, const clf_device_desc *d, const char *const *srcs,
                                 const size_t *lens, size_t count)
{
    char *dir = clf_cache_dir("kernels"), name[40];
    clf_status st;

    o->bin_state = CLF_BIN_OFF;
    if (dir) {
        o->bin_key = program_key(o, d, srcs, lens, count);
        snprintf(name, sizeof name, "%016llx.clbin", (unsigned long long)o->bin_key);
        o->bin_path = clf_path_join(dir, name);
        free(dir);
    }
    if (o->bin_path && load(o, &o->program))
        return CLF_OK;
    st = clf_ocl_build(o, srcs, lens, count, &o->program);
    if (st == CLF_OK)
        store(o, o->program);
    return st;
}
