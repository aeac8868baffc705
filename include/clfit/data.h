/* Image folders: scan, decode, resize, split, batch.
 *
 * The torchvision ImageFolder workflow in C. A dataset is a folder with
 * one subfolder per class; sorted subfolder names give labels 0..N-1.
 * Every usable image is decoded once, resized to the target size and kept
 * as uint8 RGB (HWC) in memory, so later epochs never decode again.
 * Scaling to floats happens on the compute device (the backend's
 * u8_to_float op), not here.
 */
#ifndef CLFIT_DATA_H
#define CLFIT_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clfit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest image clfit will decode: width * height * channels must not
 * exceed this many bytes (a decompression-bomb guard, checked from the
 * header before any pixel is decoded). */
#define CLF_MAX_IMAGE_BYTES ((size_t)1 << 28) /* 256 MiB: 8K x 8K RGBA */
#define CLF_MAX_IMAGE_SIDE 32768

typedef enum clf_bad_image_policy {
    CLF_BAD_IMAGE_SKIP = 0, /* warn, count, go on (default) */
    CLF_BAD_IMAGE_FAIL = 1  /* stop at the first bad file */
} clf_bad_image_policy;

typedef struct clf_data_opts {
    int height, width;              /* resize target; both > 0 */
    clf_bad_image_policy on_bad_image;
    bool allow_empty_classes;       /* default false: an empty class folder is an error */
    int threads;                    /* decoding threads; 0 = one per core */
    /* NULL: no on-disk cache. Otherwise decoded, resized images are kept
     * in one file per data folder and size in this folder (created if
     * missing) and reused while a file's size and mtime are unchanged;
     * bad files are not cached. Cache trouble is only ever a warning. */
    const char *cache_dir;
    /* Called on the calling thread after each file is decoded, with the
     * number done so far and the number to decode: the files found, less
     * those taken from the cache (may be NULL). */
    void (*progress)(size_t done, size_t total, void *user);
    void *progress_user;
} clf_data_opts;

/* Defaults: 224x224, skip bad images, empty classes an error, all cores,
 * no cache, no progress callback. */
void clf_data_opts_default(clf_data_opts *o);

typedef struct clf_dataset clf_dataset;

/* Scans `dir`, decodes and resizes every image, keeping them in memory.
 *
 * Order is torchvision's ImageFolder's: classes by sorted folder name,
 * then files by folder path and name. Class folders are walked
 * recursively, following symlinks (a loop is skipped with a warning).
 * Hidden entries (names starting with '.') are ignored. Candidates are
 * files named .jpg .jpeg .png .bmp .gif .tga .ppm .pgm .pnm .pbm in any
 * letter case; the content, not the extension, picks the decoder: PNG,
 * JPEG (incl. progressive and CMYK), BMP, GIF (first frame), TGA, binary
 * PGM/PPM. Each image is resized to o->height x o->width like PIL's
 * bilinear resize with antialiasing. Decoding runs on o->threads threads;
 * the result does not depend on their number.
 *
 * Bad images are handled by o->on_bad_image, each logged once as a
 * warning naming the file and the reason. All messages come from the
 * calling thread, in file order; the last (info) gives the number of
 * images, classes and skipped files. Returns CLF_ERR_ARG for bad options,
 * CLF_ERR_IO when `dir` cannot be read, CLF_ERR_IMAGE for the first bad
 * file under CLF_BAD_IMAGE_FAIL, CLF_ERR_NOMEM, and CLF_ERR_DATA (after
 * logging why) when the folder has no class subfolders, a class has no
 * usable image (unless allowed; every such folder is listed), or nothing
 * is left at all. */
clf_status clf_dataset_load(const char *dir, const clf_data_opts *o, clf_dataset **out);

/* Builds a dataset of already-decoded images without touching disk
 * (tests, benchmarks): n images of h x w x 3 bytes each, labels in
 * [0, classes). Copies everything; class names are "0", "1", ... */
clf_status clf_dataset_from_memory(const uint8_t *pixels, const int32_t *labels, size_t n,
                                   int h, int w, int classes, clf_dataset **out);

void clf_dataset_free(clf_dataset *ds);

/* Reads, decodes and resizes one image file, as clf_dataset_load does for
 * each file, into out (height * width * 3 bytes, RGB). On failure logs an
 * error naming the file and the reason and returns CLF_ERR_IO (cannot be
 * read), CLF_ERR_IMAGE (not a usable image), CLF_ERR_ARG or CLF_ERR_NOMEM. */
clf_status clf_image_load(const char *path, int height, int width, uint8_t *out);

size_t clf_dataset_size(const clf_dataset *ds);     /* usable images */
size_t clf_dataset_skipped(const clf_dataset *ds);  /* bad files skipped */
int clf_dataset_classes(const clf_dataset *ds);
const char *clf_dataset_class_name(const clf_dataset *ds, int label);
int clf_dataset_height(const clf_dataset *ds);
int clf_dataset_width(const clf_dataset *ds);

/* Image i: height * width * 3 bytes, RGB, row-major; its label and path
 * ("" for in-memory datasets). Out of range: NULL, -1 and "". */
const uint8_t *clf_dataset_image(const clf_dataset *ds, size_t i);
int32_t clf_dataset_label(const clf_dataset *ds, size_t i);
const char *clf_dataset_path(const clf_dataset *ds, size_t i);

/* Sizes torch.utils.data.random_split gives n items for `k` fractions
 * summing to 1: floor(n * f) each, then the remainder handed out one at a
 * time from the first subset. CLF_ERR_ARG when fractions are negative or
 * do not sum to 1 (within 1e-6). */
clf_status clf_split_sizes(size_t n, const double *fractions, int k, size_t *sizes);

/* A seeded permutation of 0..n-1 cut into those subsets: subset s is
 * perm[offset_s .. offset_s + sizes[s]). Deterministic for a seed.
 * perm holds n entries, sizes k. Besides clf_split_sizes's errors,
 * CLF_ERR_DATA (logged as "N images are too few for the split ...") when
 * the first (train) subset, or any subset whose fraction is > 0, would be
 * empty. */
clf_status clf_split(size_t n, const double *fractions, int k, uint64_t seed, size_t *perm,
                     size_t *sizes);

/* Batches over a subset of a dataset (indices into it). With shuffle,
 * epoch e visits the subset in an order drawn from (seed, e) alone, so any
 * epoch can be replayed or resumed. The last batch may be partial.
 * Create copies the indices (each must be < clf_dataset_size; n may be 0,
 * giving no batches) and sets epoch 0; the dataset must outlive the
 * loader. CLF_ERR_ARG for a bad index or batch_size <= 0. */
typedef struct clf_loader clf_loader;

clf_status clf_loader_create(const clf_dataset *ds, const size_t *indices, size_t n,
                             int batch_size, bool shuffle, uint64_t seed, clf_loader **out);
void clf_loader_free(clf_loader *ld);

size_t clf_loader_batches(const clf_loader *ld);
size_t clf_loader_size(const clf_loader *ld);
int clf_loader_batch_size(const clf_loader *ld);
const clf_dataset *clf_loader_dataset(const clf_loader *ld);

/* Fixes the visiting order for epoch `epoch` (0-based). */
clf_status clf_loader_set_epoch(clf_loader *ld, int epoch);

/* Copies batch b of the current epoch: images (count * h * w * 3 bytes)
 * and labels; *count is the batch's real size. */
clf_status clf_loader_batch(const clf_loader *ld, size_t b, uint8_t *images, int32_t *labels,
                            int *count);

#ifdef __cplusplus
}
#endif
#endif
