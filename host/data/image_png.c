/* PNG through libpng's simplified API: it expands grey, grey+alpha,
 * palette (with tRNS), 16-bit and interlaced images to 8-bit RGB(A).
 *
 * Known difference from PIL: libpng honours a gAMA chunk other than
 * sRGB's (converting the values to sRGB), where PIL ignores it; and a
 * 16-bit image is reduced to 8 bits by rounding (v / 257), where PIL keeps
 * the high byte of RGB and clips grey I;16 values above 255. */
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "data/image.h"

/* RGBA -> RGB in place: alpha is dropped, not composited (PIL does the same
 * in convert("RGB")). */
static void drop_alpha(uint8_t *px, size_t pixels)
{
    for (size_t i = 0; i < pixels; i++) {
        px[3 * i + 0] = px[4 * i + 0];
        px[3 * i + 1] = px[4 * i + 1];
        px[3 * i + 2] = px[4 * i + 2];
    }
}

static clf_status fail(png_image *img, const char *stage, char *why, size_t why_size)
{
    /* libpng says "Not enough image data" or "read beyond end of data" for
     * truncated files; its message is kept as it is. */
    clf_why(why, why_size, "PNG %s failed: %s", stage,
            img->message[0] ? img->message : "unknown libpng error");
    png_image_free(img);
    return CLF_ERR_IMAGE;
}

clf_status clf_png_decode(const uint8_t *data, size_t len, clf_image *out, char *why,
                          size_t why_size)
{
    png_image img;
    size_t bytes;
    int channels;
    uint8_t *px;

    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, data, len))
        return fail(&img, "header", why, why_size);

    channels = (img.format & PNG_FORMAT_FLAG_ALPHA) ? 4 : 3;
    if (clf_image_check_size("PNG", img.width, img.height, channels, &bytes, why,
                             why_size) != CLF_OK) {
        png_image_free(&img);
        return CLF_ERR_IMAGE;
    }

    /* Ask for 8-bit RGB(A) in the file's own gamma; without the flag
     * libpng treats 16-bit data as linear light and darkens it. */
    img.format = channels == 4 ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    img.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    px = malloc(bytes);
    if (!px) {
        png_image_free(&img);
        clf_why(why, why_size, "out of memory for a %u x %u PNG", img.width, img.height);
        return CLF_ERR_NOMEM;
    }
    if (!png_image_finish_read(&img, NULL, px, 0, NULL)) {
        free(px);
        return fail(&img, "decoding", why, why_size);
    }

    if (channels == 4)
        drop_alpha(px, (size_t)img.width * img.height);
    out->w = (int)img.width;
    out->h = (int)img.height;
    out->rgb = px;
    png_image_free(&img);
    return CLF_OK;
}
