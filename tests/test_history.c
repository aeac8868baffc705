/* The history CSV: Keras CSVLogger columns, numbers that read back
 * exactly, NA without validation, a resumed run's file rebuilt from the
 * checkpoint's history and then appended to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clfit/io.h"
#include "io/history.h"
#include "support/logcap.h"
#include "support/tmpdir.h"

static clf_epoch_logs epoch(int e, bool val)
{
    return (clf_epoch_logs){.epoch = e, .steps = 10, .loss = 0.5 + e, .accuracy = 0.75,
                            .has_val = val, .val_loss = 0.6, .val_accuracy = 0.1 + 0.2,
                            .seconds = 1.5};
}

/* Python's repr(0.1 + 0.2) is 0.30000000000000004: the shortest text
 * that reads back to the same double; 0.75 and 1.5 are exact. */
static void test_rows(void **state)
{
    clf_epoch_logs e = epoch(2, true);
    char row[256], num[32];

    (void)state;
    clf_history_row(&e, row, sizeof row);
    assert_string_equal(row, "2,0.75,2.5,0.30000000000000004,0.6,1.5\n");
    e.has_val = false;
    clf_history_row(&e, row, sizeof row);
    assert_string_equal(row, "2,0.75,2.5,NA,NA,1.5\n");
    assert_string_equal(clf_history_number(1.0 / 3, num, sizeof num), "0.3333333333333333");
    assert_string_equal(clf_history_number(1e-7, num, sizeof num), "1e-07");
}

static void test_start_and_append(void **state)
{
    const char *dir = tmpdir_make("hist");
    char path[4096];
    clf_epoch_logs h[2] = {epoch(0, true), epoch(1, true)}, e2 = epoch(2, false);
    unsigned char *text;
    size_t len;

    (void)state;
    tmpdir_path(path, sizeof path, dir, "log.csv");
    /* the previous run wrote epochs 0..3, but its checkpoint holds 0..1:
     * the resumed log follows the checkpoint */
    assert_int_equal(tmpdir_write(path, "old,rows\n0\n1\n2\n3\n", 18), 0);
    assert_int_equal(clf_history_csv_start(path, h, 2), CLF_OK);
    assert_int_equal(clf_history_csv_append(path, &e2), CLF_OK);
    text = tmpdir_read(path, &len);
    assert_string_equal((char *)text,
                        "epoch,accuracy,loss,val_accuracy,val_loss,seconds\n"
                        "0,0.75,0.5,0.30000000000000004,0.6,1.5\n"
                        "1,0.75,1.5,0.30000000000000004,0.6,1.5\n"
                        "2,0.75,2.5,NA,NA,1.5\n");
    free(text);
    assert_int_equal(tmpdir_count(dir, ".tmp"), 0);

    /* a fresh run: header only */
    assert_int_equal(clf_history_csv_start(path, NULL, 0), CLF_OK);
    text = tmpdir_read(path, &len);
    assert_string_equal((char *)text, CLF_HISTORY_HEADER);
    free(text);

    tmpdir_path(path, sizeof path, dir, "missing/log.csv");
    logcap_begin();
    assert_int_equal(clf_history_csv_append(path, &e2), CLF_ERR_IO);
    assert_true(LOGCAP_HAS("missing/log.csv", "epoch 3"));
    assert_int_equal(clf_history_csv_start(path, h, 2), CLF_ERR_IO);
    logcap_end();
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_start_and_append),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
