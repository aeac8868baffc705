/* Write-then-rename replacement (host/io/atomic_file.c): a regular file is
 * replaced whole; a symlink, FIFO or folder standing at the target is
 * refused and left exactly as it was (the rename would replace the thing
 * itself, not write to it); a missing folder is an error naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/atomic_file.h"
#include "support/logcap.h"
#include "support/tmpdir.h"

static char dir[512];

static void path_in(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static int setup(void **state)
{
    const char *made = tmpdir_make("atomic");

    (void)state;
    if (!made)
        return -1;
    snprintf(dir, sizeof dir, "%s", made);
    return 0;
}

/* tmpdir_remove takes regular files only: the link, FIFO and folder first. */
static int teardown(void **state)
{
    char path[700];

    (void)state;
    path_in(path, sizeof path, "link.txt");
    unlink(path);
    path_in(path, sizeof path, "pipe");
    unlink(path);
    path_in(path, sizeof path, "sub");
    rmdir(path);
    tmpdir_remove(dir);
    return 0;
}

static void expect_content(const char *path, const char *text)
{
    size_t len;
    unsigned char *got = tmpdir_read(path, &len);

    assert_non_null(got);
    assert_int_equal(len, strlen(text));
    assert_memory_equal(got, text, len);
    free(got);
}

/* Left-over temporary files in dir. */
static void expect_no_temporaries(void)
{
    assert_int_equal(tmpdir_count(dir, ".tmp-"), 0);
}

static void test_regular_file_replaced(void **state)
{
    char path[700];

    (void)state;
    path_in(path, sizeof path, "plain.txt");
    assert_int_equal(clf_atomic_write(path, "old", 3), CLF_OK);
    assert_int_equal(clf_atomic_write(path, "newer", 5), CLF_OK);
    expect_content(path, "newer");
    expect_no_temporaries();
}

static void refused(const char *path, const char *what)
{
    logcap_begin();
    assert_int_equal(clf_atomic_write(path, "data", 4), CLF_ERR_IO);
    if (!LOGCAP_HAS(path, what, "give the path of a regular file"))
        fail_msg("log does not say why:\n%s", logcap_text());
    logcap_end();
    expect_no_temporaries();
}

static void test_symlink_refused(void **state)
{
    char target[700], link[700];
    struct stat sb;

    (void)state;
    path_in(target, sizeof target, "target.txt");
    path_in(link, sizeof link, "link.txt");
    assert_int_equal(clf_atomic_write(target, "keep", 4), CLF_OK);
    assert_int_equal(symlink(target, link), 0);
    refused(link, "is a symbolic link");
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    expect_content(target, "keep");
}

static void test_fifo_and_folder_refused(void **state)
{
    char fifo[700], folder[700];
    struct stat sb;

    (void)state;
    path_in(fifo, sizeof fifo, "pipe");
    path_in(folder, sizeof folder, "sub");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(mkdir(folder, 0755), 0);
    refused(fifo, "is a FIFO");
    refused(folder, "is a folder");
    assert_int_equal(lstat(fifo, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
    assert_int_equal(lstat(folder, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
}

static void test_missing_folder(void **state)
{
    char path[700];

    (void)state;
    path_in(path, sizeof path, "no/such/file.txt");
    logcap_begin();
    assert_int_equal(clf_atomic_write(path, "data", 4), CLF_ERR_IO);
    if (!LOGCAP_HAS(path, "check that the folder exists"))
        fail_msg("log does not name the file:\n%s", logcap_text());
    logcap_end();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regular_file_replaced),
        cmocka_unit_test(test_symlink_refused),
        cmocka_unit_test(test_fifo_and_folder_refused),
        cmocka_unit_test(test_missing_folder),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
