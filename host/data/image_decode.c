/* Reading a file whole, the size guard, and picking a decoder by content. */
#include "data/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/excerpt.h"

void clf_image_free(clf_image *im)
{
    if (!im)
        return;
    free(im->rgb);
    im->rgb = NULL;
    im->w = im->h = 0;
}

clf_status clf_image_check_size(const char *fmt, uint64_t w, uint64_t h, int channels,
                                size_t *bytes, char *why, size_t why_size)
{
    size_t total;

    if (w == 0 || h == 0) {
        clf_why(why, why_size, "%s header declares an empty image (%llu x %llu)", fmt,
            (unsigned long long)w, (unsigned long long)h);
        return CLF_ERR_IMAGE;
    }
    if (w > CLF_MAX_IMAGE_SIDE || h > CLF_MAX_IMAGE_SIDE) {
        clf_why(why, why_size,
            "%s header declares %llu x %llu pixels; refusing to decode a side over %d",
            fmt, (unsigned long long)w, (unsigned long long)h, CLF_MAX_IMAGE_SIDE);
        return CLF_ERR_IMAGE;
    }
    if (!clf_mul4_size((size_t)w, (size_t)h, (size_t)channels, 1, &total) ||
        total > CLF_MAX_IMAGE_BYTES) {
        clf_why(why, why_size,
            "%s header declares %llu x %llu pixels x %d channels; refusing to decode "
            "more than %zu bytes",
            fmt, (unsigned long long)w, (unsigned long long)h, channels,
            (size_t)CLF_MAX_IMAGE_BYTES);
        return CLF_ERR_IMAGE;
    }
    if (bytes)
        *bytes = total;
    return CLF_OK;
}

static bool starts(const uint8_t *d, size_t len, const char *magic, size_t n)
{
    return len >= n && memcmp(d, magic, n) == 0;
}

static bool name_is_tga(const char *name)
{
    const char *dot = name ? strrchr(name, '.') : NULL;

    return dot && strcasecmp(dot, ".tga") == 0;
}

/* Names a format we recognise but do not decode, or NULL. */
static const char *unsupported(const uint8_t *d, size_t len)
{
    if (starts(d, len, "RIFF", 4) && len >= 12 && memcmp(d + 8, "WEBP", 4) == 0)
        return "WebP images are not supported";
    if (starts(d, len, "II*\0", 4) || starts(d, len, "MM\0*", 4))
        return "TIFF images are not supported";
    if (len >= 2 && d[0] == 'P' && d[1] != '\0' && strchr("12347", d[1]))
        return "only binary PGM/PPM (P5/P6) are supported, not PBM, ASCII or PAM netpbm";
    return NULL;
}

/* How the file starts: as quoted text when its first bytes are
 * printable (a CSV or HTML page named .jpg), else as hex bytes. */
static void say_unknown(const uint8_t *d, size_t len, char *why, size_t why_size)
{
    char start[4 * 16 + 1];

    if (clf_is_text(d, len, 16)) {
        clf_excerpt(d, len, 16, start, sizeof start);
        clf_why(why, why_size, "not an image: it starts with the text \"%s\" (%zu bytes)",
                start, len);
        return;
    }
    clf_hex_bytes(d, len, 8, start, sizeof start);
    clf_why(why, why_size, "not an image: unrecognised content (%zu bytes, starting %s)", len,
            start);
}

clf_status clf_image_decode(const uint8_t *data, size_t len, const char *name, clf_image *out,
                            char *why, size_t why_size)
{
    return clf_image_decode_min(data, len, name, 0, 0, out, why, why_size);
}

clf_status clf_image_decode_min(const uint8_t *data, size_t len, const char *name, int min_w,
                                int min_h, clf_image *out, char *why, size_t why_size)
{
    const char *bad;

    memset(out, 0, sizeof *out);
    if (len == 0) {
        clf_why(why, why_size, "empty file (0 bytes)");
        return CLF_ERR_IMAGE;
    }
    if (starts(data, len, "\x89PNG\r\n\x1a\n", 8))
        return clf_png_decode(data, len, out, why, why_size);
    if (starts(data, len, "\xff\xd8\xff", 3))
        return clf_jpeg_decode_min(data, len, min_w, min_h, out, why, why_size);
    if (starts(data, len, "GIF87a", 6) || starts(data, len, "GIF89a", 6))
        return clf_stb_decode("GIF", data, len, out, why, why_size);
    if (starts(data, len, "BM", 2))
        return clf_stb_decode("BMP", data, len, out, why, why_size);
    if (starts(data, len, "P5", 2) || starts(data, len, "P6", 2))
        return clf_stb_decode("PNM", data, len, out, why, why_size);

    bad = unsupported(data, len);
    if (bad) {
        clf_why(why, why_size, "%s", bad);
        return CLF_ERR_IMAGE;
    }
    if (name_is_tga(name))
        return clf_stb_decode("TGA", data, len, out, why, why_size);
    say_unknown(data, len, why, why_size);
    return CLF_ERR_IMAGE;
}
