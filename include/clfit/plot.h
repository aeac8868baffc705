/* Pictures of a run, drawn with PLplot's cairo PNG driver (Debian packages
 * libplplot-dev and plplot-driver-cairo).
 *
 * Both functions write the PNG atomically (a temporary file renamed into
 * place), so a viewer never sees half a picture. PLplot keeps global
 * state: call them from one thread at a time. PLplot ends the process on
 * its own fatal errors (out of memory inside the driver); clfit checks
 * the driver, the output folder and the numbers before calling it, and
 * sends PLplot's other error messages to the clfit log.
 */
#ifndef CLFIT_PLOT_H
#define CLFIT_PLOT_H

#include <stdint.h>

#include "clfit/fit.h"
#include "clfit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Loss and accuracy per epoch, training and validation, in two panels
 * side by side (x: epoch from 1, like Keras's progress lines). Epochs
 * without validation draw no validation point. `title` may be NULL.
 * CLF_ERR_ARG when n < 1; CLF_ERR_UNSUPPORTED when PLplot's pngcairo
 * driver is not installed; CLF_ERR_IO when the file cannot be written. */
clf_status clf_plot_history(const char *path, const clf_epoch_logs *logs, int n,
                            const char *title);

/* A confusion matrix: rows the true class, columns the predicted one, in
 * label order, counts[true * classes + predicted]. Cells are shaded by
 * their share of the row (the true class's recall on the diagonal) and
 * show the count; class names label both axes (long names are shortened
 * to 24 characters; with more than 40 classes the counts are left out).
 * Errors as for clf_plot_history, CLF_ERR_ARG for classes outside 1..200. */
clf_status clf_plot_confusion(const char *path, const uint64_t *counts, int classes,
                              const char *const *names, const char *title);

#ifdef __cplusplus
}
#endif
#endif
