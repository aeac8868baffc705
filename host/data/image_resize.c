/* Resizing with Debian's stb_image_resize (v0.97).
 *
 * A triangle filter is PIL's BILINEAR: plain bilinear interpolation when
 * enlarging, and a triangle widened by the scale factor when shrinking,
 * which is the antialiasing torchvision's Resize gets from PIL. Values are
 * filtered as stored (no sRGB linearisation), as PIL does.
 *
 * Known difference from PIL: at the image border stb clamps (repeats the
 * edge pixel) where PIL drops the taps that fall outside and renormalises
 * the rest. When enlarging the two agree; when shrinking, the outermost
 * output row and column can differ by a few levels.
 */
#include <string.h>

#include "data/image.h"

#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_STATIC
/* v0.97 asserts that a shrinking filter's weights for one output pixel sum
 * to within 10% of 1 before it normalises them; a triangle sampled at some
 * ratios (5 -> 4: 0.8 x (1 + 0.2 + 0.2) = 1.12) goes beyond that, which is
 * harmless because the weights are normalised right after. Its asserts are
 * off in release builds anyway; they are turned off here in every build. */
#define STBIR_ASSERT(x) ((void)0)
#if defined(__GNUC__)
/* Unused static declarations are reported at the end of the file, after a
 * pop, so this one stays off for the whole (glue-only) file. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#endif
#include <stb/stb_image_resize.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

clf_status clf_image_resize(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh)
{
    if (sw == dw && sh == dh) {
        memcpy(dst, src, (size_t)sw * (size_t)sh * 3);
        return CLF_OK;
    }
    /* stb returns 0 only when its scratch allocation fails. */
    if (!stbir_resize_uint8_generic(src, sw, sh, 0, dst, dw, dh, 0, 3,
                                    STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP,
                                    STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR, NULL))
        return CLF_ERR_NOMEM;
    return CLF_OK;
}
