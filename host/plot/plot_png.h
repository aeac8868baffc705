/* A PNG page drawn by PLplot (internal): opening a PLplot stream on the
 * pngcairo driver that writes into an atomically replaced file, colours
 * and text helpers shared by the history and confusion-matrix plots. */
#ifndef CLFIT_PLOT_PNG_H
#define CLFIT_PLOT_PNG_H

#include <stddef.h>

#include "clfit/status.h"
#include "io/atomic_file.h"

/* Colour map 0 entries set by plot_begin. */
enum {
    PLOT_BG = 0, PLOT_FG = 1, PLOT_TRAIN = 2, PLOT_VAL = 3, PLOT_GRID = 4, PLOT_WHITE = 5,
    PLOT_COLORS = 6
};

typedef struct plot_page {
    clf_atomic_file af;
    int stream, prev_stream;
} plot_page;

/* Opens a width x height pixel page that will be written to path.
 * CLF_ERR_UNSUPPORTED when the pngcairo driver is missing, CLF_ERR_IO
 * when the file cannot be created. */
clf_status plot_begin(const char *path, int width, int height, plot_page *pg);

/* Ends the page, checks that a whole PNG was written and puts it in
 * place. CLF_ERR_IO (logged) otherwise. */
clf_status plot_end(plot_page *pg);

/* s with PLplot's escape character '#' doubled and cut to `max` UTF-8
 * characters (an ellipsis marks a cut), into buf. Returns buf. */
const char *plot_text(const char *s, size_t max, char *buf, size_t size);

#endif
