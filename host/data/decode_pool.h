/* Decoding a list of image files on several threads (internal).
 *
 * File i is read, decoded and resized by whichever worker claims it, and
 * lands in slot i of the output block, so the result does not depend on
 * the number of threads. Workers never log: the calling thread reports
 * each bad file in file order as results arrive, so messages come from one
 * thread, in the same order on every run. With CLF_BAD_IMAGE_FAIL the
 * first bad file (in file order) stops the work.
 */
#ifndef CLFIT_DATA_DECODE_POOL_H
#define CLFIT_DATA_DECODE_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clfit/data.h"

typedef struct clf_decode_req {
    const char *const *paths; /* n file paths */
    const size_t *slots;      /* output slot of file i; NULL: slot i */
    size_t n;
    int height, width;       /* resize target */
    int threads;             /* workers; 0 = one per online core */
    clf_bad_image_policy on_bad_image;
    void (*progress)(size_t done, size_t total, void *user); /* may be NULL */
    void *progress_user;
} clf_decode_req;

/* Decodes every file into pixels + slot * height * width * 3 (the caller
 * allocates the slots) and sets ok[i] (indexed like paths). Bad files (unreadable, not an image,
 * truncated, too large) are logged as warnings and get ok[i] = false, or,
 * under CLF_BAD_IMAGE_FAIL, the first one is logged as an error and
 * CLF_ERR_IMAGE returned. CLF_ERR_NOMEM stops everything. */
clf_status clf_decode_files(const clf_decode_req *req, uint8_t *pixels, bool *ok);

/* Reads, decodes and resizes one file into dst (height * width * 3).
 * Thread-safe, silent: on failure `why` says what went wrong. Returns
 * CLF_ERR_IO (cannot read), CLF_ERR_IMAGE (bad content) or CLF_ERR_NOMEM. */
clf_status clf_decode_one(const char *path, int height, int width, uint8_t *dst, char *why,
                          size_t why_size);

/* The thread count `threads` asks for: itself when > 0, else the number of
 * online cores; never more than `jobs` and never less than 1. */
int clf_decode_threads(int threads, size_t jobs);

#endif
