/* Loss and accuracy curves of a training run. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include <plplot.h>

#include "clfit/log.h"
#include "clfit/plot.h"
#include "core/alloc.h"
#include "plot/plot_png.h"

/* One curve's points, NaN where an epoch has no value. */
typedef struct series {
    double *x, *y;
    int n;
} series;

/* Smallest of 1, 2, 5, 10, 20, ... epochs that gives at most 10 ticks. */
static double epoch_tick(int n)
{
    double step = 1;

    for (int k = 0; n / step > 10; k++)
        step *= k % 3 == 1 ? 2.5 : 2;
    return step;
}

/* The y range of the finite values of a and b, padded by 8%. */
static void y_range(const series *a, const series *b, double *lo, double *hi)
{
    *lo = INFINITY, *hi = -INFINITY;
    for (int i = 0; i < a->n; i++) {
        *lo = fmin(*lo, fmin(a->y[i], isnan(b->y[i]) ? a->y[i] : b->y[i]));
        *hi = fmax(*hi, fmax(a->y[i], isnan(b->y[i]) ? a->y[i] : b->y[i]));
    }
    if (*hi - *lo < 1e-6) {
        *lo -= 0.05 + 0.05 * fabs(*lo);
        *hi += 0.05 + 0.05 * fabs(*hi);
    }
    *lo -= 0.08 * (*hi - *lo);
    *hi += 0.08 * (*hi - *lo);
}

/* Line and dots of the finite points of s, in colour c. */
static void draw_series(const series *s, int color, int style)
{
    int start = 0;

    plcol0(color);
    pllsty(style);
    plwidth(2.5);
    for (int i = 0; i <= s->n; i++) {
        if (i < s->n && !isnan(s->y[i]))
            continue;
        if (i - start > 1)
            plline(i - start, s->x + start, s->y + start);
        if (i > start)
            plstring(i - start, s->x + start, s->y + start, "•");
        start = i + 1;
    }
    pllsty(1);
    plwidth(1);
}

/* One legend for both panels, in a row under the page title. */
static void legend(bool has_val)
{
    PLINT opt[2] = {PL_LEGEND_LINE | PL_LEGEND_SYMBOL, PL_LEGEND_LINE | PL_LEGEND_SYMBOL};
    PLINT tcol[2] = {PLOT_FG, PLOT_FG}, lcol[2] = {PLOT_TRAIN, PLOT_VAL}, lsty[2] = {1, 2};
    PLINT scol[2] = {PLOT_TRAIN, PLOT_VAL}, snum[2] = {1, 1};
    PLFLT lw[2] = {2.5, 2.5}, ss[2] = {1, 1}, w, h;
    const char *text[2] = {"training", "validation"}, *sym[2] = {"•", "•"};
    int n = has_val ? 2 : 1;

    plvpor(0, 1, 0, 1);
    plwind(0, 1, 0, 1);
    pllegend(&w, &h, 0, PL_POSITION_TOP | PL_POSITION_INSIDE, 0, 0.10, 0.05, PLOT_BG,
             PLOT_FG, 1, 1, n, n, opt, 0.6, 1.0, 2.0, 0.0, tcol, text, NULL, NULL, NULL,
             NULL, lcol, lsty, lw, scol, ss, snum, sym);
}

/* One panel: axes, grid, labels, the two curves and their legend. */
static void panel(const series *tr, const series *va, const char *label,
                  const char *title, double x0)
{
    int n = tr->n;
    double pad = n > 1 ? fmax(0.25, 0.03 * (n - 1)) : 0.5, lo, hi;

    y_range(tr, va, &lo, &hi);
    plvpor(x0, x0 + 0.37, 0.15, 0.71);
    plwind(1 - pad, n + pad, lo, hi);
    plcol0(PLOT_GRID);
    plbox("g", epoch_tick(n), 0, "g", 0, 0);
    plcol0(PLOT_FG);
    plbox("bcnst", epoch_tick(n), 1, "bcnstv", 0, 0);
    pllab("epoch", label, title);
    draw_series(tr, PLOT_TRAIN, 1);
    draw_series(va, PLOT_VAL, 2);
}

static bool has_validation(const series *s)
{
    for (int i = 0; i < s->n; i++)
        if (!isnan(s->y[i]))
            return true;
    return false;
}

/* x, then training and validation loss and accuracy of every epoch. */
static clf_status collect(const clf_epoch_logs *logs, int n, series s[4], double **buf)
{
    *buf = clf_malloc_array((size_t)n, 5 * sizeof(double), "plot points");
    if (!*buf)
        return CLF_ERR_NOMEM;
    for (int k = 0; k < 4; k++) {
        s[k].x = *buf;
        s[k].y = *buf + (size_t)(k + 1) * (size_t)n;
        s[k].n = n;
    }
    for (int i = 0; i < n; i++) {
        const clf_epoch_logs *e = &logs[i];

        (*buf)[i] = e->epoch + 1;
        s[0].y[i] = e->loss;
        s[1].y[i] = e->has_val ? e->val_loss : NAN;
        s[2].y[i] = e->accuracy;
        s[3].y[i] = e->has_val ? e->val_accuracy : NAN;
        if (!isfinite(e->loss) || !isfinite(e->accuracy)) {
            CLF_LOG_ERROR("plot: epoch %d has a loss or accuracy that is not a number",
                          e->epoch + 1);
            return CLF_ERR_ARG;
        }
    }
    return CLF_OK;
}

clf_status clf_plot_history(const char *path, const clf_epoch_logs *logs, int n,
                            const char *title)
{
    series s[4];
    double *buf = NULL;
    plot_page pg;
    char text[512];
    clf_status st = CLF_ERR_ARG;

    if (n >= 1 && logs)
        st = collect(logs, n, s, &buf);
    else
        CLF_LOG_ERROR("%s: no epochs to plot", path);
    if (st == CLF_OK)
        st = plot_begin(path, 1200, 540, &pg);
    if (st == CLF_OK) {
        pladv(0);
        plschr(0, 1.1);
        bool val = has_validation(&s[1]);

        panel(&s[0], &s[1], "loss", val ? "Training and validation loss" : "Training loss",
              0.10);
        panel(&s[2], &s[3], "accuracy",
              val ? "Training and validation accuracy" : "Training accuracy", 0.60);
        legend(val);
        if (title) {
            plcol0(PLOT_FG);
            plschr(0, 1.3);
            plmtex("t", -1.5, 0.5, 0.5, plot_text(title, 120, text, sizeof text));
        }
        st = plot_end(&pg);
    }
    free(buf);
    return st;
}
