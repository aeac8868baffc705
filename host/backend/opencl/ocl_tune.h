/* GEMM tuning: the parameters, their file per device, and the search
 * behind `clfit tune` (internal).
 *
 * What is tuned:
 * - gemm_tile's register tile (GT_R rows x 16 GT_V columns; build
 *   options of clfit's own program, cl/gemm.cl) and gemm_k_slices' slice
 *   length (a launch argument);
 * - CLBlast's Xgemm and XgemmDirect kernels and its helper kernels (Copy,
 *   Pad, Transpose, Padtranspose), through CLBlastOverrideParameters; on
 *   CPU devices clfit sends only transposed GEMMs to CLBlast.
 *
 * The result lives in <cache>/tune/<key>.tune (core/cache_dir.h), the key
 * hashing the device name, platform and driver version; the OpenCL backend
 * reads it when it opens the device. Without a file (or with an unusable
 * one, which is a warning) the defaults apply: GT 6 x 4, slices of 1024,
 * CLBlast's own database. Format: text lines, "clfit-tune 1" first, then
 * "device NAME", "driver VERSION", "gemm_tile R V", "k_slice N" and
 * "clblast KERNEL NAME=VALUE ..." lines.
 */
#ifndef CLFIT_OCL_TUNE_H
#define CLFIT_OCL_TUNE_H

#include <stdbool.h>
#include <stddef.h>

#include "clfit/device.h"
#include "clfit/status.h"

enum { CLF_TUNE_MAX_PARAMS = 16, CLF_TUNE_MAX_KERNELS = 8 };

/* One CLBlast kernel's parameters, as CLBlastOverrideParameters takes them. */
typedef struct clf_clblast_params {
    char kernel[16]; /* "Xgemm", "XgemmDirect", "Copy", ... */
    int n;
    char names[CLF_TUNE_MAX_PARAMS][24];
    size_t values[CLF_TUNE_MAX_PARAMS];
} clf_clblast_params;

typedef struct clf_tune {
    int gemm_r, gemm_v; /* gemm_tile: 1 <= r <= 16, 1 <= v <= 4, r * v <= 32 */
    int k_slice;        /* gemm_k_slices: 64 .. 65536, a multiple of 16 */
    int n_clblast;
    clf_clblast_params clblast[CLF_TUNE_MAX_KERNELS];
} clf_tune;

/* The defaults (no CLBlast overrides). */
void clf_tune_default(clf_tune *t);

/* The tuning file of a device, malloc'd; NULL without a cache folder. */
char *clf_tune_path(const clf_device_desc *d);

/* Reads the device's tuning file into *t. A missing file leaves the
 * defaults and is not an error; an unusable one (bad header, another
 * device, a value out of range) leaves the defaults after a warning that
 * names the file and line. Returns CLF_OK in every such case; *from_file
 * says whether the file was used. */
clf_status clf_tune_load(const clf_device_desc *d, clf_tune *t, bool *from_file);

/* Writes *t as the device's tuning file (atomically); CLF_ERR_IO when
 * there is no cache folder or the write fails (after logging). */
clf_status clf_tune_save(const clf_device_desc *d, const clf_tune *t);

/* The search. `say` (may be NULL) receives one line per candidate
 * measured, for the CLI to print. quick: fewer candidates and shapes. */
typedef struct clf_tune_opts {
    bool quick;
    bool clblast;   /* also tune CLBlast's kernels (slow: each candidate
                       compiles) */
    void (*say)(void *user, const char *line);
    void *user;
} clf_tune_opts;

/* Measures the candidates on `be` (an OpenCL backend, which it leaves as
 * it was) and fills *best with the fastest of each group, checked
 * against a host computation first. The caller saves it. */
clf_status clf_opencl_tune(clf_backend *be, const clf_tune_opts *opts, clf_tune *best);

#endif
