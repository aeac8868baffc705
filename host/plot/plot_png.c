/* PLplot pages written as PNG files. */
#include "plot/plot_png.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <plplot.h>

#include "clfit/log.h"

/* PLplot's non-fatal error messages go to the clfit log. */
static void on_abort(PLCHAR_VECTOR msg)
{
    CLF_LOG_WARN("plot: PLplot: %s", msg);
}

/* Called by PLplot just before it ends the process. */
static int on_exit_error(PLCHAR_VECTOR msg)
{
    CLF_LOG_ERROR("plot: PLplot failed and ends the process: %s", msg);
    return 1;
}

static bool have_pngcairo(void)
{
    static const char *menu[128], *devs[128];
    const char **m = menu, **d = devs;
    int n = 128;

    plgDevs(&m, &d, &n);
    for (int i = 0; i < n; i++)
        if (strcmp(d[i], "pngcairo") == 0)
            return true;
    return false;
}

static void set_colors(void)
{
    static const int rgb[PLOT_COLORS][3] = {
        [PLOT_BG] = {255, 255, 255}, [PLOT_FG] = {30, 30, 30},
        [PLOT_TRAIN] = {31, 119, 180}, [PLOT_VAL] = {255, 127, 14},
        [PLOT_GRID] = {215, 215, 215}, [PLOT_WHITE] = {255, 255, 255},
    };

    plscmap0n(16);
    for (int i = 0; i < PLOT_COLORS; i++)
        plscol0(i, rgb[i][0], rgb[i][1], rgb[i][2]);
}

clf_status plot_begin(const char *path, int width, int height, plot_page *pg)
{
    FILE *out;
    int fd;
    clf_status st;

    memset(pg, 0, sizeof *pg);
    if (!have_pngcairo()) {
        CLF_LOG_ERROR("%s: PLplot's pngcairo driver is not installed (Debian package "
                      "plplot-driver-cairo); no plot written", path);
        return CLF_ERR_UNSUPPORTED;
    }
    st = clf_atomic_open(path, &pg->af);
    if (st != CLF_OK)
        return st;

    /* PLplot closes the FILE it is given; it gets its own descriptor of
     * the same file, and ours stays open for fsync and rename */
    fd = dup(fileno(pg->af.f));
    out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!out) {
        CLF_LOG_ERROR("%s: cannot open a second handle on the temporary file", path);
        if (fd >= 0)
            close(fd);
        clf_atomic_abort(&pg->af);
        return CLF_ERR_IO;
    }
    plsabort(on_abort);
    plsexit(on_exit_error);
    plgstrm(&pg->prev_stream);
    plmkstrm(&pg->stream);
    plsdev("pngcairo");
    plsfile(out);
    plspage(0, 0, width, height, 0, 0);
    set_colors();
    plinit();
    plfontld(1);
    return CLF_OK;
}

/* The PNG signature at the start and the IEND chunk at the end. */
static bool whole_png(FILE *f)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const unsigned char iend[8] = {'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    unsigned char a[8], b[8];
    struct stat sb;
    int fd = fileno(f);

    return fstat(fd, &sb) == 0 && sb.st_size > 40 && pread(fd, a, 8, 0) == 8 &&
           pread(fd, b, 8, sb.st_size - 8) == 8 && !memcmp(a, sig, 8) && !memcmp(b, iend, 8);
}

clf_status plot_end(plot_page *pg)
{
    plend1(); /* writes the page and closes PLplot's handle */
    plsstrm(pg->prev_stream);
    if (!whole_png(pg->af.f)) {
        CLF_LOG_ERROR("%s: PLplot did not write a complete PNG (disk full?); no plot "
                      "written", pg->af.path);
        clf_atomic_abort(&pg->af);
        return CLF_ERR_IO;
    }
    return clf_atomic_commit(&pg->af);
}

const char *plot_text(const char *s, size_t max, char *buf, size_t size)
{
    size_t at = 0, chars = 0;

    for (; *s && at + 8 < size; s++) {
        bool starts_char = ((unsigned char)*s & 0xc0) != 0x80;

        if (starts_char && chars++ == max) {
            memcpy(buf + at, "\xe2\x80\xa6", 3); /* U+2026 ellipsis */
            at += 3;
            break;
        }
        if (*s == '#')
            buf[at++] = '#';
        buf[at++] = *s;
    }
    buf[at] = '\0';
    return buf;
}
