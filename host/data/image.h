/* Reading, decoding and resizing one image (internal).
 *
 * Every function here is thread-safe and writes nothing to the log: a
 * failure fills `why` (a short reason, no file name) and the caller, which
 * knows the file, decides how to report it. Decoders:
 *   PNG   libpng's simplified png_image API
 *   JPEG  libjpeg-turbo's TurboJPEG API; missing pixel data fails
 *   BMP, GIF (first frame), TGA, binary PNM (P5/P6)  stb_image
 * The content (magic bytes) picks the decoder, not the file name; only TGA,
 * which has no magic, is tried when nothing else matched and the name ends
 * in .tga. Output is always 8-bit RGB: grey becomes three equal channels,
 * alpha is dropped without compositing (PIL's convert("RGB")).
 */
#ifndef CLFIT_DATA_IMAGE_H
#define CLFIT_DATA_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "clfit/data.h"
#include "clfit/status.h"
#include "core/file.h"

/* Room for a failure reason. */
#define CLF_WHY_SIZE 256

/* The largest file read whole: room for an uncompressed image at the
 * pixel cap plus headers. */
#define CLF_MAX_IMAGE_FILE_BYTES ((size_t)2 * CLF_MAX_IMAGE_BYTES)

/* A decoded image: w * h pixels of 3 bytes (RGB), row-major, malloc'd. */
typedef struct clf_image {
    int w, h;
    uint8_t *rgb;
} clf_image;

void clf_image_free(clf_image *im);

/* Decodes data[0..len) to RGB. `name` (may be NULL) is used only as the
 * TGA hint. CLF_ERR_IMAGE with `why` set for anything that is not a
 * complete, supported image within the size caps; CLF_ERR_NOMEM when
 * memory runs out. On failure *out is zeroed. */
clf_status clf_image_decode(const uint8_t *data, size_t len, const char *name, clf_image *out,
                            char *why, size_t why_size);

/* As clf_image_decode, for an image that will be resized to
 * min_w x min_h: a JPEG comes back decoded straight to the smallest DCT
 * scale (n/8) that keeps both sides at least that large, so it may be
 * smaller than stored (pixel values then differ from a full decode plus
 * resize by a few levels: the scaled IDCT averages blocks where the
 * triangle filter weighs pixels). Other formats decode at full size. */
clf_status clf_image_decode_min(const uint8_t *data, size_t len, const char *name, int min_w,
                                int min_h, clf_image *out, char *why, size_t why_size);

/* The decompression-bomb guard every decoder calls with the header's
 * numbers before decoding: both sides in [1, CLF_MAX_IMAGE_SIDE] and
 * w * h * channels <= CLF_MAX_IMAGE_BYTES. `fmt` names the format in
 * `why`. Returns CLF_OK or CLF_ERR_IMAGE; *bytes = w * h * channels. */
clf_status clf_image_check_size(const char *fmt, uint64_t w, uint64_t h, int channels,
                                size_t *bytes, char *why, size_t why_size);

/* Format decoders behind clf_image_decode (same contract). */
clf_status clf_png_decode(const uint8_t *data, size_t len, clf_image *out, char *why,
                          size_t why_size);
clf_status clf_jpeg_decode(const uint8_t *data, size_t len, clf_image *out, char *why,
                           size_t why_size);
clf_status clf_jpeg_decode_min(const uint8_t *data, size_t len, int min_w, int min_h,
                               clf_image *out, char *why, size_t why_size);
/* `fmt` is "BMP", "GIF", "TGA" or "PNM", already recognised. */
clf_status clf_stb_decode(const char *fmt, const uint8_t *data, size_t len, clf_image *out,
                          char *why, size_t why_size);

/* Resizes src (sw x sh RGB) into dst (dw x dh RGB) like PIL's bilinear
 * resize: a triangle filter widened when shrinking (antialiasing), in the
 * stored (gamma) values. Equal sizes copy. CLF_ERR_NOMEM on failure. */
clf_status clf_image_resize(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh);

#endif
