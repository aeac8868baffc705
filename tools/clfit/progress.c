/* The Keras-style progress bar. */
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

enum { BAR_WIDTH = 30 };

static double wall_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void progress_start(progress *p, size_t total)
{
    p->total = total;
    p->live = isatty(STDOUT_FILENO);
    p->last_draw = 0.0;
    p->started = wall_now();
}

double progress_seconds(const progress *p)
{
    return wall_now() - p->started;
}

/* "[=====>......]" for done of total */
static void draw_bar(char *bar, size_t done, size_t total)
{
    size_t fill = total ? done * BAR_WIDTH / total : BAR_WIDTH;

    bar[0] = '[';
    for (size_t i = 0; i < BAR_WIDTH; i++)
        bar[1 + i] = i < fill ? '=' : '.';
    if (fill > 0 && fill < BAR_WIDTH)
        bar[fill] = '>';
    bar[BAR_WIDTH + 1] = ']';
    bar[BAR_WIDTH + 2] = '\0';
}

/* Keras prints whole seconds, or ms below one second. */
static void print_time(double seconds)
{
    if (seconds >= 1.0)
        printf("%.0fs", seconds);
    else
        printf("%.0fms", seconds * 1000.0);
}

static void draw(const progress *p, size_t done, double seconds, const char *metrics,
                 bool final)
{
    char bar[BAR_WIDTH + 3];
    int width = snprintf(NULL, 0, "%zu", p->total);

    draw_bar(bar, done, p->total);
    printf("%s%*zu/%zu %s - ", p->live ? "\r" : "", width, done, p->total, bar);
    if (final) {
        double per_step = done ? seconds / (double)done : 0.0;

        printf("%.0fs", seconds); /* whole seconds, as Keras prints them */
        if (per_step >= 1e-3)
            printf(" %.0fms/step", per_step * 1e3);
        else
            printf(" %.0fus/step", per_step * 1e6);
    } else {
        printf("ETA: ");
        print_time(done ? seconds * (double)(p->total - done) / (double)done : 0.0);
    }
    if (metrics && *metrics)
        printf(" - %s", metrics);
    /* clear what a longer earlier line left behind */
    if (p->live)
        printf("\033[K");
    if (final)
        printf("\n");
    fflush(stdout);
}

void progress_update(progress *p, size_t done, double seconds, const char *metrics)
{
    double now = wall_now();

    if (!p->live || now - p->last_draw < 0.1)
        return;
    p->last_draw = now;
    draw(p, done, seconds, metrics, false);
}

void progress_finish(progress *p, size_t done, double seconds, const char *metrics)
{
    draw(p, done, seconds, metrics, true);
}
