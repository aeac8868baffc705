/* Keras CSVLogger-style history files. */
#include "io/history.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clfit/io.h"
#include "clfit/log.h"
#include "core/alloc.h"
#include "io/atomic_file.h"

const char *clf_history_number(double v, char *buf, size_t size)
{
    if (!isfinite(v)) {
        snprintf(buf, size, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return buf;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

size_t clf_history_row(const clf_epoch_logs *e, char *buf, size_t size)
{
    char acc[32], loss[32], vacc[32] = "NA", vloss[32] = "NA", secs[32];
    int n;

    if (e->has_val) {
        clf_history_number(e->val_accuracy, vacc, sizeof vacc);
        clf_history_number(e->val_loss, vloss, sizeof vloss);
    }
    n = snprintf(buf, size, "%d,%s,%s,%s,%s,%s\n", e->epoch,
                 clf_history_number(e->accuracy, acc, sizeof acc),
                 clf_history_number(e->loss, loss, sizeof loss), vacc, vloss,
                 clf_history_number(e->seconds, secs, sizeof secs));
    return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

clf_status clf_history_csv_start(const char *path, const clf_epoch_logs *history, int n)
{
    clf_atomic_file af;
    char row[256];
    clf_status st = clf_atomic_open(path, &af);
    bool ok;

    if (st != CLF_OK)
        return st;
    ok = fputs(CLF_HISTORY_HEADER, af.f) >= 0;
    for (int i = 0; ok && i < n; i++)
        ok = clf_history_row(&history[i], row, sizeof row) > 0 && fputs(row, af.f) >= 0;
    if (!ok) {
        CLF_LOG_ERROR("%s: cannot write the history: %s", path, strerror(errno));
        clf_atomic_abort(&af);
        return CLF_ERR_IO;
    }
    return clf_atomic_commit(&af);
}

clf_status clf_history_csv_append(const char *path, const clf_epoch_logs *logs)
{
    FILE *f = fopen(path, "a");
    char row[256];
    size_t len = clf_history_row(logs, row, sizeof row);
    bool ok;

    if (!f) {
        CLF_LOG_ERROR("%s: cannot open the history to append epoch %d: %s", path,
                      logs->epoch + 1, strerror(errno));
        return CLF_ERR_IO;
    }
    ok = fwrite(row, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok &= fclose(f) == 0;
    if (!ok) {
        CLF_LOG_ERROR("%s: writing the row of epoch %d failed: %s", path, logs->epoch + 1,
                      strerror(errno));
        return CLF_ERR_IO;
    }
    return CLF_OK;
}
