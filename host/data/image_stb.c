/* BMP, GIF (first frame), TGA and binary PNM through Debian's stb_image.
 *
 * Only these four formats are compiled in (PNG and JPEG go to libpng and
 * libjpeg-turbo), the stdio and HDR paths are left out, and stbi_info
 * reads the header first so the size guard runs before any pixel is
 * decoded. stb_image 2.27 keeps its failure reason in a thread-local, so
 * decoding from several threads is safe. GIF: stb_image decodes the whole
 * first frame onto a w x h RGBA canvas, so the guard counts 4 channels.
 * Known difference from PIL: transparent GIF pixels come out black (stb's
 * empty canvas), where PIL gives their palette colour.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "data/image.h"

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_TGA
#define STBI_ONLY_PNM
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS CLF_MAX_IMAGE_SIDE

/* The library is not ours; its own warnings are not fixed here. */
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
#if !defined(__clang__) /* a GCC-only warning */
#pragma GCC diagnostic ignored "-Wduplicated-branches"
#endif
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* stb_image reads through these callbacks rather than from memory so that
 * a read past the end is noticed: its memory reader returns zeros there and
 * a truncated BMP, TGA or GIF would otherwise decode "successfully" with
 * the missing pixels black. */
typedef struct reader {
    const uint8_t *data;
    size_t len, pos;
    bool overrun;
} reader;

static int cb_read(void *user, char *dst, int size)
{
    reader *r = user;
    size_t left = r->len - r->pos;
    size_t n = size > 0 ? (size_t)size : 0;

    if (n > left) {
        n = left;
        if (n == 0)
            r->overrun = true; /* asked for bytes after the last one */
    }
    memcpy(dst, r->data + r->pos, n);
    r->pos += n;
    return (int)n;
}

static void cb_skip(void *user, int n)
{
    reader *r = user;

    if (n < 0) {
        size_t back = (size_t)-(long)n;
        r->pos = back > r->pos ? 0 : r->pos - back;
        return;
    }
    if ((size_t)n > r->len - r->pos) {
        r->overrun = true;
        r->pos = r->len;
        return;
    }
    r->pos += (size_t)n;
}

static int cb_eof(void *user)
{
    reader *r = user;

    return r->pos >= r->len;
}

static const stbi_io_callbacks callbacks = {cb_read, cb_skip, cb_eof};

/* 1-4 channels (grey, grey+alpha, RGB, RGBA) to a new RGB block: grey is
 * replicated, alpha dropped. */
static uint8_t *to_rgb(const uint8_t *px, size_t pixels, int comp)
{
    uint8_t *rgb = malloc(pixels * 3);

    if (!rgb)
        return NULL;
    for (size_t i = 0; i < pixels; i++) {
        const uint8_t *s = px + i * (size_t)comp;
        uint8_t *d = rgb + i * 3;

        if (comp <= 2) {
            d[0] = d[1] = d[2] = s[0];
        } else {
            d[0] = s[0];
            d[1] = s[1];
            d[2] = s[2];
        }
    }
    return rgb;
}

static uint32_t le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

/* The fewest bytes a BMP or TGA of w x h pixels can hold. stb_image keeps
 * decoding after the data ends (reading zeros), so a 300-byte file that
 * declares 12000 x 4000 pixels would cost a full-size decode before the
 * read past the end is noticed; these files are refused from the header.
 * Other formats stop early at the end of their data. */
static uint64_t min_file_bytes(const char *fmt, const uint8_t *d, size_t len, uint64_t pixels)
{
    uint32_t bpp;

    if (strcmp(fmt, "BMP") == 0) {
        if (len < 30)
            return UINT64_MAX; /* not even a whole header */
        bpp = le16(d + 14) == 12 ? le16(d + 24) : le16(d + 28); /* OS/2 or Windows header */
        return pixels * bpp / 8;
    }
    if (strcmp(fmt, "TGA") == 0) {
        uint64_t bytes;

        if (len < 18)
            return UINT64_MAX;
        bytes = (d[16] + 7u) / 8u;
        if (d[2] >= 9) /* run-length packets: 1 byte + a pixel for up to 128 */
            return (pixels + 127) / 128 * (1 + bytes);
        return pixels * bytes;
    }
    return 0;
}

static bool pnm_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* stb_image 2.27 accumulates the PNM header's numbers in an int with no
 * overflow check (undefined behaviour on a long run of digits, found by
 * fuzzing). Its own header walk is repeated here (whitespace, '#'
 * comments, digits) and a number of more than 9 digits is refused. */
static bool pnm_numbers_fit(const uint8_t *d, size_t len)
{
    size_t i = 2;

    for (int k = 0; k < 3; k++) {
        size_t digits = 0;

        while (i < len && (pnm_space(d[i]) || d[i] == '#')) {
            if (d[i] == '#')
                while (i < len && d[i] != '\n' && d[i] != '\r')
                    i++;
            else
                i++;
        }
        for (; i < len && d[i] >= '0' && d[i] <= '9'; i++)
            digits++;
        if (digits > 9)
            return false;
    }
    return true;
}

static const char *reason(void)
{
    const char *r = stbi_failure_reason();

    return r ? r : "unknown stb_image error";
}

clf_status clf_stb_decode(const char *fmt, const uint8_t *data, size_t len, clf_image *out,
                          char *why, size_t why_size)
{
    reader rd = {data, len, 0, false};
    int w = 0, h = 0, comp = 0;
    int channels = strcmp(fmt, "GIF") == 0 ? 4 : 3;
    uint8_t *px;

    if (strcmp(fmt, "PNM") == 0 && !pnm_numbers_fit(data, len)) {
        clf_why(why, why_size, "PNM header holds a number of more than 9 digits");
        return CLF_ERR_IMAGE;
    }
    if (!stbi_info_from_callbacks(&callbacks, &rd, &w, &h, &comp)) {
        clf_why(why, why_size, "%s header unreadable: %s", fmt, reason());
        return CLF_ERR_IMAGE;
    }
    /* a top-down BMP declares a negative height: stb_image 2.27's info
     * reports it as is, while its loader flips the rows and returns |h| */
    if (strcmp(fmt, "BMP") == 0 && h < 0 && h > INT_MIN)
        h = -h;
    if (comp > channels)
        channels = comp;
    /* stb_image 2.27 reads 16-bit PGM/PPM samples in the host's byte order
     * instead of big-endian, so on x86 they come out wrong: refused. */
    rd = (reader){data, len, 0, false};
    if (stbi_is_16_bit_from_callbacks(&callbacks, &rd)) {
        clf_why(why, why_size, "16-bit %s (maxval above 255) is not supported; convert it "
                               "to 8 bits",
                fmt);
        return CLF_ERR_IMAGE;
    }
    if (clf_image_check_size(fmt, (uint64_t)(w > 0 ? w : 0), (uint64_t)(h > 0 ? h : 0),
                             channels, NULL, why, why_size) != CLF_OK)
        return CLF_ERR_IMAGE;

    if (min_file_bytes(fmt, data, len, (uint64_t)w * (uint64_t)h) > len) {
        clf_why(why, why_size, "%s file is truncated: %zu bytes cannot hold %d x %d pixels",
                fmt, len, w, h);
        return CLF_ERR_IMAGE;
    }

    /* The file's own channels (req_comp 0), converted to RGB here:
     * stb_image 2.27's own converter ran 16-bit PGM data through its 8-bit
     * path and read past its buffer (found by fuzzing; 16-bit files are
     * now refused above, and its converter is not used at all). */
    rd = (reader){data, len, 0, false};
    px = stbi_load_from_callbacks(&callbacks, &rd, &w, &h, &comp, 0);
    if (!px) {
        clf_why(why, why_size, "%s decoding failed: %s", fmt, reason());
        return CLF_ERR_IMAGE;
    }
    if (rd.overrun || comp < 1 || comp > 4) {
        stbi_image_free(px);
        clf_why(why, why_size, rd.overrun ? "%s file is truncated: the pixel data ends early"
                                          : "%s file has an unusable channel count",
                fmt);
        return CLF_ERR_IMAGE;
    }
    out->rgb = to_rgb(px, (size_t)w * (size_t)h, comp);
    stbi_image_free(px);
    if (!out->rgb) {
        clf_why(why, why_size, "out of memory for a %d x %d %s", w, h, fmt);
        return CLF_ERR_NOMEM;
    }
    out->w = w;
    out->h = h;
    return CLF_OK;
}
