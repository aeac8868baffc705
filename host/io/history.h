/* The training history as CSV (internal helpers behind clf_history_csv_*
 * in include/clfit/io.h). */
#ifndef CLFIT_IO_HISTORY_H
#define CLFIT_IO_HISTORY_H

#include <stddef.h>

#include "clfit/fit.h"

#define CLF_HISTORY_HEADER "epoch,accuracy,loss,val_accuracy,val_loss,seconds\n"

/* One row for logs, ending in a newline, into buf; returns its length
 * (at most size - 1; rows need fewer than 160 bytes). */
size_t clf_history_row(const clf_epoch_logs *logs, char *buf, size_t size);

/* The shortest "%.*g" text of v that reads back as v; "nan" / "inf" /
 * "-inf" for the rest. Returns buf. */
const char *clf_history_number(double v, char *buf, size_t size);

#endif
