/* A Keras-style progress bar on stdout:
 *   584/584 [==============================] - 3s 5ms/step - loss: 0.7412 - accuracy: 0.7521
 * Live (redrawn in place) when stdout is a terminal; otherwise only the
 * final line of each bar is printed. */
#ifndef CLFIT_TOOL_PROGRESS_H
#define CLFIT_TOOL_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct progress {
    size_t total;
    bool live;
    double last_draw;
    double started;              /* when progress_start ran, seconds */
} progress;

void progress_start(progress *p, size_t total);

/* Seconds since progress_start, for callers that keep no clock of their own. */
double progress_seconds(const progress *p);

/* Redraws the bar (throttled to ~10 per second unless done == total);
 * `metrics` is the text after the timing, e.g. "loss: 0.5 - accuracy: 0.8". */
void progress_update(progress *p, size_t done, double seconds, const char *metrics);

/* Prints the final line: the full bar, time, ms/step and `metrics`. */
void progress_finish(progress *p, size_t done, double seconds, const char *metrics);

#endif
