/* Telling a damaged-but-complete JPEG from one whose pixel data is
 * missing, with libjpeg's own API (TurboJPEG reports only its first
 * warning).
 *
 * libjpeg does not fail on damaged data: it warns and goes on. Some
 * warnings mean pixels were never decoded and libjpeg filled them in
 * (grey for a missing scan, the DC value for a lost segment):
 *   JWRN_JPEG_EOF     "Premature end of JPEG file": the data ran out
 *   JWRN_HIT_MARKER   "premature end of data segment": a scan was cut and
 *                     another marker (often an appended EOI) followed
 *   JWRN_MUST_RESYNC  "found marker ... instead of RST": a restart
 *                     segment was cut short
 * clfit refuses those (PIL refuses a cut file too: "image file is
 * truncated"). The other warnings describe files whose every pixel was
 * decoded, such as "extraneous bytes before marker" (stray bytes between
 * segments, common in scraped datasets) or a bad Huffman code in the
 * middle of the data; PIL loads them and so does clfit.
 */
#include "data/image_jpeg_check.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include <jerror.h>
#include <jpeglib.h>

typedef struct check_err {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int lost;                      /* a warning that means missing pixels */
    char msg[JMSG_LENGTH_MAX];     /* that warning, or the fatal error */
} check_err;

static void on_error(j_common_ptr c)
{
    check_err *e = (check_err *)c->err;

    c->err->format_message(c, e->msg);
    longjmp(e->jump, 1);
}

/* Warnings have level -1; trace messages (>= 0) are ignored. */
static void on_message(j_common_ptr c, int level)
{
    check_err *e = (check_err *)c->err;
    int code = c->err->msg_code;

    if (level >= 0)
        return;
    c->err->num_warnings++;
    if (!e->lost && (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER ||
                     code == JWRN_MUST_RESYNC)) {
        e->lost = 1;
        c->err->format_message(c, e->msg);
    }
}

/* Decodes every scanline at 1/8 scale (the entropy decoder still reads
 * all the data, which is what raises the warnings; the scaled inverse DCT
 * keeps this second pass cheap) into one reused row. */
static void read_all(struct jpeg_decompress_struct *ci, JSAMPROW row)
{
    while (ci->output_scanline < ci->output_height)
        jpeg_read_scanlines(ci, &row, 1);
    jpeg_finish_decompress(ci);
}

clf_status clf_jpeg_check_complete(const uint8_t *data, size_t len, char *why,
                                   size_t why_size)
{
    struct jpeg_decompress_struct ci;
    check_err err = {0};
    JSAMPROW volatile row = NULL;
    volatile clf_status st = CLF_OK;

    ci.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = on_error;
    err.pub.emit_message = on_message;
    jpeg_create_decompress(&ci);
    if (setjmp(err.jump)) {
        clf_why(why, why_size, "JPEG decoding failed: %s", err.msg);
        st = CLF_ERR_IMAGE;
        goto done;
    }
    jpeg_mem_src(&ci, data, (unsigned long)len);
    jpeg_read_header(&ci, TRUE);
    ci.scale_num = 1;
    ci.scale_denom = 8;
    ci.dct_method = JDCT_IFAST;
    ci.do_fancy_upsampling = FALSE;
    jpeg_start_decompress(&ci);

    /* output_width is at most 1/8 of a width already checked against
     * CLF_MAX_IMAGE_SIDE, and at most 4 components */
    row = malloc((size_t)ci.output_width * (size_t)ci.output_components + 1);
    if (!row) {
        clf_why(why, why_size, "out of memory checking a JPEG");
        st = CLF_ERR_NOMEM;
        goto done;
    }
    read_all(&ci, row);
    if (err.lost) {
        clf_why(why, why_size, "JPEG decoding failed: %s (pixel data is missing: the "
                               "file is truncated or cut)", err.msg);
        st = CLF_ERR_IMAGE;
    }
done:
    free(row);
    jpeg_destroy_decompress(&ci);
    return st;
}
