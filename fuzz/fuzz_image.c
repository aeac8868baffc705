/* Fuzzes the image loader as the data pipeline runs it: decode from
 * memory for a target size taken from the input's bytes (the decoder is
 * chosen by content, as for a file; a JPEG decodes straight to a reduced
 * DCT scale when the target is small), then resize to that size. Every
 * format decoder is reachable: PNG (libpng), JPEG (libjpeg-turbo),
 * BMP/GIF/PNM (stb_image by magic) and TGA (stb_image, tried for
 * unrecognised content because the name ends in .tga). */
#include <stdlib.h>

#include "data/image.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clf_image im;
    char why[CLF_WHY_SIZE];
    int dw, dh;
    uint8_t *dst;

    fuzz_quiet_log();
    dw = size ? 1 + data[size - 1] % 64 : 1;
    dh = size ? 1 + data[size / 2] % 64 : 1;
    why[0] = '\0';
    if (clf_image_decode_min(data, size, "input.tga", dw, dh, &im, why, sizeof why) !=
        CLF_OK) {
        if (im.rgb || !why[0])
            abort(); /* a failure must say why and leave nothing behind */
        return 0;
    }
    if (im.w < 1 || im.h < 1 || !im.rgb)
        abort();

    /* Images up to the cap (256 MiB) are legal: a 100-byte GIF may declare
     * a 1030 x 27395 canvas, which decodes in 0.7 s natively but takes
     * over 10 s to resize under ASan and coverage. Resizing adds no
     * coverage at that size, so only smaller images are resized. */
    if ((size_t)im.w * (size_t)im.h > ((size_t)1 << 22)) {
        clf_image_free(&im);
        return 0;
    }

    dst = malloc((size_t)dw * (size_t)dh * 3);
    if (dst && clf_image_resize(im.rgb, im.w, im.h, dst, dw, dh) != CLF_OK)
        abort();
    free(dst);
    clf_image_free(&im);
    return 0;
}
