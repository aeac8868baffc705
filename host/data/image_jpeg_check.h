/* Whether a JPEG's pixel data is all there (internal).
 *
 * The JPEG decoder (image_jpeg.c) decodes with TurboJPEG and stops at the
 * first libjpeg warning. Warnings are common in real photos and scraped
 * datasets, and most describe files whose every pixel still decodes; this
 * check, run only when a warning came up, tells those apart from files
 * whose pixel data is missing (see image_jpeg_check.c for the list). */
#ifndef CLFIT_DATA_IMAGE_JPEG_CHECK_H
#define CLFIT_DATA_IMAGE_JPEG_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "data/image.h"

/* Decodes data[0..len) once more at 1/8 scale and watches libjpeg's
 * warnings. CLF_OK when every scan's data was there (other warnings are
 * fine); CLF_ERR_IMAGE with `why` set when the data ran out, a scan or
 * restart segment was cut short, or libjpeg failed; CLF_ERR_NOMEM.
 * Thread-safe; logs nothing. The caller has already checked the header's
 * size against the caps. */
clf_status clf_jpeg_check_complete(const uint8_t *data, size_t len, char *why,
                                   size_t why_size);

#endif
