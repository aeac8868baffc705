/* JPEG through libjpeg-turbo's TurboJPEG API.
 *
 * Baseline and progressive, grey, YCbCr and CMYK/YCCK files decode.
 * libjpeg warns and goes on where data is damaged. The decode stops at
 * the first warning; then image_jpeg_check.c decides: a file whose pixel
 * data is missing ("Premature end of JPEG file", a cut scan) is refused,
 * since libjpeg would fill the missing rows with grey and report success;
 * one that is merely untidy ("extraneous bytes before marker") is decoded
 * again, to the end, and kept, as PIL keeps it.
 * CMYK is converted to RGB exactly as PIL does it: Adobe's inverted
 * storage is assumed (PIL always assumes it), then
 * R = (255 - C) * (255 - K) / 255 with PIL's rounding. No colour
 * management (ICC profiles are ignored, as PIL's convert ignores them). */
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>

#include "data/image.h"
#include "data/image_jpeg_check.h"

/* a * b / 255 rounded, the way PIL's MULDIV255 computes it. */
static int muldiv255(int a, int b)
{
    int t = a * b + 128;

    return ((t >> 8) + t) >> 8;
}

/* Stored (inverted) CMYK -> RGB in place, 4 bytes -> 3 bytes a pixel. */
static void cmyk_to_rgb(uint8_t *px, size_t pixels)
{
    for (size_t i = 0; i < pixels; i++) {
        const uint8_t *s = px + 4 * i;
        int nk = s[3]; /* 255 - K with K = 255 - stored */
        uint8_t rgb[3];

        for (int c = 0; c < 3; c++)
            rgb[c] = (uint8_t)(nk - muldiv255(255 - s[c], nk));
        memcpy(px + 3 * i, rgb, 3);
    }
}

static clf_status fail(tjhandle tj, const char *stage, char *why, size_t why_size)
{
    clf_why(why, why_size, "JPEG %s failed: %s", stage, tjGetErrorStr2(tj));
    tjDestroy(tj);
    return CLF_ERR_IMAGE;
}

/* The smallest of libjpeg-turbo's DCT scales (n/8) that keeps both sides
 * at least min_w x min_h; 1/1 without a minimum. Decoding at 3/8 scale
 * skips most of the IDCT and colour conversion and gives the resizer a
 * smaller image: several times faster for photos much larger than the
 * target. */
static tjscalingfactor pick_scale(int w, int h, int min_w, int min_h)
{
    tjscalingfactor best = {1, 1}, *sf;
    int n = 0;

    if (min_w <= 0 || min_h <= 0)
        return best;
    sf = tjGetScalingFactors(&n);
    for (int i = 0; sf && i < n; i++)
        if (sf[i].num * best.denom < best.num * sf[i].denom && TJSCALED(w, sf[i]) >= min_w &&
            TJSCALED(h, sf[i]) >= min_h)
            best = sf[i];
    return best;
}

/* Decodes into px (w x h, already scaled), stopping at the first
 * warning; after one, decodes to the end only if the check finds every
 * pixel's data present. */
static clf_status decode_pixels(tjhandle tj, const uint8_t *data, size_t len, uint8_t *px,
                                int w, int h, int pf, char *why, size_t why_size)
{
    unsigned long n = (unsigned long)len;
    clf_status st;

    if (tjDecompress2(tj, data, n, px, w, 0, h, pf, TJFLAG_STOPONWARNING) == 0)
        return CLF_OK;
    if (tjGetErrorCode(tj) != TJERR_WARNING) {
        clf_why(why, why_size, "JPEG decoding failed: %s", tjGetErrorStr2(tj));
        return CLF_ERR_IMAGE;
    }
    st = clf_jpeg_check_complete(data, len, why, why_size);
    if (st != CLF_OK)
        return st;
    if (tjDecompress2(tj, data, n, px, w, 0, h, pf, 0) != 0 &&
        tjGetErrorCode(tj) != TJERR_WARNING) {
        clf_why(why, why_size, "JPEG decoding failed: %s", tjGetErrorStr2(tj));
        return CLF_ERR_IMAGE;
    }
    return CLF_OK;
}

clf_status clf_jpeg_decode(const uint8_t *data, size_t len, clf_image *out, char *why,
                           size_t why_size)
{
    return clf_jpeg_decode_min(data, len, 0, 0, out, why, why_size);
}

clf_status clf_jpeg_decode_min(const uint8_t *data, size_t len, int min_w, int min_h,
                               clf_image *out, char *why, size_t why_size)
{
    int w = 0, h = 0, subsamp, colorspace, channels, pf;
    tjscalingfactor sf;
    clf_status st;
    size_t bytes;
    uint8_t *px;
    tjhandle tj;

    if (len > (unsigned long)-1 / 2) {
        clf_why(why, why_size, "JPEG file too large");
        return CLF_ERR_IMAGE;
    }
    tj = tjInitDecompress();
    if (!tj) {
        clf_why(why, why_size, "TurboJPEG could not start: %s", tjGetErrorStr2(NULL));
        return CLF_ERR_NOMEM;
    }
    /* A warning here (stray bytes between segments) still fills in the
     * header; the pixel pass below decides whether the file is usable.
     * TurboJPEG 2.1 returns success without setting w and h for a file cut
     * before its frame header (w and h start at 0 for that reason). */
    if ((tjDecompressHeader3(tj, data, (unsigned long)len, &w, &h, &subsamp, &colorspace) != 0 &&
         tjGetErrorCode(tj) != TJERR_WARNING) ||
        w <= 0 || h <= 0)
        return fail(tj, "header", why, why_size);

    /* CMYK and YCCK decode to 4 bytes a pixel before the conversion. */
    channels = (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) ? 4 : 3;
    pf = channels == 4 ? TJPF_CMYK : TJPF_RGB;
    if (clf_image_check_size("JPEG", (uint64_t)(w > 0 ? w : 0), (uint64_t)(h > 0 ? h : 0),
                             channels, &bytes, why, why_size) != CLF_OK) {
        tjDestroy(tj);
        return CLF_ERR_IMAGE;
    }

    /* the size guard above is on the stored size; the scaled one is less */
    sf = pick_scale(w, h, min_w, min_h);
    w = TJSCALED(w, sf);
    h = TJSCALED(h, sf);
    px = malloc((size_t)w * (size_t)h * (size_t)channels);
    if (!px) {
        tjDestroy(tj);
        clf_why(why, why_size, "out of memory for a %d x %d JPEG", w, h);
        return CLF_ERR_NOMEM;
    }
    st = decode_pixels(tj, data, len, px, w, h, pf, why, why_size);
    if (st != CLF_OK) {
        free(px);
        tjDestroy(tj);
        return st;
    }
    tjDestroy(tj);

    if (channels == 4)
        cmyk_to_rgb(px, (size_t)w * (size_t)h);
    out->w = w;
    out->h = h;
    out->rgb = px;
    return CLF_OK;
}
