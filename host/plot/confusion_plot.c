/* A confusion matrix as a shaded grid of counts with class names. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <plplot.h>

#include "clfit/log.h"
#include "clfit/plot.h"
#include "plot/plot_png.h"

enum { NAME_CHARS = 24, MAX_CLASSES = 200, MAX_COUNTED = 40 };

/* Width of the longest name in character heights (PLplot's unit for
 * offsets); a Sans glyph is at most about 0.75 of the character height
 * wide on average over a word. */
static double name_width(const char *const *names, int n)
{
    size_t longest = 1;

    for (int i = 0; i < n; i++) {
        size_t chars = 0;

        for (const char *s = names[i]; *s; s++)
            chars += ((unsigned char)*s & 0xc0) != 0x80;
        longest = chars > longest ? chars : longest;
    }
    return 0.75 * (double)(longest < NAME_CHARS ? longest : NAME_CHARS + 1);
}

/* White to dark blue as a cell's share of its row goes from 0 to 1. */
static void set_shades(void)
{
    PLFLT at[2] = {0, 1}, r[2] = {1, 0.03}, g[2] = {1, 0.19}, b[2] = {1, 0.42};

    plscmap1n(256);
    plscmap1l(1, 2, at, r, g, b, NULL);
}

static void cell(int n, int row, int col, uint64_t count, uint64_t row_total, bool counts)
{
    double frac = row_total ? (double)count / (double)row_total : 0;
    PLFLT x[4] = {col, col + 1, col + 1, col}, y[4];
    char text[32];

    y[0] = y[1] = n - row - 1;
    y[2] = y[3] = n - row;
    plcol1(frac);
    plfill(4, x, y);
    if (!counts)
        return;
    snprintf(text, sizeof text, "%llu", (unsigned long long)count);
    plcol0(frac > 0.55 ? PLOT_WHITE : PLOT_FG);
    plschr(0, n <= 10 ? 1.0 : fmax(0.3, 9.0 / n));
    plptex(col + 0.5, n - row - 0.5, 1, 0, 0.5, text);
}

static void grid_lines(int n)
{
    plcol0(PLOT_GRID);
    for (int k = 1; k < n; k++) {
        PLFLT a[2] = {k, k}, b[2] = {0, n};

        plline(2, a, b);
        plline(2, b, a);
    }
    plcol0(PLOT_FG);
    plbox("bc", 0, 0, "bc", 0, 0);
}

static void names_on_axes(int n, const char *const *names, double width)
{
    char text[256];

    plcol0(PLOT_FG);
    for (int i = 0; i < n; i++) {
        plot_text(names[i], NAME_CHARS, text, sizeof text);
        plmtex("lv", 0.8, 1.0 - (i + 0.5) / n, 1.0, text);
        plmtex("bv", 0.8, (i + 0.5) / n, 1.0, text);
    }
    plmtex("l", width + 2.2, 0.5, 0.5, "true class");
    plmtex("b", width + 2.2, 0.5, 0.5, "predicted class");
}

/* The matrix's viewport: square (the page is), centred with its names,
 * leaving `width` character heights for the names and more for the axis
 * titles on the left and below, and room for the titles above. */
static void place(double width)
{
    PLFLT def, ht, x0, x1, y0, y1, margin, side;

    plgchr(&def, &ht);
    plgspa(&x0, &x1, &y0, &y1);
    margin = (width + 4.0) * ht / (x1 - x0);
    side = 0.87 - margin;
    x0 = (1.0 - margin - side) / 2 + margin;
    plvpor(x0, x0 + side, margin, margin + side);
}

/* A character's width in character heights, roughly, for the pngcairo
 * driver's Sans (PLplot has no public call that measures text). Measured
 * on its output: i, l and punctuation about 0.4, a 0.82, W 1.3; words
 * in lower case average 0.71, in capitals 0.85. */
static double char_width(unsigned char c)
{
    if (c != '\0' && strchr("iljtfr.,:;!|()[] _'", c))
        return 0.45;
    if (strchr("MWmw", c))
        return 1.3;
    if (isupper(c) || c >= 0x80)
        return 1.0;
    return 0.82;
}

/* The title on one line across the page: smaller when it is long (down
 * to 0.6 of the default height), then cut with an ellipsis. */
static void draw_title(const char *title)
{
    PLFLT def, ht, x0, x1, y0, y1;
    double width = 0, room;
    size_t chars = 0, fit = 0;
    char text[512];

    plgchr(&def, &ht);
    plgspa(&x0, &x1, &y0, &y1);
    room = 0.92 * (x1 - x0) / def; /* in default character heights */
    for (const char *s = title; *s; s++) {
        if (((unsigned char)*s & 0xc0) == 0x80)
            continue;
        width += char_width((unsigned char)*s);
        fit += width * 0.6 <= room;
        chars++;
    }
    plschr(0, fmax(0.6, fmin(1.15, room / fmax(width, 1))));
    plmtex("t", -1.6, 0.5, 0.5, plot_text(title, fit < chars ? fit - 1 : chars, text,
                                          sizeof text));
}

clf_status clf_plot_confusion(const char *path, const uint64_t *counts, int classes,
                              const char *const *names, const char *title)
{
    int n = classes, side = n * 50 + 560 < 900 ? 900 : n * 50 + 560;

    side = side < 1800 ? side : 1800;
    double width;
    plot_page pg;
    clf_status st;

    if (n < 1 || n > MAX_CLASSES || !counts || !names) {
        CLF_LOG_ERROR("%s: a confusion matrix of %d classes cannot be drawn (1..%d)", path,
                      n, MAX_CLASSES);
        return CLF_ERR_ARG;
    }
    st = plot_begin(path, side, side, &pg);
    if (st != CLF_OK)
        return st;
    pladv(0);
    set_shades();
    plschr(0, n <= 12 ? 1.0 : fmax(0.5, 12.0 / n)); /* names; counts get their own */
    width = name_width(names, n);
    place(width);
    plwind(0, n, 0, n);
    for (int r = 0; r < n; r++) {
        uint64_t total = 0;

        for (int c = 0; c < n; c++)
            total += counts[(size_t)r * (size_t)n + (size_t)c];
        for (int c = 0; c < n; c++)
            cell(n, r, c, counts[(size_t)r * (size_t)n + (size_t)c], total, n <= MAX_COUNTED);
    }
    grid_lines(n);
    plschr(0, n <= 12 ? 1.0 : fmax(0.5, 12.0 / n));
    names_on_axes(n, names, width);
    plvpor(0, 1, 0, 1);
    draw_title(title ? title : "Confusion matrix");
    plschr(0, 0.8);
    plmtex("t", -4.6, 0.5, 0.5, "rows: true class, columns: predicted class; "
                                "shade: share of the row");
    return plot_end(&pg);
}
